"""A returned report sent again: whoever returned it is told in chat, with the rows that
changed and a button to accept it (the same code as /duyet; typed on Zalo)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import outbox
from bot.storage.context_loader import FormCache
from bot.storage.models import (
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
from conversations.answer_parsing import show_value
from conversations.events import Button, OutboundMessage, Submit
from conversations.forms import Form
from conversations.i18n import Catalog, Tr

CHANGES_LISTED = 20  # rows named in one notice; the rest are counted


async def tell_returner(session: AsyncSession, effect: Submit, catalog: Catalog,
                        forms: FormCache, now: datetime) -> None:
    """After a submission: when the report had been returned, tell the coordinator who
    returned it (in their private chats only, never a group) what came back."""
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
    if len(events) < 2 or events[0].kind != "submitted" or events[1].kind != "returned" \
            or events[1].by is None or events[1].by == submission.submitted_by:
        return
    returner = await session.get(Contact, events[1].by)
    if returner is None or not returner.active or returner.role not in ("coordinator", "admin"):
        return
    revisions = (await session.scalars(select(AnswerRevision).where(
        AnswerRevision.submission_id == submission.id,
        AnswerRevision.revision == submission.revision).order_by(AnswerRevision.id))).all()
    form = await forms.get(session, submission.form_id)
    campaign = await session.get(Campaign, period.campaign_id)
    kinds = (await session.scalars(select(Unit.kind).join(
        ContactUnit, ContactUnit.unit_id == Unit.id).where(
        ContactUnit.contact_id == returner.id))).all()
    tr = catalog.tr(returner.language, kinds)
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
    message = OutboundMessage(text, (Button(f"/duyet {unit.code}", tr("Accept the report")),))
    for identity in (await session.scalars(select(Identity).where(
            Identity.contact_id == returner.id, Identity.unreachable_at.is_(None)))).all():
        outbox.enqueue(session, identity.channel, identity.chat_id, [message], now,
                       returner.language)


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
