"""How a deadline reads: 'before 13/10/2023' is the instant 13/10 00:00 local time."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from conversations.context import Assignment
from conversations.i18n import Tr


def deadline_text(assignment: Assignment, tr: Tr) -> str:
    return deadline_phrase(assignment.deadline, assignment.timezone, tr)


def deadline_phrase(deadline: datetime, timezone: str, tr: Tr) -> str:
    """'trước ngày 13/10/2023' for a midnight deadline, else 'trước 17:00 ngày 12/10/2023'."""
    local = deadline.astimezone(ZoneInfo(timezone))
    if (local.hour, local.minute) == (0, 0):
        return tr("before {date}", date=tr.date(local.date()))
    return tr("by {time}", time=tr.datetime(deadline, timezone))


def due_before_midnight(day_local: datetime) -> datetime:
    """The day *before* which a report is due, as an instant: 00:00 that day."""
    return day_local.replace(hour=0, minute=0, second=0, microsecond=0)


def days_left(assignment: Assignment, now: datetime) -> int:
    return max(0, (assignment.deadline - now + timedelta(seconds=86399)).days)
