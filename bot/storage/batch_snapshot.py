"""What a batch of inbound events needs, read in a few queries, and the writes of the events
handled from it, made in a few statements at the end.

One getUpdates answer holds up to 100 updates; loading each one's context on its own costs
20-odd round trips and most of the bot's CPU (bench/README.md). The snapshot answers the common
case, a reporter typing the next answer, from memory; anything else (a new account, an invite
code, a coordinator's command, a resubmission) goes through the one-event path, after which
what it may have changed is no longer trusted from the snapshot."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.context_loader import (
    FormCache,
    PreviousCache,
    PreviousWanted,
    answer_dict,
    may_answer_a_task,
    owed_reports,
)
from bot.storage.database import dialect_insert
from bot.storage.effects import lift_misses, numeric_value
from bot.storage.models import (
    Answer,
    AnswerRevision,
    Campaign,
    CampaignForm,
    Contact,
    ContactUnit,
    ConversationState,
    Identity,
    Invite,
    OutboxMessage,
    Period,
    ReportEvent,
    SignInFailure,
    Submission,
    Unit,
)
from conversations.context import (
    MAX_FAILED_SIGNINS_GLOBAL,
    SIGNIN_GLOBAL_WINDOW,
    Assignment,
    ContactView,
    Context,
    InviteView,
    UnitView,
)
from conversations.engine import command_of, needs_received
from conversations.events import (
    InboundEvent,
    RecordFailedSignIn,
    Register,
    SaveAnswers,
    StepResult,
    Submit,
)
from conversations.forms import Form, Text
from conversations.i18n import Catalog
from conversations.invite_codes import candidate

log = logging.getLogger(__name__)
FAST_KINDS = frozenset({"text", "button"})


@dataclass
class _Account:
    identity_id: int
    contact_id: int | None
    chat_id: str
    display_name: str = ""


@dataclass
class _Invite:
    """An invite a newcomer's code names; its uses count up as the batch signs people in."""

    id: int
    code: str
    unit_id: int
    unit: UnitView
    role: str
    expires_at: datetime | None
    max_uses: int
    uses: int

    def usable(self, now: datetime) -> bool:
        return self.problem(now) is None

    def problem(self, now: datetime) -> str | None:
        """As `context_loader.invite_view` says it."""
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        if self.uses >= self.max_uses:
            return "used_up"
        return None


@dataclass
class _SignUp:
    """A newcomer signed in by the batch: a contact to insert and link to the identity."""

    identity_id: int
    contact: dict[str, Any]
    unit_id: int


@dataclass
class _Report:
    """One report a unit owes in a period; its answers change as the batch goes."""

    view: Assignment  # without status and answers, which live below
    unit_id: int
    form_id: int
    submission_id: int | None
    status: str
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def assignment(self) -> Assignment:
        return replace(self.view, status=self.status, answers=dict(self.answers))


@dataclass
class PendingWrites:
    """Rows the fast path owes the database, written by `flush` in one statement per table."""

    new_reports: list[_Report] = field(default_factory=list)  # reports started in the batch
    answers: dict[tuple[int, str], tuple[_Report, dict[str, Any]]] = field(default_factory=dict)
    touched: dict[int, _Report] = field(default_factory=dict)
    states: dict[int, dict[str, Any]] = field(default_factory=dict)
    new_states: dict[int, dict[str, Any]] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    revisions: list[tuple[_Report, dict[str, Any]]] = field(default_factory=list)
    submitted: list[tuple[_Report, dict[str, Any]]] = field(default_factory=list)
    events: list[tuple[_Report, dict[str, Any]]] = field(default_factory=list)
    sign_ups: list[_SignUp] = field(default_factory=list)
    invite_uses: Counter[int] = field(default_factory=Counter)
    failures: list[dict[str, Any]] = field(default_factory=list)
    lifted: list[tuple[str, str]] = field(default_factory=list)  # signed in: misses forgotten

    async def flush(self, session: AsyncSession, now: datetime) -> None:
        if self.sign_ups:
            await _sign_up(session, self.sign_ups, self.invite_uses)
        if self.lifted:
            await lift_misses(session, self.lifted)
        if self.failures:
            await session.execute(insert(SignInFailure.__table__), self.failures)
        if self.new_reports:
            created = {(unit_id, period_id): submission_id
                       for submission_id, unit_id, period_id in (await session.execute(
                           insert(Submission).returning(Submission.id, Submission.unit_id,
                                                        Submission.period_id),
                           [{"unit_id": r.unit_id, "period_id": r.view.period_id,
                             "form_id": r.form_id, "status": "draft", "revision": 0,
                             "return_comment": "", "created_at": now, "updated_at": now}
                            for r in self.new_reports])).all()}
            for report in self.new_reports:
                report.submission_id = created[(report.unit_id, report.view.period_id)]
        if self.answers:
            await session.execute(_upsert_answers(session), [
                {**row, "submission_id": report.submission_id}
                for report, row in self.answers.values()])
        if self.revisions:
            await session.execute(insert(AnswerRevision.__table__), [
                {**row, "submission_id": report.submission_id}
                for report, row in self.revisions])
        if self.submitted:
            await session.execute(update(Submission), [
                {**row, "id": report.submission_id} for report, row in self.submitted])
        if self.events:
            await session.execute(insert(ReportEvent.__table__), [
                {**row, "submission_id": report.submission_id} for report, row in self.events])
        if self.touched:
            await session.execute(update(Submission).where(Submission.id.in_(
                [r.submission_id for r in self.touched.values()])).values(updated_at=now))
        if self.new_states:
            await session.execute(insert(ConversationState.__table__), [
                {"identity_id": k, "state": v, "updated_at": now}
                for k, v in self.new_states.items()])
        if self.states:
            await session.execute(update(ConversationState), [
                {"identity_id": k, "state": v, "updated_at": now} for k, v in self.states.items()])
        if self.outbox:
            await session.execute(insert(OutboxMessage.__table__), self.outbox)
        self.new_reports, self.answers, self.touched, self.outbox = [], {}, {}, []
        self.revisions, self.submitted, self.events = [], [], []
        self.states, self.new_states = {}, {}
        self.sign_ups, self.invite_uses, self.failures, self.lifted = [], Counter(), [], []


_SAME = ("name", "role", "language", "phone")  # what tells new contacts apart
_INVITES = Invite.__table__
_USED = (update(_INVITES).where(_INVITES.c.id == bindparam("invite"))
         .values(uses=_INVITES.c.uses + bindparam("more")))


async def _sign_up(session: AsyncSession, sign_ups: list[_SignUp],
                   invite_uses: Counter[int]) -> None:
    """`effects._register` for newcomers, a statement per table: the contacts (in the order
    they signed in), their units, their identities bound, the invites' uses counted."""
    # Rows come back in no promised order (asking for one makes SQLAlchemy insert them one by
    # one): each goes to a sign-up with the same values, the lowest id to the earliest.
    made: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for contact_id, *values in sorted((await session.execute(
            insert(Contact).returning(Contact.id, *(Contact.__table__.c[k] for k in _SAME)),
            [s.contact for s in sign_ups])).all()):
        made[tuple(values)].append(contact_id)
    contact_ids = [made[tuple(s.contact[k] for k in _SAME)].pop(0) for s in sign_ups]
    await session.execute(insert(ContactUnit.__table__), [
        {"contact_id": c, "unit_id": s.unit_id} for c, s in zip(contact_ids, sign_ups,
                                                                 strict=True)])
    await session.execute(update(Identity), [
        {"id": s.identity_id, "contact_id": c}
        for c, s in zip(contact_ids, sign_ups, strict=True)])
    await session.execute(_USED, [{"invite": k, "more": n} for k, n in invite_uses.items()])


def _upsert_answers(session: AsyncSession) -> Any:
    table = Answer.__table__
    stmt = dialect_insert(session)(table)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.submission_id, table.c.question_id],
        set_={c: stmt.excluded[c] for c in
              ("value", "num_value", "note", "flag", "answered_by", "answered_at")})


class BatchSnapshot:
    """Accounts, states, contacts and their reports for the events of one batch."""

    def __init__(self) -> None:
        self.accounts: dict[tuple[str, str], _Account] = {}
        self.states: dict[int, dict[str, Any] | None] = {}
        self.stored_states: set[int] = set()  # identities with a conversation_states row
        self.contacts: dict[int, ContactView] = {}
        self.reports: dict[str, _Report] = {}
        self.owed: dict[int, list[str]] = defaultdict(list)  # contact → report keys, in order
        self.with_units_below: set[int] = set()  # units of those reports that have units below
        self.forms: dict[str, Form] = {}
        self.stale_accounts: set[tuple[str, str]] = set()
        self.stale_contacts: set[int] = set()
        self.stale_units: set[str] = set()
        self.all_stale = False
        # Newcomers (no contact yet): the invites their codes name, and the codes tried in
        # vain (per account in the last hour, and everyone's in the global window).
        self.invites: dict[str, _Invite] = {}
        self.failed_mine: Counter[tuple[str, str]] = Counter()
        self.failed_everywhere = 0
        self.codes_stale = False  # a code went through the one-event path
        self.elsewhere: set[tuple[str, str]] = set()
        self.now: datetime | None = None

    @classmethod
    async def load(cls, session: AsyncSession, events: Sequence[InboundEvent], now: datetime,
                   forms: FormCache, late_window: timedelta,
                   previous_cache: PreviousCache | None = None) -> BatchSnapshot:
        snap = cls()
        snap.now = now
        by_channel: dict[str, set[str]] = defaultdict(set)
        for event in events:
            by_channel[event.channel].add(event.user_id)
        for channel, users in by_channel.items():
            for identity_id, user_id, contact_id, chat_id, name, state, stored in (
                    await session.execute(
                        select(Identity.id, Identity.external_user_id, Identity.contact_id,
                               Identity.chat_id, Identity.display_name, ConversationState.state,
                               ConversationState.identity_id)
                        .outerjoin(ConversationState,
                                   ConversationState.identity_id == Identity.id)
                        .where(Identity.channel == channel,
                               Identity.external_user_id.in_(users)))).all():
                snap.accounts[(channel, user_id)] = _Account(identity_id, contact_id, chat_id,
                                                             name)
                snap.states[identity_id] = state
                if stored is not None:
                    snap.stored_states.add(identity_id)
        await snap._add_newcomers(session, events, now)
        if not snap.accounts:
            return snap
        contact_ids = {a.contact_id for a in snap.accounts.values() if a.contact_id}
        if contact_ids:
            await snap._load_contacts(session, contact_ids)
            await snap._load_reports(session, list(snap.contacts), now, forms, late_window,
                                     previous_cache or PreviousCache(ttl=0))
        return snap

    async def _add_newcomers(self, session: AsyncSession, events: Sequence[InboundEvent],
                             now: datetime) -> None:
        """Identities for the people writing for the first time (the one-event path makes one
        for anyone who writes privately, so here they are made up front, in the order the
        people first wrote, in one statement); then what their codes need."""
        first: dict[tuple[str, str], InboundEvent] = {}
        for event in events:
            key = (event.channel, event.user_id)
            if event.personal and key not in self.accounts:
                first.setdefault(key, event)
        if first:
            made = {(channel, user_id): identity_id for identity_id, channel, user_id in (
                await session.execute(
                    insert(Identity).returning(Identity.id, Identity.channel,
                                               Identity.external_user_id),
                    [{"channel": e.channel, "external_user_id": e.user_id, "chat_id": e.chat_id,
                      "display_name": e.display_name, "created_at": now}
                     for e in first.values()])).all()}
            for key, event in first.items():
                self.accounts[key] = _Account(made[key], None, event.chat_id,
                                              event.display_name)
                self.states[made[key]] = None
        tried = [((e.channel, e.user_id), code) for e in events
                 if e.personal and e.kind == "text" and (code := candidate(e.text)) is not None
                 and self.accounts[(e.channel, e.user_id)].contact_id is None]
        if tried:
            await self._load_codes(session, tried, now)

    async def _load_codes(self, session: AsyncSession, tried: list[tuple[tuple[str, str], str]],
                          now: datetime) -> None:
        """`context_loader.invite_view` and `failed_signins` for every newcomer at once."""
        for (invite_id, code, unit_id, role, expires_at, max_uses, uses, unit_code, unit_name,
             kind) in (await session.execute(
                select(Invite.id, Invite.code, Invite.unit_id, Invite.role, Invite.expires_at,
                       Invite.max_uses, Invite.uses, Unit.code, Unit.name, Unit.kind)
                .join(Unit, Unit.id == Invite.unit_id)
                .where(Invite.code.in_({code for _who, code in tried})))).all():
            self.invites[code] = _Invite(invite_id, code, unit_id,
                                         UnitView(unit_code, unit_name, kind), role,
                                         expires_at, max_uses, uses)
        by_channel: dict[str, set[str]] = defaultdict(set)
        for (channel, user_id), _code in tried:
            by_channel[channel].add(user_id)
        for channel, users in by_channel.items():
            for user_id, count in (await session.execute(
                    select(SignInFailure.external_user_id, func.count())
                    .where(SignInFailure.channel == channel,
                           SignInFailure.external_user_id.in_(users),
                           SignInFailure.at > now - timedelta(hours=1))
                    .group_by(SignInFailure.external_user_id))).all():
                self.failed_mine[(channel, user_id)] = count
        self.failed_everywhere = await session.scalar(
            select(func.count()).select_from(SignInFailure).where(
                SignInFailure.at > now - SIGNIN_GLOBAL_WINDOW,
                SignInFailure.limited.is_(False))) or 0

    async def _load_contacts(self, session: AsyncSession, contact_ids: set[int]) -> None:
        found: dict[int, tuple[str, str, str]] = {}
        units: dict[int, list[UnitView]] = defaultdict(list)
        for contact_id, name, role, language, code, unit_name, kind in (await session.execute(
                select(Contact.id, Contact.name, Contact.role, Contact.language,
                       Unit.code, Unit.name, Unit.kind)
                .outerjoin(ContactUnit, ContactUnit.contact_id == Contact.id)
                .outerjoin(Unit, Unit.id == ContactUnit.unit_id)
                .where(Contact.id.in_(contact_ids), Contact.active.is_(True))
                .order_by(Unit.name))).all():
            found[contact_id] = (name, role, language)
            if code is not None:
                units[contact_id].append(UnitView(code, unit_name, kind))
        for contact_id, (name, role, language) in found.items():
            self.contacts[contact_id] = ContactView(contact_id, name, role, language,
                                                    tuple(units[contact_id]))

    async def _load_reports(self, session: AsyncSession, contact_ids: list[int], now: datetime,
                            forms: FormCache, late_window: timedelta,
                            previous_cache: PreviousCache) -> None:
        """`context_loader.owed_reports` for every contact at once, as plain rows."""
        rows = (await session.execute(owed_reports(
            (ContactUnit.contact_id, Unit.id, Unit.code, Unit.name, Unit.kind,
             Campaign.key, Period.title_vi, Period.title_en, Campaign.timezone,
             Period.id, Period.label_vi, Period.label_en, Period.starts_at,
             Period.deadline, Period.lock_at, CampaignForm.form_id,
             Submission.id, Submission.form_id, Submission.status,
             Submission.submitted_at, Submission.on_time, Submission.revision,
             Submission.return_comment, Submission.correct_by, Submission.return_rows),
            contact_ids, now, late_window))).all()
        for (contact_id, unit_id, code, unit_name, kind, campaign_key, title_vi, title_en,
             timezone, period_id, label_vi, label_en, starts_at, deadline, lock_at, form_id,
             submission_id, submission_form, status, submitted_at, on_time, revision,
             comment, correct_by, return_rows) in rows:
            key = f"{period_id}:{code}"
            self.owed[contact_id].append(key)
            if key in self.reports:
                continue
            # A report already started keeps the form version it was started with.
            form = await forms.get(session, submission_form or form_id)
            label = FormCache.label(form)
            self.forms[label] = form
            view = Assignment(
                period_id=period_id, period_label=Text(label_vi, label_en),
                campaign_key=campaign_key, campaign_title=Text(title_vi, title_en),
                timezone=timezone, starts_at=starts_at, deadline=deadline, lock_at=lock_at,
                unit=UnitView(code, unit_name, kind), form_key=label,
                submitted_at=submitted_at, on_time=on_time, revision=revision or 0,
                return_comment=comment or "", correct_by=correct_by,
                row_comments=(return_rows or {}) if status == "returned" else {})
            self.reports[key] = _Report(view, unit_id, submission_form or form_id,
                                        submission_id, status or "none")
        unit_ids = {r.unit_id for r in self.reports.values()}
        if unit_ids:
            self.with_units_below = set((await session.scalars(
                select(Unit.parent_id).where(Unit.parent_id.in_(unit_ids)).distinct())).all())
        started = {r.submission_id: r for r in self.reports.values() if r.submission_id}
        if started:
            for submission_id, question_id, value, note, flag in (await session.execute(
                    select(Answer.submission_id, Answer.question_id, Answer.value, Answer.note,
                           Answer.flag)
                    .where(Answer.submission_id.in_(list(started))))).all():
                started[submission_id].answers[question_id] = answer_dict(value, note, flag)
        # The unit's previous report of the same form, for every report at once: what a
        # figure is compared with when it is stored (never a query per answer).
        previous = await previous_cache.get(session, [
            PreviousWanted(r.unit_id, r.view.period_id, r.view.starts_at,
                           self.forms[r.view.form_key].id)
            for r in self.reports.values()
            if r.status in ("none", "draft", "returned", "submitted")
            and self.forms[r.view.form_key].previous_check.on])
        for report in self.reports.values():
            found = previous.get((report.unit_id, report.view.period_id))
            if found is not None:
                report.view = replace(report.view, previous_label=found[0], previous=found[1])

    # ------------------------------------------------------------------ using the snapshot

    def context(self, event: InboundEvent, catalog: Catalog, default_language: str,
                can_share_contact: bool, can_receive_files: bool = False
                ) -> tuple[Context, dict[str, Any]] | None:
        """The engine's context and state for the event, or None when the snapshot can't be
        trusted to answer it (then the one-event path handles it)."""
        key = (event.channel, event.user_id)
        account = self.accounts.get(key)
        if (not event.personal or self.all_stale or account is None or key in self.stale_accounts
                or account.chat_id != event.chat_id or event.kind not in FAST_KINDS):
            return None
        if account.contact_id is None:
            return self._newcomer(event, account, catalog, default_language, can_share_contact,
                                  can_receive_files)
        contact = self.contacts.get(account.contact_id)
        if contact is None or contact.id in self.stale_contacts or any(
                u.code in self.stale_units for u in contact.units):
            return None
        state = dict(self.states.get(account.identity_id) or {})
        if event.kind == "text" and candidate(event.text) is not None:
            return None  # may be an invite code
        if contact.role != "reporter" and command_of(event):
            return None  # coordinator commands (typed, or a command button) load their data
        keys = self.owed.get(contact.id, [])
        if may_answer_a_task(event, state) or "quoted" in state or (
                needs_received(event, state)
                and any(self.reports[k].unit_id in self.with_units_below for k in keys)):
            # task check-ins, and opening a report of a unit that receives reports from units
            # below it, load more than this snapshot; a caption waiting for confirmation may
            # turn into any text
            return None
        reports = [self.reports[k] for k in keys]
        used = {r.view.form_key: self.forms[r.view.form_key] for r in reports}
        ctx = Context(catalog=catalog, forms=used, default_language=default_language,
                      contact=contact, assignments=tuple(r.assignment() for r in reports),
                      can_share_contact=can_share_contact,
                      can_receive_files=can_receive_files)
        return ctx, state

    def _newcomer(self, event: InboundEvent, account: _Account, catalog: Catalog,
                  default_language: str, can_share_contact: bool, can_receive_files: bool
                  ) -> tuple[Context, dict[str, Any]] | None:
        """`load_context` for someone not signed in: the invite their code names and the
        limits on codes, counted as the batch goes."""
        state = dict(self.states.get(account.identity_id) or {})
        if "quoted" in state:  # a caption waiting for confirmation may turn into any text
            return None
        code = candidate(event.text) if event.kind == "text" else None
        invite = None
        mine = everyone = 0
        if code is not None:
            if self.codes_stale:
                return None
            found = self.invites.get(code)
            if found is not None:
                invite = InviteView(found.code, found.unit, found.role,
                                    found.problem(self.now))
            mine = self.failed_mine[(event.channel, event.user_id)]
            everyone = self.failed_everywhere
            if everyone >= MAX_FAILED_SIGNINS_GLOBAL:
                log.warning("invite codes: %s misses across all accounts in %s; wrong codes "
                            "are refused until the rate drops", everyone, SIGNIN_GLOBAL_WINDOW)
        ctx = Context(catalog=catalog, forms={}, default_language=default_language,
                      invite=invite, failed_signins_last_hour=mine,
                      failed_signins_everywhere=everyone, can_share_contact=can_share_contact,
                      can_receive_files=can_receive_files)
        return ctx, state

    def fast_writes(self, result: StepResult, now: datetime,
                    event: InboundEvent | None = None) -> bool:
        """Whether the bulk writes can make the result's effects: answers to a report not
        yet submitted, and the first submission of a draft; for a newcomer, signing in with
        an invite and a code tried in vain."""
        account = self.accounts.get((event.channel, event.user_id)) if event else None
        if account is not None and account.contact_id is None:
            return all(isinstance(e, RecordFailedSignIn) or (
                isinstance(e, Register) and e.invite_code in self.invites
                and self.invites[e.invite_code].usable(now)) for e in result.effects)
        for effect in result.effects:
            if not isinstance(effect, SaveAnswers | Submit):
                return False
            report = self.reports.get(f"{effect.period_id}:{effect.unit_code}")
            if report is None or report.view.form_key != effect.form_key:
                return False
            if isinstance(effect, SaveAnswers) and \
                    report.status not in ("none", "draft", "returned"):
                return False
            if isinstance(effect, Submit) and (report.status != "draft" or effect.changes
                                               or report.view.on_time is not None
                                               or report.view.locked(effect.at or now)):
                return False
        return True

    def record(self, writes: PendingWrites, event: InboundEvent, result: StepResult,
               now: datetime, default_language: str = "vi") -> dict[str, Any] | None:
        """Keep a fast event's answers and state, in memory for the next events and in
        `writes` for the database. A newcomer who signed in: the command menu payload for
        their role and language."""
        account = self.accounts[(event.channel, event.user_id)]
        menu = None
        if account.contact_id is None:
            menu = self._newcomer_effects(writes, event, account, result, now,
                                          default_language)
        else:
            self._answers(writes, account, result, now)
        new_state = dict(result.state)
        if account.identity_id in self.stored_states:
            writes.states[account.identity_id] = new_state
        else:  # inserted first, so later updates in the same flush find the row
            writes.new_states[account.identity_id] = new_state
            self.stored_states.add(account.identity_id)
        self.states[account.identity_id] = new_state
        return menu

    def _newcomer_effects(self, writes: PendingWrites, event: InboundEvent,
                          account: _Account, result: StepResult, now: datetime,
                          default_language: str) -> dict[str, Any] | None:
        """`effects._register` and the failed tries, counted here for the next events."""
        key = (event.channel, event.user_id)
        menu = None
        for effect in result.effects:
            if isinstance(effect, RecordFailedSignIn):
                writes.failures.append({"channel": event.channel, "external_user_id":
                                        event.user_id, "attempted": effect.attempted[:64],
                                        "at": now, "limited": effect.limited})
                self.failed_mine[key] += 1
                self.failed_everywhere += not effect.limited
                continue
            assert isinstance(effect, Register)
            writes.lifted.append(key)
            writes.failures = [f for f in writes.failures
                               if (f["channel"], f["external_user_id"]) != key]
            self.failed_mine[key] = 0
            invite = self.invites[effect.invite_code]
            language = result.state.get("language") or default_language
            writes.sign_ups.append(_SignUp(account.identity_id, {
                "name": effect.display_name or account.display_name, "role": invite.role,
                "language": language, "active": True, "created_at": now,
                "phone": effect.phone or None}, invite.unit_id))
            writes.invite_uses[invite.id] += 1
            invite.uses += 1
            self.stale_accounts.add(key)  # a contact now: their next event goes one by one
            menu = {"kind": "menu", "role": invite.role, "language": language}
        return menu

    def _answers(self, writes: PendingWrites, account: _Account, result: StepResult,
                 now: datetime) -> None:
        for effect in result.effects:
            report = self.reports[f"{effect.period_id}:{effect.unit_code}"]
            if isinstance(effect, Submit):
                self._submit(writes, report, account.contact_id, min(effect.at or now, now),
                             now)
                continue
            assert isinstance(effect, SaveAnswers)
            if report.status == "none":  # created by the flush, before its answers
                report.status = "draft"
                writes.new_reports.append(report)
            for qid, stored in effect.answers.items():
                value, note = stored.get("value"), stored.get("note") or ""
                flag = stored.get("flag") or ""
                report.answers[qid] = answer_dict(value, note, flag)
                writes.answers[(id(report), qid)] = (report, {
                    "question_id": qid, "value": value, "num_value": numeric_value(value),
                    "note": note, "flag": flag, "answered_by": account.contact_id,
                    "answered_at": now})
            writes.touched[id(report)] = report

    @staticmethod
    def _submit(writes: PendingWrites, report: _Report, contact_id: int | None,
                at: datetime, now: datetime) -> None:
        """A draft's first submission, as `effects._submit` makes it: every answer into the
        history as revision 1, the report submitted (on time or not, once for all, by when
        the message was received)."""
        revision = report.view.revision + 1
        writes.revisions += [
            (report, {"revision": revision, "question_id": qid, "old_value": None,
                      "new_value": stored.get("value"), "old_note": "",
                      "new_note": stored.get("note") or "", "changed_by": contact_id,
                      "changed_at": now})
            for qid, stored in report.answers.items()]
        on_time = at < report.view.deadline
        writes.submitted.append((report, {
            "status": "submitted", "revision": revision, "submitted_at": at,
            "first_submitted_at": at, "submitted_by": contact_id, "on_time": on_time,
            "return_comment": "", "correct_by": None, "updated_at": now}))
        writes.events.append((report, {"kind": "submitted", "revision": revision,
                                       "by": contact_id, "at": at, "comment": ""}))
        report.status = "submitted"
        report.view = replace(report.view, revision=revision, submitted_at=at,
                              on_time=on_time, return_comment="", correct_by=None)

    def handled_elsewhere(self, event: InboundEvent) -> None:
        """After the one-event path: what it may have changed is no longer trusted."""
        key = (event.channel, event.user_id)
        account = self.accounts.get(key)
        state = self.states.get(account.identity_id) if account else None
        if key in self.elsewhere or event.kind != "text" or \
                candidate(event.text) is not None or "quoted" in (state or {}):
            self.codes_stale = True  # it may have used an invite or recorded a miss
        self.stale_accounts.add(key)
        self.elsewhere.add(key)  # whose state the snapshot no longer knows
        contact = self.contacts.get(account.contact_id) if account and account.contact_id \
            else None
        if contact is None:
            return
        if contact.role != "reporter":  # a coordinator's command may touch any unit below
            self.all_stale = True
        self.stale_contacts.add(contact.id)
        self.stale_units.update(u.code for u in contact.units)
