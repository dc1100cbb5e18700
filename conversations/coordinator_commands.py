"""Commands only coordinators may use; everyone else gets a plain refusal."""

from __future__ import annotations

from datetime import timedelta

from conversations.answer_parsing import show_value
from conversations.context import CoordinatorData, PeriodSummary, UnitReportView
from conversations.deadlines import deadline_phrase
from conversations.events import Export, Nudge, ReturnReport
from conversations.i18n import Tr
from conversations.session import Turn

NUDGE_EVERY = timedelta(hours=1)


def is_coordinator(turn: Turn) -> bool:
    contact = turn.ctx.contact
    return contact is not None and contact.role in ("coordinator", "admin")


def refuse(turn: Turn) -> None:
    turn.say(turn.tr("This command is for coordinators. Send /trogiup to see what you can do."))


def nudge(turn: Turn) -> None:
    """`/nhac`: remind every non-submitter in the coordinator's units, at most once an hour."""
    tr = turn.tr
    if not is_coordinator(turn):
        refuse(turn)
        return
    info = turn.ctx.nudge
    if info is None or not info.targets:
        turn.say(tr("No open report is waiting for your units right now."))
        return
    if info.last_at is not None and turn.now - info.last_at < NUDGE_EVERY:
        wait = info.last_at + NUDGE_EVERY
        turn.say(tr("A reminder was already sent at {time}; to avoid disturbing people, the "
                    "next one is possible after {next}.",
                    time=tr.datetime(info.last_at, info.timezone),
                    next=tr.datetime(wait, info.timezone)))
        return
    waiting = [t for t in info.targets if t.units_missing]
    if not waiting:
        turn.say(tr("Every unit has submitted; nobody needs a reminder."))
        return
    turn.effect(Nudge(tuple(t.campaign_key for t in waiting)))
    lines = [tr("Reminders are on their way:")]
    for target in waiting:
        lines.append("• " + tr("{campaign}: {people} people of {units} units that have not "
                               "submitted.", campaign=target.title.get(tr.language),
                               people=target.people, units=target.units_missing))
    turn.say("\n".join(lines))


# ----------------------------------------------------------------------------- reading

def _data(turn: Turn) -> CoordinatorData | None:
    if not is_coordinator(turn):
        refuse(turn)
        return None
    data = turn.ctx.coordination or CoordinatorData()
    return data


def summary(turn: Turn) -> None:
    """`/tonghop`: on time / late / drafts / missing, and the main figures summed."""
    data = _data(turn)
    if data is None:
        return
    tr = turn.tr
    if not data.summaries:
        turn.say(tr("No report period is open for the units below yours."))
        return
    blocks = [_summary_block(s, tr) for s in data.summaries]
    turn.say("\n\n".join(blocks))


def _summary_block(s: PeriodSummary, tr: Tr) -> str:
    lines = [
        tr("{campaign} — units below {scope}:", campaign=s.campaign_title.get(tr.language),
           scope=s.scope_name),
        tr("On time: {on_time} · late: {late} · drafts: {drafts} · not submitted: {missing}, "
           "of {total} units (due {deadline}).", on_time=s.on_time, late=s.late,
           drafts=s.drafts, missing=s.missing, total=s.total,
           deadline=deadline_phrase(s.deadline, s.timezone, tr)),
    ]
    if s.main_totals:
        lines.append(tr("Main figures (submitted reports):"))
        for qid, label, unit, value in s.main_totals:
            shown = f"{tr.number(value)} {unit.get(tr.language)}".strip()
            lines.append(f"• {qid} {label.get(tr.language)}: {shown}")
    return "\n".join(lines)


def missing(turn: Turn) -> None:
    """`/chuanop`: the units that have not submitted, with reporters, phones, last reminder."""
    data = _data(turn)
    if data is None:
        return
    tr = turn.tr
    if not data.missing:
        turn.say(tr("No report period is open for the units below yours."))
        return
    blocks = []
    for s, units in data.missing:
        lines = [tr("{campaign}: {missing} of {total} units have not submitted (due {deadline}).",
                    campaign=s.campaign_title.get(tr.language), missing=s.missing,
                    total=s.total, deadline=deadline_phrase(s.deadline, s.timezone, tr))]
        for unit in units:
            people = ", ".join(f"{name} {phone}".strip() for name, phone in unit.reporters) \
                or tr("no reporter registered")
            state = tr("draft") if unit.status in ("draft", "returned") else tr("not started")
            line = f"• {unit.name} ({unit.code}, {state}) — {people}"
            if unit.last_reminded is not None:
                line += "; " + tr("last reminded {time}",
                                  time=tr.datetime(unit.last_reminded, s.timezone))
            lines.append(line)
        if not units:
            lines.append(tr("Every unit has submitted. Thank you!"))
        blocks.append("\n".join(lines))
    turn.say("\n\n".join(blocks))


def view(turn: Turn, arg: str) -> None:
    """`/xem CODE`: one unit's report as submitted, and who changed what since."""
    data = _data(turn)
    if data is None:
        return
    tr = turn.tr
    code = arg.strip().split(" ")[0] if arg.strip() else ""
    if not code:
        turn.say(tr("Please add the unit code, for example: /xem X-ANLAO"))
        return
    if not data.units:
        turn.say(tr("The unit {code} is not among the units you coordinate.", code=code))
        return
    turn.say("\n\n".join(_unit_block(turn, u) for u in data.units))


def _unit_block(turn: Turn, u: UnitReportView) -> str:
    tr = turn.tr
    lines = [f"{u.campaign_title.get(tr.language)} — {u.name} ({u.code})"]
    if u.status == "submitted" and u.submitted_at:
        when = tr.datetime(u.submitted_at, u.timezone)
        lines.append(tr("Submitted at {time} by {name}, on time.", time=when,
                        name=u.submitted_by) if u.on_time else
                     tr("Submitted at {time} by {name}, late.", time=when, name=u.submitted_by))
    elif u.status == "returned":
        lines.append(tr("Returned for correction; not submitted again yet."))
    elif u.status == "draft":
        lines.append(tr("Not submitted yet (a draft is in progress)."))
    else:
        lines.append(tr("Not started yet."))
    form = turn.ctx.forms.get(u.form_key)
    if form is not None and u.answers:
        for section in form.sections:
            for q in section.questions:
                stored = u.answers.get(q.id)
                if stored is None:
                    continue
                shown = show_value(q, stored.get("value"), tr)
                if stored.get("note"):
                    shown += " — " + tr("note: {note}", note=stored["note"])
                lines.append(f"{q.id}  {shown}")
    if u.revisions:
        lines.append(tr("History:"))
        for r in u.revisions:
            q = form.question(r.question_id) if form else None
            old = show_value(q, r.old_value, tr) if q and r.old_value is not None else "—"
            new = show_value(q, r.new_value, tr) if q and r.new_value is not None else "—"
            lines.append("• " + tr("submission {n}, {time}, {name}: {qid} {old} → {new}",
                                   n=r.revision, time=tr.datetime(r.changed_at, u.timezone),
                                   name=r.changed_by or "—", qid=r.question_id, old=old,
                                   new=new))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- acting

def return_report(turn: Turn, arg: str) -> None:
    """`/tralai CODE lý do`: back to the reporters for correction, with the reason."""
    data = _data(turn)
    if data is None:
        return
    tr = turn.tr
    code, _, reason = arg.strip().partition(" ")
    if not code or not reason.strip():
        turn.say(tr("Please give the unit code and the reason, for example: /tralai X-ANLAO "
                    "Số liệu mục 5 chưa khớp với danh sách lớp."))
        return
    submitted = [u for u in data.units if u.status == "submitted"]
    if not data.units:
        turn.say(tr("The unit {code} is not among the units you coordinate.", code=code))
        return
    if not submitted:
        turn.say(tr("The report of {unit} has not been submitted, so there is nothing to "
                    "return.", unit=data.units[0].name))
        return
    for u in submitted:
        turn.effect(ReturnReport(u.period_id, u.code, reason.strip()))
    turn.say(tr("The report of {unit} was returned for correction; its reporters have been "
                "told, with your reason. It counts as not submitted until they send it again.",
                unit=submitted[0].name))


EXPORT_FORMATS = {"xlsx": "xlsx", "excel": "xlsx", "csv": "csv", "docx": "docx", "word": "docx",
                  "png": "png"}


def export(turn: Turn, arg: str, default: str = "xlsx") -> None:
    """`/xuat [csv|docx]` and `/bieudo`: the file comes to this chat in a moment."""
    data = _data(turn)
    if data is None:
        return
    tr = turn.tr
    wanted = arg.strip().lower() or default
    fmt = EXPORT_FORMATS.get(wanted)
    if fmt is None:
        turn.say(tr("Please choose xlsx, csv or docx, for example: /xuat csv"))
        return
    if not data.summaries:
        turn.say(tr("No report period is open for the units below yours."))
        return
    turn.effect(Export(tuple(s.period_id for s in data.summaries), fmt))
    turn.say(tr("Preparing the file; it will arrive here in a moment."))
