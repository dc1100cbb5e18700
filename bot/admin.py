"""What the admin does from the command line: units, contacts, forms, campaigns, invites."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.offices import contacts as contacts_service
from bot.offices import units as units_service
from bot.offices.history import Actor
from bot.offices.problems import Problem
from bot.spreadsheets.tables import TableError, read_table
from bot.storage.models import (
    Campaign,
    CampaignForm,
    CampaignUnit,
    Contact,
    ContactUnit,
    FormVersion,
    Invite,
    OutboxMessage,
    Period,
    Task,
    Unit,
)
from conversations.campaigns import CampaignSpec
from conversations.forms import Form, parse_form
from conversations.invite_codes import new_code
from conversations.unit_kinds import known_kinds_text
from scheduler.reminder_policy import PolicyError, ReminderPolicy, parse_tasks

ROLES = ("reporter", "coordinator", "admin")
# Header keys (bot.spreadsheets.tables.header_key) → columns: the Vietnamese an office
# writes, and English.
UNIT_CODE = units_service.UNIT_CODE
UNIT_ALIASES = {"ma": "code", "ma_don_vi": "code", "ten": "name", "ten_don_vi": "name",
                "loai": "kind", "loai_don_vi": "kind", "parent": "parent_code",
                "ma_cap_tren": "parent_code", "ma_don_vi_cap_tren": "parent_code"}
UNIT_LABELS = {"code": "Mã", "name": "Tên", "kind": "Loại", "parent_code": "Mã đơn vị cấp trên"}
CONTACT_ALIASES = {"ho_ten": "name", "ho_va_ten": "name", "ten": "name", "sdt": "phone",
                   "so_dien_thoai": "phone", "dien_thoai": "phone", "ma_don_vi": "unit_code",
                   "unit": "unit_code", "vai_tro": "role", "ngon_ngu": "language"}
CONTACT_LABELS = {"name": "Họ tên", "phone": "Số điện thoại", "unit_code": "Mã đơn vị",
                  "role": "Vai trò", "language": "Ngôn ngữ"}
# Words for roles and languages as an office writes them (folded); the first is the template's.
ROLE_WORDS, LANGUAGE_WORDS = contacts_service.ROLE_WORDS, contacts_service.LANGUAGE_WORDS


class AdminError(ValueError):
    """A request the admin must correct; the message says what and how."""


# ----------------------------------------------------------------------------- units

@dataclass
class UnitImport:
    """What an import did, and which of its units no loaded campaign asks for a report."""

    count: int
    campaigns_loaded: bool
    untargeted: list[Unit] = field(default_factory=list)


async def campaign_kinds(session: AsyncSession) -> set[str]:
    """Unit kinds some loaded campaign asks for a report, or gives a task."""
    return await units_service.campaign_kinds(session)


def _refused(problems: list[Problem], unknown_kind: bool, extra_kinds: set[str]) -> TableError:
    errors = [problem.text() for problem in problems]
    if unknown_kind:
        errors.append(f"Known kinds (the word, or the kind in brackets): "
                      f"{known_kinds_text(extra_kinds)}")
    return TableError(errors)


async def import_units(session: AsyncSession, path: Path, now: datetime | None = None,
                       actor: Actor | None = None) -> UnitImport:
    """`baocao units import`: the console's preview and apply (bot/offices/units.py) on the
    whole tree, refused with every bad line."""
    rows = read_table(path, ("code", "name", "kind", "parent_code"), UNIT_ALIASES, UNIT_LABELS)
    preview = await units_service.preview_units(session, rows, None)
    if preview.problems:
        raise _refused(preview.problems, preview.unknown_kind, await campaign_kinds(session))
    applied = await units_service.apply_units(session, preview, actor or Actor(),
                                              now or datetime.now(UTC))
    targeted_kinds = set((await session.scalars(select(CampaignForm.unit_kind))).all())
    named = set((await session.scalars(select(CampaignUnit.unit_id))).all())
    loaded = await session.scalar(select(func.count()).select_from(Campaign)) or 0
    untargeted = [u for u in applied.touched
                  if u.kind not in targeted_kinds and u.id not in named]
    return UnitImport(applied.count, bool(loaded), untargeted)


async def rebuild_paths(session: AsyncSession) -> None:
    await units_service.rebuild_paths(session)


# ----------------------------------------------------------------------------- contacts

async def import_contacts(session: AsyncSession, path: Path, now: datetime,
                          actor: Actor | None = None) -> int:
    """`baocao contacts import`: the console's preview and apply (bot/offices/contacts.py)."""
    rows = read_table(path, ("name", "phone", "unit_code", "role"), CONTACT_ALIASES,
                      CONTACT_LABELS)
    preview = await contacts_service.preview_contacts(session, rows, None)
    if preview.problems:
        raise _refused(preview.problems, False, set())
    return await contacts_service.apply_contacts(session, preview, actor or Actor(), now)


# ----------------------------------------------------------------------------- forms, campaigns

async def load_form(session: AsyncSession, form: Form, raw: dict[str, Any],
                    now: datetime) -> tuple[FormVersion, bool]:
    """Store a form version; the same version loaded again must be identical."""
    row = await session.scalar(select(FormVersion).where(FormVersion.key == form.id,
                                                         FormVersion.version == form.version))
    if row is not None:
        # The same form from YAML or from a spreadsheet is the same form.
        if parse_form(row.definition, f"{row.key}@{row.version}") != form:
            raise AdminError(f"form {form.id} version {form.version} is already loaded with "
                             f"different content; raise its version number")
        return row, False
    row = FormVersion(key=form.id, version=form.version, title=form.title.vi, definition=raw,
                      loaded_at=now)
    session.add(row)
    await session.flush()
    return row, True


async def load_campaign(session: AsyncSession, spec: CampaignSpec, now: datetime) -> Campaign:
    """Create or update a campaign; each unit kind is bound to the newest loaded form version."""
    form_ids: dict[str, int] = {}
    for kind, form_key in spec.forms_by_kind.items():
        form_id = await session.scalar(select(FormVersion.id).where(FormVersion.key == form_key)
                                       .order_by(FormVersion.version.desc()).limit(1))
        if form_id is None:
            raise AdminError(f"campaign {spec.key}: form {form_key} is not loaded "
                             f"(run `baocao forms load` first)")
        form_ids[kind] = form_id
    unit_ids = []
    for code in spec.unit_codes:
        unit_id = await session.scalar(select(Unit.id).where(Unit.code == code))
        if unit_id is None:
            raise AdminError(f"campaign {spec.key}: unit {code} is not loaded")
        unit_ids.append(unit_id)
    campaign = await session.scalar(select(Campaign).where(Campaign.key == spec.key))
    if campaign is None:
        campaign = Campaign(key=spec.key, created_at=now)
        session.add(campaign)
    # Placeholders ({year}) filled in as for the first period; each period keeps its own title.
    campaign.title_vi, campaign.title_en = spec.periods[0].title.vi, spec.periods[0].title.en
    campaign.timezone = spec.timezone
    campaign.definition = _jsonable(spec.raw or {})
    await session.flush()
    await session.execute(delete(CampaignForm).where(CampaignForm.campaign_id == campaign.id))
    await session.execute(delete(CampaignUnit).where(CampaignUnit.campaign_id == campaign.id))
    for kind, form_id in form_ids.items():
        session.add(CampaignForm(campaign_id=campaign.id, unit_kind=kind, form_id=form_id))
    for unit_id in unit_ids:
        session.add(CampaignUnit(campaign_id=campaign.id, unit_id=unit_id))
    tz = ZoneInfo(spec.timezone)
    try:
        ReminderPolicy.parse((spec.raw or {}).get("reminders"))
        tasks = parse_tasks((spec.raw or {}).get("tasks"), tz)
    except (PolicyError, ValueError, TypeError) as exc:
        raise AdminError(f"campaign {spec.key}: {exc}") from exc
    known_tasks = {t.key: t for t in (await session.scalars(
        select(Task).where(Task.campaign_id == campaign.id))).all()}
    for task in tasks:
        row = known_tasks.pop(task.key, None) or Task(campaign_id=campaign.id, key=task.key)
        row.title_vi, row.title_en, row.due_at = task.title_vi, task.title_en, task.due_at
        row.owner_kinds, row.owner_units = list(task.owner_kinds), list(task.owner_units)
        session.add(row)
    for stale in known_tasks.values():
        await session.delete(stale)
    existing = {p.key: p for p in (await session.scalars(
        select(Period).where(Period.campaign_id == campaign.id))).all()}
    for p in spec.periods:
        period = existing.get(p.key) or Period(campaign_id=campaign.id, key=p.key)
        period.label_vi, period.label_en = p.label.vi, p.label.en
        period.title_vi, period.title_en = p.title.vi, p.title.en
        period.starts_on, period.ends_on = p.start, p.end
        period.starts_at, period.deadline, period.lock_at = p.starts_at, p.deadline, p.lock_at
        session.add(period)
    await session.flush()
    return campaign


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


# ----------------------------------------------------------------------------- invites

@dataclass(frozen=True)
class InviteInfo:
    code: str
    unit_code: str
    unit_name: str
    role: str
    expires_at: datetime | None
    max_uses: int
    uses: int


async def create_invite(session: AsyncSession, unit_code: str, role: str, uses: int,
                        days: float | None, now: datetime) -> InviteInfo:
    if role not in ROLES:
        raise AdminError(f"role must be one of {', '.join(ROLES)}")
    if uses < 1:
        raise AdminError("--uses must be at least 1")
    unit = await session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None:
        raise AdminError(f"unit {unit_code} is not loaded")
    expires = now + timedelta(days=days) if days else None
    while True:
        code = new_code()
        if await session.scalar(select(Invite.id).where(Invite.code == code)) is None:
            break
    session.add(Invite(code=code, unit_id=unit.id, role=role, expires_at=expires,
                       max_uses=uses, uses=0, created_at=now))
    await session.flush()
    return InviteInfo(code, unit.code, unit.name, role, expires, uses, 0)


async def list_invites(session: AsyncSession) -> list[InviteInfo]:
    rows = (await session.execute(select(Invite, Unit).join(Unit, Unit.id == Invite.unit_id)
                                  .order_by(Unit.path, Invite.id))).all()
    return [InviteInfo(i.code, u.code, u.name, i.role, i.expires_at, i.max_uses, i.uses)
            for i, u in rows]


def deep_link(username: str, code: str) -> str:
    return f"https://t.me/{username.lstrip('@')}?start={code}" if username else ""


# ----------------------------------------------------------------------------- listings

@dataclass(frozen=True)
class StatusCounts:
    units: int
    contacts: int
    open_periods: int
    undelivered: int
    failed: int


async def status_counts(sessions: async_sessionmaker[AsyncSession], now: datetime
                        ) -> StatusCounts:
    """For `baocao status`: open periods have started and their deadline has not passed;
    undelivered messages wait in the outbox (failed ones are counted apart)."""
    async with sessions() as session:
        def count(model: Any, *where: Any) -> Any:
            return session.scalar(select(func.count()).select_from(model).where(*where))

        return StatusCounts(
            units=await count(Unit) or 0,
            contacts=await count(Contact, Contact.active.is_(True)) or 0,
            open_periods=await count(Period, Period.starts_at <= now,
                                     Period.deadline > now) or 0,
            undelivered=await count(OutboxMessage, OutboxMessage.sent_at.is_(None),
                                    OutboxMessage.failed.is_(None)) or 0,
            failed=await count(OutboxMessage, OutboxMessage.sent_at.is_(None),
                               OutboxMessage.failed.is_not(None)) or 0)


async def list_units(session: AsyncSession) -> list[Unit]:
    return list((await session.scalars(select(Unit).order_by(Unit.path))).all())


async def list_contacts(session: AsyncSession) -> list[tuple[Contact, str]]:
    contacts = (await session.scalars(select(Contact).order_by(Contact.name))).all()
    codes: dict[int, list[str]] = {}
    for contact_id, code in (await session.execute(
            select(ContactUnit.contact_id, Unit.code).join(Unit, Unit.id == ContactUnit.unit_id)
            .order_by(Unit.code))).all():
        codes.setdefault(contact_id, []).append(code)
    return [(c, ", ".join(codes.get(c.id, []))) for c in contacts]


async def list_campaigns(session: AsyncSession) -> list[tuple[Campaign, list[Period]]]:
    campaigns = (await session.scalars(select(Campaign).order_by(Campaign.id))).all()
    result = []
    for campaign in campaigns:
        periods = (await session.scalars(select(Period).where(Period.campaign_id == campaign.id)
                                         .order_by(Period.starts_at))).all()
        result.append((campaign, list(periods)))
    return result


async def loaded_form(session: AsyncSession, key: str, version: int | None = None) -> Form:
    """A loaded form by its key, the newest version unless one is asked for."""
    query = select(FormVersion).where(FormVersion.key == key)
    if version is not None:
        query = query.where(FormVersion.version == version)
    row = await session.scalar(query.order_by(FormVersion.version.desc()).limit(1))
    if row is None:
        loaded = (await session.execute(select(FormVersion.key, FormVersion.version)
                                        .order_by(FormVersion.key, FormVersion.version))).all()
        listed = ", ".join(f"{k} (version {v})" for k, v in loaded) or "none is loaded"
        wanted = f"{key} version {version}" if version is not None else key
        raise AdminError(f"no form {wanted}; the forms are: {listed}")
    return parse_form(row.definition, f"{row.key}@{row.version}")
