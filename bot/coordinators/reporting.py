"""What coordinators see: completeness and totals computed in SQL over a part of the unit tree,
one unit's report with its history, and the data every export is made from.

A scope is a unit's subtree. Units keep a materialised path ("/HP/X-ANLAO/TH-ANLAO/"), so "every
unit below X" is one indexed range on `path`, at any depth.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, type_coerce
from sqlalchemy import Text as SqlText
from sqlalchemy.ext.asyncio import AsyncSession

from bot.exports.letterhead import (
    Letterhead,
    ReportSettings,
    default_letterhead,
    letterhead_for,
    units_reported_on,
)
from bot.exports.model import (
    ExportData,
    ProgressRow,
    QuestionColumn,
    ReportBlock,
    RevisionRow,
    UnitRow,
)
from bot.exports.report_templates import choose_template
from bot.storage.context_loader import FormCache, answer_dict
from bot.storage.models import (
    Answer,
    AnswerRevision,
    Campaign,
    CampaignForm,
    CampaignUnit,
    Contact,
    ContactUnit,
    OutboxMessage,
    Period,
    ReportEvent,
    Submission,
    Unit,
)
from conversations.answer_parsing import MAX_BY_TYPE
from conversations.campaigns import reports_to_of
from conversations.context import Assignment, ReceivedReports
from conversations.forms import Form, Text
from conversations.reporting_lines import (
    COUNTED_STATUSES,
    StateCounts,
    TreeUnit,
    group_name,
    kind_names,
    place,
)

# The kind of a unit merged into another (bot/offices/units.py): no campaign asks it any more.
MERGED_KIND = "merged"


class ReportingError(ValueError):
    """A request that cannot be answered as asked (unknown campaign, period, unit)."""


@dataclass(frozen=True)
class Scope:
    """A unit's subtree; `include_self` counts the unit itself (the CLI), a coordinator's chat
    scope does not (they oversee the units below theirs)."""

    path: str
    name: str
    include_self: bool = False

    def condition(self) -> Any:
        upper = self.path[:-1] + "0"  # "/" + 1: every path that starts with self.path
        inside = and_(Unit.path >= self.path, Unit.path < upper)
        return inside if self.include_self else and_(inside, Unit.path != self.path)

    def contains(self, path: str) -> bool:
        return path.startswith(self.path) and (self.include_self or path != self.path)


async def scopes_of(session: AsyncSession, contact_id: int, role: str) -> list[Scope]:
    """A coordinator acts on the units below the ones they are linked to; an admin on all."""
    if role == "admin":
        roots = (await session.scalars(select(Unit).where(Unit.parent_id.is_(None)))).all()
        return [Scope(u.path, u.name, include_self=True) for u in roots]
    units = (await session.scalars(select(Unit).join(ContactUnit, ContactUnit.unit_id == Unit.id)
                                   .where(ContactUnit.contact_id == contact_id))).all()
    return [Scope(u.path, u.name) for u in units]


async def scope_for_code(session: AsyncSession, code: str | None) -> Scope:
    """A unit's subtree, itself included; without a code, the whole tree (its one root)."""
    if code is None:
        roots = (await session.scalars(select(Unit).where(Unit.parent_id.is_(None)))).all()
        if len(roots) == 1:
            return Scope(roots[0].path, roots[0].name, include_self=True)
        return Scope("/", "", include_self=True)
    unit = await session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise ReportingError(f"unit {code} is not loaded")
    return Scope(unit.path, unit.name, include_self=True)


# ----------------------------------------------------------------------------- periods

async def current_periods(session: AsyncSession, now: datetime, late_window: timedelta,
                          campaign_key: str | None = None) -> list[tuple[Period, Campaign]]:
    """Periods that have started and are still being reported on (or were, recently)."""
    query = (select(Period, Campaign).join(Campaign, Campaign.id == Period.campaign_id)
             .where(Period.starts_at <= now, Period.deadline > now - late_window))
    if campaign_key:
        query = query.where(Campaign.key == campaign_key)
    return [tuple(r) for r in (await session.execute(query.order_by(Period.deadline))).all()]


async def find_campaign(session: AsyncSession, ref: str) -> Campaign:
    """A campaign by its key or by the id `campaigns list` shows; an unknown one is an error
    that lists the campaigns there are."""
    ref = ref.strip()
    campaign = await session.scalar(select(Campaign).where(Campaign.key == ref))
    if campaign is None and ref.isdigit():
        campaign = await session.get(Campaign, int(ref))
    if campaign is None:
        known = (await session.execute(select(Campaign.id, Campaign.key)
                                       .order_by(Campaign.id))).all()
        listed = ", ".join(f"{key} (id {ident})" for ident, key in known) or "none is loaded"
        raise ReportingError(f"no campaign {ref}; the campaigns are: {listed}")
    return campaign


async def find_period(session: AsyncSession, campaign_ref: str, period_key: str | None,
                      now: datetime) -> tuple[Period, Campaign]:
    campaign = await find_campaign(session, campaign_ref)
    campaign_key = campaign.key
    query = select(Period).where(Period.campaign_id == campaign.id)
    if period_key:
        period = await session.scalar(query.where(Period.key == period_key))
    else:  # the latest period that has started, else the first one
        period = await session.scalar(query.where(Period.starts_at <= now)
                                      .order_by(Period.starts_at.desc()).limit(1)) \
            or await session.scalar(query.order_by(Period.starts_at).limit(1))
    if period is None:
        keys = (await session.scalars(select(Period.key).where(
            Period.campaign_id == campaign.id).order_by(Period.starts_at))).all()
        raise ReportingError(f"campaign {campaign_key} has no period {period_key or ''}; "
                             f"its periods are: {', '.join(keys) or 'none'}")
    return period, campaign


def _targets(period: Period, scope: Scope) -> Select:
    """Target units of a period's campaign inside a scope, each with its form."""
    explicit = select(CampaignUnit.unit_id).where(CampaignUnit.campaign_id == period.campaign_id)
    return (select(Unit.id, CampaignForm.form_id)
            .join(CampaignForm, and_(CampaignForm.unit_kind == Unit.kind,
                                     CampaignForm.campaign_id == period.campaign_id))
            .where(scope.condition(),
                   or_(~explicit.exists(), Unit.id.in_(explicit))))


# ----------------------------------------------------------------------------- reporting lines

@dataclass
class Block:
    """The reports of one form at one place on the reporting line, inside a scope: counted and
    summed within the block, never added to another block (conversations/reporting_lines.py)."""

    direct: bool
    form: Form
    kinds: list[str] = field(default_factory=list)
    recipient_kinds: list[str] = field(default_factory=list)
    units: list[TreeUnit] = field(default_factory=list)
    counts: StateCounts = field(default_factory=StateCounts)
    totals: dict[str, Decimal] = field(default_factory=dict)

    @property
    def title(self) -> Text:
        return group_name(self.kinds)

    @property
    def covered_by(self) -> Text:
        """Whose reports hold this block's figures: "xã, phường" (empty for a direct block)."""
        return kind_names(self.recipient_kinds)


@dataclass
class Lines:
    """One period inside a scope: every unit, the asked ones placed on their reporting line,
    each with its report's state."""

    period: Period
    scope: Scope
    units: list[TreeUnit]                       # every unit of the scope, in tree order
    states: dict[int, tuple[str, bool | None]]  # asked unit → (status, on time)
    blocks: list[Block]
    block_of: dict[int, Block]                  # asked unit id → its block
    form_ids: dict[int, int]                    # asked unit id → the form version it answers
    recipients: dict[int, int] = field(default_factory=dict)  # covered unit → whose report

    @property
    def counts(self) -> StateCounts:
        total = StateCounts()
        for block in self.blocks:
            total = total + block.counts
        return total

    def state(self, unit_id: int) -> tuple[str, bool | None]:
        return self.states.get(unit_id, ("none", None))


async def lines_of(session: AsyncSession, period: Period, scope: Scope, forms: FormCache
                   ) -> Lines:
    """Place every asked unit of the scope on its reporting line, in three queries."""
    campaign = await session.get(Campaign, period.campaign_id)
    assert campaign is not None
    kind_forms = dict((await session.execute(select(CampaignForm.unit_kind, CampaignForm.form_id)
                                             .where(CampaignForm.campaign_id == campaign.id))
                       ).all())
    explicit = set((await session.scalars(select(CampaignUnit.unit_id).where(
        CampaignUnit.campaign_id == campaign.id))).all())
    rows = (await session.execute(select(Unit.id, Unit.code, Unit.name, Unit.kind, Unit.path)
                                  .where(scope.condition()).order_by(Unit.path))).all()
    submissions = {r.unit_id: r for r in (await session.execute(
        select(Submission.unit_id, Submission.form_id, Submission.status, Submission.on_time)
        .join(Unit, Unit.id == Submission.unit_id)
        .where(Submission.period_id == period.id, scope.condition()))).all()}
    form_keys: dict[int, Form] = {}
    for form_id in {*kind_forms.values(), *(s.form_id for s in submissions.values())}:
        form_keys[form_id] = await forms.get(session, form_id)
    units: list[TreeUnit] = []
    form_ids: dict[int, int] = {}
    states: dict[int, tuple[str, bool | None]] = {}
    kind_of = {row.id: row.kind for row in rows}
    parent_of = {row.path: row.id for row in rows}
    for row in rows:
        form_key = None
        kind = row.kind
        merged_report = kind == MERGED_KIND and row.id in submissions
        if merged_report:
            # A unit merged into another after it reported: its report still counts for this
            # period, as the kind it was (the unit it was merged into took that kind).
            kind = kind_of.get(parent_of.get(row.path[:-len(row.code) - 1], -1), kind)
        if merged_report or (kind in kind_forms and (not explicit or row.id in explicit)):
            s = submissions.get(row.id)
            form_id = s.form_id if s is not None else kind_forms[row.kind]
            form_ids[row.id] = form_id
            form_key = form_keys[form_id].id
            states[row.id] = (s.status, s.on_time) if s is not None else ("none", None)
        units.append(TreeUnit(row.id, row.code, row.name, kind, row.path, form_key))
    placed = place(units, reports_to_of(campaign.definition), lambda u: True)
    blocks: dict[tuple[bool, str], Block] = {}
    block_of: dict[int, Block] = {}
    by_id = {u.id: u for u in units}
    for unit_id, placement in placed.items():
        unit = by_id[unit_id]
        key = (placement.direct, unit.form or "")
        block = blocks.get(key)
        if block is None:
            block = blocks[key] = Block(placement.direct, form_keys[form_ids[unit_id]])
        elif form_keys[form_ids[unit_id]].version > block.form.version:
            block.form = form_keys[form_ids[unit_id]]  # the newest version names the rows
        block.units.append(unit)
        if unit.kind not in block.kinds:
            block.kinds.append(unit.kind)
        if placement.recipient is not None and placement.recipient.kind not in \
                block.recipient_kinds:
            block.recipient_kinds.append(placement.recipient.kind)
        status, on_time = states[unit_id]
        block.counts = block.counts.plus(status, on_time)
        block_of[unit_id] = block

    def depth(block: Block) -> tuple[bool, int]:
        return (not block.direct, min(u.path.count("/") for u in block.units))

    ordered = sorted(blocks.values(), key=depth)
    recipients = {unit_id: p.recipient.id for unit_id, p in placed.items()
                  if p.recipient is not None}
    return Lines(period, scope, units, states, ordered, block_of, form_ids, recipients)


async def received_reports(session: AsyncSession, period: Period, unit: Unit,
                           forms: FormCache) -> ReceivedReports | None:
    """What the units that report to `unit` (a commune's schools) sent in for the period:
    counts, the names still missing, and every numeric figure summed; None if none report
    to it."""
    lines = await lines_of(session, period, Scope(unit.path, unit.name, include_self=True),
                           forms)
    senders = [u for u in lines.units if lines.recipients.get(u.id) == unit.id]
    if not senders:
        return None
    done = [u for u in senders if lines.state(u.id)[0] in COUNTED_STATUSES]
    sums: dict[str, Decimal] = {}
    if done:
        for qid, total in (await session.execute(
                select(Answer.question_id, func.sum(Answer.num_value))
                .join(Submission, Submission.id == Answer.submission_id)
                .where(Submission.period_id == period.id,
                       Submission.unit_id.in_([u.id for u in done]),
                       Answer.num_value.is_not(None))
                .group_by(Answer.question_id))).all():
            sums[qid] = _decimal(total)
    kinds = {u.kind for u in senders}
    return ReceivedReports(
        kind_names(kinds) if len(kinds) == 1 else Text("đơn vị", "units"), len(senders),
        len(done),
        tuple(u.name for u in senders if u not in done), sums)


async def with_received(session: AsyncSession, assignments: Sequence[Assignment],
                        forms: FormCache) -> tuple[Assignment, ...]:
    """The assignments, each with what was received from the units reporting to it."""
    result = []
    for a in assignments:
        period = await session.get(Period, a.period_id)
        unit = await session.scalar(select(Unit).where(Unit.code == a.unit.code))
        received = None
        if period is not None and unit is not None:
            received = await received_reports(session, period, unit, forms)
        result.append(replace(a, received=received))
    return tuple(result)


async def sum_blocks(session: AsyncSession, lines: Lines,
                     question_ids: Sequence[str] | None = None) -> None:
    """Each block's totals: every numeric answer summed over its submitted reports, in SQL.

    Answers are summed per unit kind and form version; a kind and version whose reports fall
    in more than one block (rare: a tree where lines differ within a kind) is summed per unit."""
    for block in lines.blocks:
        block.totals = {}
    counted = Submission.status.in_(COUNTED_STATUSES)
    base = (select(Answer.question_id, func.sum(Answer.num_value))
            .join(Submission, Submission.id == Answer.submission_id)
            .join(Unit, Unit.id == Submission.unit_id)
            .where(Submission.period_id == lines.period.id, counted, lines.scope.condition(),
                   Answer.num_value.is_not(None)))
    if question_ids is not None:
        base = base.where(Answer.question_id.in_(list(question_ids)))
    homes: dict[tuple[str, int], set[int]] = defaultdict(set)
    kinds = {u.id: u.kind for u in lines.units}
    for unit_id, block in lines.block_of.items():
        if lines.state(unit_id)[0] in COUNTED_STATUSES:
            homes[(kinds[unit_id], lines.form_ids[unit_id])].add(id(block))
    blocks_by_id = {id(b): b for b in lines.blocks}
    split: set[tuple[str, int]] = {k for k, v in homes.items() if len(v) > 1}
    grouped = base.add_columns(Unit.kind, Submission.form_id).group_by(
        Answer.question_id, Unit.kind, Submission.form_id)
    for qid, total, kind, form_id in (await session.execute(grouped)).all():
        home = homes.get((kind, form_id))
        if not home or (kind, form_id) in split:
            continue
        block = blocks_by_id[next(iter(home))]
        block.totals[qid] = block.totals.get(qid, Decimal(0)) + _decimal(total)
    if split:
        per_unit = base.add_columns(Submission.unit_id).where(
            Unit.kind.in_({k for k, _ in split})).group_by(Answer.question_id, Submission.unit_id)
        for qid, total, unit_id in (await session.execute(per_unit)).all():
            block = lines.block_of.get(unit_id)
            if block is not None and (kinds[unit_id], lines.form_ids[unit_id]) in split:
                block.totals[qid] = block.totals.get(qid, Decimal(0)) + _decimal(total)
    for block in lines.blocks:
        block.totals = {qid: _decimal(v) for qid, v in block.totals.items()}


def _decimal(value: Any) -> Decimal:
    number = Decimal(str(value or 0))
    return number.quantize(Decimal(1)) if number == number.to_integral() else number.normalize()


async def counts(session: AsyncSession, period: Period, scope: Scope, forms: FormCache
                 ) -> StateCounts:
    """Every asked unit of the scope in one state; the parts add up to the total."""
    return (await lines_of(session, period, scope, forms)).counts


def progress(lines: Lines, root: Unit | None, block: Block | None = None) -> list[ProgressRow]:
    """Completeness per direct child of the scope's unit (each counting its whole subtree),
    and the unit itself first when it reports too; with `block`, of that block's units only."""
    def row(code: str, name: str, ids: Sequence[int]) -> ProgressRow | None:
        c = StateCounts()
        for unit_id in ids:
            if unit_id in lines.block_of and (block is None or lines.block_of[unit_id] is block):
                c = c.plus(*lines.state(unit_id))
        if not c.total:
            return None
        return ProgressRow(code, name, c.total, c.on_time, c.late, c.drafts, c.returned,
                           c.not_started, c.accepted)

    depth = root.path.count("/") + 1 if root is not None else 2
    heads = [u for u in lines.units if u.path.count("/") == depth]
    members: dict[str, list[int]] = defaultdict(list)
    for u in lines.units:
        parts = u.path.strip("/").split("/")
        index = depth - 2
        if len(parts) > index:
            members[parts[index]].append(u.id)
    rows: list[ProgressRow] = []
    if root is not None and lines.scope.include_self:
        own = row(root.code, root.name, [root.id])
        if own is not None:
            rows.append(own)
    for head in sorted(heads, key=lambda u: u.name):
        made = row(head.code, head.name, members[head.code])
        if made is not None:
            rows.append(made)
    return rows


# ----------------------------------------------------------------------------- missing units

@dataclass(frozen=True)
class MissingRow:
    code: str
    name: str
    status: str
    reporters: tuple[tuple[str, str], ...]  # (name, phone)
    last_reminded: datetime | None


async def missing_units(session: AsyncSession, lines: Lines, block: Block,
                        limit: int = 200) -> list[MissingRow]:
    """The block's units that have not submitted, with reporters, phones and last reminder."""
    waiting = [u for u in block.units
               if lines.state(u.id)[0] not in COUNTED_STATUSES][:limit]
    if not waiting:
        return []
    unit_ids = [u.id for u in waiting]
    people: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    for unit_id, contact in (await session.execute(
            select(ContactUnit.unit_id, Contact).join(Contact, Contact.id == ContactUnit.contact_id)
            .where(ContactUnit.unit_id.in_(unit_ids), Contact.role == "reporter",
                   Contact.active.is_(True)).order_by(Contact.name))).all():
        people[unit_id].append((contact.name, contact.phone or "", contact.id))
    contact_ids = {cid for entries in people.values() for _, _, cid in entries}
    reminded = await last_reminders(session, lines.period.id, contact_ids)
    result = []
    for unit in waiting:
        entries = people.get(unit.id, [])
        last = max((reminded[cid] for _, _, cid in entries if cid in reminded), default=None)
        result.append(MissingRow(unit.code, unit.name, lines.state(unit.id)[0],
                                 tuple((n, p) for n, p, _ in entries), last))
    return result


async def last_reminders(session: AsyncSession, period_id: int,
                          contact_ids: set[int]) -> dict[int, datetime]:
    """When each person was last sent a reminder for this period (keys remind:/nudge:)."""
    if not contact_ids:
        return {}
    result: dict[int, datetime] = {}
    for prefix in ("remind", "nudge"):
        rows = (await session.execute(
            select(OutboxMessage.dedupe_key, OutboxMessage.sent_at)
            .where(OutboxMessage.dedupe_key.like(f"{prefix}:{period_id}:%"),
                   OutboxMessage.sent_at.is_not(None)))).all()
        for key, sent_at in rows:
            parts = key.split(":")
            if len(parts) > 2 and parts[2].isdigit() and int(parts[2]) in contact_ids:
                cid = int(parts[2])
                if cid not in result or sent_at > result[cid]:
                    result[cid] = sent_at
    return result


# ----------------------------------------------------------------------------- one unit

@dataclass(frozen=True)
class UnitReport:
    unit: Unit
    parent_name: str
    submission: Submission | None
    form: Form | None
    answers: dict[str, dict[str, Any]]
    revisions: list[AnswerRevision]
    people: dict[int, str]  # contact id → name
    events: list[ReportEvent] = field(default_factory=list)


async def unit_report(session: AsyncSession, period: Period, code: str, forms: FormCache
                      ) -> UnitReport | None:
    unit = await session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        return None
    parent = await session.get(Unit, unit.parent_id) if unit.parent_id else None
    submission = await session.scalar(select(Submission).where(
        Submission.unit_id == unit.id, Submission.period_id == period.id))
    form_id = submission.form_id if submission else await session.scalar(
        select(CampaignForm.form_id).where(CampaignForm.campaign_id == period.campaign_id,
                                           CampaignForm.unit_kind == unit.kind))
    form = await forms.get(session, form_id) if form_id else None
    answers: dict[str, dict[str, Any]] = {}
    revisions: list[AnswerRevision] = []
    events: list[ReportEvent] = []
    if submission is not None:
        for a in (await session.scalars(select(Answer).where(
                Answer.submission_id == submission.id))).all():
            answers[a.question_id] = answer_dict(a.value, a.note, a.flag)
        revisions = list((await session.scalars(
            select(AnswerRevision).where(AnswerRevision.submission_id == submission.id)
            .order_by(AnswerRevision.id))).all())
        events = list((await session.scalars(
            select(ReportEvent).where(ReportEvent.submission_id == submission.id)
            .order_by(ReportEvent.id))).all())
    ids = {r.changed_by for r in revisions if r.changed_by} | {e.by for e in events if e.by}
    if submission is not None:
        ids |= {i for i in (submission.submitted_by, submission.accepted_by) if i}
    people = {c.id: c.name for c in (await session.scalars(
        select(Contact).where(Contact.id.in_(ids)))).all()} if ids else {}
    return UnitReport(unit, parent.name if parent else "", submission, form, answers,
                      revisions, people, events)


# ----------------------------------------------------------------------------- exports

def columns_of(forms: Sequence[Form]) -> list[QuestionColumn]:
    """One column per question id in the largest form's order (a text row such as 1.2, the
    plan's number and date, stays in its place), then ids only others have; the free-text
    parts (I, II.2, …) last."""
    ordered = sorted(forms, key=lambda f: -len(f.questions))
    columns: dict[str, QuestionColumn] = {}
    for form in ordered:
        for section in form.sections:
            for q in section.questions:
                if q.id not in columns:
                    columns[q.id] = QuestionColumn(
                        q.id, q.label.vi, q.type, section.id, section.title.vi, q.unit.vi,
                        {c.id: c.label.vi for c in q.choices}, q.note and q.type != "text")
    parts = [c for c in columns.values() if c.type == "text" and c.id == c.section_id]
    return [c for c in columns.values() if c not in parts] + parts


def _json_value(raw: str | float | None) -> Any:
    if raw is None:
        return None
    if not isinstance(raw, str):  # SQLite's JSON column (numeric affinity) kept a number
        return raw
    if raw.isdigit():
        return int(raw)
    return json.loads(raw)


def _number(value: Any) -> Decimal | None:
    """A stored answer as a number to add up; None for what is not a finite number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


async def export_data(session: AsyncSession, period: Period, campaign: Campaign, scope: Scope,
                      forms: FormCache, now: datetime,
                      report_settings: ReportSettings | None = None) -> ExportData:
    """Everything an export needs, in a few set-based queries: one block per form and place on
    the reporting line, each with its units and its own totals; the reporters of the units
    that have not submitted; the heading and signature of the consolidated report."""
    lines = await lines_of(session, period, scope, forms)
    submissions = {s.unit_id: s for s in (await session.execute(
        select(Submission.id, Submission.unit_id, Submission.submitted_at,
               Submission.first_submitted_at, Submission.submitted_by)
        .join(Unit, Unit.id == Submission.unit_id)
        .where(Submission.period_id == period.id, scope.condition()))).all()}
    parents = dict((await session.execute(select(Unit.id, Unit.parent_id)
                                           .where(scope.condition()))).all())
    names = {u.id: u.name for u in lines.units}
    outside = {p for p in parents.values() if p is not None and p not in names}
    if outside:
        names.update(dict((await session.execute(select(Unit.id, Unit.name).where(
            Unit.id.in_(outside)))).all()))
    answers: dict[int, dict[str, Any]] = defaultdict(dict)
    notes: dict[int, dict[str, str]] = defaultdict(dict)
    flags: dict[int, dict[str, str]] = defaultdict(dict)
    by_submission = {s.id: s.unit_id for s in submissions.values()}
    if by_submission:
        # One round trip, rows fetched in C; a per-row async stream costs several times more.
        # On SQLite, the JSON text as stored, decoded here (most values are plain numbers);
        # asyncpg decodes JSON itself.
        sqlite = session.bind.dialect.name == "sqlite"
        value = type_coerce(Answer.value, SqlText) if sqlite else Answer.value
        result = await session.execute(
            select(Answer.submission_id, Answer.question_id, value, Answer.note, Answer.flag)
            .join(Submission, Submission.id == Answer.submission_id)
            .join(Unit, Unit.id == Submission.unit_id)
            .where(Submission.period_id == period.id, scope.condition()))
        for sid, qid, raw, note, flag in result.all():
            unit_id = by_submission[sid]
            answers[unit_id][qid] = _json_value(raw) if sqlite else raw
            if note:
                notes[unit_id][qid] = note
            if flag:
                flags[unit_id][qid] = flag
    people_ids = {s.submitted_by for s in submissions.values() if s.submitted_by}
    revision_rows = (await session.execute(
        select(AnswerRevision, Unit.code, Unit.name)
        .join(Submission, Submission.id == AnswerRevision.submission_id)
        .join(Unit, Unit.id == Submission.unit_id)
        .where(Submission.period_id == period.id, scope.condition(),
               AnswerRevision.revision > 1)
        .order_by(Unit.path, AnswerRevision.id))).all()
    people_ids |= {r.changed_by for r, _, _ in revision_rows if r.changed_by}
    people = {c.id: c.name for c in (await session.scalars(
        select(Contact).where(Contact.id.in_(people_ids)))).all()} if people_ids else {}
    waiting = {unit_id for unit_id in lines.block_of
               if lines.state(unit_id)[0] not in COUNTED_STATUSES}
    reporters, reminded = await _reporters_of(session, lines, waiting)
    root = await session.scalar(select(Unit).where(Unit.path == scope.path))
    blocks = []
    for block in lines.blocks:
        # By id first: a form hashes all its questions, and a block has thousands of units.
        block_forms = [await forms.get(session, form_id)
                       for form_id in {lines.form_ids[u.id] for u in block.units}]
        questions = columns_of(sorted(block_forms, key=lambda f: -f.version))
        numeric = [q.id for q in questions if q.numeric]
        rows = []
        totals = {qid: Decimal(0) for qid in numeric}
        whole = dict.fromkeys(numeric, 0)
        # A value past its type's ceiling (stored before values were bounded) is left out of
        # the totals, as the writers leave it out of the file and tell the coordinator.
        limits = {q.id: MAX_BY_TYPE.get(q.type, max(MAX_BY_TYPE.values()))
                  for q in questions if q.numeric}
        for unit in block.units:
            status, on_time = lines.state(unit.id)
            s = submissions.get(unit.id)
            unit_answers = answers.get(unit.id, {})
            counted = status in COUNTED_STATUSES
            # A report submitted once keeps its times, returned or not: the first decided
            # on time or late, the latest is a resubmission.
            sent = s is not None and (counted or s.first_submitted_at is not None)
            rows.append(UnitRow(
                unit.code, unit.name, names.get(parents.get(unit.id), ""), unit.kind,
                status, on_time, s.submitted_at if s and sent else None,
                people.get(s.submitted_by, "") if s and s.submitted_by else "",
                unit_answers, notes.get(unit.id, {}), reporters.get(unit.id, ()),
                reminded.get(unit.id), flags=flags.get(unit.id, {}),
                first_submitted_at=s.first_submitted_at if s and sent else None))
            if counted:
                for qid in numeric:
                    value = unit_answers.get(qid)
                    if type(value) is int:  # most answers: added without a Decimal
                        if -limits[qid] < value < limits[qid]:
                            whole[qid] += value
                    elif value is not None:
                        number = _number(value)
                        if number is not None and -limits[qid] < number < limits[qid]:
                            totals[qid] += number
        blocks.append(ReportBlock(
            block.title.vi, block.direct, block.form.title.vi, questions, rows,
            {qid: _decimal(v + whole[qid]) for qid, v in totals.items()}, block.covered_by.vi,
            block.form.id, progress(lines, root, block)))
    definition = campaign.definition or {}
    report = definition.get("report") if isinstance(definition.get("report"), dict) else {}
    return ExportData(
        campaign_key=campaign.key, period_id=period.id, period_key=period.key,
        campaign_title=period.title_vi, period_label=period.label_vi, scope_name=scope.name,
        timezone=campaign.timezone, deadline=period.deadline, generated_at=now,
        blocks=blocks, progress=progress(lines, root),
        revisions=[RevisionRow(code, name, r.revision, r.question_id, r.old_value, r.new_value,
                               people.get(r.changed_by, "") if r.changed_by else "",
                               r.changed_at) for r, code, name in revision_rows],
        source_document=str(definition.get("source", "")),
        letterhead=letterhead_for(await _unit_letterhead(
            session, root, [units_reported_on(b.kinds) for b in lines.blocks if b.direct]),
            report, report_settings),
        report_template=choose_template(
            blocks[0].form_key if blocks else "", str(report.get("template") or ""),
            report_settings.template_dir if report_settings else ""))


async def _unit_letterhead(session: AsyncSession, unit: Unit | None,
                           reported_on: Sequence[str] = ()) -> Letterhead:
    """What the coordinator's unit writes on its reports when nobody has said otherwise,
    sent to the level above and to the units whose reports come to it."""
    if unit is None:
        return default_letterhead("", "", reported_on=reported_on)
    parent = await session.get(Unit, unit.parent_id) if unit.parent_id else None
    return default_letterhead(unit.name, unit.kind, parent.name if parent else "",
                              parent.kind if parent else "", reported_on)


async def _reporters_of(session: AsyncSession, lines: Lines, waiting: set[int]
                        ) -> tuple[dict[int, tuple[tuple[str, str], ...]], dict[int, datetime]]:
    """The active reporters (name, phone) of every unit of the scope that has not submitted,
    in one query over the scope, and when one of them was last reminded for the period."""
    if not waiting:
        return {}, {}
    people: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    rows = await session.execute(
        select(ContactUnit.unit_id, Contact.name, Contact.phone, Contact.id)
        .join(Contact, Contact.id == ContactUnit.contact_id)
        .join(Unit, Unit.id == ContactUnit.unit_id)
        .where(lines.scope.condition(), Contact.role == "reporter", Contact.active.is_(True))
        .order_by(Contact.name, Contact.id))
    for unit_id, name, phone, contact_id in rows.all():
        if unit_id in waiting:
            people[unit_id].append((name or "", phone or "", contact_id))
    contact_ids = {cid for entries in people.values() for _, _, cid in entries}
    sent = await last_reminders(session, lines.period.id, contact_ids)
    reminded: dict[int, datetime] = {}
    for unit_id, entries in people.items():
        last = max((sent[cid] for _, _, cid in entries if cid in sent), default=None)
        if last is not None:
            reminded[unit_id] = last
    return ({unit_id: tuple((n, p) for n, p, _ in entries)
             for unit_id, entries in people.items()}, reminded)
