"""Commands only coordinators may use; everyone else gets a plain refusal."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from conversations import row_comments
from conversations.answer_parsing import show_value
from conversations.checks import MIN_GROUP
from conversations.context import (
    BlockSummary,
    CoordinatorData,
    PeriodChecks,
    PeriodSummary,
    UnitReportView,
)
from conversations.deadlines import deadline_phrase
from conversations.events import AcceptReport, Export, IssueWebLink, Nudge, ReturnReport
from conversations.forms import Form
from conversations.i18n import Tr
from conversations.reporting_lines import StateCounts
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
    reachable = [t for t in waiting if t.people]
    if reachable:
        turn.effect(Nudge(tuple(t.campaign_key for t in reachable)))
    lines = [tr("Reminders are on their way:") if reachable else
             tr("Nobody can be reminded right now:")]
    for target in waiting:
        line = "• " + tr("{campaign}: {people} people of {units} units that have not "
                         "submitted.", campaign=target.title.get(tr.language),
                         people=target.people, units=target.units_missing)
        if target.recently_nudged:
            line += " " + tr("{count} people were already reminded in the last hour and are "
                             "left alone.", count=target.recently_nudged)
        if target.unreachable:
            line += " " + tr("{count} people have no chat with the bot (not signed in, or "
                             "they blocked it); /chuanop lists their phone numbers.",
                             count=target.unreachable)
        if target.people and target.send_at is not None:
            line += " " + tr("It is quiet hours now, so the reminders will go out at {time}.",
                             time=tr.datetime(target.send_at, info.timezone))
        lines.append(line)
    turn.say("\n".join(lines))


# ----------------------------------------------------------------------------- reading

def _data(turn: Turn) -> CoordinatorData | None:
    if not is_coordinator(turn):
        refuse(turn)
        return None
    data = turn.ctx.coordination or CoordinatorData()
    return data


def summary(turn: Turn) -> None:
    """`/tonghop`: every unit's state and the main figures, block by block of the reporting
    line: the reports that come to this level are summed; those from further down are shown
    apart and never added in."""
    data = _data(turn)
    if data is None:
        return
    tr = turn.tr
    if not data.summaries:
        turn.say(tr("No report period is open for the units below yours."))
        return
    turn.say("\n\n".join(_summary_text(s, tr) for s in data.summaries))


def _summary_text(s: PeriodSummary, tr: Tr) -> str:
    head = "\n".join([
        tr("{campaign} — units below {scope}:", campaign=s.campaign_title.get(tr.language),
           scope=s.scope_name),
        tr("Period: {period}. Due {deadline}.", period=s.period_label.get(tr.language),
           deadline=deadline_phrase(s.deadline, s.timezone, tr)),
    ])
    return "\n\n".join([head, *(_block_text(b, tr) for b in s.blocks)])


def block_title(b: BlockSummary, tr: Tr) -> str:
    if b.direct:
        return b.title.get(tr.language)
    return tr("{title} — their reports go to the {recipients} and are already in those "
              "reports, so they are not added in", title=b.title.get(tr.language),
              recipients=b.covered_by.get(tr.language))


def counts_text(c: StateCounts, tr: Tr) -> str:
    return tr("submitted {submitted} (on time {on_time}, late {late}; accepted {accepted}) · "
              "returned {returned} · drafts {drafts} · not started {not_started} · total "
              "{total} units", submitted=c.submitted, on_time=c.on_time, late=c.late,
              accepted=c.accepted, returned=c.returned, drafts=c.drafts,
              not_started=c.not_started, total=c.total)


def _block_text(b: BlockSummary, tr: Tr) -> str:
    lines = [block_title(b, tr) + ":", counts_text(b.counts, tr) + "."]
    if b.main_totals:
        lines.append(tr("Main figures (submitted reports):"))
        for qid, label, unit, value in b.main_totals:
            shown = f"{tr.number(value)} {unit.get(tr.language)}".strip()
            lines.append(f"• {qid} {label.get(tr.language)}: {shown}")
    return "\n".join(lines)


def state_word(status: str, tr: Tr) -> str:
    """A report that is not submitted: a draft, returned for correction, or not started."""
    if status == "draft":
        return tr("draft")
    if status == "returned":
        return tr("returned")
    return tr("not started")


def missing(turn: Turn) -> None:
    """`/chuanop`: the units that have not submitted, block by block, with reporters, phones
    and the last reminder."""
    data = _data(turn)
    if data is None:
        return
    tr = turn.tr
    if not data.summaries:
        turn.say(tr("No report period is open for the units below yours."))
        return
    texts = []
    for s in data.summaries:
        c = s.counts
        parts = [tr("{campaign}: {missing} of {total} units have not submitted (due {deadline}).",
                    campaign=s.campaign_title.get(tr.language), missing=c.missing,
                    total=c.total, deadline=deadline_phrase(s.deadline, s.timezone, tr))]
        for b in s.blocks:
            lines = [block_title(b, tr) + ":"]
            for unit in b.missing:
                people = ", ".join(f"{name} {phone}".strip() for name, phone in unit.reporters) \
                    or tr("no reporter registered")
                state = state_word(unit.status, tr)
                line = f"• {unit.name} ({unit.code}, {state}) — {people}"
                if unit.last_reminded is not None:
                    line += "; " + tr("last reminded {time}",
                                      time=tr.datetime(unit.last_reminded, s.timezone))
                lines.append(line)
            if not b.missing:
                lines.append(tr("Every unit has submitted. Thank you!"))
            parts.append("\n".join(lines))
        texts.append("\n\n".join(parts))
    turn.say("\n\n".join(texts))


def view(turn: Turn, arg: str) -> None:
    """`/xem CODE`: one unit's report as submitted, and who did what since."""
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


def _state_line(tr: Tr, u: UnitReportView) -> str:
    when = tr.datetime(u.submitted_at, u.timezone) if u.submitted_at else ""
    timing = tr("on time") if u.on_time else tr("late")
    first = u.first_submitted_at
    again = u.submitted_at is not None and first is not None and u.submitted_at != first
    if again and u.status in ("accepted", "submitted"):
        # The first submission decided on time or late; the last one is shown apart.
        line = tr("First submitted at {first}, {timing}; submitted again at {time} by {name}.",
                  first=tr.datetime(first, u.timezone), timing=timing, time=when,
                  name=u.submitted_by)
        return (tr("Accepted.") + " " + line if u.status == "accepted"
                else line + " " + tr("Not accepted yet."))
    if u.status == "accepted":
        return tr("Accepted. Submitted at {time} by {name}, {timing}.", time=when,
                  name=u.submitted_by, timing=timing)
    if u.status == "submitted" and u.submitted_at:
        return tr("Submitted at {time} by {name}, {timing}; not accepted yet.", time=when,
                  name=u.submitted_by, timing=timing)
    if u.status == "returned":
        line = tr("Returned for correction; not submitted again yet.")
        if first is not None:
            line += " " + tr("First submitted at {time}, {timing}.",
                             time=tr.datetime(first, u.timezone), timing=timing)
        if u.correct_by is not None:
            line += " " + tr("Correction due {time}.", time=tr.datetime(u.correct_by,
                                                                        u.timezone))
        return line
    if u.status == "draft":
        return tr("Not submitted yet (a draft is in progress).")
    return tr("Not started yet.")


def _unit_block(turn: Turn, u: UnitReportView) -> str:
    tr = turn.tr
    lines = [f"{u.campaign_title.get(tr.language)} — {u.name} ({u.code})", _state_line(tr, u)]
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
                if stored.get("flag"):
                    shown += " — ⚠ " + tr("to check (cần kiểm tra): {reason}",
                                          reason=stored["flag"])
                row = u.row_comments.get(q.id)
                if row:
                    state = tr("answered") if row_comments.is_answered(row, stored) \
                        else tr("not answered yet")
                    shown += " — 💬 " + tr("comment: “{comment}” ({state})",
                                          comment=row.get("comment", ""), state=state)
                lines.append(f"{q.id}  {shown}")
    history = _history(turn, u, form)
    if history:
        lines.append(tr("History:"))
        lines.extend(line for _, line in sorted(history, key=lambda item: item[0]))
    return "\n".join(lines)


def event_text(tr: Tr, kind: str, revision: int, who: str, when: str, comment: str = "") -> str:
    """One line of a report's history besides its answers: a submission (by the unit, or
    entered on its behalf), a return with its reason, an acceptance. Also the web console's."""
    if kind == "returned":
        return tr("{time}, {name}: returned for correction — “{reason}”", time=when,
                  name=who, reason=comment)
    if kind == "accepted":
        return tr("{time}, {name}: accepted the report", time=when, name=who)
    if revision > 1:
        text = tr("{time}, {name}: submitted again (submission {n})", time=when, name=who,
                  n=revision)
    else:
        text = tr("{time}, {name}: submitted the report", time=when, name=who)
    if comment:
        text += " — " + tr("entered on behalf of the unit (paper report)")
    return text


def _history(turn: Turn, u: UnitReportView, form: Form | None) -> list[tuple[Any, str]]:
    tr = turn.tr
    items: list[tuple[Any, str]] = []
    for e in u.events:
        text = event_text(tr, e.kind, e.revision, e.by or "—",
                          tr.datetime(e.at, u.timezone), e.comment)
        items.append(((e.at, 1), "• " + text))
    for r in u.revisions:
        q = form.question(r.question_id) if form else None
        old = show_value(q, r.old_value, tr) if q and r.old_value is not None else "—"
        new = show_value(q, r.new_value, tr) if q and r.new_value is not None else "—"
        items.append(((r.changed_at, 0), "• " + tr(
            "submission {n}, {time}, {name}: {qid} {old} → {new}", n=r.revision,
            time=tr.datetime(r.changed_at, u.timezone), name=r.changed_by or "—",
            qid=r.question_id, old=old, new=new)))
    return items


# ----------------------------------------------------------------------------- acting

def _acted_on(turn: Turn, data: CoordinatorData, code: str) -> list[UnitReportView] | None:
    """The asked unit's reports a coordinator may act on; None (said why) when there are none."""
    tr = turn.tr
    if not data.units:
        turn.say(tr("The unit {code} is not among the units you coordinate.", code=code))
        return None
    if all(u.own for u in data.units):
        turn.say(tr("The report of {unit} is your own unit's: it is accepted or returned by the "
                    "level above, which it is sent to.", unit=data.units[0].name))
        return None
    return list(data.units)


def return_report(turn: Turn, arg: str) -> None:
    """`/tralai CODE lý do`: back to the reporters for correction, with the reason; after the
    lock it reopens that unit's report alone until a correction deadline."""
    data = _data(turn)
    if data is None:
        return
    tr = turn.tr
    code, _, reason = arg.strip().partition(" ")
    if not code or not reason.strip():
        turn.say(tr("Please give the unit code and the reason, for example: /tralai X-ANLAO "
                    "Số liệu mục 5 chưa khớp với danh sách lớp."))
        return
    units = _acted_on(turn, data, code)
    if units is None:
        return
    returnable = [u for u in units if u.status in ("submitted", "accepted", "returned")]
    if not returnable:
        turn.say(tr("The report of {unit} has not been submitted, so there is nothing to "
                    "return.", unit=units[0].name))
        return
    parsed = [(u, *row_comments.parse_reason(reason, turn.ctx.forms.get(u.form_key)))
              for u in returnable]
    unknown = sorted({qid for *_, missing in parsed for qid in missing})
    if unknown:
        turn.say(tr("The report of {unit} has no question {ids}. Please write a comment for a "
                    "row as its number, a colon and the comment, for example: /tralai {code} "
                    "4.2: chưa khớp với danh sách; 8.3: thiếu chứng từ", unit=units[0].name,
                    ids=", ".join(unknown), code=units[0].code))
        return
    lines = []
    for u, _general, rows, _missing in parsed:
        correct_by = turn.received_at + timedelta(days=u.correction_days)
        turn.effect(ReturnReport(u.period_id, u.code, reason.strip(), correct_by, rows))
        due = tr.datetime(correct_by, u.timezone)
        if u.lock_at is not None and turn.received_at >= u.lock_at:
            lines.append(tr("The report of {unit} was returned for correction and reopened for "
                            "this unit alone until {time}; its reporters have been told, with "
                            "your reason. It counts as not submitted until they send it again.",
                            unit=u.name, time=due))
        else:
            lines.append(tr("The report of {unit} was returned for correction; its reporters "
                            "have been told, with your reason, and asked to send it again "
                            "before {time}. It counts as not submitted until they do.",
                            unit=u.name, time=due))
        if rows:
            lines.append(tr.plural("A comment on {n} row: {ids}; the reporters are asked it "
                                   "first.",
                                   "Comments on {n} rows: {ids}; the reporters are asked them "
                                   "first.", len(rows), ids=", ".join(rows)))
    turn.say("\n".join(lines))


def accept(turn: Turn, arg: str) -> None:
    """`/duyet CODE`: accept a submitted report; it then changes only if it is returned."""
    data = _data(turn)
    if data is None:
        return
    tr = turn.tr
    code = arg.strip().split(" ")[0] if arg.strip() else ""
    if not code:
        turn.say(tr("Please add the unit code, for example: /duyet X-ANLAO"))
        return
    units = _acted_on(turn, data, code)
    if units is None:
        return
    submitted = [u for u in units if u.status == "submitted"]
    if not submitted:
        if any(u.status == "accepted" for u in units):
            turn.say(tr("The report of {unit} has already been accepted.", unit=units[0].name))
        else:
            turn.say(tr("The report of {unit} has not been submitted, so there is nothing to "
                        "accept.", unit=units[0].name))
        return
    for u in submitted:
        turn.effect(AcceptReport(u.period_id, u.code))
    turn.say(tr("The report of {unit} is accepted; its reporters have been told. It can now "
                "change only if you return it with /tralai.", unit=submitted[0].name))


EXPORT_FORMATS = {"xlsx": "xlsx", "excel": "xlsx", "csv": "csv", "docx": "docx", "word": "docx",
                  "png": "png"}


def chart(turn: Turn, arg: str) -> None:
    """`/bieudo`: the progress chart of the units below; `/bieudo CODE`: of one unit's
    subtree inside them (the schools of one commune)."""
    data = _data(turn)
    if data is None:
        return
    code = arg.strip().split(" ")[0] if arg.strip() else ""
    if code and not data.chart_unit:
        turn.say(turn.tr("The unit {code} is not among the units you coordinate.", code=code))
        return
    if not data.summaries:
        turn.say(turn.tr("No report period is open for the units below yours."))
        return
    turn.effect(Export(tuple(s.period_id for s in data.summaries), "png", code))
    turn.say(turn.tr("Preparing the file; it will arrive here in a moment."))


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


# ----------------------------------------------------------------------------- web console

def web_link(turn: Turn) -> None:
    """`/web`: a one-time link (10 minutes) that signs the coordinator in to the web console;
    only in a private chat, since whoever opens it is signed in as them."""
    tr = turn.tr
    if not is_coordinator(turn):
        refuse(turn)
        return
    if turn.event.chat_id != turn.event.user_id:
        turn.say(tr("For your safety the sign-in link is sent only in a private chat: please "
                    "send /web to the bot directly."))
        return
    link = turn.ctx.web_link
    if link is None:
        turn.say(tr("The web console is not turned on for this bot. Please ask the "
                    "administrator (it needs BAOCAO_PUBLIC_URL and BAOCAO_WEB_SECRET)."))
        return
    turn.effect(IssueWebLink(link.token_hash, link.expires_at))
    turn.say(tr("Your link to the web console (every unit's state, the reports, the files):")
             + "\n" + link.url + "\n"
             + tr("It works once, until {time}. Please do not forward it: whoever opens it is "
                  "signed in as you. Send /web again for a new one.",
                  time=tr.datetime(link.expires_at, link.timezone)))


CHECK_LISTED = 30  # outliers or flagged figures listed per period; the rest are counted


def check(turn: Turn) -> None:
    """`/kiemtra`: in the coordinator's area, the figures far from those of their sibling
    units (modified z-score, as DHIS2's outlier detection), and the figures units kept after
    being asked back ("cần kiểm tra")."""
    data = _data(turn)
    if data is None:
        return
    tr = turn.tr
    if not data.checks:
        turn.say(tr("No report period is open for the units below yours."))
        return
    turn.say("\n\n".join(_check_text(c, tr) for c in data.checks))


def _check_text(c: PeriodChecks, tr: Tr) -> str:
    lines = [tr("{campaign} — figures to check in {scope} ({period}):",
                campaign=c.campaign_title.get(tr.language), scope=c.scope_name,
                period=c.period_label.get(tr.language))]
    if c.outliers:
        lines.append(tr("Far from those of similar units (median of the units compared; a "
                        "modified z-score beyond 3.5):"))
        for o in c.outliers[:CHECK_LISTED]:
            value = f"{tr.number(o.value)} {o.unit.get(tr.language)}".strip()
            middle = f"{tr.number(o.median)} {o.unit.get(tr.language)}".strip()
            lines.append("• " + tr("{unit} ({code}) — {qid} {label}: {value}; median {median} "
                                   "of {count} units of {group} (z = {score})",
                                   unit=o.unit_name, code=o.unit_code, qid=o.question_id,
                                   label=o.label.get(tr.language), value=value, median=middle,
                                   count=o.group_size, group=o.group_name,
                                   score=tr.number(Decimal(str(o.score)))))
        if len(c.outliers) > CHECK_LISTED:
            lines.append(tr("and {count} more", count=len(c.outliers) - CHECK_LISTED))
    if c.flagged:
        lines.append(tr("Kept by the unit after being asked back (cần kiểm tra):"))
        for f in c.flagged[:CHECK_LISTED]:
            value = f"{tr.number(f.value)} {f.unit.get(tr.language)}".strip() \
                if isinstance(f.value, int | float | Decimal) and not isinstance(f.value, bool) \
                else str(f.value)
            lines.append("• " + tr("{unit} ({code}) — {qid} {label}: {value}; {reason}",
                                   unit=f.unit_name, code=f.unit_code, qid=f.question_id,
                                   label=f.label.get(tr.language), value=value, reason=f.flag))
        if len(c.flagged) > CHECK_LISTED:
            lines.append(tr("and {count} more", count=len(c.flagged) - CHECK_LISTED))
    if not c.outliers and c.submitted < MIN_GROUP:
        lines.append(tr.plural("Units are compared once at least {min} reports of one form are "
                               "submitted; {n} is so far.",
                               "Units are compared once at least {min} reports of one form are "
                               "submitted; {n} are so far.", c.submitted, min=MIN_GROUP))
    elif not c.outliers and not c.flagged:
        lines.append(tr.plural("Nothing stands out among the {n} submitted report.",
                               "Nothing stands out among the {n} submitted reports.",
                               c.submitted))
    return "\n".join(lines)
