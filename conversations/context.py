"""What the shell loads before the engine runs: a read-only snapshot, no database handle."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from conversations.forms import Form, Text
from conversations.i18n import Catalog

MAX_FAILED_SIGNINS_PER_HOUR = 5  # per account, over the last hour (refused tries count too)
# Across every account, over a sliding window: guesses spread over many accounts. Only codes
# actually looked up count, so one locked-out account cannot lock out everyone.
MAX_FAILED_SIGNINS_GLOBAL = 50
SIGNIN_GLOBAL_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class UnitView:
    code: str
    name: str
    kind: str


@dataclass(frozen=True)
class ContactView:
    id: int
    name: str
    role: str
    language: str
    units: tuple[UnitView, ...] = ()


@dataclass(frozen=True)
class InviteView:
    """The invite a message's code matched, with why it can't be used (if so)."""

    code: str
    unit: UnitView
    role: str
    problem: str | None = None  # "expired" | "used_up" | None


@dataclass(frozen=True)
class Assignment:
    """One report a contact may file: a unit, a campaign period, its form and its progress."""

    period_id: int
    period_label: Text
    campaign_key: str
    campaign_title: Text
    timezone: str
    starts_at: datetime
    deadline: datetime
    lock_at: datetime | None
    unit: UnitView
    form_key: str
    status: str = "none"  # none | draft | submitted | returned
    answers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    submitted_at: datetime | None = None
    on_time: bool | None = None
    revision: int = 0
    return_comment: str = ""

    @property
    def key(self) -> str:
        return f"{self.period_id}:{self.unit.code}"

    def locked(self, now: datetime) -> bool:
        return self.lock_at is not None and now >= self.lock_at


@dataclass(frozen=True)
class TaskView:
    """A dated task one of the contact's units owns, and its answer so far."""

    task_id: int
    unit_id: int
    unit_name: str
    title: Text
    due_at: datetime
    done: bool | None = None


@dataclass(frozen=True)
class NudgeTarget:
    campaign_key: str
    title: Text
    units_missing: int
    people: int


@dataclass(frozen=True)
class NudgeInfo:
    """What `/nhac` would do for a coordinator, and when they last used it."""

    targets: tuple[NudgeTarget, ...]
    last_at: datetime | None = None
    timezone: str = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True)
class PeriodSummary:
    """Completeness and main totals of one campaign period over a coordinator's units."""

    period_id: int
    campaign_title: Text
    period_label: Text
    deadline: datetime
    timezone: str
    scope_name: str
    total: int
    on_time: int
    late: int
    drafts: int
    main_totals: tuple[tuple[str, Text, Text, Any], ...] = ()  # (id, label, unit, sum)

    @property
    def missing(self) -> int:
        return self.total - self.on_time - self.late


@dataclass(frozen=True)
class MissingUnitView:
    code: str
    name: str
    status: str
    reporters: tuple[tuple[str, str], ...]  # (name, phone)
    last_reminded: datetime | None = None


@dataclass(frozen=True)
class RevisionView:
    revision: int
    question_id: str
    old_value: Any
    new_value: Any
    changed_by: str
    changed_at: datetime


@dataclass(frozen=True)
class UnitReportView:
    period_id: int
    campaign_title: Text
    timezone: str
    code: str
    name: str
    status: str
    form_key: str
    submitted_at: datetime | None = None
    on_time: bool | None = None
    submitted_by: str = ""
    answers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    revisions: tuple[RevisionView, ...] = ()


@dataclass(frozen=True)
class CoordinatorData:
    """What a coordinator's command needs, loaded only for that command and within scope."""

    summaries: tuple[PeriodSummary, ...] = ()
    missing: tuple[tuple[PeriodSummary, tuple[MissingUnitView, ...]], ...] = ()
    unit_code: str = ""
    units: tuple[UnitReportView, ...] = ()  # the asked unit, per current period, if in scope


@dataclass(frozen=True)
class Context:
    catalog: Catalog
    forms: Mapping[str, Form]
    default_language: str = "vi"
    contact: ContactView | None = None
    invite: InviteView | None = None
    failed_signins_last_hour: int = 0
    failed_signins_everywhere: int = 0  # codes not found, all accounts, SIGNIN_GLOBAL_WINDOW
    assignments: tuple[Assignment, ...] = ()
    phone_match: ContactView | None = None  # the imported contact a shared phone number matches
    can_share_contact: bool = False  # the channel has a "share my phone number" button
    open_tasks: tuple[TaskView, ...] = ()
    nudge: NudgeInfo | None = None
    coordination: CoordinatorData | None = None

    @property
    def language(self) -> str:
        return self.contact.language if self.contact else self.default_language

    def assignment(self, key: str | None) -> Assignment | None:
        return next((a for a in self.assignments if a.key == key), None)
