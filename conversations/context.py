"""What the shell loads before the engine runs: a read-only snapshot, no database handle."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from conversations.forms import Form, Text
from conversations.i18n import Catalog
from conversations.reporting_lines import StateCounts
from conversations.uploaded_workbook import UploadedWorkbook

if TYPE_CHECKING:
    from conversations.prompts import Prompt

# Misses (codes not found) past which further wrong codes are refused; a right code always
# signs in. Per account, over the last hour (refused misses count too; a sign-in lifts them).
MAX_FAILED_SIGNINS_PER_HOUR = 5
# Across every account, over a sliding window: guesses spread over many accounts. Refused
# misses do not count, so guessing accounts cannot keep it up by themselves.
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
class ReceivedReports:
    """What a unit that consolidates (a commune) has received from the units that report to
    it (its schools) for one period: how many, who is missing, and the figures summed."""

    kinds: Text                       # "trường" / "schools"
    expected: int
    submitted: int
    missing: tuple[str, ...] = ()     # names of the units that have not submitted
    sums: Mapping[str, Any] = field(default_factory=dict)  # question id → sum (numbers only)


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
    status: str = "none"  # none | draft | submitted | returned | accepted
    answers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    submitted_at: datetime | None = None
    on_time: bool | None = None
    revision: int = 0
    return_comment: str = ""
    correct_by: datetime | None = None  # a returned report's correction deadline
    # A returned report's comments per row: {"4.2": {"comment", "value", "note"}}, the value
    # and note being the answer when it was returned (conversations.row_comments).
    row_comments: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # What the units reporting to this one sent in (a commune's schools); loaded only when
    # the report is opened or its figures are taken over, None where nothing reports to it.
    received: ReceivedReports | None = None
    # The unit's previous report of the same form (last week's, last year's): its numeric
    # answers by question id, and which period it was.
    previous: Mapping[str, Any] = field(default_factory=dict)
    previous_label: Text = Text("", "")

    @property
    def key(self) -> str:
        return f"{self.period_id}:{self.unit.code}"

    @property
    def year(self) -> int:
        """The year a date typed without one ("15/9") is in: the period's opening year where
        the unit is (a year opening 01/01 00:00 in Viet Nam is still 31/12 in UTC)."""
        return self.starts_at.astimezone(ZoneInfo(self.timezone)).year

    def locked(self, now: datetime) -> bool:
        """Closed to answers: after the lock, unless returned and within its correction time."""
        if self.lock_at is None or now < self.lock_at:
            return False
        return not (self.status == "returned" and self.correct_by is not None
                    and now < self.correct_by)

    def closes_at(self) -> datetime | None:
        """When answers stop being accepted: the lock, or a later correction deadline."""
        if self.lock_at is None:
            return None
        if self.status == "returned" and self.correct_by is not None \
                and self.correct_by > self.lock_at:
            return self.correct_by
        return self.lock_at


@dataclass(frozen=True)
class OnBehalf:
    """What a coordinator's table of units (the export layout) may enter: the reports of the
    units it names that are in their scope, for the period the file is for. `problem` says
    why nothing can be entered (no period found, several possible)."""

    reports: tuple[Assignment, ...] = ()
    period_label: Text = Text("", "")
    problem: str = ""  # "" | no_period | several_periods


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
    """One open campaign as `/nhac` would remind it: the units in scope that have not
    submitted, the people it will reach now, and those it leaves alone."""

    campaign_key: str
    title: Text
    units_missing: int
    people: int                      # reachable, not reminded in the last hour: reminded now
    recently_nudged: int = 0         # reminded by someone in the last hour: left alone
    unreachable: int = 0             # no chat with the bot (never signed in, or blocked it)
    send_at: datetime | None = None  # set when quiet hours hold the reminders until then


@dataclass(frozen=True)
class NudgeInfo:
    """What `/nhac` would do for a coordinator, and when they last used it."""

    targets: tuple[NudgeTarget, ...]
    last_at: datetime | None = None
    timezone: str = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True)
class MissingUnitView:
    code: str
    name: str
    status: str
    reporters: tuple[tuple[str, str], ...]  # (name, phone)
    last_reminded: datetime | None = None


@dataclass(frozen=True)
class BlockSummary:
    """The reports of one form at one place on the reporting line (reporting_lines.py):
    `direct` ones come to the coordinator's level and are their figures; the others come from
    further down, are already inside the reports of `covered_by`, and are never added in."""

    title: Text
    direct: bool
    counts: StateCounts
    main_totals: tuple[tuple[str, Text, Text, Any], ...] = ()  # (id, label, unit, sum)
    covered_by: Text = Text("", "")
    missing: tuple[MissingUnitView, ...] = ()  # filled for /chuanop only


@dataclass(frozen=True)
class PeriodSummary:
    """Completeness and main totals of one campaign period over a coordinator's units."""

    period_id: int
    campaign_title: Text
    period_label: Text
    deadline: datetime
    timezone: str
    scope_name: str
    blocks: tuple[BlockSummary, ...] = ()

    @property
    def counts(self) -> StateCounts:
        total = StateCounts()
        for block in self.blocks:
            total = total + block.counts
        return total

    @property
    def total(self) -> int:
        return self.counts.total


@dataclass(frozen=True)
class RevisionView:
    revision: int
    question_id: str
    old_value: Any
    new_value: Any
    changed_by: str
    changed_at: datetime


@dataclass(frozen=True)
class ReportEventView:
    """A submission, a return (with its reason) or an acceptance, with who and when."""

    kind: str  # submitted | returned | accepted
    revision: int
    by: str
    at: datetime
    comment: str = ""


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
    events: tuple[ReportEventView, ...] = ()
    lock_at: datetime | None = None
    correction_days: int = 3
    correct_by: datetime | None = None
    own: bool = False  # the coordinator's own unit: they read it; the level above acts on it
    # The first submission, which decided on time or late (`submitted_at` is the latest).
    first_submitted_at: datetime | None = None
    row_comments: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # if returned


@dataclass(frozen=True)
class OutlierView:
    """A figure far from those of its sibling units (modified z-score)."""

    unit_code: str
    unit_name: str
    group_name: str      # the units compared: the parent's name
    question_id: str
    label: Text
    unit: Text
    value: Any
    median: Any
    score: float
    group_size: int


@dataclass(frozen=True)
class FlaggedView:
    """A figure the unit kept after being asked back: "cần kiểm tra", with the reason."""

    unit_code: str
    unit_name: str
    question_id: str
    label: Text
    unit: Text
    value: Any
    flag: str


@dataclass(frozen=True)
class PeriodChecks:
    """`/kiemtra` for one period and scope: outliers among siblings and flagged figures."""

    campaign_title: Text
    period_label: Text
    scope_name: str
    submitted: int
    outliers: tuple[OutlierView, ...] = ()
    flagged: tuple[FlaggedView, ...] = ()


@dataclass(frozen=True)
class CoordinatorData:
    """What a coordinator's command needs, loaded only for that command and within scope."""

    summaries: tuple[PeriodSummary, ...] = ()
    unit_code: str = ""
    units: tuple[UnitReportView, ...] = ()  # the asked unit, per current period, if in scope
    chart_unit: str = ""  # `/bieudo CODE`: the unit's name when it is inside the scope
    checks: tuple[PeriodChecks, ...] = ()


@dataclass(frozen=True)
class WebLinkView:
    """A fresh one-time link to the web console, made by the shell for `/web`; the engine
    hands it out (and records it with IssueWebLink) or not."""

    url: str
    token_hash: str
    expires_at: datetime
    timezone: str = "Asia/Ho_Chi_Minh"


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
    web_link: WebLinkView | None = None  # loaded for `/web` when the console is turned on
    can_receive_files: bool = False  # the person can send the bot a file in the chat
    upload: UploadedWorkbook | None = None  # a "workbook" event: the file, as read
    # A coordinator's table of units (the export layout): the reports of the units in it
    # that are in their scope, for the period the file is for.
    on_behalf: OnBehalf | None = None
    # What the bot message this event replies to asked (loaded only for a reply).
    replied: Prompt | None = None

    @property
    def language(self) -> str:
        return self.contact.language if self.contact else self.default_language

    def assignment(self, key: str | None) -> Assignment | None:
        return next((a for a in self.assignments if a.key == key), None)

    def form_for(self, a: Assignment) -> Form:
        """The report's form as its unit reads it: a centre's says "trung tâm" where a
        school's says "nhà trường" (the form's wording by unit kind)."""
        return self.forms[a.form_key].worded_for(a.unit.kind)
