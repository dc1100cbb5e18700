"""A returned report sent again: whoever returned it is told in chat, with the rows that
changed and a button to accept it (the same code as /duyet; typed on Zalo); so is the level
the report goes to, once every unit reporting there has submitted."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordinators import reporting
from bot.delivery import outbox
from bot.storage.context_loader import FormCache, answer_dict
from bot.storage.models import (
    Answer,
    AnswerRevision,
    Campaign,
    Contact,
    ContactUnit,
    Identity,
    Period,
    ReportEvent,
    Submission,
    Unit,
)
from conversations import row_comments
from conversations.answer_parsing import show_value
from conversations.events import Button, OutboundMessage, Submit
from conversations.forms import Form
from conversations.i18n import Catalog, Tr
from conversations.reporting_lines import COUNTED_STATUSES, TreeUnit

CHANGES_LISTED = 20  # rows named in one notice; the rest are counted
BUTTON_DATA_LIMIT = 64  # bytes of a Telegram button's callback data


async def tell_returner(session: AsyncSession, effect: Submit, catalog: Catalog,
                        forms: FormCache, now: datetime) -> None:
    """After a submission: when the report had been returned, tell the coordinator who
    returned it, and, once with it every unit reporting to the level above has submitted, that
    level's coordinators (in private chats only, never a group) what came back."""
    row = (await session.execute(
        select(Submission, Unit, Period).join(Unit, Unit.id == Submission.unit_id)
        .join(Period, Period.id == Submission.period_id)
        .where(Submission.period_id == effect.period_id, Unit.code == effect.unit_code))).first()
    if row is None:
        return
    submission, unit, period = row
    events = (await session.scalars(select(ReportEvent).where(
        ReportEvent.submission_id == submission.id).order_by(ReportEvent.id.desc())
        .limit(2))).all()
    if len(events) < 2 or events[0].kind != "submitted" or events[1].kind != "returned":
        return
    told: dict[int, str] = {}  # contact → the line added for them
    if events[1].by is not None:
        told[events[1].by] = ""
    line_in = await _line_in(session, period, unit, forms)
    if line_in is not None:
        target, count = line_in
        for contact_id in (await session.scalars(select(ContactUnit.contact_id).where(
                ContactUnit.unit_id == target.id))).all():
            told[contact_id] = target.name + "|" + str(count)
    told.pop(submission.submitted_by or 0, None)
    if not told:
        return
    revisions = (await session.scalars(select(AnswerRevision).where(
        AnswerRevision.submission_id == submission.id,
        AnswerRevision.revision == submission.revision).order_by(AnswerRevision.id))).all()
    form = await forms.get(session, submission.form_id)
    campaign = await session.get(Campaign, period.campaign_id)
    asked = events[1].rows or {}  # the return's comments on rows, and what they are now
    now_answers = {a.question_id: answer_dict(a.value, a.note) for a in (await session.scalars(
        select(Answer).where(Answer.submission_id == submission.id,
                             Answer.question_id.in_(list(asked))))).all()} if asked else {}
    for contact_id, line in told.items():
        contact = await session.get(Contact, contact_id)
        if contact is None or not contact.active or contact.role not in ("coordinator",
                                                                          "admin"):
            continue
        kinds = (await session.scalars(select(Unit.kind).join(
            ContactUnit, ContactUnit.unit_id == Unit.id).where(
            ContactUnit.contact_id == contact.id))).all()
        tr = catalog.tr(contact.language, kinds)
        text = _notice(tr, unit, period, campaign, submission, form, revisions)
        if asked:
            text += "\n" + row_comments.summary(tr, asked, now_answers)
        if line:
            name, count = line.rsplit("|", 1)
            text += "\n" + tr("{unit} has now received the reports of all {n} of {n} units "
                               "that report to it.", unit=name, n=int(count))
        command = f"/duyet {unit.code}"
        if len(command.encode()) <= BUTTON_DATA_LIMIT:
            message = OutboundMessage(text, (Button(command, tr("Accept the report")),))
        else:  # too long for a Telegram button: the command to type, everywhere
            message = OutboundMessage(text + "\n" + tr("{label}: type {command}",
                                                        label=tr("Accept the report"),
                                                        command=command))
        for identity in (await session.scalars(select(Identity).where(
                Identity.contact_id == contact.id, Identity.unreachable_at.is_(None)))).all():
            outbox.enqueue(session, identity.channel, identity.chat_id, [message], now,
                           contact.language)


def _notice(tr: Tr, unit: Unit, period: Period, campaign: Campaign | None,
            submission: Submission, form: Form, revisions: Sequence[AnswerRevision]) -> str:
    """`Trường TH Hạ Long đã nộp lại báo cáo (…): 4.2 1.250 người → 1.025 người`."""
    title = period.title_vi if tr.language == "vi" else period.title_en
    changes = [_change(tr, form, r) for r in revisions]
    if len(changes) > CHANGES_LISTED:
        more = len(changes) - CHANGES_LISTED
        changes = changes[:CHANGES_LISTED] + [tr("and {count} more", count=more)]
    shown = "; ".join(changes) if changes else tr("no answer changed")
    text = tr("{unit} has submitted its report again ({campaign}): {changes}",
              unit=unit.name, campaign=title, changes=shown)
    if campaign is not None and submission.submitted_at is not None:
        text += "\n" + tr("Sent at {time}. Read it with /xem {code}.",
                          time=tr.datetime(submission.submitted_at, campaign.timezone),
                          code=unit.code)
    return text


async def _line_in(session: AsyncSession, period: Period, unit: Unit, forms: FormCache
                   ) -> tuple[TreeUnit, int] | None:
    """The unit this report goes to (the one its reporting line names, else its parent) and
    how many units report to it, when every one of them has now submitted; else None."""
    root = "/" + unit.path.strip("/").split("/")[0] + "/"
    lines = await reporting.lines_of(session, period, reporting.Scope(root, "", True), forms)
    by_code = {u.code: u for u in lines.units}
    by_id = {u.id: u for u in lines.units}
    me = by_id.get(unit.id)
    if me is None:
        return None
    if unit.id in lines.recipients:
        target = by_id.get(lines.recipients[unit.id])
        senders = [u for u in lines.units if lines.recipients.get(u.id) == lines.recipients[
            unit.id]]
    else:
        above = me.above()
        target = by_code.get(above[0]) if above else None
        senders = [u for u in lines.units if u.id in lines.block_of
                   and u.id not in lines.recipients and u.above()[:1] == above[:1]]
    if target is None or not senders or any(
            lines.state(u.id)[0] not in COUNTED_STATUSES for u in senders):
        return None
    return target, len(senders)


def _change(tr: Tr, form: Form, r: AnswerRevision) -> str:
    """`4.2 1.250 người → 1.025 người`; a note changed alone as `8.1 ghi chú: “…”`."""
    q = form.question(r.question_id)
    if q is None:
        return r.question_id
    if r.old_value == r.new_value and r.old_note != r.new_note:
        return tr("{qid} note: “{note}”", qid=r.question_id, note=r.new_note or "—")
    old = show_value(q, r.old_value, tr) if r.old_value is not None else "—"
    new = show_value(q, r.new_value, tr) if r.new_value is not None else "—"
    return f"{r.question_id} {old} → {new}"
