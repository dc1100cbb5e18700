"""What the admin does from the command line: units, contacts, forms, campaigns, invites."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
from conversations.phone_numbers import normalise_phone
from conversations.text_normalise import fold
from conversations.unit_kinds import known_kinds_text, resolve_kind
from scheduler.reminder_policy import PolicyError, ReminderPolicy, parse_tasks

ROLES = ("reporter", "coordinator", "admin")
# Header keys (bot.spreadsheets.tables.header_key) → columns: the Vietnamese an office
# writes, and English.
# A code is part of the tree path "/HP/X-ANLAO/" matched with LIKE: a "/" would nest the unit
# under another's subtree, "%" or "_" would match others'. Letters, digits, "-" and "." only.
UNIT_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-]{0,63}")
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
ROLE_WORDS = {"reporter": ("báo cáo", "người báo cáo", "reporter"),
              "coordinator": ("tổng hợp", "cán bộ tổng hợp", "điều phối", "coordinator"),
              "admin": ("quản trị", "quản trị viên", "admin")}
LANGUAGE_WORDS = {"vi": ("vi", "tiếng việt", "việt", "vietnamese"),
                  "en": ("en", "tiếng anh", "anh", "english")}


def _word_map(words: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {fold(w): key for key, ws in words.items() for w in ws}


_ROLES = _word_map(ROLE_WORDS)
_LANGUAGES = _word_map(LANGUAGE_WORDS)


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
    kinds = set((await session.scalars(select(CampaignForm.unit_kind).distinct())).all())
    for owners in (await session.scalars(select(Task.owner_kinds))).all():
        kinds.update(owners or [])
    return kinds


async def import_units(session: AsyncSession, path: Path) -> UnitImport:
    rows = read_table(path, ("code", "name", "kind", "parent_code"), UNIT_ALIASES, UNIT_LABELS)
    extra_kinds = await campaign_kinds(session)
    errors: list[str] = []
    seen: dict[str, int] = {}
    kinds: dict[int, str] = {}
    unknown_kind = False
    for row in rows:
        code = row.get("code")
        if not code:
            errors.append(f"line {row.line}: the code is empty")
        elif not UNIT_CODE.fullmatch(code):
            errors.append(f"line {row.line}: code “{code}” may hold only letters, digits, "
                          f"“-” and “.” (A-Z without accents, no spaces, no “/”), at most "
                          f"64 characters")
        elif code in seen:
            errors.append(f"line {row.line}: code {code} already appears on line {seen[code]}")
        else:
            seen[code] = row.line
        if not row.get("name"):
            errors.append(f"line {row.line}: the name is empty")
        word = row.get("kind")
        kind = resolve_kind(word, extra_kinds) if word else None
        if not word:
            errors.append(f"line {row.line}: the kind is empty (e.g. xã, phường, trường)")
        elif kind is None:
            errors.append(f"line {row.line}: unknown kind “{word}”")
            unknown_kind = True
        else:
            kinds[row.line] = kind
    existing = {u.code: u for u in (await session.scalars(select(Unit))).all()}
    parents = {row.get("code"): row.get("parent_code") for row in rows}
    for row in rows:
        parent = row.get("parent_code")
        if parent and parent not in parents and parent not in existing:
            errors.append(f"line {row.line}: parent {parent} is neither in the file nor loaded")
        if parent and parent == row.get("code"):
            errors.append(f"line {row.line}: a unit cannot be its own parent")
    if not errors:
        for row in rows:  # cycles within the file
            chain, code = set(), row.get("code")
            while code and code in parents and code not in chain:
                chain.add(code)
                code = parents[code]
            if code and code in chain:
                errors.append(f"line {row.line}: the parent codes form a loop ({code})")
    if errors:
        if unknown_kind:
            errors.append(f"Known kinds (the word, or the kind in brackets): "
                          f"{known_kinds_text(extra_kinds)}")
        raise TableError(errors)
    imported: list[Unit] = []
    for row in rows:
        unit = existing.get(row.get("code"))
        if unit is None:
            unit = Unit(code=row.get("code"), path="")
            session.add(unit)
            existing[unit.code] = unit
        unit.name, unit.kind = row.get("name"), kinds[row.line]
        imported.append(unit)
    await session.flush()
    for row in rows:
        parent = row.get("parent_code")
        existing[row.get("code")].parent_id = existing[parent].id if parent else None
    await session.flush()
    await rebuild_paths(session)
    targeted_kinds = set((await session.scalars(select(CampaignForm.unit_kind))).all())
    named = set((await session.scalars(select(CampaignUnit.unit_id))).all())
    loaded = await session.scalar(select(func.count()).select_from(Campaign)) or 0
    untargeted = [u for u in imported if u.kind not in targeted_kinds and u.id not in named]
    return UnitImport(len(rows), bool(loaded), untargeted)


async def rebuild_paths(session: AsyncSession) -> None:
    units = {u.id: u for u in (await session.scalars(select(Unit))).all()}
    memo: dict[int, str] = {}

    def path_of(unit_id: int, depth: int = 0) -> str:
        if unit_id in memo:
            return memo[unit_id]
        unit = units[unit_id]
        if depth > len(units):
            raise AdminError(f"the unit tree has a loop at {unit.code}")
        prefix = path_of(unit.parent_id, depth + 1) if unit.parent_id else "/"
        memo[unit_id] = f"{prefix}{unit.code}/"
        return memo[unit_id]

    for unit in units.values():
        unit.path = path_of(unit.id)


# ----------------------------------------------------------------------------- contacts

async def import_contacts(session: AsyncSession, path: Path, now: datetime) -> int:
    rows = read_table(path, ("name", "phone", "unit_code", "role"), CONTACT_ALIASES,
                      CONTACT_LABELS)
    units = {u.code: u.id for u in (await session.scalars(select(Unit))).all()}
    errors: list[str] = []
    parsed: list[tuple[str, str, int, str, str]] = []
    for row in rows:
        phone = normalise_phone(row.get("phone"))
        role = _ROLES.get(fold(row.get("role")), row.get("role")) or "reporter"
        language = _LANGUAGES.get(fold(row.get("language")), row.get("language")) or "vi"
        if not row.get("name"):
            errors.append(f"line {row.line}: the name is empty")
        if phone is None:
            errors.append(f"line {row.line}: “{row.get('phone')}” is not a phone number")
        if row.get("unit_code") not in units:
            errors.append(f"line {row.line}: unit {row.get('unit_code')} is not loaded "
                          f"(run `baocao units import` first)")
        if role not in ROLES:
            errors.append(f"line {row.line}: role must be one of {', '.join(ROLES)} "
                          f"({', '.join(words[0] for words in ROLE_WORDS.values())})")
        if language not in ("vi", "en"):
            errors.append(f"line {row.line}: language must be vi or en")
        if phone and row.get("unit_code") in units and role in ROLES:
            parsed.append((row.get("name"), phone, units[row.get("unit_code")], role, language))
    if errors:
        raise TableError(errors)
    by_phone = {c.phone: c for c in (await session.scalars(select(Contact))).all() if c.phone}
    for name, phone, unit_id, role, language in parsed:
        contact = by_phone.get(phone)
        if contact is None:
            contact = Contact(name=name, phone=phone, role=role, language=language, active=True,
                              created_at=now)
            session.add(contact)
            await session.flush()
            by_phone[phone] = contact
        else:
            contact.name, contact.role, contact.language = name, role, language
        if await session.get(ContactUnit, (contact.id, unit_id)) is None:
            session.add(ContactUnit(contact_id=contact.id, unit_id=unit_id))
            await session.flush()
    return len(parsed)


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
