"""Load what the engine needs for one inbound event, inside the event's transaction."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import (
    Answer,
    Campaign,
    CampaignForm,
    CampaignUnit,
    Contact,
    ContactUnit,
    FormVersion,
    Identity,
    Invite,
    Period,
    SignInFailure,
    Submission,
    Task,
    TaskCheckin,
    Unit,
)
from conversations.context import (
    MAX_FAILED_SIGNINS_GLOBAL,
    SIGNIN_GLOBAL_WINDOW,
    Assignment,
    ContactView,
    Context,
    InviteView,
    TaskView,
    UnitView,
)
from conversations.events import InboundEvent
from conversations.forms import Form, Text, parse_form
from conversations.i18n import Catalog
from conversations.invite_codes import candidate
from conversations.phone_numbers import normalise_phone
from conversations.task_checkins import TASK_WORDS
from conversations.text_normalise import fold

log = logging.getLogger(__name__)
UPCOMING = timedelta(days=14)


class FormCache:
    """Parsed forms by 'key@version'; a loaded form version never changes, so caching is safe."""

    def __init__(self) -> None:
        self._by_id: dict[int, Form] = {}

    @staticmethod
    def label(form: Form) -> str:
        return f"{form.id}@{form.version}"

    async def get(self, session: AsyncSession, form_id: int) -> Form:
        form = self._by_id.get(form_id)
        if form is None:
            row = await session.get(FormVersion, form_id)
            assert row is not None
            form = parse_form(row.definition, f"{row.key}@{row.version}")
            self._by_id[form_id] = form
        return form


def answer_dict(value: Any, note: str | None, flag: str | None = "") -> dict[str, Any]:
    """An answer as the engine, /xem and the exports read it; "flag" only when set."""
    out: dict[str, Any] = {"value": value, "note": note or ""}
    if flag:
        out["flag"] = flag
    return out


@dataclass(frozen=True)
class PreviousWanted:
    """A report whose figures are compared with the unit's previous one of the same form."""

    unit_id: int
    period_id: int
    starts_at: datetime
    form_key: str  # the form's id (FormVersion.key), any version


# Built once: the previous-report lookup runs with every batch, and building a statement
# costs more CPU than running it (bench/README.md).
_EARLIER_REPORTS = (
    select(Submission.id, Submission.unit_id, Period.starts_at, Period.label_vi,
           Period.label_en, FormVersion.key)
    .join(Period, Period.id == Submission.period_id)
    .join(FormVersion, FormVersion.id == Submission.form_id)
    .where(Submission.unit_id.in_(bindparam("units", expanding=True)),
           Submission.status.in_(("submitted", "accepted")),
           Period.starts_at < bindparam("before")))
_THEIR_NUMBERS = (
    select(Answer.submission_id, Answer.question_id, Answer.num_value)
    .where(Answer.submission_id.in_(bindparam("submissions", expanding=True)),
           Answer.num_value.is_not(None)))


async def previous_reports(session: AsyncSession, wanted: Sequence[PreviousWanted]
                           ) -> dict[tuple[int, int], tuple[Text, dict[str, Any]]]:
    """For each report, the unit's latest submitted report of the same form in a period that
    started before: its label and numeric answers. Two set-based queries for any number of
    reports (the batch snapshot loads them once per batch, never per answer), one when no
    unit has an earlier report."""
    if not wanted:
        return {}
    rows = (await session.execute(_EARLIER_REPORTS, {
        "units": sorted({w.unit_id for w in wanted}),
        "before": max(w.starts_at for w in wanted)})).all()
    if not rows:
        return {}
    chosen: dict[tuple[int, int], Any] = {}
    for w in wanted:
        best = None
        for row in rows:
            if row.unit_id == w.unit_id and row.key == w.form_key and \
                    row.starts_at < w.starts_at and (best is None or row.starts_at >
                                                     best.starts_at):
                best = row
        if best is not None:
            chosen[(w.unit_id, w.period_id)] = best
    if not chosen:
        return {}
    values: dict[int, dict[str, Any]] = defaultdict(dict)
    for submission_id, question_id, number in (await session.execute(
            _THEIR_NUMBERS, {"submissions": sorted({r.id for r in chosen.values()})})).all():
        values[submission_id][question_id] = number
    return {key: (Text(r.label_vi, r.label_en), values.get(r.id, {}))
            for key, r in chosen.items()}


class PreviousCache:
    """The previous-report figures of (unit, period), kept for a few minutes: they change only
    when a report is submitted (then the dispatcher clears them), so most batches read none.
    Another instance's submission is seen after `ttl` at most; a figure compared with a stale
    previous report is only asked back, never refused."""

    def __init__(self, ttl: float = 600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._items: dict[tuple[int, int], tuple[float, tuple[Text, dict[str, Any]] | None]] = {}

    async def get(self, session: AsyncSession, wanted: Sequence[PreviousWanted]
                  ) -> dict[tuple[int, int], tuple[Text, dict[str, Any]]]:
        now = self.clock()
        found: dict[tuple[int, int], tuple[Text, dict[str, Any]]] = {}
        missing = []
        for w in wanted:
            hit = self._items.get((w.unit_id, w.period_id))
            if hit is not None and hit[0] > now:
                if hit[1] is not None:
                    found[(w.unit_id, w.period_id)] = hit[1]
            else:
                missing.append(w)
        if missing:
            if len(self._items) > 100_000:
                self._items.clear()
            loaded = await previous_reports(session, missing)
            for w in missing:
                key = (w.unit_id, w.period_id)
                self._items[key] = (now + self.ttl, loaded.get(key))
                if key in loaded:
                    found[key] = loaded[key]
        return found

    def clear(self) -> None:
        self._items.clear()


async def identity_for(session: AsyncSession, event: InboundEvent, now: datetime) -> Identity:
    identity = await session.scalar(
        select(Identity).where(Identity.channel == event.channel,
                               Identity.external_user_id == event.user_id))
    if identity is None:
        identity = Identity(channel=event.channel, external_user_id=event.user_id,
                            chat_id=event.chat_id, display_name=event.display_name,
                            created_at=now)
        session.add(identity)
        await session.flush()
    elif identity.chat_id != event.chat_id:
        identity.chat_id = event.chat_id
    return identity


async def contact_view(session: AsyncSession, contact_id: int) -> ContactView | None:
    contact = await session.get(Contact, contact_id)
    if contact is None or not contact.active:
        return None
    units = (await session.scalars(
        select(Unit).join(ContactUnit, ContactUnit.unit_id == Unit.id)
        .where(ContactUnit.contact_id == contact_id).order_by(Unit.name))).all()
    return ContactView(contact.id, contact.name, contact.role, contact.language,
                       tuple(UnitView(u.code, u.name, u.kind) for u in units))


async def invite_view(session: AsyncSession, text: str, now: datetime) -> InviteView | None:
    code = candidate(text)
    if code is None:
        return None
    row = (await session.execute(
        select(Invite, Unit).join(Unit, Unit.id == Invite.unit_id).where(Invite.code == code)
    )).first()
    if row is None:
        return None
    invite, unit = row
    problem = None
    if invite.expires_at is not None and invite.expires_at <= now:
        problem = "expired"
    elif invite.uses >= invite.max_uses:
        problem = "used_up"
    return InviteView(invite.code, UnitView(unit.code, unit.name, unit.kind), invite.role, problem)


async def failed_signins(session: AsyncSession, event: InboundEvent, now: datetime
                         ) -> tuple[int, int]:
    """Codes this account tried in vain in the last hour (refused tries included), and codes
    not found across all accounts in the global window."""
    mine = await session.scalar(
        select(func.count()).select_from(SignInFailure).where(
            SignInFailure.channel == event.channel,
            SignInFailure.external_user_id == event.user_id,
            SignInFailure.at > now - timedelta(hours=1))) or 0
    everyone = await session.scalar(
        select(func.count()).select_from(SignInFailure).where(
            SignInFailure.at > now - SIGNIN_GLOBAL_WINDOW,
            SignInFailure.limited.is_(False))) or 0
    if everyone >= MAX_FAILED_SIGNINS_GLOBAL:
        log.warning("invite codes: %s misses across all accounts in %s; wrong codes are "
                    "refused until the rate drops (right codes still sign in)", everyone,
                    SIGNIN_GLOBAL_WINDOW)
    return mine, everyone


def owed_reports(columns: Sequence[Any], contact_ids: Sequence[int], now: datetime,
                 late_window: timedelta) -> Select[Any]:
    """The reports the contacts' units owe or may still correct (one row per contact, unit and
    period), oldest deadline first: open or upcoming periods targeting the unit, unless past
    the late window with nothing started, or locked (a report returned after the lock stays
    open until its correction deadline)."""
    targeted = or_(
        ~exists().where(CampaignUnit.campaign_id == Campaign.id),
        exists().where(CampaignUnit.campaign_id == Campaign.id, CampaignUnit.unit_id == Unit.id),
    )
    return (select(*columns)
            .select_from(ContactUnit)
            .join(Unit, Unit.id == ContactUnit.unit_id)
            .join(CampaignForm, CampaignForm.unit_kind == Unit.kind)
            .join(Campaign, Campaign.id == CampaignForm.campaign_id)
            .join(Period, Period.campaign_id == Campaign.id)
            .outerjoin(Submission, and_(Submission.unit_id == Unit.id,
                                        Submission.period_id == Period.id))
            .where(ContactUnit.contact_id.in_(contact_ids), targeted,
                   Period.starts_at <= now + UPCOMING,
                   or_(Period.lock_at.is_(None), Period.lock_at > now,
                       and_(Submission.status == "returned", Submission.correct_by > now)),
                   or_(Period.deadline > now - late_window, Submission.status == "draft",
                       Submission.status == "returned"))
            .order_by(Period.deadline, Unit.name))


async def assignments_for(session: AsyncSession, contact_id: int, now: datetime,
                          forms: FormCache, late_window: timedelta,
                          previous_cache: PreviousCache | None = None,
                          ) -> tuple[tuple[Assignment, ...], dict[str, Form]]:
    """Every report the contact's units owe or may still correct, and the forms they use."""
    rows = (await session.execute(owed_reports(
        (Unit, Campaign, Period, CampaignForm.form_id, Submission), [contact_id], now,
        late_window))).all()
    submission_ids = [r[4].id for r in rows if r[4] is not None]
    answers: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    if submission_ids:
        for a in (await session.scalars(
                select(Answer).where(Answer.submission_id.in_(submission_ids)))).all():
            answers[a.submission_id][a.question_id] = answer_dict(a.value, a.note, a.flag)
    result = []
    used: dict[str, Form] = {}
    forms_of = [await forms.get(session, submission.form_id if submission else form_id)
                for _unit, _campaign, _period, form_id, submission in rows]
    load = previous_cache.get if previous_cache is not None else \
        (lambda session_, wanted: previous_reports(session_, wanted))
    previous = await load(session, [
        PreviousWanted(unit.id, period.id, period.starts_at, form.id)
        for (unit, _campaign, period, _form_id, _submission), form in zip(rows, forms_of,
                                                                          strict=True)
        if form.previous_check.on])
    for (unit, campaign, period, _form_id, submission), form in zip(rows, forms_of,
                                                                     strict=True):
        # A report already started keeps the form version it was started with.
        label = FormCache.label(form)
        used[label] = form
        earlier_label, earlier = previous.get((unit.id, period.id), (Text("", ""), {}))
        result.append(Assignment(
            period_id=period.id,
            period_label=Text(period.label_vi, period.label_en),
            campaign_key=campaign.key,
            campaign_title=Text(period.title_vi, period.title_en),
            timezone=campaign.timezone,
            starts_at=period.starts_at,
            deadline=period.deadline,
            lock_at=period.lock_at,
            unit=UnitView(unit.code, unit.name, unit.kind),
            form_key=label,
            status=submission.status if submission else "none",
            answers=answers.get(submission.id, {}) if submission else {},
            submitted_at=submission.submitted_at if submission else None,
            on_time=submission.on_time if submission else None,
            revision=submission.revision if submission else 0,
            return_comment=submission.return_comment if submission else "",
            correct_by=submission.correct_by if submission else None,
            row_comments=(submission.return_rows or {})
            if submission and submission.status == "returned" else {},
            previous=earlier, previous_label=earlier_label,
        ))
    return tuple(result), used


async def open_tasks(session: AsyncSession, contact_id: int, now: datetime
                     ) -> tuple[TaskView, ...]:
    """Timetable tasks the contact's units own, due from a week ago to a month ahead."""
    units = (await session.scalars(select(Unit).join(ContactUnit, ContactUnit.unit_id == Unit.id)
                                   .where(ContactUnit.contact_id == contact_id))).all()
    if not units:
        return ()
    tasks = (await session.scalars(select(Task).where(
        Task.due_at > now - timedelta(days=7), Task.due_at < now + timedelta(days=30))
        .order_by(Task.due_at))).all()
    if not tasks:
        return ()
    answers = {(c.task_id, c.unit_id): c.done for c in (await session.scalars(
        select(TaskCheckin).where(TaskCheckin.task_id.in_([t.id for t in tasks])))).all()}
    views = []
    for task in tasks:
        for unit in units:
            if unit.kind in (task.owner_kinds or []) or unit.code in (task.owner_units or []):
                views.append(TaskView(task.id, unit.id, unit.name,
                                      Text(task.title_vi, task.title_en), task.due_at,
                                      answers.get((task.id, unit.id))))
    return tuple(views)


def may_answer_a_task(event: InboundEvent, state: dict[str, Any]) -> bool:
    """Only a task button (pressed, or chosen by number), or a short yes/done word typed
    outside a form can answer a task check-in: other messages skip that query."""
    offered = state.get("offered") or []
    if any(str(token).startswith("task:") for token, *_ in offered):
        return True
    if event.kind == "button":
        return event.payload.startswith("task:")
    return event.kind == "text" and state.get("step", "idle") == "idle" and \
        len(event.text) <= 20 and fold(event.text).strip(" .!?") in TASK_WORDS


async def phone_match(session: AsyncSession, phone: str) -> ContactView | None:
    normalised = normalise_phone(phone)
    if normalised is None:
        return None
    contact_id = await session.scalar(select(Contact.id).where(Contact.phone == normalised))
    return await contact_view(session, contact_id) if contact_id else None


async def load_context(session: AsyncSession, event: InboundEvent, identity: Identity,
                       now: datetime, catalog: Catalog, forms: FormCache,
                       default_language: str, late_window: timedelta,
                       can_share_contact: bool = False,
                       state: dict[str, Any] | None = None,
                       previous_cache: PreviousCache | None = None) -> Context:
    contact = await contact_view(session, identity.contact_id) if identity.contact_id else None
    invite = await invite_view(session, event.text, now) if event.kind == "text" else None
    tried = event.kind == "text" and candidate(event.text) is not None
    mine, everyone = await failed_signins(session, event, now) if tried else (0, 0)
    assignments: tuple[Assignment, ...] = ()
    used: dict[str, Form] = {}
    tasks: tuple[TaskView, ...] = ()
    if contact is not None:
        assignments, used = await assignments_for(session, contact.id, now, forms, late_window,
                                                  previous_cache)
        if may_answer_a_task(event, state or {}):
            tasks = await open_tasks(session, contact.id, now)
    match = await phone_match(session, event.phone) if event.kind == "contact" else None
    return Context(catalog=catalog, forms=used, default_language=default_language,
                   contact=contact, invite=invite, failed_signins_last_hour=mine,
                   failed_signins_everywhere=everyone,
                   assignments=assignments, phone_match=match,
                   can_share_contact=can_share_contact, open_tasks=tasks)
