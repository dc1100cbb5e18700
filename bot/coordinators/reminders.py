"""Reminders from the database: load what the planner needs, enqueue what it says is due.

The planner (scheduler/) is pure; this module is its port. Enqueuing goes through the outbox's
unique `dedupe_key`, so a tick that runs twice, a restart or a second instance sends nothing twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.text_split import split_text
from bot.coordinators.as_of import states_at
from bot.delivery.outbox import BULK, TEXT_LIMITS, to_payload
from bot.storage.context_loader import FormCache
from bot.storage.database import dialect_insert
from bot.storage.models import (
    Answer,
    Campaign,
    CampaignForm,
    CampaignUnit,
    Contact,
    ContactUnit,
    ConversationState,
    Identity,
    Nudge,
    OutboxMessage,
    Period,
    Submission,
    Task,
    TaskCheckin,
    Unit,
)
from conversations.campaigns import reports_to_of
from conversations.context import NudgeInfo, NudgeTarget
from conversations.forms import Text
from conversations.i18n import Catalog
from conversations.reporting_lines import TreeUnit, recipient_of
from scheduler.reminder_plan import (
    CoordinatorUnit,
    DueReminder,
    PeriodSnapshot,
    Recipient,
    TaskOwner,
    TaskState,
    UnitReport,
    plan,
)
from scheduler.reminder_policy import ReminderPolicy
from scheduler.reminder_texts import render

log = logging.getLogger(__name__)
ACTIVE_BEFORE = timedelta(days=45)  # tasks of a timetable come weeks before the period opens
ACTIVE_AFTER = timedelta(days=10)


UnitRow = Row[Any]  # id, code, name, kind, path


def _question_order(qid: str) -> list[tuple[int, int, str]]:
    """"5.10" after "5.9": question ids in the order a form prints them."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in qid.split(".")]

class ReminderStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], catalog: Catalog,
                 forms: FormCache, late_window: timedelta = timedelta(days=90)) -> None:
        self.sessions = sessions
        self.catalog = catalog
        self.forms = forms
        # How long after its deadline a report is still taken (the chat's late window): a
        # nudge reaches units for as long as they can act on it.
        self.late_window = late_window

    # ------------------------------------------------------------------ loading

    async def snapshots(self, session: AsyncSession, now: datetime,
                        campaign_key: str | None = None, as_of: datetime | None = None,
                        after: timedelta = ACTIVE_AFTER) -> list[PeriodSnapshot]:
        """Periods from ACTIVE_BEFORE their opening to `after` their deadline; with `as_of`,
        the reports and task answers as they were then (a preview)."""
        query = (select(Period, Campaign).join(Campaign, Campaign.id == Period.campaign_id)
                 .where(Period.starts_at <= now + ACTIVE_BEFORE,
                        Period.deadline >= now - after))
        if campaign_key is not None:
            query = query.where(Campaign.key == campaign_key)
        rows = (await session.execute(query.order_by(Period.deadline))).all()
        if not rows:
            return []
        # Plain rows, not ORM objects: a province has tens of thousands of units and people.
        units = (await session.execute(
            select(Unit.id, Unit.code, Unit.name, Unit.kind, Unit.path))).all()
        by_id = {u.id: u for u in units}
        by_code = {u.code: u for u in units}
        people = await self._people(session)
        result = []
        for period, campaign in rows:
            result.append(await self._snapshot(session, period, campaign, units, by_id,
                                               by_code, people, as_of))
        return result

    async def _people(self, session: AsyncSession
                      ) -> tuple[dict[int, list[Recipient]], dict[int, list[Recipient]]]:
        """Reporters and coordinators by unit id, each with the identity last used."""
        latest: dict[int, tuple[datetime, str, str]] = {}
        rows = (await session.execute(
            select(Identity.contact_id, Identity.channel, Identity.chat_id, Identity.created_at,
                   ConversationState.updated_at)
            .outerjoin(ConversationState, ConversationState.identity_id == Identity.id)
            .where(Identity.contact_id.is_not(None), Identity.unreachable_at.is_(None)))).all()
        for contact_id, channel, chat_id, created, updated in rows:
            stamp = updated or created
            current = latest.get(contact_id)
            if current is None or stamp > current[0]:
                latest[contact_id] = (stamp, channel, chat_id)
        reporters: dict[int, list[Recipient]] = defaultdict(list)
        coordinators: dict[int, list[Recipient]] = defaultdict(list)
        links = (await session.execute(
            select(ContactUnit.unit_id, Contact.id, Contact.name, Contact.language,
                   Contact.phone, Contact.role)
            .join(Contact, Contact.id == ContactUnit.contact_id)
            .where(Contact.active.is_(True)).order_by(Contact.name))).all()
        for unit_id, contact_id, name, language, phone, role in links:
            _stamp, channel, chat_id = latest.get(contact_id, (None, None, None))
            recipient = Recipient(contact_id, name, language, channel, chat_id, phone or "")
            if role == "reporter":
                reporters[unit_id].append(recipient)
            else:
                coordinators[unit_id].append(recipient)
        return reporters, coordinators

    async def _snapshot(self, session: AsyncSession, period: Period, campaign: Campaign,
                        units: Iterable[UnitRow], by_id: dict[int, UnitRow],
                        by_code: dict[str, UnitRow],
                        people: tuple[dict[int, list[Recipient]], dict[int, list[Recipient]]],
                        as_of: datetime | None = None) -> PeriodSnapshot:
        reporters, coordinators = people
        forms = {cf.unit_kind: cf.form_id for cf in (await session.scalars(
            select(CampaignForm).where(CampaignForm.campaign_id == campaign.id))).all()}
        explicit = set((await session.scalars(select(CampaignUnit.unit_id).where(
            CampaignUnit.campaign_id == campaign.id))).all())
        targets = [u for u in units if u.kind in forms and (not explicit or u.id in explicit)]
        submissions = {s.unit_id: s for s in (await session.execute(
            select(Submission.unit_id, Submission.form_id, Submission.status,
                   Submission.on_time, Submission.correct_by)
            .where(Submission.period_id == period.id))).all()}
        answered = dict((await session.execute(
            select(Submission.unit_id, func.count(Answer.question_id))
            .join(Answer, Answer.submission_id == Submission.id)
            .where(Submission.period_id == period.id).group_by(Submission.unit_id))).all())
        flagged: dict[int, list[str]] = defaultdict(list)
        for unit_id, question_id in (await session.execute(
                select(Submission.unit_id, Answer.question_id)
                .join(Answer, Answer.submission_id == Submission.id)
                .where(Submission.period_id == period.id, Answer.flag != "",
                       Submission.status.in_(("submitted", "accepted"))))).all():
            flagged[unit_id].append(question_id)
        if as_of is not None:
            past = await states_at(session, period.id, as_of)
            submissions = {u: s for u, s in submissions.items() if past[u].status != "none"}
            answered = {u: past[u].answered for u in submissions}
            flagged = {u: q for u, q in flagged.items()
                       if u in submissions and past[u].status in ("submitted", "accepted")}
        totals: dict[int, int] = {}
        for form_id in set(forms.values()):
            totals[form_id] = len((await self.forms.get(session, form_id)).questions)
        coordinating = {unit_id for unit_id, people_ in coordinators.items() if people_}

        def coordinator_of(unit: UnitRow) -> int | None:
            codes = [c for c in unit.path.strip("/").split("/") if c][:-1]
            for code in reversed(codes):
                above = by_code.get(code)
                if above is not None and above.id in coordinating:
                    return above.id
            return None

        covered = await self._covered(session, campaign, targets, by_code, forms,
                                      coordinator_of)
        reports = []
        for unit in targets:
            submission = submissions.get(unit.id)
            form_id = submission.form_id if submission else forms[unit.kind]
            if submission is not None and form_id not in totals:
                totals[form_id] = len((await self.forms.get(session, form_id)).questions)
            status = submission.status if submission else "none"
            if submission is not None and as_of is not None:
                status = past[unit.id].status
            reports.append(UnitReport(
                unit.id, unit.code, unit.name, status,
                answered.get(unit.id, 0), totals[form_id], tuple(reporters.get(unit.id, ())),
                coordinator_of(unit), submission.on_time if submission else None,
                kind=unit.kind, flagged=tuple(sorted(flagged.get(unit.id, ()),
                                                     key=_question_order)),
                form=str(forms[unit.kind]), covered_by=covered.get(unit.id, ""),
                correct_by=submission.correct_by if submission else None))
        coordinator_units = {}
        for report in reports:
            cid = report.coordinator_unit_id
            if cid is not None and cid not in coordinator_units:
                coordinator_units[cid] = CoordinatorUnit(cid, by_id[cid].name,
                                                         tuple(coordinators[cid]))
        tasks = await self._tasks(session, campaign, units, reporters, coordinator_of,
                                  coordinator_units, by_id, coordinators, as_of)
        return PeriodSnapshot(
            period.id, campaign.key, Text(period.title_vi, period.title_en),
            campaign.timezone, period.starts_at, period.deadline, period.lock_at,
            ReminderPolicy.parse((campaign.definition or {}).get("reminders")),
            tuple(reports), coordinator_units, tasks)

    async def _covered(self, session: AsyncSession, campaign: Campaign,
                       targets: Iterable[UnitRow], by_code: dict[str, UnitRow],
                       forms: dict[str, int], coordinator_of: Callable[[UnitRow], int | None]
                       ) -> dict[int, str]:
        """Asked unit → the kind of the unit below its coordinator whose report already holds
        its figures (a school's commune), for the units a digest shows as their own line."""
        keys = {form_id: (await self.forms.get(session, form_id)).id
                for form_id in set(forms.values())}
        asked = {u.id for u in targets}
        tree = {code: TreeUnit(u.id, u.code, u.name, u.kind, u.path,
                               keys[forms[u.kind]] if u.id in asked else None)
                for code, u in by_code.items()}
        lines = reports_to_of(campaign.definition)
        paths = {u.id: u.path for u in by_code.values()}
        covered: dict[int, str] = {}
        for unit in targets:
            recipient = recipient_of(tree[unit.code], tree, lines)
            coordinator = coordinator_of(unit)
            if recipient is None or recipient.form is None or coordinator is None \
                    or recipient.id == coordinator:
                continue
            if recipient.path.startswith(paths[coordinator]):
                covered[unit.id] = recipient.kind
        return covered

    async def _tasks(self, session: AsyncSession, campaign: Campaign, units: Iterable[UnitRow],
                     reporters: dict[int, list[Recipient]],
                     coordinator_of: Callable[[UnitRow], int | None],
                     coordinator_units: dict[int, CoordinatorUnit],
                     by_id: dict[int, UnitRow],
                     coordinators: dict[int, list[Recipient]],
                     as_of: datetime | None = None) -> tuple[TaskState, ...]:
        tasks = (await session.scalars(select(Task).where(Task.campaign_id == campaign.id)
                                       .order_by(Task.due_at))).all()
        if not tasks:
            return ()
        checkins = {(c.task_id, c.unit_id): c.done for c in (await session.scalars(
            select(TaskCheckin).where(TaskCheckin.task_id.in_([t.id for t in tasks])))).all()
            if as_of is None or c.answered_at <= as_of}
        result = []
        for task in tasks:
            owners = []
            for unit in units:
                if unit.kind in (task.owner_kinds or []) or unit.code in (task.owner_units or []):
                    above = coordinator_of(unit)
                    if above is not None and above not in coordinator_units:
                        coordinator_units[above] = CoordinatorUnit(
                            above, by_id[above].name, tuple(coordinators[above]))
                    owners.append(TaskOwner(unit.id, unit.name, tuple(reporters.get(unit.id, ())),
                                            checkins.get((task.id, unit.id)), above))
            result.append(TaskState(task.id, task.key, Text(task.title_vi, task.title_en),
                                    task.due_at, tuple(owners)))
        return tuple(result)

    # ------------------------------------------------------------------ writing

    async def enqueue(self, session: AsyncSession, due: list[DueReminder],
                      now: datetime, not_before: datetime | None = None) -> int:
        """Write due reminders to the outbox as bulk messages (replies go ahead of them); those
        already there (same key) are skipped. With `not_before`, the sender holds them until
        then (quiet hours)."""
        if not due:
            return 0
        keys = [r.key for r in due]
        existing: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            existing.update((await session.scalars(select(OutboxMessage.dedupe_key).where(
                OutboxMessage.dedupe_key.in_(chunk)))).all())
        rows: list[dict[str, Any]] = []
        for reminder in due:
            if reminder.key in existing or reminder.recipient.channel is None:
                continue
            message = render(reminder, self.catalog, now)
            pieces = split_text(message.text, TEXT_LIMITS.get(reminder.recipient.channel, 0))
            for i, piece in enumerate(pieces):
                last = i == len(pieces) - 1
                payload = to_payload(type(message)(piece, message.buttons if last else ()),
                                     reminder.recipient.language)
                rows.append({"channel": reminder.recipient.channel,
                             "chat_id": reminder.recipient.chat_id, "payload": payload,
                             "dedupe_key": reminder.key if i == 0 else f"{reminder.key}#{i}",
                             "created_at": now, "attempts": 0, "not_before": not_before,
                             "priority": BULK})
        if rows:
            await _insert_ignoring_duplicates(session, rows)
        return len(rows)

    # ------------------------------------------------------------------ entry points

    async def tick(self, now: datetime) -> int:
        async with self.sessions() as session, session.begin():
            due = plan(await self.snapshots(session, now), now)
            return await self.enqueue(session, due, now)

    async def preview(self, campaign_key: str, at: datetime) -> list[tuple[DueReminder, str]]:
        """What would go out at `at`, from the reports as they were then."""
        async with self.sessions() as session:
            due = plan(await self.snapshots(session, at, campaign_key, as_of=at), at)
        return [(r, render(r, self.catalog, at).text) for r in due]

    async def nudge(self, session: AsyncSession, campaign_key: str, now: datetime,
                    scope_path: str | None = None, by: int | None = None,
                    unit_id: int | None = None) -> int:
        """Remind every reporter of a unit (in scope) that has not submitted: now, or at the
        end of quiet hours; never someone reminded by any nudge in the last hour. With
        `unit_id` (the web console's "remind this unit"), that unit only, and it is not
        counted as the coordinator's hourly "remind everyone"."""
        queued = 0
        for nudging in await self.nudge_plans(session, now, campaign_key, scope_path, unit_id):
            queued += await self.enqueue(session, nudging.due, now, nudging.held_until(now))
        campaign_id = await session.scalar(select(Campaign.id).where(
            Campaign.key == campaign_key))
        if campaign_id is not None and unit_id is None:
            session.add(Nudge(contact_id=by, campaign_id=campaign_id, at=now))
        return queued

    async def nudge_plans(self, session: AsyncSession, now: datetime,
                          campaign_key: str | None = None, scope_path: str | None = None,
                          unit_id: int | None = None) -> list[NudgePlan]:
        """Per open period: who `/nhac` reminds (and who not, and why), and when it may go;
        with `unit_id`, for that one unit. After the lock only the units whose returned report
        is within its correction time can act, so only they are reminded; a locked period
        without such a unit is not open."""
        snapshots = [s for s in await self.snapshots(session, now, campaign_key,
                                                     after=self.late_window)
                     if s.starts_at <= now and s.deadline > now - self.late_window]
        if not snapshots:
            return []
        inside: set[int] | None = None
        if scope_path is not None:
            inside = set((await session.scalars(select(Unit.id).where(
                below(scope_path)))).all())
        if unit_id is not None:
            inside = {unit_id} & inside if inside is not None else {unit_id}
        recent = await _recently_nudged(session, now)
        stamp = now.strftime("%Y%m%dT%H%M%S")
        plans = []
        for p in snapshots:
            missing = [u for u in p.units if u.can_send(p.lock_at, now)
                       and (inside is None or u.unit_id in inside)]
            locked = p.lock_at is not None and now >= p.lock_at
            if locked and not missing:
                continue
            by_contact: dict[int, tuple[Recipient, list[UnitReport]]] = {}
            for unit in missing:
                for reporter in unit.reporters:
                    by_contact.setdefault(reporter.contact_id, (reporter, []))[1].append(unit)
            due, skipped, unreachable = [], 0, 0
            kind = "correction" if locked else "overdue" if now >= p.deadline else "before"
            for cid, (recipient, units) in by_contact.items():
                if recipient.channel is None:
                    unreachable += 1
                elif cid in recent:
                    skipped += 1
                else:
                    due.append(DueReminder(f"nudge:{p.period_id}:{cid}:{stamp}", kind, now,
                                           recipient, p, tuple(units)))
            plans.append(NudgePlan(p, len(missing), due, skipped, unreachable,
                                   p.policy.allowed(now, p.tz)))
        return plans


@dataclass(frozen=True)
class NudgePlan:
    period: PeriodSnapshot
    units_missing: int
    due: list[DueReminder]
    recently_nudged: int
    unreachable: int
    allowed_at: datetime  # now, or the end of quiet hours

    def held_until(self, now: datetime) -> datetime | None:
        return self.allowed_at if self.allowed_at > now else None


def below(path: str) -> Any:
    """Units strictly below the unit at `path`: a range on the materialised path, so codes
    holding `_` or `%` cannot widen it as a LIKE pattern would."""
    return and_(Unit.path > path, Unit.path < path[:-1] + "0")


NUDGE_QUIET = timedelta(hours=1)  # one nudge an hour per reporter, whoever sends it


async def _recently_nudged(session: AsyncSession, now: datetime) -> set[int]:
    """Contacts a nudge reached within the last hour, or will reach (held for the morning)."""
    since = now - NUDGE_QUIET
    rows = (await session.scalars(select(OutboxMessage.dedupe_key).where(
        OutboxMessage.dedupe_key.like("nudge:%"),
        or_(OutboxMessage.sent_at > since, OutboxMessage.created_at > since,
            OutboxMessage.not_before > since)))).all()
    found = set()
    for key in rows:
        parts = key.split(":")
        if len(parts) > 2 and parts[2].isdigit():
            found.add(int(parts[2]))
    return found


async def _insert_ignoring_duplicates(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    insert = dialect_insert(session)
    for i in range(0, len(rows), 500):
        statement = insert(OutboxMessage).values(rows[i:i + 500])
        await session.execute(statement.on_conflict_do_nothing(index_elements=["dedupe_key"]))



async def coordinated_paths(session: AsyncSession, contact_id: int) -> list[str]:
    return list((await session.scalars(
        select(Unit.path).join(ContactUnit, ContactUnit.unit_id == Unit.id)
        .where(ContactUnit.contact_id == contact_id))).all())


async def nudge_info(store: ReminderStore, session: AsyncSession, contact_id: int,
                     now: datetime) -> NudgeInfo:
    """For `/nhac`: per open campaign, what a reminder now would do in the coordinator's
    scope: the units missing, the people reached, those left alone and why, and when."""
    targets: dict[str, NudgeTarget] = {}
    timezone = "Asia/Ho_Chi_Minh"
    for path in await coordinated_paths(session, contact_id):
        for nudging in await store.nudge_plans(session, now, scope_path=path):
            p = nudging.period
            timezone = p.timezone
            previous = targets.get(p.campaign_key)
            target = NudgeTarget(p.campaign_key, p.campaign_title, nudging.units_missing,
                                 len(nudging.due), nudging.recently_nudged,
                                 nudging.unreachable, nudging.held_until(now))
            if previous is not None:
                target = NudgeTarget(
                    p.campaign_key, p.campaign_title,
                    previous.units_missing + target.units_missing,
                    previous.people + target.people,
                    previous.recently_nudged + target.recently_nudged,
                    previous.unreachable + target.unreachable,
                    previous.send_at or target.send_at)
            targets[p.campaign_key] = target
    last = await session.scalar(select(func.max(Nudge.at)).where(Nudge.contact_id == contact_id))
    return NudgeInfo(tuple(targets.values()), last, timezone)


def nudge_runner(store: ReminderStore):  # noqa: ANN201 - an effects.NudgeRunner
    async def run(session: AsyncSession, contact_id: int, campaign_keys: tuple[str, ...],
                  now: datetime) -> int:
        sent = 0
        for path in await coordinated_paths(session, contact_id):
            for key in campaign_keys:
                sent += await store.nudge(session, key, now, scope_path=path, by=contact_id)
        return sent

    return run
