"""`/trangthai`: what is due for my units, by when, and how far each report is."""

from __future__ import annotations

from datetime import datetime

from conversations.context import Context
from conversations.deadlines import deadline_text
from conversations.i18n import Tr


def status_text(ctx: Context, tr: Tr, now: datetime) -> str:
    if ctx.contact is None or not ctx.contact.units:
        return tr("You are not linked to any unit yet. Please send the invite code your "
                  "coordinator gave you.")
    if not ctx.assignments:
        units = ", ".join(u.name for u in ctx.contact.units)
        return tr("Nothing is due for {units} at the moment.", units=units)
    lines = [tr("Reports of your units:")]
    for a in sorted(ctx.assignments, key=lambda x: (x.deadline, x.unit.name)):
        form = ctx.form_for(a)
        title = f"• {a.campaign_title.get(tr.language)} — {a.unit.name}"
        lines.append(title)
        lines.append("  " + tr("Due {deadline}.", deadline=deadline_text(a, tr)))
        if a.starts_at > now:
            state = tr("Opens on {date}.", date=tr.date(a.starts_at.date()))
        elif a.status == "submitted" and a.submitted_at:
            when = tr.datetime(a.submitted_at, a.timezone)
            state = (tr("Submitted at {time}, on time.", time=when) if a.on_time
                     else tr("Submitted at {time}, late.", time=when))
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
