"""What coordinators see: completeness and totals computed in SQL over a part of the unit tree,
one unit's report with its history, and the data every export is made from.

A scope is a unit's subtree. Units keep a materialised path ("/HP/X-ANLAO/TH-ANLAO/"), so "every
unit below X" is one indexed range on `path`, at any depth.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, Text, and_, case, func, or_, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from bot.exports.model import ExportData, ProgressRow, QuestionColumn, RevisionRow, UnitRow
from bot.storage.context_loader import FormCache
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
    Submission,
    Unit,
)
from conversations.forms import Form


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


async def find_period(session: AsyncSession, campaign_key: str, period_key: str | None,
                      now: datetime) -> tuple[Period, Campaign]:
    campaign = await session.scalar(select(Campaign).where(Campaign.key == campaign_key))
    if campaign is None:
        raise ReportingError(f"campaign {campaign_key} is not loaded")
    query = select(Period).where(Period.campaign_id == campaign.id)
    if period_key:
        period = await session.scalar(query.where(Period.key == period_key))
    else:  # the latest period that has started, else the first one
        period = await session.scalar(query.where(Period.starts_at <= now)
                                      .order_by(Period.starts_at.desc()).limit(1)) \
            or await session.scalar(query.order_by(Period.starts_at).limit(1))
    if period is None:
        raise ReportingError(f"campaign {campaign_key} has no period {period_key or ''}".strip())
    return period, campaign


def _targets(period: Period, scope: Scope) -> Select:
    """Target units of a period's campaign inside a scope, each with its form."""
    explicit = select(CampaignUnit.unit_id).where(CampaignUnit.campaign_id == period.campaign_id)
    return (select(Unit.id, CampaignForm.form_id)
            .join(CampaignForm, and_(CampaignForm.unit_kind == Unit.kind,
                                     CampaignForm.campaign_id == period.campaign_id))
            .where(scope.condition(),
                   or_(~explicit.exists(), Unit.id.in_(explicit))))


# ----------------------------------------------------------------------------- summaries

@dataclass(frozen=True)
class Counts:
    total: int
    on_time: int
    late: int
    drafts: int

    @property
    def missing(self) -> int:
        return self.total - self.on_time - self.late


async def counts(session: AsyncSession, period: Period, scope: Scope) -> Counts:
    return await _counts(session, period, scope.condition())


async def _counts(session: AsyncSession, period: Period, where: Any) -> Counts:
    explicit = select(CampaignUnit.unit_id).where(CampaignUnit.campaign_id == period.campaign_id)
    targets = (select(Unit.id).join(CampaignForm, and_(
        CampaignForm.unit_kind == Unit.kind, CampaignForm.campaign_id == period.campaign_id))
        .where(where, or_(~explicit.exists(), Unit.id.in_(explicit))).subquery())
    submitted = Submission.status == "submitted"
    row = (await session.execute(
        select(func.count(targets.c.id),
               func.sum(case((and_(submitted, Submission.on_time.is_(True)), 1), else_=0)),
               func.sum(case((and_(submitted, Submission.on_time.is_not(True)), 1), else_=0)),
               func.sum(case((Submission.status.in_(("draft", "returned")), 1), else_=0)))
        .select_from(targets)
        .outerjoin(Submission, and_(Submission.unit_id == targets.c.id,
                                    Submission.period_id == period.id)))).one()
    return Counts(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0), int(row[3] or 0))


async def totals(session: AsyncSession, period: Period, scope: Scope,
                 question_ids: Sequence[str] | None = None) -> dict[str, Decimal]:
    """Sum of every numeric answer over the submitted reports in scope, one GROUP BY."""
    query = (select(Answer.question_id, func.sum(Answer.num_value))
             .join(Submission, Submission.id == Answer.submission_id)
             .join(Unit, Unit.id == Submission.unit_id)
             .where(Submission.period_id == period.id, Submission.status == "submitted",
                    scope.condition(), Answer.num_value.is_not(None))
             .group_by(Answer.question_id))
    if question_ids is not None:
        query = query.where(Answer.question_id.in_(list(question_ids)))
    return {qid: _decimal(value) for qid, value in (await session.execute(query)).all()}


async def yes_counts(session: AsyncSession, period: Period, scope: Scope,
                     question_ids: Sequence[str]) -> dict[str, int]:
    """How many submitted reports answered "yes" to each yes/no question."""
    if not question_ids:
        return {}
    rows = (await session.execute(
        select(Answer.question_id, Answer.value)
        .join(Submission, Submission.id == Answer.submission_id)
        .join(Unit, Unit.id == Submission.unit_id)
        .where(Submission.period_id == period.id, Submission.status == "submitted",
               scope.condition(), Answer.question_id.in_(list(question_ids))))).all()
    result: dict[str, int] = defaultdict(int)
    for qid, value in rows:
        if value is True:
            result[qid] += 1
    return dict(result)


def _decimal(value: Any) -> Decimal:
    number = Decimal(str(value or 0))
    return number.quantize(Decimal(1)) if number == number.to_integral() else number.normalize()


async def progress(session: AsyncSession, period: Period, scope: Scope) -> list[ProgressRow]:
    """Completeness per direct child of the scope's unit (each counting its whole subtree),
    and the unit itself first when it reports too."""
    parent = await session.scalar(select(Unit).where(Unit.path == scope.path))
    rows = []
    if parent is None:  # the whole tree: one row per top unit
        tops = (await session.scalars(select(Unit).where(Unit.parent_id.is_(None))
                                      .order_by(Unit.name))).all()
        for top in tops:
            c = await counts(session, period, Scope(top.path, top.name, include_self=True))
            if c.total:
                rows.append(ProgressRow(top.code, top.name, c.total, c.on_time, c.late,
                                        c.drafts, c.missing))
        return rows
    if scope.include_self:
        own = await _counts(session, period, Unit.id == parent.id)
        if own.total:
            rows.append(ProgressRow(parent.code, parent.name, own.total, own.on_time, own.late,
                                    own.drafts, own.missing))
    children = (await session.scalars(select(Unit).where(Unit.parent_id == parent.id)
                                      .order_by(Unit.name))).all()
    for child in children:
        c = await counts(session, period, Scope(child.path, child.name, include_self=True))
        if c.total:
            rows.append(ProgressRow(child.code, child.name, c.total, c.on_time, c.late,
                                    c.drafts, c.missing))
    return rows


# ----------------------------------------------------------------------------- missing units

@dataclass(frozen=True)
class MissingRow:
    code: str
    name: str
    status: str
    reporters: tuple[tuple[str, str], ...]  # (name, phone)
    last_reminded: datetime | None


async def missing_units(session: AsyncSession, period: Period, scope: Scope,
                        limit: int = 200) -> list[MissingRow]:
    targets = _targets(period, scope).subquery()
    rows = (await session.execute(
        select(Unit, Submission.status)
        .join(targets, targets.c.id == Unit.id)
        .outerjoin(Submission, and_(Submission.unit_id == Unit.id,
                                    Submission.period_id == period.id))
        .where(or_(Submission.status.is_(None), Submission.status != "submitted"))
        .order_by(Unit.path).limit(limit))).all()
    if not rows:
        return []
    unit_ids = [u.id for u, _ in rows]
    people: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    for unit_id, contact in (await session.execute(
            select(ContactUnit.unit_id, Contact).join(Contact, Contact.id == ContactUnit.contact_id)
            .where(ContactUnit.unit_id.in_(unit_ids), Contact.role == "reporter",
                   Contact.active.is_(True)).order_by(Contact.name))).all():
        people[unit_id].append((contact.name, contact.phone or "", contact.id))
    contact_ids = {cid for entries in people.values() for _, _, cid in entries}
    reminded = await _last_reminders(session, period.id, contact_ids)
    result = []
    for unit, status in rows:
        entries = people.get(unit.id, [])
        last = max((reminded[cid] for _, _, cid in entries if cid in reminded), default=None)
        result.append(MissingRow(unit.code, unit.name, status or "none",
                                 tuple((n, p) for n, p, _ in entries), last))
    return result


async def _last_reminders(session: AsyncSession, period_id: int,
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
    if submission is not None:
        for a in (await session.scalars(select(Answer).where(
                Answer.submission_id == submission.id))).all():
            answers[a.question_id] = {"value": a.value, "note": a.note}
        revisions = list((await session.scalars(
            select(AnswerRevision).where(AnswerRevision.submission_id == submission.id)
            .order_by(AnswerRevision.id))).all())
    ids = {r.changed_by for r in revisions if r.changed_by}
    if submission is not None and submission.submitted_by:
        ids.add(submission.submitted_by)
    people = {c.id: c.name for c in (await session.scalars(
        select(Contact).where(Contact.id.in_(ids)))).all()} if ids else {}
    return UnitReport(unit, parent.name if parent else "", submission, form, answers,
                      revisions, people)


# ----------------------------------------------------------------------------- exports

def columns_of(forms: Sequence[Form]) -> list[QuestionColumn]:
    """One column per question id: the largest form's order, then ids only others have."""
    ordered = sorted(forms, key=lambda f: -len(f.questions))
    columns: dict[str, QuestionColumn] = {}
    for form in ordered:
        for section in form.sections:
            for q in section.questions:
                if q.id not in columns:
                    columns[q.id] = QuestionColumn(
                        q.id, q.label.vi, q.type, section.id, section.title.vi, q.unit.vi,
                        {c.id: c.label.vi for c in q.choices})
    numeric = [c for c in columns.values() if c.type != "text"]
    text = [c for c in columns.values() if c.type == "text"]
    return numeric + text


def _json_value(raw: str | float | None) -> Any:
    if raw is None:
        return None
    if not isinstance(raw, str):  # SQLite's JSON column (numeric affinity) kept a number
        return raw
    if raw.isdigit():
        return int(raw)
    return json.loads(raw)


async def export_data(session: AsyncSession, period: Period, campaign: Campaign, scope: Scope,
                      forms: FormCache, now: datetime) -> ExportData:
    """Everything an export needs, streamed from SQL in a few set-based queries."""
    target_rows = (await session.execute(_targets(period, scope))).all()
    form_ids = sorted({form_id for _, form_id in target_rows})
    submissions = {s.unit_id: s for s in (await session.execute(
        select(Submission.id, Submission.unit_id, Submission.form_id, Submission.status,
               Submission.on_time, Submission.submitted_at, Submission.submitted_by)
        .join(Unit, Unit.id == Submission.unit_id)
        .where(Submission.period_id == period.id, scope.condition()))).all()}
    form_ids = sorted(set(form_ids) | {s.form_id for s in submissions.values()})
    loaded = [await forms.get(session, fid) for fid in form_ids]
    questions = columns_of(loaded)
    target_ids = {uid for uid, _ in target_rows}
    units = (await session.execute(
        select(Unit.id, Unit.code, Unit.name, Unit.kind, Unit.parent_id)
        .where(scope.condition()).order_by(Unit.path))).all()
    names = {row.id: row.name for row in units}
    missing_parents = {row.parent_id for row in units if row.parent_id not in names}
    if missing_parents - {None}:
        for uid, name in (await session.execute(select(Unit.id, Unit.name).where(
                Unit.id.in_(missing_parents - {None})))).all():
            names[uid] = name
    answers: dict[int, dict[str, Any]] = defaultdict(dict)
    notes: dict[int, dict[str, str]] = defaultdict(dict)
    by_submission = {s.id: s.unit_id for s in submissions.values()}
    if by_submission:
        # One round trip, rows fetched in C; a per-row async stream costs several times more.
        # On SQLite, the JSON text as stored, decoded here (most values are plain numbers);
        # asyncpg decodes JSON itself.
        sqlite = session.bind.dialect.name == "sqlite"
        value = type_coerce(Answer.value, Text) if sqlite else Answer.value
        result = await session.execute(
            select(Answer.submission_id, Answer.question_id, value, Answer.note)
            .join(Submission, Submission.id == Answer.submission_id)
            .join(Unit, Unit.id == Submission.unit_id)
            .where(Submission.period_id == period.id, scope.condition()))
        for sid, qid, raw, note in result.all():
            unit_id = by_submission[sid]
            answers[unit_id][qid] = _json_value(raw) if sqlite else raw
            if note:
                notes[unit_id][qid] = note
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
    rows = []
    for row in units:
        if row.id not in target_ids:
            continue
        s = submissions.get(row.id)
        rows.append(UnitRow(
            row.code, row.name, names.get(row.parent_id, ""), row.kind,
            s.status if s else "none", s.on_time if s else None,
            s.submitted_at if s and s.status == "submitted" else None,
            people.get(s.submitted_by, "") if s and s.submitted_by else "",
            answers.get(row.id, {}), notes.get(row.id, {})))
    numeric = [q.id for q in questions if q.numeric]
    sums = await totals(session, period, scope, numeric)
    return ExportData(
        campaign_title=campaign.title_vi, period_label=period.label_vi, scope_name=scope.name,
        timezone=campaign.timezone, deadline=period.deadline, generated_at=now,
        form_title=loaded[0].title.vi if loaded else "", questions=questions, units=rows,
        totals={q: sums.get(q, Decimal(0)) for q in numeric},
        progress=await progress(session, period, scope),
        revisions=[RevisionRow(code, name, r.revision, r.question_id, r.old_value, r.new_value,
                               people.get(r.changed_by, "") if r.changed_by else "",
                               r.changed_at) for r, code, name in revision_rows],
        source_document=(campaign.definition or {}).get("source", ""))
