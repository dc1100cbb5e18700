"""The shell side of coordinator commands: load what a command needs (always within the
coordinator's scope), send reports back, and make export files."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox, reporting
from bot.exports.model import Skipped
from bot.storage.context_loader import FormCache
from bot.storage.models import (
    Campaign,
    CampaignForm,
    Contact,
    ContactUnit,
    Identity,
    Period,
    Submission,
    Unit,
)
from conversations.context import (
    ContactView,
    CoordinatorData,
    MissingUnitView,
    PeriodSummary,
    RevisionView,
    UnitReportView,
)
from conversations.events import Button, OutboundMessage, ReturnReport
from conversations.forms import Form, Text
from conversations.i18n import Catalog

NEEDS_DATA = frozenset({"summary", "missing", "view", "return", "export", "chart"})


async def coordinator_data(session: AsyncSession, contact: ContactView, command: str, arg: str,
                           now: datetime, late_window: timedelta, forms: FormCache
                           ) -> tuple[CoordinatorData, dict[str, Form]]:
    scopes = await reporting.scopes_of(session, contact.id, contact.role)
    periods = await reporting.current_periods(session, now, late_window)
    used: dict[str, Form] = {}
    summaries: list[PeriodSummary] = []
    missing: list[tuple[PeriodSummary, tuple[MissingUnitView, ...]]] = []
    for period, campaign in periods:
        for scope in scopes:
            c = await reporting.counts(session, period, scope)
            if not c.total:
                continue
            summary = await _summary(session, period, campaign, scope, c, forms)
            summaries.append(summary)
            if command == "missing":
                rows = await reporting.missing_units(session, period, scope)
                missing.append((summary, tuple(
                    MissingUnitView(r.code, r.name, r.status, r.reporters, r.last_reminded)
                    for r in rows)))
    units: list[UnitReportView] = []
    code = arg.strip().split(" ")[0] if arg.strip() else ""
    if command in ("view", "return") and code:
        unit = await session.scalar(select(Unit).where(Unit.code == code))
        if unit is not None and any(s.contains(unit.path) for s in scopes):
            for period, campaign in periods:
                report = await reporting.unit_report(session, period, unit.code, forms)
                if report is None or report.form is None or not await _is_target(
                        session, period, unit):
                    continue
                label = FormCache.label(report.form)
                used[label] = report.form
                units.append(_unit_view(report, period, campaign, label))
    return CoordinatorData(tuple(summaries), tuple(missing), code, tuple(units)), used


async def _is_target(session: AsyncSession, period: Period, unit: Unit) -> bool:
    return await session.scalar(select(CampaignForm.form_id).where(
        CampaignForm.campaign_id == period.campaign_id,
        CampaignForm.unit_kind == unit.kind)) is not None


async def _summary(session: AsyncSession, period: Period, campaign: Campaign,
                   scope: reporting.Scope, c: reporting.Counts, forms: FormCache
                   ) -> PeriodSummary:
    form_ids = (await session.scalars(select(CampaignForm.form_id).where(
        CampaignForm.campaign_id == campaign.id).distinct())).all()
    main: dict[str, tuple[Text, Text]] = {}
    for form_id in sorted(form_ids):
        form = await forms.get(session, form_id)
        for q in form.questions:
            if q.main and q.numeric and q.id not in main:
                main[q.id] = (q.label, q.unit)
    sums = await reporting.totals(session, period, scope, list(main))
    ordered = sorted(main, key=_id_order)
    return PeriodSummary(
        period.id, Text(campaign.title_vi, campaign.title_en),
        Text(period.label_vi, period.label_en), period.deadline, campaign.timezone,
        scope.name, c.total, c.on_time, c.late, c.drafts,
        tuple((qid, main[qid][0], main[qid][1], sums.get(qid, 0)) for qid in ordered))


def _id_order(qid: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in qid.split("."))


def _unit_view(report: reporting.UnitReport, period: Period, campaign: Campaign,
               form_key: str) -> UnitReportView:
    s = report.submission
    return UnitReportView(
        period.id, Text(campaign.title_vi, campaign.title_en), campaign.timezone,
        report.unit.code, report.unit.name, s.status if s else "none", form_key,
        s.submitted_at if s else None, s.on_time if s else None,
        report.people.get(s.submitted_by, "") if s and s.submitted_by else "",
        report.answers,
        tuple(RevisionView(r.revision, r.question_id, r.old_value, r.new_value,
                           report.people.get(r.changed_by, "") if r.changed_by else "",
                           r.changed_at) for r in report.revisions if r.revision > 1))


async def return_report(session: AsyncSession, effect: ReturnReport, catalog: Catalog,
                        now: datetime) -> None:
    """Mark the report returned and tell its reporters at once, with the reason."""
    row = (await session.execute(
        select(Submission, Unit, Campaign)
        .join(Unit, Unit.id == Submission.unit_id)
        .join(Period, Period.id == Submission.period_id)
        .join(Campaign, Campaign.id == Period.campaign_id)
        .where(Submission.period_id == effect.period_id, Unit.code == effect.unit_code))).first()
    if row is None:
        raise reporting.ReportingError("no such report")
    submission, unit, campaign = row
    submission.status, submission.return_comment = "returned", effect.comment
    submission.updated_at = now
    reporters = (await session.scalars(
        select(Contact).join(ContactUnit, ContactUnit.contact_id == Contact.id)
        .where(ContactUnit.unit_id == unit.id, Contact.role == "reporter",
               Contact.active.is_(True)))).all()
    for contact in reporters:
        tr = catalog.tr(contact.language)
        text = tr("The report {campaign} of {unit} was returned for correction: “{comment}”. "
                  "Please correct it and submit it again with /baocao.",
                  campaign=campaign.title_vi if tr.language == "vi" else campaign.title_en,
                  unit=unit.name, comment=effect.comment)
        message = OutboundMessage(text, (Button("report", tr("Correct the report")),))
        for identity in (await session.scalars(select(Identity).where(
                Identity.contact_id == contact.id, Identity.unreachable_at.is_(None)))).all():
            outbox.enqueue(session, identity.channel, identity.chat_id, [message], now,
                           contact.language)


FILE_NAMES = {"xlsx": "bao-cao.xlsx", "csv": "bao-cao.csv", "docx": "bao-cao-tong-hop.docx",
              "png": "tien-do.png"}


async def make_export(session: AsyncSession, contact_id: int, role: str, period_id: int,
                      fmt: str, forms: FormCache, files_dir: Path, now: datetime
                      ) -> list[tuple[Path, str, list[Skipped]]]:
    """Write the export of one period for each of the coordinator's scopes; (path, caption,
    the values left out because no file can hold them)."""
    from bot.exports import writers

    period = await session.get(Period, period_id)
    campaign = await session.get(Campaign, period.campaign_id) if period else None
    if period is None or campaign is None:
        return []
    made = []
    for scope in await reporting.scopes_of(session, contact_id, role):
        if not (await reporting.counts(session, period, scope)).total:
            continue
        data = await reporting.export_data(session, period, campaign, scope, forms, now)
        folder = files_dir / uuid.uuid4().hex
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{campaign.key}-{_slug(scope.name)}-{FILE_NAMES[fmt]}"
        skipped = writers.write(fmt, data, path)
        made.append((path, f"{campaign.title_vi} — {scope.name}", skipped))
    return made


def _slug(text: str) -> str:
    from conversations.text_normalise import fold

    return "-".join("".join(ch if ch.isalnum() else " " for ch in fold(text)).split())[:40]


def document_payload(path: Path, caption: str, fmt: str) -> dict[str, Any]:
    kind = "photo" if fmt == "png" else "document"
    return {"kind": kind, "path": str(path), "filename": path.name, "caption": caption[:1000]}
