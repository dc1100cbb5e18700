"""One unit's page: its report as submitted (each figure with its note and flag), the history
(answers changed, submissions, returns, acceptances), its reporters with phone and last
reminder, and which actions the coordinator may take on it.

The scope check is the chat's: `bot.coordinators.reporting.scopes_of` and `Scope.contains`;
a unit outside
is "not found", exactly as a unit that does not exist."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordinators import reporting
from bot.coordinators.reporting import Scope, UnitReport
from bot.storage.context_loader import FormCache
from bot.storage.models import (
    Campaign,
    CampaignForm,
    CampaignUnit,
    Contact,
    ContactUnit,
    Identity,
    Period,
    Unit,
)
from conversations.answer_parsing import show_value
from conversations.coordinator_commands import event_text
from conversations.forms import Form
from conversations.i18n import Tr
from scheduler.reminder_plan import can_still_send


@dataclass(frozen=True)
class Placement:
    """Where a unit is for a coordinator: inside their scope, or their own unit."""

    unit: Unit
    scope: Scope
    own: bool


async def find_unit(session: AsyncSession, code: str, contact_id: int, role: str
                    ) -> Placement | None:
    """The unit if the coordinator may see it (below their units, or one of their own), else
    None: the caller answers 404 either way."""
    unit = await session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        return None
    scopes = await reporting.scopes_of(session, contact_id, role)
    for scope in scopes:
        if scope.contains(unit.path):
            return Placement(unit, scope, own=False)
    for scope in scopes:
        if scope.path == unit.path:
            return Placement(unit, scope, own=True)
    return None


@dataclass(frozen=True)
class AnswerLine:
    qid: str
    label: str
    value: str
    note: str = ""
    # A "cần kiểm tra" flag on the answer (issue 18): the `flag` of the stored answer, shown
    # as it comes (a reason text, or True for a flag without one).
    flag: Any = None


@dataclass(frozen=True)
class SectionLines:
    sid: str
    title: str
    answers: list[AnswerLine]


@dataclass(frozen=True)
class Reporter:
    name: str
    phone: str
    reachable: bool
    last_reminded: datetime | None


@dataclass
class UnitPage:
    placement: Placement
    period: Period
    campaign: Campaign
    report: UnitReport
    asked: bool
    current: bool  # the period still takes actions (the chat's current periods)
    sections: list[SectionLines] = field(default_factory=list)
    history: list[tuple[datetime, str]] = field(default_factory=list)
    reporters: list[Reporter] = field(default_factory=list)
    now: datetime | None = None

    @property
    def status(self) -> str:
        s = self.report.submission
        return s.status if s is not None else "none"

    @property
    def can_act(self) -> bool:
        return self.asked and self.current and not self.placement.own

    @property
    def can_accept(self) -> bool:
        return self.can_act and self.status == "submitted"

    @property
    def can_return(self) -> bool:
        return self.can_act and self.status in ("submitted", "accepted", "returned")

    @property
    def can_remind(self) -> bool:
        """Only where a reminder can help: the reporters can still send (before the lock, or
        a returned report within its correction time) and one of them has a chat."""
        s = self.report.submission
        return self.can_act and self.now is not None and can_still_send(
            self.status, s.correct_by if s is not None else None, self.period.lock_at,
            self.now) and any(r.reachable for r in self.reporters)


async def is_current(session: AsyncSession, period: Period, now: datetime,
                     late_window: timedelta) -> bool:
    return any(p.id == period.id for p, _ in await reporting.current_periods(
        session, now, late_window))


async def build(session: AsyncSession, placement: Placement, period: Period,
                campaign: Campaign, forms: FormCache, now: datetime, late_window: timedelta,
                tr: Tr) -> UnitPage:
    unit = placement.unit
    report = await reporting.unit_report(session, period, unit.code, forms)
    assert report is not None
    page = UnitPage(placement, period, campaign, report, await _asked(session, period, unit),
                    await is_current(session, period, now, late_window), now=now)
    if report.form is not None:  # worded for the unit's kind, as its reporter read it
        page.sections = answer_sections(report.form.worded_for(unit.kind), report.answers, tr)
        page.history = history(report, report.form, tr, campaign.timezone)
    page.reporters = await reporters(session, period, unit)
    return page


async def _asked(session: AsyncSession, period: Period, unit: Unit) -> bool:
    form = await session.scalar(select(CampaignForm.form_id).where(
        CampaignForm.campaign_id == period.campaign_id, CampaignForm.unit_kind == unit.kind))
    if form is None:
        return False
    explicit = set((await session.scalars(select(CampaignUnit.unit_id).where(
        CampaignUnit.campaign_id == period.campaign_id))).all())
    return not explicit or unit.id in explicit


def answer_sections(form: Form, answers: dict[str, dict[str, Any]], tr: Tr
                    ) -> list[SectionLines]:
    """The answers in the form's order, as the coordinator reads them ('150 người')."""
    result = []
    for section in form.sections:
        lines = []
        for q in section.questions:
            stored = answers.get(q.id)
            if stored is None:
                continue
            lines.append(AnswerLine(q.id, q.label.get(tr.language),
                                    show_value(q, stored.get("value"), tr),
                                    stored.get("note") or "", stored.get("flag")))
        if lines:
            result.append(SectionLines(section.id, section.title.get(tr.language), lines))
    return result


def history(report: UnitReport, form: Form, tr: Tr, timezone: str
            ) -> list[tuple[datetime, str]]:
    """Submissions, returns (with the reason), acceptances and every answer changed, oldest
    first, in the words of the chat's /xem."""
    name = report.people.get
    items: list[tuple[tuple[datetime, int], str]] = []
    for e in report.events:
        text = event_text(tr, e.kind, e.revision, name(e.by, "") if e.by else "—",
                          tr.datetime(e.at, timezone), e.comment)
        items.append(((e.at, 1), text))
    for r in report.revisions:
        if r.revision <= 1:
            continue
        q = form.question(r.question_id)
        old = show_value(q, r.old_value, tr) if q and r.old_value is not None else "—"
        new = show_value(q, r.new_value, tr) if q and r.new_value is not None else "—"
        who = name(r.changed_by, "") if r.changed_by else "—"
        items.append(((r.changed_at, 0), tr(
            "submission {n}, {time}, {name}: {qid} {old} → {new}", n=r.revision,
            time=tr.datetime(r.changed_at, timezone), name=who, qid=r.question_id, old=old,
            new=new)))
    return [(key[0], text) for key, text in sorted(items, key=lambda item: item[0])]


ROW_FIELD = "row:"  # the return form's comment beside a row: row:4.2
MAX_ROW_COMMENTS = 200


def with_row_comments(reason: str, posted: dict[str, str], limit: int) -> str:
    """The reason as /tralai takes it: the general reason, then `4.2: comment` for each row
    commented on (a `;` inside a comment becomes a comma: it separates rows)."""
    parts = [reason] if reason else []
    for key, value in list(posted.items())[:MAX_ROW_COMMENTS * 4]:
        if not key.startswith(ROW_FIELD):
            continue
        qid = key[len(ROW_FIELD):].strip()[:32]
        comment = " ".join(value.replace(";", ",").split())[:limit]
        if qid and comment and len(parts) <= MAX_ROW_COMMENTS:
            parts.append(f"{qid}: {comment}")
    return "; ".join(parts)


async def reporters(session: AsyncSession, period: Period, unit: Unit) -> list[Reporter]:
    """The unit's reporters: phone, whether the bot can reach them in chat, last reminder."""
    contacts = (await session.scalars(
        select(Contact).join(ContactUnit, ContactUnit.contact_id == Contact.id)
        .where(ContactUnit.unit_id == unit.id, Contact.role == "reporter",
               Contact.active.is_(True)).order_by(Contact.name))).all()
    if not contacts:
        return []
    ids = [c.id for c in contacts]
    reachable = set((await session.scalars(select(Identity.contact_id).where(
        Identity.contact_id.in_(ids), Identity.unreachable_at.is_(None)))).all())
    reminded = await reporting.last_reminders(session, period.id, set(ids))
    return [Reporter(c.name, c.phone or "", c.id in reachable, reminded.get(c.id))
            for c in contacts]
