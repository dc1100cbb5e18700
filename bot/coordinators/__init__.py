"""What coordinators get: totals over the reporting lines, one unit's report,
returns and acceptances, reminders and nudges."""
