"""The board: every asked unit of a coordinator's scope for one period, with its state, placed
on its reporting line (reports that come to the coordinator's level on top, those from further
down under the unit whose report already holds them), filtered, searched and sorted.

The placing and the counts are `bot.coordinators.reporting.lines_of`, the same the chat's
/tonghop uses;
this module only adds what a screen needs (how much of a draft is left, the return reason,
how late) in one more query, and the filters, in plain Python."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordinators import reporting
from bot.coordinators.reporting import Block, Lines, Scope
from bot.storage.context_loader import FormCache
from bot.storage.models import Answer, Campaign, CampaignForm, Period, Submission, Unit
from conversations.forms import Question
from conversations.reporting_lines import StateCounts
from conversations.text_normalise import fold
from scheduler.reminder_plan import can_still_send

STATES = ("missing", "none", "draft", "returned", "submitted", "on_time", "late", "accepted")
SORTS = ("line", "late")


@dataclass
class Row:
    """One asked unit on the board; `children` are the units whose reports go to it."""

    id: int
    code: str
    name: str
    kind: str
    status: str  # none | draft | submitted | returned | accepted
    on_time: bool | None
    submitted_at: datetime | None = None
    first_submitted_at: datetime | None = None
    answered: int = 0
    questions: int = 0
    return_comment: str = ""
    correct_by: datetime | None = None
    late_by: timedelta | None = None
    children: list[Row] = field(default_factory=list)
    matches: bool = True
    visible: bool = True
    search: str = ""  # name and code folded (no diacritics, lower case)

    @property
    def left(self) -> int:
        return max(0, self.questions - self.answered)

    @property
    def counted(self) -> bool:
        return self.status in ("submitted", "accepted")

    def descendants(self) -> Iterable[Row]:
        for child in self.children:
            yield child
            yield from child.descendants()

    def child_counts(self) -> StateCounts:
        counts = StateCounts()
        for row in self.descendants():
            counts = counts.plus(row.status, row.on_time)
        return counts

    def visible_children(self) -> list[Row]:
        return [c for c in self.children if c.visible]


@dataclass(frozen=True)
class Filters:
    state: str = ""
    kind: str = ""
    text: str = ""
    sort: str = "line"

    @staticmethod
    def parse(query: dict[str, str]) -> Filters:
        state = query.get("state", "")
        sort = query.get("sort", "line")
        return Filters(state if state in STATES else "", query.get("kind", "")[:64],
                       query.get("q", "")[:100].strip(), sort if sort in SORTS else "line")

    @property
    def active(self) -> bool:
        return bool(self.state or self.kind or self.text)


@dataclass
class BlockView:
    block: Block
    rows: list[Row]
    main_totals: list[tuple[Question, Decimal]]

    @property
    def visible_rows(self) -> list[Row]:
        return [r for r in self.rows if r.visible]


@dataclass
class Board:
    period: Period
    campaign: Campaign
    scope: Scope
    lines: Lines
    blocks: list[BlockView]  # the direct blocks, each with its units and those below
    kinds: list[str]
    filters: Filters
    shown: int  # units matching the filters
    now: datetime

    @property
    def counts(self) -> StateCounts:
        return self.lines.counts

    @property
    def can_remind(self) -> bool:
        """Whether "remind every unit" can reach anyone of this period: a unit that can still
        send (before the lock, or returned and within its correction time)."""
        lock = self.period.lock_at
        return any(can_still_send(row.status, row.correct_by, lock, self.now)
                   for view in self.blocks for top in view.rows
                   for row in (top, *top.descendants()))


async def periods_for(session: AsyncSession, scope: Scope, now: datetime
                      ) -> list[tuple[Period, Campaign]]:
    """The periods that have started of every campaign asking a unit of the scope, the latest
    deadline first; an archived campaign is out of the board."""
    asks = exists().where(CampaignForm.campaign_id == Campaign.id,
                          Unit.kind == CampaignForm.unit_kind, scope.condition())
    rows = (await session.execute(
        select(Period, Campaign).join(Campaign, Campaign.id == Period.campaign_id)
        .where(Period.starts_at <= now, asks, Campaign.state != "archived")
        .order_by(Period.deadline.desc(), Period.id))).all()
    return [(p, c) for p, c in rows]


def default_period(periods: Sequence[tuple[Period, Campaign]], now: datetime
                   ) -> tuple[Period, Campaign] | None:
    """The open period due soonest; else the one whose deadline passed last."""
    upcoming = [pc for pc in periods if pc[0].deadline > now]
    if upcoming:
        return min(upcoming, key=lambda pc: pc[0].deadline)
    return periods[0] if periods else None


async def build(session: AsyncSession, period: Period, campaign: Campaign, scope: Scope,
                forms: FormCache, now: datetime, filters: Filters) -> Board:
    lines = await reporting.lines_of(session, period, scope, forms)
    details = {r.unit_id: r for r in (await session.execute(
        select(Submission.unit_id, Submission.submitted_at, Submission.first_submitted_at,
               Submission.return_comment, Submission.correct_by,
               func.count(Answer.question_id).label("answered"))
        .join(Unit, Unit.id == Submission.unit_id)
        .outerjoin(Answer, and_(Answer.submission_id == Submission.id))
        .where(Submission.period_id == period.id, scope.condition())
        .group_by(Submission.id))).all()}
    sizes: dict[int, int] = {}
    for form_id in set(lines.form_ids.values()):
        sizes[form_id] = len((await forms.get(session, form_id)).questions)
    rows: dict[int, Row] = {}
    for unit in lines.units:
        if unit.id not in lines.block_of:
            continue
        status, on_time = lines.state(unit.id)
        d = details.get(unit.id)
        row = Row(unit.id, unit.code, unit.name, unit.kind, status, on_time,
                  questions=sizes[lines.form_ids[unit.id]],
                  search=f"{fold(unit.name)} {fold(unit.code)}")
        if d is not None:
            row.submitted_at, row.first_submitted_at = d.submitted_at, d.first_submitted_at
            row.answered, row.return_comment, row.correct_by = (d.answered, d.return_comment,
                                                                d.correct_by)
        row.late_by = _late_by(row, period.deadline, now)
        rows[unit.id] = row
    tops: dict[int, list[Row]] = {id(b): [] for b in lines.blocks}
    for unit_id, row in rows.items():
        parent = rows.get(lines.recipients.get(unit_id, -1))
        if parent is not None:
            parent.children.append(row)
        else:
            tops[id(lines.block_of[unit_id])].append(row)
    main = sorted({q.id for b in lines.blocks for q in b.form.questions if q.main and q.numeric})
    await reporting.sum_blocks(session, lines, main)
    blocks = []
    for block in lines.blocks:
        block_rows = tops[id(block)]
        if not block_rows:
            continue  # all of its units sit under the units whose reports hold them
        totals = [(q, block.totals.get(q.id, Decimal(0))) for q in block.form.questions
                  if q.main and q.numeric]
        blocks.append(BlockView(block, block_rows, totals))
    shown = apply(blocks, filters)
    kinds = sorted({r.kind for r in rows.values()})
    return Board(period, campaign, scope, lines, blocks, kinds, filters, shown, now)


def _late_by(row: Row, deadline: datetime, now: datetime) -> timedelta | None:
    """How late the report is: its first submission after the deadline, or, never submitted,
    the time since the deadline. None while nothing is late. A returned report was submitted:
    its first submission decided on time or late, however long the correction takes."""
    first = row.first_submitted_at or (row.submitted_at if row.counted else None)
    if row.counted or first is not None:
        return first - deadline if row.on_time is False and first is not None else None
    return now - deadline if now > deadline else None


def matches(row: Row, filters: Filters) -> bool:
    state = filters.state
    if state == "missing" and row.counted:
        return False
    if state in ("none", "draft", "returned", "accepted") and row.status != state:
        return False
    if state == "submitted" and not row.counted:
        return False
    if state in ("on_time", "late") and not (row.counted and row.on_time == (state == "on_time")):
        return False
    if filters.kind and row.kind != filters.kind:
        return False
    return not filters.text or all(word in row.search for word in fold(filters.text).split())


def lateness_key(row: Row) -> tuple[int, float, str]:
    """Most behind first: returned, not started, drafts (the longest overdue first), then
    late reports (the latest first), then those on time."""
    rank = {"returned": 0, "none": 1, "draft": 2}.get(row.status, 3 if row.on_time is False
                                                        else 4)
    late = row.late_by.total_seconds() if row.late_by is not None else 0.0
    return rank, -late, fold(row.name)


def apply(blocks: Sequence[BlockView], filters: Filters) -> int:
    """Mark what the filters show (a unit is shown when it or a unit below it matches) and
    sort every level; returns how many units match."""
    shown = 0

    def visit(rows: list[Row]) -> bool:
        nonlocal shown
        any_visible = False
        for row in rows:
            below = visit(row.children)
            row.matches = matches(row, filters)
            shown += row.matches
            row.visible = row.matches or below
            any_visible |= row.visible
        if filters.sort == "late":
            rows.sort(key=lateness_key)
        else:
            rows.sort(key=lambda r: fold(r.name))
        return any_visible

    for block in blocks:
        visit(block.rows)
    return shown
