"""Invite codes as an office hands them out: one per unit for its letter, reused while it is
still good (a letter printed twice never cuts off the people who already have the first one),
a new one only when someone asks for it (the old ones then stop working); and who of each unit
has signed in. The CLI and the web console both call these; every change is recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import admin
from bot.coordinators.reporting import Scope
from bot.exports.letterhead import (
    Letterhead,
    ReportSettings,
    default_letterhead,
    letterhead_for,
)
from bot.offices.history import Actor, record
from bot.offices.letters import LetterPage, Letters
from bot.storage.models import (
    Campaign,
    CampaignForm,
    CampaignUnit,
    Contact,
    ContactUnit,
    Identity,
    Invite,
    Period,
    Unit,
)

# A letter's code: for the unit's few reporters, for a campaign's season.
LETTER_USES = 5
LETTER_DAYS = 90
# A code that runs out sooner than this is not put on a new letter: it would die in the post.
STILL_GOOD = timedelta(days=14)


class InviteError(admin.AdminError):
    """What the office asked for cannot be done; the message says why."""


@dataclass(frozen=True)
class UnitCode:
    """A unit with the code its letter carries."""

    unit: Unit
    code: str
    expires_at: datetime | None
    max_uses: int
    uses: int
    new: bool = False


@dataclass
class SignIns:
    """One unit's people: who is bound to a chat (and on which), who is not yet."""

    unit: Unit
    signed_in: list[tuple[Contact, list[str]]] = field(default_factory=list)
    waiting: list[Contact] = field(default_factory=list)
    code: Invite | None = None

    @property
    def reporting(self) -> bool:
        """Someone signed in who reports (a coordinator of the unit does not count)."""
        return any(c.role == "reporter" for c, _channels in self.signed_in)


def _good(now: datetime, margin: timedelta = timedelta(0)) -> object:
    """The condition of an invite still usable (until `now + margin` at least)."""
    return and_(Invite.uses < Invite.max_uses,
                or_(Invite.expires_at.is_(None), Invite.expires_at > now + margin))


async def create(session: AsyncSession, unit_code: str, role: str, uses: int,
                 days: float | None, now: datetime, actor: Actor | None = None
                 ) -> admin.InviteInfo:
    """A new code for a unit (`baocao invite create`), recorded in the history."""
    info = await admin.create_invite(session, unit_code, role, uses, days, now)
    unit = await session.scalar(select(Unit).where(Unit.code == unit_code))
    assert unit is not None
    await record(session, actor=actor or Actor(), action="invite.create", subject=unit.code,
                 at=now, after={"code": info.code, "role": role, "uses": uses,
                                "expires_at": info.expires_at}, scope_path=unit.path)
    return info


async def current_code(session: AsyncSession, unit: Unit, now: datetime,
                       margin: timedelta = timedelta(0)) -> Invite | None:
    """The unit's newest reporter code still good (for `margin` more), if any."""
    return await session.scalar(
        select(Invite).where(Invite.unit_id == unit.id, Invite.role == "reporter",
                             _good(now, margin))
        .order_by(Invite.created_at.desc(), Invite.id.desc()).limit(1))


async def code_for_letter(session: AsyncSession, unit: Unit, now: datetime,
                          actor: Actor | None = None) -> UnitCode:
    """The code to print on a unit's letter: its current one while it has two weeks left,
    otherwise a new one (the old one keeps working until it runs out)."""
    invite = await current_code(session, unit, now, STILL_GOOD)
    if invite is not None:
        return UnitCode(unit, invite.code, invite.expires_at, invite.max_uses, invite.uses)
    info = await create(session, unit.code, "reporter", LETTER_USES, LETTER_DAYS, now, actor)
    return UnitCode(unit, info.code, info.expires_at, info.max_uses, 0, new=True)


async def new_code(session: AsyncSession, unit: Unit, now: datetime,
                   actor: Actor | None = None) -> admin.InviteInfo:
    """"New code": every reporter code of the unit still good stops working now (a lost
    letter, a code passed outside the unit), and the unit gets a fresh one."""
    old = (await session.scalars(select(Invite).where(
        Invite.unit_id == unit.id, Invite.role == "reporter", _good(now)))).all()
    for invite in old:
        before = {"code": invite.code, "expires_at": invite.expires_at, "uses": invite.uses}
        invite.expires_at = now
        await record(session, actor=actor or Actor(), action="invite.revoke",
                     subject=unit.code, at=now, before=before,
                     after={**before, "expires_at": now}, scope_path=unit.path)
    await session.flush()
    return await create(session, unit.code, "reporter", LETTER_USES, LETTER_DAYS, now, actor)


async def campaign_by_key(session: AsyncSession, key: str) -> Campaign:
    campaign = await session.scalar(select(Campaign).where(Campaign.key == key))
    if campaign is None and key.isdigit():
        campaign = await session.get(Campaign, int(key))
    if campaign is None:
        raise InviteError(f"no campaign {key}")
    return campaign


async def reporting_units(session: AsyncSession, campaign: Campaign,
                          scope: Scope | None = None) -> list[Unit]:
    """The units that report in a campaign (by kind, and by name when it names them),
    within a scope when one is given, in the tree's order."""
    kinds = set((await session.scalars(select(CampaignForm.unit_kind).where(
        CampaignForm.campaign_id == campaign.id))).all())
    named = set((await session.scalars(select(CampaignUnit.unit_id).where(
        CampaignUnit.campaign_id == campaign.id))).all())
    query = select(Unit).where(Unit.kind.in_(kinds)).order_by(Unit.path)
    if scope is not None:
        query = query.where(scope.condition())
    return [u for u in (await session.scalars(query)).all() if not named or u.id in named]


async def subtree(session: AsyncSession, unit: Unit) -> list[Unit]:
    """A unit and every unit below it, in the tree's order."""
    return list((await session.scalars(
        select(Unit).where(Scope(unit.path, unit.name, include_self=True).condition())
        .order_by(Unit.path))).all())


async def sign_ins(session: AsyncSession, units: list[Unit], now: datetime) -> list[SignIns]:
    """Per unit, its active contacts: signed in (bound to a chat, with the channels) or not
    yet; and the code it has now."""
    result = {u.id: SignIns(u) for u in units}
    if not result:
        return []
    rows = (await session.execute(
        select(ContactUnit.unit_id, Contact).join(Contact, Contact.id == ContactUnit.contact_id)
        .where(ContactUnit.unit_id.in_(result), Contact.active.is_(True))
        .order_by(Contact.name, Contact.id))).all()
    contact_ids = {c.id for _u, c in rows}
    channels: dict[int, list[str]] = {}
    for contact_id, channel in (await session.execute(
            select(Identity.contact_id, Identity.channel)
            .where(Identity.contact_id.in_(contact_ids)).order_by(Identity.channel))).all():
        if channel not in channels.setdefault(contact_id, []):
            channels[contact_id].append(channel)
    for unit_id, contact in rows:
        entry = result[unit_id]
        if contact.id in channels:
            entry.signed_in.append((contact, channels[contact.id]))
        else:
            entry.waiting.append(contact)
    for invite in (await session.scalars(
            select(Invite).where(Invite.unit_id.in_(result), Invite.role == "reporter",
                                 _good(now))
            .order_by(Invite.created_at, Invite.id))).all():
        result[invite.unit_id].code = invite  # the newest last, as `current_code` picks
    return [result[u.id] for u in units]


# ----------------------------------------------------------------------------- letters

async def default_campaign(session: AsyncSession, now: datetime) -> Campaign:
    """The campaign letters are for when none is named: the one whose next deadline comes
    first, else the newest."""
    upcoming = await session.scalar(
        select(Campaign).join(Period, Period.campaign_id == Campaign.id)
        .where(Period.deadline > now).order_by(Period.deadline, Campaign.id).limit(1))
    newest = upcoming or await session.scalar(
        select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc()).limit(1))
    if newest is None:
        raise InviteError("no campaign is loaded")
    return newest


async def _deadline(session: AsyncSession, campaign: Campaign, now: datetime) -> str:
    period = await session.scalar(
        select(Period).where(Period.campaign_id == campaign.id, Period.deadline > now)
        .order_by(Period.deadline).limit(1)) or await session.scalar(
        select(Period).where(Period.campaign_id == campaign.id)
        .order_by(Period.deadline.desc()).limit(1))
    if period is None:
        return ""
    local = period.deadline.astimezone(ZoneInfo(campaign.timezone))
    if (local.hour, local.minute) == (0, 0):
        return f"trước ngày {local:%d/%m/%Y}"
    return f"trước {local:%H:%M} ngày {local:%d/%m/%Y}"


async def office_letterhead(session: AsyncSession, office: Unit | None, campaign: Campaign,
                            settings: ReportSettings | None) -> Letterhead:
    """Who sends the letters: the office's unit, with the campaign's and the office's report
    settings over it, as on the consolidated report."""
    parent = await session.get(Unit, office.parent_id) if office and office.parent_id else None
    unit = default_letterhead(office.name if office else "", office.kind if office else "",
                              parent.name if parent else "", parent.kind if parent else "")
    definition = campaign.definition or {}
    report = definition.get("report") if isinstance(definition.get("report"), dict) else {}
    return letterhead_for(unit, report, settings)


async def make_letters(session: AsyncSession, units: list[Unit], campaign: Campaign,
                       office: Unit | None, bot_username: str,
                       settings: ReportSettings | None, now: datetime,
                       actor: Actor | None = None) -> tuple[Letters, list[UnitCode]]:
    """A letter for each unit, with its code (a new one only where it has none good)."""
    if not units:
        raise InviteError(f"no unit here reports in {campaign.key}")
    codes = [await code_for_letter(session, unit, now, actor) for unit in units]
    username = bot_username.lstrip("@")
    pages = [LetterPage(c.unit.name, c.unit.code, c.code, admin.deep_link(username, c.code),
                        f"@{username}" if username else "", c.expires_at, c.max_uses)
             for c in codes]
    letters = Letters(await office_letterhead(session, office, campaign, settings),
                      campaign.title_vi, await _deadline(session, campaign, now),
                      campaign.timezone, now, pages, office.name if office else "")
    return letters, codes
