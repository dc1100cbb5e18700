"""Write the engine's effects; called inside the transaction that also stores the new state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import (
    Answer,
    AnswerRevision,
    Contact,
    ContactUnit,
    FormVersion,
    Identity,
    Invite,
    Period,
    ReportEvent,
    SignInFailure,
    Submission,
    TaskCheckin,
    Unit,
)
from conversations.answer_parsing import MAX_BY_TYPE
from conversations.events import (
    Effect,
    LinkIdentity,
    Nudge,
    RecordFailedSignIn,
    RecordTaskCheckin,
    Register,
    SaveAnswers,
    SetLanguage,
    Submit,
)

ROLE_RANK = {"reporter": 0, "coordinator": 1, "admin": 2}
# A submission a coordinator made for a unit that reported on paper (ReportEvent.comment).
ON_BEHALF_COMMENT = "Nhập thay đơn vị (báo cáo giấy)"
NudgeRunner = Callable[[AsyncSession, int, tuple[str, ...], datetime], Awaitable[int]]


class EffectError(RuntimeError):
    """An effect the database refuses (e.g. an invite used up meanwhile)."""


LARGEST_FIGURE = max(MAX_BY_TYPE.values())


def numeric_value(value: Any) -> Decimal | None:
    """An answer as a number for SQL sums (num_value); None for text, yes/no and skipped,
    and for anything no figure can be (never summed, never overflowing the column)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value)
        except (ArithmeticError, ValueError):
            return None
    else:
        return None
    return number if number.is_finite() and abs(number) < LARGEST_FIGURE else None


async def _form_id(session: AsyncSession, form_label: str) -> int:
    key, _, version = form_label.partition("@")
    form_id = await session.scalar(select(FormVersion.id).where(
        FormVersion.key == key, FormVersion.version == int(version)))
    if form_id is None:
        raise EffectError(f"unknown form {form_label}")
    return form_id


async def _submission(session: AsyncSession, period_id: int, unit_code: str, form_label: str,
                      now: datetime) -> Submission:
    unit_id = await session.scalar(select(Unit.id).where(Unit.code == unit_code))
    if unit_id is None:
        raise EffectError(f"unknown unit {unit_code}")
    submission = await session.scalar(select(Submission).where(
        Submission.unit_id == unit_id, Submission.period_id == period_id))
    if submission is None:
        submission = Submission(unit_id=unit_id, period_id=period_id,
                                form_id=await _form_id(session, form_label), status="draft",
                                revision=0, return_comment="", created_at=now, updated_at=now)
        session.add(submission)
        await session.flush()
    return submission


async def _upsert_answers(session: AsyncSession, submission: Submission,
                          answers: dict[str, dict[str, Any]], contact_id: int | None,
                          now: datetime) -> dict[str, Answer]:
    existing = {a.question_id: a for a in (await session.scalars(
        select(Answer).where(Answer.submission_id == submission.id,
                             Answer.question_id.in_(list(answers))))).all()}
    for qid, stored in answers.items():
        row = existing.get(qid)
        value, note = stored.get("value"), stored.get("note") or ""
        if row is None:
            row = Answer(submission_id=submission.id, question_id=qid)
            session.add(row)
            existing[qid] = row
        row.value, row.num_value, row.note = value, numeric_value(value), note
        row.flag = stored.get("flag") or ""
        row.answered_by, row.answered_at = contact_id, now
    submission.updated_at = now
    return existing


async def apply_effects(session: AsyncSession, effects: tuple[Effect, ...], identity: Identity,
                        now: datetime, default_language: str, state: dict[str, Any],
                        nudge: NudgeRunner | None = None) -> None:
    for effect in effects:
        if isinstance(effect, Register):
            await _register(session, effect, identity, now, state.get("language")
                            or default_language)
            await lift_misses(session, [(identity.channel, identity.external_user_id)])
        elif isinstance(effect, RecordFailedSignIn):
            session.add(SignInFailure(channel=identity.channel,
                                      external_user_id=identity.external_user_id,
                                      attempted=effect.attempted[:64], at=now,
                                      limited=effect.limited))
        elif isinstance(effect, SaveAnswers):
            submission = await _submission(session, effect.period_id, effect.unit_code,
                                           effect.form_key, now)
            if submission.status in ("submitted", "accepted"):
                raise EffectError("a submitted report is changed only by resubmitting it")
            await _upsert_answers(session, submission, effect.answers, identity.contact_id, now)
        elif isinstance(effect, Submit):
            await _submit(session, effect, identity.contact_id, now)
        elif isinstance(effect, LinkIdentity):
            contact = await session.get(Contact, effect.contact_id)
            if contact is None or not contact.active:
                raise EffectError("the contact to link is gone")
            identity.contact_id = contact.id
            identity.unreachable_at = None
        elif isinstance(effect, RecordTaskCheckin):
            row = await session.get(TaskCheckin, (effect.task_id, effect.unit_id))
            if row is None:
                row = TaskCheckin(task_id=effect.task_id, unit_id=effect.unit_id)
                session.add(row)
            row.done, row.answered_by, row.answered_at = effect.done, identity.contact_id, now
        elif isinstance(effect, Nudge):
            if nudge is None or identity.contact_id is None:
                raise EffectError("reminders are not available here")
            await nudge(session, identity.contact_id, effect.campaign_keys, now)
        elif isinstance(effect, SetLanguage) and identity.contact_id:
            await session.execute(update(Contact).where(Contact.id == identity.contact_id)
                                  .values(language=effect.language))
        else:
            raise EffectError(f"unhandled effect {effect!r}")


async def _register(session: AsyncSession, effect: Register, identity: Identity, now: datetime,
                    language: str) -> None:
    invite = await session.scalar(select(Invite).where(Invite.code == effect.invite_code))
    if invite is None or invite.uses >= invite.max_uses or (
            invite.expires_at is not None and invite.expires_at <= now):
        raise EffectError("invite no longer usable")
    contact = await session.get(Contact, identity.contact_id) if identity.contact_id else None
    if contact is None:
        contact = Contact(name=effect.display_name or identity.display_name, role=invite.role,
                          language=language, active=True, created_at=now,
                          phone=effect.phone or None)
        session.add(contact)
        await session.flush()
        identity.contact_id = contact.id
    elif ROLE_RANK.get(invite.role, 0) > ROLE_RANK.get(contact.role, 0):
        contact.role = invite.role
    linked = await session.get(ContactUnit, (contact.id, invite.unit_id))
    if linked is None:
        session.add(ContactUnit(contact_id=contact.id, unit_id=invite.unit_id))
    await session.execute(update(Invite).where(Invite.id == invite.id)
                          .values(uses=Invite.uses + 1))


async def lift_misses(session: AsyncSession, accounts: list[tuple[str, str]]) -> None:
    """A right code lifts the account's limit: its earlier misses were typos, not guesses."""
    if accounts:
        await session.execute(delete(SignInFailure).where(or_(*(
            and_(SignInFailure.channel == channel, SignInFailure.external_user_id == user)
            for channel, user in accounts))))


def may_submit(status: str, correct_by: datetime | None, lock_at: datetime | None,
               at: datetime) -> bool:
    """Before the lock; after it, only a returned report, until its correction deadline."""
    if status == "accepted":
        return False
    if lock_at is None or at < lock_at:
        return True
    return status == "returned" and correct_by is not None and at < correct_by


async def _submit(session: AsyncSession, effect: Submit, contact_id: int | None,
                  now: datetime) -> None:
    at = min(effect.at or now, now)
    submission = await _submission(session, effect.period_id, effect.unit_code, effect.form_key,
                                   now)
    period = await session.get(Period, effect.period_id)
    assert period is not None
    if not may_submit(submission.status, submission.correct_by, period.lock_at, at):
        raise EffectError("the report is closed (locked, or accepted)")
    before = {a.question_id: a for a in (await session.scalars(
        select(Answer).where(Answer.submission_id == submission.id))).all()}
    revision = submission.revision + 1
    # What was submitted last time, per question: (value, note).
    previous: dict[str, tuple[Any, str]] = {}
    if submission.status == "submitted":
        changes = effect.changes
        previous = {qid: (a.value, a.note) for qid, a in before.items()}
    elif submission.status == "returned":  # corrected in place: compare with the history
        for r in (await session.scalars(select(AnswerRevision).where(
                AnswerRevision.submission_id == submission.id)
                .order_by(AnswerRevision.id))).all():
            previous[r.question_id] = (r.new_value, r.new_note)
        changes = {qid: {"value": a.value, "note": a.note} for qid, a in before.items()
                   if previous.get(qid) != (a.value, a.note or "")}
    else:
        changes = {qid: {"value": a.value, "note": a.note} for qid, a in before.items()}
    for qid, new in changes.items():
        old_value, old_note = previous.get(qid, (None, ""))
        session.add(AnswerRevision(
            submission_id=submission.id, revision=revision, question_id=qid,
            old_value=old_value, new_value=new.get("value"), old_note=old_note or "",
            new_note=new.get("note") or "", changed_by=contact_id, changed_at=now))
    if submission.status == "submitted":
        await _upsert_answers(session, submission, changes, contact_id, now)
    if submission.on_time is None:  # the first submission decides, for good
        submission.on_time = at < period.deadline
        submission.first_submitted_at = at
    submission.status = "submitted"
    submission.revision = revision
    submission.submitted_at = at
    submission.submitted_by = contact_id
    submission.return_comment = ""
    submission.return_rows = None
    submission.correct_by = None
    submission.updated_at = now
    session.add(ReportEvent(submission_id=submission.id, kind="submitted", revision=revision,
                            by=contact_id, at=at,
                            comment=ON_BEHALF_COMMENT if effect.on_behalf else ""))


__all__ = ["apply_effects", "EffectError", "Identity"]
