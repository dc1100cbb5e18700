"""The shell side of coordinator commands: load what a command needs (always within the
coordinator's scope), send reports back, and make export files."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordinators import reporting
from bot.delivery import outbox
from bot.exports.letterhead import ReportSettings
from bot.exports.model import Skipped
from bot.storage.context_loader import (
    FormCache,
    PreviousWanted,
    answer_dict,
    previous_reports,
)
from bot.storage.models import (
    Answer,
    Campaign,
    CampaignForm,
    CampaignUnit,
    Contact,
    ContactUnit,
    Identity,
    Period,
    ReportEvent,
    Submission,
    Unit,
)
from conversations import row_comments
from conversations.campaigns import DEFAULT_CORRECTION_DAYS
from conversations.checks import outliers
from conversations.context import (
    Assignment,
    BlockSummary,
    ContactView,
    CoordinatorData,
    FlaggedView,
    MissingUnitView,
    OnBehalf,
    OutlierView,
    PeriodChecks,
    PeriodSummary,
    ReportEventView,
    RevisionView,
    UnitReportView,
    UnitView,
)
from conversations.events import AcceptReport, Button, OutboundMessage, ReturnReport, Submit
from conversations.forms import Form, Text
from conversations.i18n import Catalog, Tr
from conversations.reporting_lines import COUNTED_STATUSES

NEEDS_DATA = frozenset({"summary", "missing", "view", "return", "accept", "export", "chart",
                        "check"})
ACTS_ON_A_UNIT = frozenset({"view", "return", "accept"})


async def coordinator_data(session: AsyncSession, contact: ContactView, command: str, arg: str,
                           now: datetime, late_window: timedelta, forms: FormCache
                           ) -> tuple[CoordinatorData, dict[str, Form]]:
    scopes = await reporting.scopes_of(session, contact.id, contact.role)
    periods = await reporting.current_periods(session, now, late_window)
    used: dict[str, Form] = {}
    summaries: list[PeriodSummary] = []
    checks: list[PeriodChecks] = []
    if command == "check":
        for period, _campaign in periods:
            for scope in scopes:
                lines = await reporting.lines_of(session, period, scope, forms)
                if lines.counts.total:
                    checks.append(await _checks(session, lines))
        return CoordinatorData(checks=tuple(checks)), used
    if command not in ACTS_ON_A_UNIT:
        for period, campaign in periods:
            for scope in scopes:
                lines = await reporting.lines_of(session, period, scope, forms)
                if not lines.counts.total:
                    continue
                summaries.append(await _summary(session, lines, campaign,
                                                with_missing=command == "missing"))
    units: list[UnitReportView] = []
    code = arg.strip().split(" ")[0] if arg.strip() else ""
    if command in ACTS_ON_A_UNIT and code:
        unit = await session.scalar(select(Unit).where(Unit.code == code))
        inside = unit is not None and any(s.contains(unit.path) for s in scopes)
        own = unit is not None and not inside and any(s.path == unit.path for s in scopes)
        if inside or own:
            assert unit is not None
            for period, campaign in periods:
                report = await reporting.unit_report(session, period, unit.code, forms)
                if report is None or report.form is None or not await _is_target(
                        session, period, unit):
                    continue
                label = FormCache.label(report.form)
                used[label] = report.form
                units.append(_unit_view(report, period, campaign, label, own))
    chart_unit = ""
    if command == "chart" and code:
        unit = await session.scalar(select(Unit).where(Unit.code == code))
        if unit is not None and any(s.contains(unit.path) or s.path == unit.path
                                    for s in scopes):
            chart_unit = unit.name
    return CoordinatorData(tuple(summaries), code, tuple(units), chart_unit), used


async def _is_target(session: AsyncSession, period: Period, unit: Unit) -> bool:
    return await session.scalar(select(CampaignForm.form_id).where(
        CampaignForm.campaign_id == period.campaign_id,
        CampaignForm.unit_kind == unit.kind)) is not None


async def _summary(session: AsyncSession, lines: reporting.Lines, campaign: Campaign,
                   with_missing: bool = False) -> PeriodSummary:
    """Each block of the reporting line with its counts and the main figures of its form."""
    main = {q.id for block in lines.blocks for q in block.form.questions
            if q.main and q.numeric}
    await reporting.sum_blocks(session, lines, sorted(main))
    blocks = []
    for block in lines.blocks:
        figures = [(q.id, q.label, q.unit, block.totals.get(q.id, 0))
                   for q in block.form.questions if q.main and q.numeric]
        missing: tuple[MissingUnitView, ...] = ()
        if with_missing:
            missing = tuple(MissingUnitView(r.code, r.name, r.status, r.reporters,
                                            r.last_reminded)
                            for r in await reporting.missing_units(session, lines, block))
        blocks.append(BlockSummary(block.title, block.direct, block.counts, tuple(figures),
                                   block.covered_by, missing))
    period = lines.period
    return PeriodSummary(
        period.id, Text(period.title_vi, period.title_en),
        Text(period.label_vi, period.label_en), period.deadline, campaign.timezone,
        lines.scope.name, tuple(blocks))


async def _checks(session: AsyncSession, lines: reporting.Lines) -> PeriodChecks:
    """Outliers among sibling units (same form, same place on the reporting line, same
    parent), by modified z-score, and the figures units kept with a flag; submitted reports
    only, inside the scope."""
    counted = {u.id for u in lines.units
               if u.id in lines.block_of and lines.state(u.id)[0] in COUNTED_STATUSES}
    by_id = {u.id: u for u in lines.units}
    parent_path = {u.id: u.path.rstrip("/").rsplit("/", 1)[0] + "/" for u in lines.units}
    names = {u.path: u.name for u in lines.units}
    numbers: dict[tuple[int, str], list[tuple[int, Decimal]]] = defaultdict(list)
    flagged: list[FlaggedView] = []
    rows = (await session.execute(
        select(Submission.unit_id, Answer.question_id, Answer.num_value, Answer.flag,
               Answer.value)
        .join(Submission, Submission.id == Answer.submission_id)
        .join(Unit, Unit.id == Submission.unit_id)
        .where(Submission.period_id == lines.period.id, lines.scope.condition(),
               Submission.status.in_(COUNTED_STATUSES),
               or_(Answer.num_value.is_not(None), Answer.flag != "")))).all() \
        if counted else []
    for unit_id, qid, number, flag, value in rows:
        block = lines.block_of.get(unit_id)
        if block is None or unit_id not in counted:
            continue
        q = block.form.question(qid)
        if q is None:
            continue
        unit = by_id[unit_id]
        if number is not None and q.numeric:
            numbers[(id(block), parent_path[unit_id] + "|" + qid)].append(
                (unit_id, Decimal(str(number))))
        if flag:
            flagged.append(FlaggedView(unit.code, unit.name, qid, q.label, q.unit,
                                       number if number is not None and q.numeric else value,
                                       flag))
    blocks = {id(b): b for b in lines.blocks}
    found: list[OutlierView] = []
    for (block_id, key), values in numbers.items():
        parent, qid = key.split("|", 1)
        q = blocks[block_id].form.question(qid)
        assert q is not None
        group = names.get(parent) or lines.scope.name
        for o in outliers(values):
            unit = by_id[o.key]
            found.append(OutlierView(unit.code, unit.name, group, qid, q.label, q.unit,
                                     _plain(o.value), _plain(o.median), o.score,
                                     o.group_size))
    order = {u.id: i for i, u in enumerate(lines.units)}
    codes = {u.code: u.id for u in lines.units}

    def position(qid: str, code: str) -> tuple[int, int]:
        form = lines.block_of[codes[code]].form
        return order[codes[code]], form.position(qid) if form.question(qid) else 0

    found.sort(key=lambda o: (-abs(o.score), o.unit_code))
    flagged.sort(key=lambda f: position(f.question_id, f.unit_code))
    period = lines.period
    return PeriodChecks(Text(period.title_vi, period.title_en),
                        Text(period.label_vi, period.label_en), lines.scope.name, len(counted),
                        tuple(found), tuple(flagged))


def _plain(value: Decimal) -> Decimal:
    return value.quantize(Decimal(1)) if value == value.to_integral_value() \
        else value.normalize()


def _unit_view(report: reporting.UnitReport, period: Period, campaign: Campaign,
               form_key: str, own: bool) -> UnitReportView:
    s = report.submission
    name = report.people.get
    return UnitReportView(
        period.id, Text(period.title_vi, period.title_en), campaign.timezone,
        report.unit.code, report.unit.name, s.status if s else "none", form_key,
        s.submitted_at if s else None, s.on_time if s else None,
        name(s.submitted_by, "") if s and s.submitted_by else "",
        report.answers,
        tuple(RevisionView(r.revision, r.question_id, r.old_value, r.new_value,
                           name(r.changed_by, "") if r.changed_by else "",
                           r.changed_at) for r in report.revisions if r.revision > 1),
        tuple(ReportEventView(e.kind, e.revision, name(e.by, "") if e.by else "", e.at,
                              e.comment) for e in report.events),
        period.lock_at, correction_days(campaign), s.correct_by if s else None, own,
        s.first_submitted_at if s else None,
        (s.return_rows or {}) if s and s.status == "returned" else {})


def correction_days(campaign: Campaign) -> int:
    days = (campaign.definition or {}).get("correction_days", DEFAULT_CORRECTION_DAYS)
    return days if isinstance(days, int) and not isinstance(days, bool) and days >= 0 \
        else DEFAULT_CORRECTION_DAYS


async def _report_row(session: AsyncSession, period_id: int, unit_code: str
                      ) -> tuple[Submission, Unit, Period]:
    row = (await session.execute(
        select(Submission, Unit, Period)
        .join(Unit, Unit.id == Submission.unit_id)
        .join(Period, Period.id == Submission.period_id)
        .where(Submission.period_id == period_id, Unit.code == unit_code))).first()
    if row is None:
        raise reporting.ReportingError("no such report")
    return row[0], row[1], row[2]


async def _tell_reporters(session: AsyncSession, unit: Unit, catalog: Catalog, now: datetime,
                          text_of: Callable[[Tr], str],
                          button_of: Callable[[Tr], str] | None = None) -> None:
    reporters = (await session.scalars(
        select(Contact).join(ContactUnit, ContactUnit.contact_id == Contact.id)
        .where(ContactUnit.unit_id == unit.id, Contact.role == "reporter",
               Contact.active.is_(True)))).all()
    for contact in reporters:
        # Addressed as in their own chat: a school's reporter is "thầy/cô".
        tr = catalog.tr(contact.language, (unit.kind,))
        buttons = (Button("report", button_of(tr)),) if button_of else ()
        message = OutboundMessage(text_of(tr), buttons)
        for identity in (await session.scalars(select(Identity).where(
                Identity.contact_id == contact.id, Identity.unreachable_at.is_(None)))).all():
            outbox.enqueue(session, identity.channel, identity.chat_id, [message], now,
                           contact.language)


async def return_report(session: AsyncSession, effect: ReturnReport, by: int | None,
                        catalog: Catalog, now: datetime) -> None:
    """Mark the report returned (reopened until its correction deadline), record who and why,
    and tell its reporters at once, with the reason and the deadline."""
    submission, unit, period = await _report_row(session, effect.period_id, effect.unit_code)
    if submission.status not in ("submitted", "accepted", "returned"):
        raise reporting.ReportingError("only a submitted report can be returned")
    rows: dict[str, Any] | None = None
    if effect.rows:  # each comment with the row's answer now, to tell when it is answered
        answers = {a.question_id: answer_dict(a.value, a.note) for a in (await session.scalars(
            select(Answer).where(Answer.submission_id == submission.id,
                                 Answer.question_id.in_(list(effect.rows))))).all()}
        rows = row_comments.with_values(effect.rows, answers)
    submission.status, submission.return_comment = "returned", effect.comment
    submission.return_rows = rows
    submission.correct_by = effect.correct_by
    submission.accepted_at = submission.accepted_by = None
    submission.updated_at = now
    session.add(ReportEvent(submission_id=submission.id, kind="returned",
                            revision=submission.revision, by=by, at=now,
                            comment=effect.comment, rows=rows))
    campaign = await session.get(Campaign, period.campaign_id)
    assert campaign is not None

    def text(tr: Tr) -> str:
        title = period.title_vi if tr.language == "vi" else period.title_en
        line = tr("The report {campaign} of {unit} was returned for correction: “{comment}”. "
                  "Please correct it and submit it again with /baocao.",
                  campaign=title, unit=unit.name, comment=effect.comment)
        if effect.correct_by is not None:
            line += " " + tr("It can be submitted again until {time}.",
                             time=tr.datetime(effect.correct_by, campaign.timezone))
        return line

    await _tell_reporters(session, unit, catalog, now, text,
                          lambda tr: tr("Correct the report"))


async def accept_report(session: AsyncSession, effect: AcceptReport, by: int | None,
                        catalog: Catalog, now: datetime) -> None:
    """Mark a submitted report accepted, record who accepted it, and tell its reporters."""
    submission, unit, period = await _report_row(session, effect.period_id, effect.unit_code)
    if submission.status != "submitted":
        raise reporting.ReportingError("only a submitted report can be accepted")
    submission.status, submission.accepted_at, submission.accepted_by = "accepted", now, by
    submission.updated_at = now
    session.add(ReportEvent(submission_id=submission.id, kind="accepted",
                            revision=submission.revision, by=by, at=now, comment=""))

    def text(tr: Tr) -> str:
        title = period.title_vi if tr.language == "vi" else period.title_en
        return tr("The report {campaign} of {unit} has been accepted. Thank you!",
                  campaign=title, unit=unit.name)

    await _tell_reporters(session, unit, catalog, now, text)


FILE_NAMES = {"xlsx": "bao-cao.xlsx", "csv": "bao-cao.csv", "docx": "bao-cao-tong-hop.docx",
              "png": "tien-do.png"}


async def make_export(session: AsyncSession, contact_id: int, role: str, period_id: int,
                      fmt: str, forms: FormCache, files_dir: Path, now: datetime,
                      report_settings: ReportSettings | None = None, unit_code: str = ""
                      ) -> list[tuple[Path, str, list[Skipped]]]:
    """Write the export of one period for each of the coordinator's scopes (or for one unit
    inside them, `/bieudo CODE`); (path, caption, the values left out because no file can
    hold them)."""
    from bot.exports import writers

    period = await session.get(Period, period_id)
    campaign = await session.get(Campaign, period.campaign_id) if period else None
    if period is None or campaign is None:
        return []
    made = []
    scopes = await reporting.scopes_of(session, contact_id, role)
    if unit_code:
        unit = await session.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None or not any(s.contains(unit.path) or s.path == unit.path
                                   for s in scopes):
            return []  # never another unit's data (the engine has refused it already)
        scopes = [reporting.Scope(unit.path, unit.name, include_self=True)]
    for scope in scopes:
        data = await reporting.export_data(session, period, campaign, scope, forms, now,
                                           report_settings)
        if not data.units:
            continue
        folder = files_dir / uuid.uuid4().hex
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{campaign.key}-{period.key}-{_slug(scope.name)}-{FILE_NAMES[fmt]}"
        skipped = writers.write(fmt, data, path)
        made.append((path, f"{period.title_vi} — {scope.name}", skipped))
    return made


def _slug(text: str) -> str:
    from conversations.text_normalise import fold

    return "-".join("".join(ch if ch.isalnum() else " " for ch in fold(text)).split())[:40]


def document_payload(path: Path, caption: str, fmt: str) -> dict[str, Any]:
    kind = "photo" if fmt == "png" else "document"
    return {"kind": kind, "path": str(path), "filename": path.name, "caption": caption[:1000]}


# ----------------------------------------------------------------------------- on behalf

async def on_behalf_reports(session: AsyncSession, contact: ContactView, codes: list[str],
                            meta: Mapping[str, str], now: datetime, late_window: timedelta,
                            forms: FormCache) -> tuple[OnBehalf, dict[str, Form]]:
    """The reports a coordinator's table of units may enter: units it names that are in the
    coordinator's scope (never another area's), in the period the file says (hidden in the
    export), or the one current period those units report in."""
    scopes = await reporting.scopes_of(session, contact.id, contact.role)
    units: list[Unit] = []
    for i in range(0, len(codes), 500):
        units += (await session.scalars(select(Unit).where(Unit.code.in_(codes[i:i + 500])))
                  ).all()
    units = [u for u in units if any(s.contains(u.path) for s in scopes)]
    periods = await reporting.current_periods(session, now, late_window)
    wanted = meta.get("period_id", "")
    if wanted:
        periods = [(p, c) for p, c in periods if str(p.id) == wanted]
    targeted: list[tuple[Period, Campaign, dict[str, int], list[Unit]]] = []
    for period, campaign in periods:
        kinds = dict((await session.execute(
            select(CampaignForm.unit_kind, CampaignForm.form_id)
            .where(CampaignForm.campaign_id == campaign.id))).all())
        explicit = set((await session.scalars(select(CampaignUnit.unit_id).where(
            CampaignUnit.campaign_id == campaign.id))).all())
        asked = [u for u in units if u.kind in kinds and (not explicit or u.id in explicit)]
        if asked:
            targeted.append((period, campaign, kinds, asked))
    if not targeted:
        return OnBehalf(problem="no_period"), {}
    if len(targeted) > 1:
        return OnBehalf(problem="several_periods"), {}
    period, campaign, kinds, asked = targeted[0]
    submissions = {s.unit_id: s for s in (await session.scalars(select(Submission).where(
        Submission.period_id == period.id,
        Submission.unit_id.in_([u.id for u in asked])))).all()}
    answers: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    if submissions:
        for a in (await session.scalars(select(Answer).where(Answer.submission_id.in_(
                [s.id for s in submissions.values()])))).all():
            answers[a.submission_id][a.question_id] = answer_dict(a.value, a.note, a.flag)
    used: dict[str, Form] = {}
    unit_forms = {}
    for unit in asked:
        s = submissions.get(unit.id)
        unit_forms[unit.id] = await forms.get(session, s.form_id if s else kinds[unit.kind])
    previous = await previous_reports(session, [
        PreviousWanted(u.id, period.id, period.starts_at, unit_forms[u.id].id) for u in asked
        if unit_forms[u.id].previous_check.on])
    reports = []
    for unit in asked:
        s = submissions.get(unit.id)
        form = unit_forms[unit.id]
        label = FormCache.label(form)
        used[label] = form
        earlier_label, earlier = previous.get((unit.id, period.id), (Text("", ""), {}))
        reports.append(Assignment(
            period_id=period.id, period_label=Text(period.label_vi, period.label_en),
            campaign_key=campaign.key, campaign_title=Text(period.title_vi, period.title_en),
            timezone=campaign.timezone, starts_at=period.starts_at, deadline=period.deadline,
            lock_at=period.lock_at, unit=UnitView(unit.code, unit.name, unit.kind),
            form_key=label, status=s.status if s else "none",
            answers=answers.get(s.id, {}) if s else {},
            submitted_at=s.submitted_at if s else None, on_time=s.on_time if s else None,
            revision=s.revision if s else 0, return_comment=s.return_comment if s else "",
            correct_by=s.correct_by if s else None, previous=earlier,
            previous_label=earlier_label))
    return OnBehalf(tuple(reports), Text(period.label_vi, period.label_en)), used


async def tell_entered(session: AsyncSession, effect: Submit, by: int | None,
                       catalog: Catalog, now: datetime) -> None:
    """A coordinator submitted a unit's paper report on its behalf: its reporters are told
    who entered it, so nothing changes behind their back."""
    submission, unit, period = await _report_row(session, effect.period_id, effect.unit_code)
    coordinator = await session.get(Contact, by) if by else None
    name = coordinator.name if coordinator is not None else ""

    def text(tr: Tr) -> str:
        title = period.title_vi if tr.language == "vi" else period.title_en
        return tr("The report {campaign} of {unit} was entered and submitted by {name} from "
                  "the paper report. You can read it with /baocao.", campaign=title,
                  unit=unit.name, name=name or "—")

    await _tell_reporters(session, unit, catalog, now, text)
