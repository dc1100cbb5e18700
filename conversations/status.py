"""`/trangthai`: what is due for my units, by when, and how far each report is."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from conversations.context import Context
from conversations.corrections import changed
from conversations.deadlines import deadline_text
from conversations.i18n import Tr
from conversations.report_titles import report_title


def status_text(ctx: Context, tr: Tr, now: datetime,
                pending: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """`pending`: the corrections not sent yet, by report key; only the person sees them,
    so they are said here, with how to send them."""
    if ctx.contact is None or not ctx.contact.units:
        return tr("You are not linked to any unit yet. Please send the invite code your "
                  "coordinator gave you.")
    if not ctx.assignments:
        units = ", ".join(u.name for u in ctx.contact.units)
        return tr("Nothing is due for {units} at the moment.", units=units)
    lines = [tr("Reports of your units:")]
    for a in sorted(ctx.assignments, key=lambda x: (x.deadline, x.unit.name)):
        form = ctx.form_for(a)
        title = f"• {report_title(ctx, tr, a)}"
        lines.append(title)
        lines.append("  " + tr("Due {deadline}.", deadline=deadline_text(a, tr)))
        if a.starts_at > now:
            state = tr("Opens on {date}.", date=tr.local_date(a.starts_at, a.timezone))
        elif a.status == "submitted" and a.submitted_at:
            when = tr.datetime(a.submitted_at, a.timezone)
            state = (tr("Submitted at {time}, on time.", time=when) if a.on_time
                     else tr("Submitted at {time}, late.", time=when))
            edits = changed(a, (pending or {}).get(a.key))
            if edits:
                state += " " + tr("Corrections not sent yet: {ids}; the coordinator still sees "
                                  "the submitted report. To send them, send /baocao and press "
                                  "“Submit again”.",
                                  ids=", ".join(sorted(edits, key=form.position)))
        elif a.locked(now):
            state = tr("Closed; not submitted.")
        else:
            missing = sum(1 for q in form.questions if q.id not in a.answers)
            if a.status == "returned":
                state = tr("Returned for correction; {missing} questions still unanswered.",
                           missing=missing)
            elif a.answers and missing == 0:
                state = tr("Draft: every question is answered; it only needs submitting.")
            elif a.answers:
                state = tr("Draft: {missing} of {total} questions still unanswered.",
                           missing=missing, total=len(form.questions))
            else:
                state = tr("Not started ({total} questions).", total=len(form.questions))
            if now >= a.deadline:
                state += " " + tr("The deadline has passed; a report sent now is recorded as late.")
        lines.append("  " + state)
    lines.append("")
    lines.append(tr("Send /baocao to continue."))
    return "\n".join(lines)
