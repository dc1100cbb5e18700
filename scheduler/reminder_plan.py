"""Reminder planning, a pure function: (what the database says, now) → the reminders due now.

Each reminder has a key (period, recipient, kind, slot); the tick enqueues it through a unique
constraint, so planning twice, restarting, or two instances never send one twice. A slot is due
from its time until the next slot of its kind (or a day later), so a slot missed while the bot
was down is sent once when it comes back, if no later slot has replaced it meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from conversations.forms import Text
from scheduler.reminder_policy import ReminderPolicy

LAST_SLOT_VALIDITY = timedelta(days=1)


@dataclass(frozen=True)
class Recipient:
    contact_id: int
    name: str
    language: str
    channel: str | None  # None: no way to reach them (no identity, or they blocked the bot)
    chat_id: str | None
    phone: str = ""


@dataclass(frozen=True)
class UnitReport:
    unit_id: int
    code: str
    name: str
    status: str  # none | draft | submitted | returned | accepted
    answered: int
    total: int
    reporters: tuple[Recipient, ...]
    coordinator_unit_id: int | None = None
    on_time: bool | None = None
    kind: str = ""  # the unit kind: a school's reporter is addressed "thầy/cô"
    flagged: tuple[str, ...] = ()  # question ids kept as "cần kiểm tra" in a submitted report
    form: str = ""        # the form it answers: reports of two forms are never counted as one
    covered_by: str = ""  # the kind of the unit whose report holds its figures (a school's
                          # commune, below the coordinator): a digest counts it as its own line
    correct_by: datetime | None = None  # a returned report may be sent again until then

    @property
    def submitted(self) -> bool:
        return self.status in ("submitted", "accepted")

    def can_send(self, lock_at: datetime | None, now: datetime) -> bool:
        return can_still_send(self.status, self.correct_by, lock_at, now)


def can_still_send(status: str, correct_by: datetime | None, lock_at: datetime | None,
                   now: datetime) -> bool:
    """Whether the unit's reporters can still send this report, so a reminder can help: not
    submitted, and before the lock, or returned and within its correction time (the chat's
    `Assignment.locked`). The console's remind buttons and `/nhac` both ask this."""
    if status in ("submitted", "accepted"):
        return False
    if lock_at is None or now < lock_at:
        return True
    return status == "returned" and correct_by is not None and now < correct_by


@dataclass(frozen=True)
class CoordinatorUnit:
    unit_id: int
    name: str
    coordinators: tuple[Recipient, ...]


@dataclass(frozen=True)
class TaskOwner:
    unit_id: int
    name: str
    reporters: tuple[Recipient, ...]
    done: bool | None  # None: not answered yet
    coordinator_unit_id: int | None = None


@dataclass(frozen=True)
class TaskState:
    task_id: int
    key: str
    title: Text
    due_at: datetime
    owners: tuple[TaskOwner, ...]


@dataclass(frozen=True)
class PeriodSnapshot:
    period_id: int
    campaign_key: str
    campaign_title: Text
    timezone: str
    starts_at: datetime
    deadline: datetime
    lock_at: datetime | None
    policy: ReminderPolicy
    units: tuple[UnitReport, ...]
    coordinator_units: Mapping[int, CoordinatorUnit] = field(default_factory=dict)
    tasks: tuple[TaskState, ...] = ()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def last_day(self):  # noqa: ANN201 - a date
        return (self.deadline - timedelta(minutes=1)).astimezone(self.tz).date()


@dataclass(frozen=True)
class DueReminder:
    key: str
    kind: str  # opening | before | overdue | digest | task | correction (a nudge after the lock)
    slot: datetime
    recipient: Recipient
    period: PeriodSnapshot
    units: tuple[UnitReport, ...] = ()
    coordinator_unit: CoordinatorUnit | None = None
    task: TaskState | None = None
    task_owner: TaskOwner | None = None


@dataclass(frozen=True)
class Slot:
    kind: str
    at: datetime
    until: datetime


def _windows(slots: list[tuple[str, datetime]], end: datetime | None = None) -> list[Slot]:
    """Each slot is due until the next one (the last for a day, or until `end`)."""
    slots = sorted(slots, key=lambda s: s[1])
    result = []
    for i, (kind, at) in enumerate(slots):
        until = slots[i + 1][1] if i + 1 < len(slots) else at + LAST_SLOT_VALIDITY
        if end is not None:
            until = min(until, end)
        if until > at:
            result.append(Slot(kind, at, until))
    return result


def reporter_slots(p: PeriodSnapshot) -> list[Slot]:
    policy, tz = p.policy, p.tz
    before: list[tuple[str, datetime]] = []
    if policy.opening:
        before.append(("opening", policy.allowed(p.starts_at, tz)))
    for offset in policy.before:
        before.append(("before", policy.allowed(p.deadline - offset, tz)))
    if policy.last_day_at is not None:
        before.append(("before", policy.allowed(datetime.combine(p.last_day, policy.last_day_at,
                                                                 tz), tz)))
    before = sorted({(k, at) for k, at in before if p.starts_at <= at < p.deadline},
                    key=lambda s: (s[1], s[0] != "opening"))
    merged: list[tuple[str, datetime]] = []
    for kind, at in before:  # slots close together merge into the later one
        if merged and at - merged[-1][1] < policy.merge_within:
            merged[-1] = ("opening" if merged[-1][0] == "opening" and kind == "opening"
                          else kind, at)
        else:
            merged.append((kind, at))
    overdue = []
    for k in range(1, policy.overdue_days + 1):
        day = p.last_day + timedelta(days=k)
        at = policy.allowed(datetime.combine(day, policy.overdue_at, tz), tz)
        if at >= p.deadline and (p.lock_at is None or at < p.lock_at):
            overdue.append(("overdue", at))
    return _windows(merged + overdue, p.lock_at)


def digest_slots(p: PeriodSnapshot) -> list[Slot]:
    policy, tz = p.policy, p.tz
    slots = [("digest", policy.allowed(datetime.combine(p.last_day + timedelta(days=day), at,
                                                        tz), tz))
             for day, at in policy.digests]
    return _windows([s for s in slots if s[1] >= p.starts_at])


def task_slots(p: PeriodSnapshot, task: TaskState) -> list[Slot]:
    policy, tz = p.policy, p.tz
    slots = [("task", policy.allowed(task.due_at - offset, tz)) for offset in policy.task_before]
    return _windows([s for s in slots if s[1] < task.due_at], task.due_at)


def _current(slots: list[Slot], now: datetime) -> Slot | None:
    return next((s for s in reversed(slots) if s.at <= now < s.until), None)


def _stamp(at: datetime) -> str:
    return at.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%MZ")


def plan(periods: list[PeriodSnapshot], now: datetime) -> list[DueReminder]:
    """Every reminder due at `now` (already-sent ones included: the unique key drops them)."""
    due: list[DueReminder] = []
    for p in periods:
        if p.policy.quiet(now.astimezone(p.tz)):
            continue
        due.extend(_reporter_reminders(p, now))
        due.extend(_digests(p, now))
        due.extend(_task_reminders(p, now))
    return due


def _reporter_reminders(p: PeriodSnapshot, now: datetime) -> list[DueReminder]:
    slot = _current(reporter_slots(p), now)
    if slot is None or (slot.kind == "opening" and now >= p.deadline):
        return []
    by_contact: dict[int, tuple[Recipient, list[UnitReport]]] = {}
    for unit in p.units:
        if unit.submitted:
            continue
        for reporter in unit.reporters:
            entry = by_contact.setdefault(reporter.contact_id, (reporter, []))
            entry[1].append(unit)
    return [DueReminder(f"remind:{p.period_id}:{cid}:{slot.kind}:{_stamp(slot.at)}", slot.kind,
                        slot.at, recipient, p, tuple(units))
            for cid, (recipient, units) in sorted(by_contact.items())]


def _digests(p: PeriodSnapshot, now: datetime) -> list[DueReminder]:
    slot = _current(digest_slots(p), now)
    if slot is None:
        return []
    by_coordinator_unit: dict[int, list[UnitReport]] = {}
    for unit in p.units:
        if unit.coordinator_unit_id is not None:
            by_coordinator_unit.setdefault(unit.coordinator_unit_id, []).append(unit)
    due = []
    for unit_id, units in sorted(by_coordinator_unit.items()):
        coordinator_unit = p.coordinator_units.get(unit_id)
        if coordinator_unit is None:
            continue
        for person in coordinator_unit.coordinators:
            due.append(DueReminder(
                f"digest:{p.period_id}:{person.contact_id}:{unit_id}:{_stamp(slot.at)}",
                "digest", slot.at, person, p, tuple(units), coordinator_unit=coordinator_unit))
    return due


def _task_reminders(p: PeriodSnapshot, now: datetime) -> list[DueReminder]:
    due = []
    for task in p.tasks:
        slot = _current(task_slots(p, task), now)
        if slot is None:
            continue
        for owner in task.owners:
            if owner.done:
                continue
            for person in owner.reporters:
                due.append(DueReminder(
                    f"task:{task.task_id}:{person.contact_id}:{owner.unit_id}:"
                    f"{_stamp(slot.at)}", "task", slot.at, person, p, task=task,
                    task_owner=owner))
    return due
