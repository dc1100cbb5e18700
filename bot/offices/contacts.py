"""The office's contacts: a file's preview and apply (as for units), one contact edited in
place, and a reporter who left replaced by a new person with a new invite code.

A person is known by their phone number. A coordinator's file may name only units below
theirs, give no one the admin role, and not touch a person who belongs to another office's
units. Contacts not listed in a file are shown, never removed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordinators.reporting import Scope
from bot.offices import history
from bot.offices import problems as p
from bot.offices.history import Actor
from bot.offices.problems import Problem
from bot.offices.units import MERGED, UnitRefused, inside
from bot.spreadsheets.tables import Row
from bot.storage.models import Contact, ContactUnit, ConversationState, Identity, Invite, Unit
from conversations.invite_codes import new_code
from conversations.phone_numbers import normalise_phone
from conversations.text_normalise import fold

ROLES = ("reporter", "coordinator", "admin")
ROLE_WORDS = {"reporter": ("báo cáo", "người báo cáo", "reporter"),
              "coordinator": ("tổng hợp", "cán bộ tổng hợp", "điều phối", "coordinator"),
              "admin": ("quản trị", "quản trị viên", "admin")}
LANGUAGE_WORDS = {"vi": ("vi", "tiếng việt", "việt", "vietnamese"),
                  "en": ("en", "tiếng anh", "anh", "english")}
_ROLES = {fold(w): key for key, ws in ROLE_WORDS.items() for w in ws}
_LANGUAGES = {fold(w): key for key, ws in LANGUAGE_WORDS.items() for w in ws}


def role_of(word: str) -> str:
    return _ROLES.get(fold(word), word) or "reporter"


@dataclass(frozen=True)
class ContactLine:
    line: int
    name: str
    phone: str
    unit_code: str
    role: str
    language: str


@dataclass(frozen=True)
class ContactChange:
    """new (a person), changed (name, role, language), linked (a known person to one more
    unit), unlisted (of a unit in scope, not in the file: kept)."""

    what: str
    phone: str
    unit: str
    before: dict[str, str] | None
    after: dict[str, str] | None


@dataclass
class ContactPreview:
    lines: list[ContactLine] = field(default_factory=list)
    changes: list[ContactChange] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unchanged: int = 0

    def of(self, what: str) -> list[ContactChange]:
        return [c for c in self.changes if c.what == what]

    @property
    def digest(self) -> str:
        data = [(c.what, c.phone, c.unit, c.before, c.after) for c in self.changes]
        return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False)
                              .encode()).hexdigest()[:32]


def _fields(contact: Contact) -> dict[str, str]:
    return {"name": contact.name, "role": contact.role, "language": contact.language}


async def preview_contacts(session: AsyncSession, rows: Sequence[Row],
                           scopes: Sequence[Scope] | None) -> ContactPreview:
    """What the rows would change, and every bad line; nothing is stored."""
    preview = ContactPreview()
    units = {u.code: u for u in (await session.scalars(select(Unit))).all()}
    by_phone = {c.phone: c for c in (await session.scalars(select(Contact))).all() if c.phone}
    paths: dict[int, list[str]] = {}
    for contact_id, path in (await session.execute(
            select(ContactUnit.contact_id, Unit.path).join(Unit, Unit.id == ContactUnit.unit_id)
    )).all():
        paths.setdefault(contact_id, []).append(path)
    for row in rows:
        before = len(preview.problems)

        def bad(message: str, line: int = row.line, **params: str) -> None:
            preview.problems.append(Problem(line, message, params))

        name, code = row.get("name"), row.get("unit_code")
        phone = normalise_phone(row.get("phone"))
        role = role_of(row.get("role"))
        language = _LANGUAGES.get(fold(row.get("language")), row.get("language")) or "vi"
        if not name:
            bad(p.EMPTY_NAME)
        if phone is None:
            bad(p.NOT_A_PHONE, phone=row.get("phone"))
        unit = units.get(code)
        if unit is None or (scopes is not None and not inside(scopes, unit.path)):
            bad(p.UNIT_NOT_LOADED if scopes is None else p.UNIT_OUTSIDE, code=code)
        elif unit.kind == MERGED:
            bad(p.MERGED_UNIT, code=code)
        if role not in ROLES:
            bad(p.BAD_ROLE, roles=f"{', '.join(ROLES)} ("
                f"{', '.join(words[0] for words in ROLE_WORDS.values())})")
        elif role == "admin" and scopes is not None:
            bad(p.ROLE_NOT_YOURS, role=row.get("role"))
        if language not in ("vi", "en"):
            bad(p.BAD_LANGUAGE)
        known = by_phone.get(phone or "")
        if known is not None and scopes is not None and \
                not all(inside(scopes, path) for path in paths.get(known.id, [])):
            bad(p.PHONE_OUTSIDE, phone=phone or "")
        if len(preview.problems) == before and phone and unit is not None:
            preview.lines.append(ContactLine(row.line, name, phone, code, role, language))
    if preview.problems:
        return preview
    seen: dict[str, dict[str, str]] = {}
    links = {(cid, path) for cid, ps in paths.items() for path in ps}
    for line in preview.lines:
        after = {"name": line.name, "role": line.role, "language": line.language}
        known = by_phone.get(line.phone)
        if known is None and line.phone not in seen:
            preview.changes.append(ContactChange("new", line.phone, line.unit_code, None,
                                                 after))
        elif known is None:
            if seen[line.phone] != after:
                preview.changes.append(ContactChange("changed", line.phone, line.unit_code,
                                                     seen[line.phone], after))
            preview.changes.append(ContactChange("linked", line.phone, line.unit_code, None,
                                                 after))
        else:
            shown = seen.get(line.phone, _fields(known))
            if shown != after:
                preview.changes.append(ContactChange("changed", line.phone, line.unit_code,
                                                     shown, after))
            if (known.id, units[line.unit_code].path) not in links:
                preview.changes.append(ContactChange("linked", line.phone, line.unit_code,
                                                     None, after))
            elif shown == after:
                preview.unchanged += 1
        seen[line.phone] = after
    listed = {line.phone for line in preview.lines}
    for contact in sorted(by_phone.values(), key=lambda c: c.name):
        mine = [path for path in paths.get(contact.id, []) if inside(scopes, path)]
        if contact.phone not in listed and contact.active and mine:
            code = mine[0].rstrip("/").rsplit("/", 1)[-1]
            preview.changes.append(ContactChange("unlisted", contact.phone or "", code,
                                                 _fields(contact), None))
    return preview


async def apply_contacts(session: AsyncSession, preview: ContactPreview, actor: Actor,
                         now: datetime) -> int:
    """Store a preview without problems, each change in the change history."""
    if preview.problems:
        raise ValueError("a preview with bad lines is not applied")
    units = {u.code: u for u in (await session.scalars(select(Unit))).all()}
    by_phone = {c.phone: c for c in (await session.scalars(select(Contact))).all() if c.phone}
    for line in preview.lines:
        contact = by_phone.get(line.phone)
        if contact is None:
            contact = Contact(name=line.name, phone=line.phone, role=line.role,
                              language=line.language, active=True, created_at=now)
            session.add(contact)
            await session.flush()
            by_phone[line.phone] = contact
        else:
            contact.name, contact.role, contact.language = line.name, line.role, line.language
            contact.active = True  # listed again by the office (after a replacement)
        unit = units[line.unit_code]
        if await session.get(ContactUnit, (contact.id, unit.id)) is None:
            session.add(ContactUnit(contact_id=contact.id, unit_id=unit.id))
            await session.flush()
    action = {"new": "contact.create", "changed": "contact.update", "linked": "contact.link"}
    for change in preview.changes:
        if change.what in action:
            await history.record(session, actor=actor, action=action[change.what],
                                 subject=f"{change.after['name']} ({change.phone})"
                                 if change.after else change.phone, at=now,
                                 before=change.before,
                                 after={**(change.after or {}), "unit": change.unit},
                                 scope_path=units[change.unit].path)
    return len(preview.lines)


# ----------------------------------------------------------------------------- one person

async def contact_in_scope(session: AsyncSession, contact_id: int,
                           scopes: Sequence[Scope] | None) -> tuple[Contact, list[Unit]] | None:
    """The contact and their units if every one of those is the office's; else None (404)."""
    contact = await session.get(Contact, contact_id)
    if contact is None:
        return None
    units = list((await session.scalars(select(Unit).join(
        ContactUnit, ContactUnit.unit_id == Unit.id).where(ContactUnit.contact_id == contact_id)
        .order_by(Unit.path))).all())
    if scopes is not None and (not units or not all(inside(scopes, u.path) for u in units)):
        return None
    return contact, units


async def edit_contact(session: AsyncSession, contact: Contact, units: Sequence[Unit], *,
                       name: str, phone: str, role_word: str, scopes: Sequence[Scope] | None,
                       actor: Actor, now: datetime) -> bool:
    """A person's name, phone and role; True if something changed."""
    name = " ".join(name.split())
    number = normalise_phone(phone)
    role = role_of(role_word)
    if not name:
        raise UnitRefused(p.EMPTY_NAME)
    if number is None:
        raise UnitRefused(p.NOT_A_PHONE, phone=phone)
    if role not in ROLES:
        raise UnitRefused(p.BAD_ROLE, roles=", ".join(ROLES))
    if role == "admin" and scopes is not None and contact.role != "admin":
        raise UnitRefused(p.ROLE_NOT_YOURS, role=role_word)
    other = await session.scalar(select(Contact.id).where(Contact.phone == number,
                                                          Contact.id != contact.id))
    if other is not None:
        raise UnitRefused(p.tr("phone {phone} is already another person's"), phone=number)
    before = {"name": contact.name, "phone": contact.phone, "role": contact.role}
    after = {"name": name, "phone": number, "role": role}
    if before == after:
        return False
    contact.name, contact.phone, contact.role = name, number, role
    await session.flush()
    await history.record(session, actor=actor, action="contact.update",
                         subject=f"{name} ({number})", at=now, before=before, after=after,
                         scope_path=units[0].path if units else "")
    return True


@dataclass(frozen=True)
class Replacement:
    code: str
    unit: Unit
    unbound: int


async def replace_contact(session: AsyncSession, old: Contact, units: Sequence[Unit], *,
                          name: str, phone: str, actor: Actor, now: datetime,
                          scopes: Sequence[Scope] | None = None) -> Replacement:
    """A reporter who left: their chats are unbound (they can no longer report, their
    conversation is forgotten), they leave their units and are marked inactive, and an invite
    code for the first unit, with the old one's role, is made for the new person. The new
    person becomes a contact when they sign in with it (the chat's sign-up, as for every
    code); their name and phone as the office gave them are kept in the change history."""
    name = " ".join(name.split())
    number = normalise_phone(phone) if phone.strip() else ""
    if not name:
        raise UnitRefused(p.EMPTY_NAME)
    if number is None:
        raise UnitRefused(p.NOT_A_PHONE, phone=phone)
    if not units:
        raise UnitRefused(p.tr("this person belongs to no unit"))
    if old.role == "admin" and scopes is not None:  # the new code would carry the role
        raise UnitRefused(p.ROLE_NOT_YOURS, role=old.role)
    identities = list((await session.scalars(select(Identity).where(
        Identity.contact_id == old.id))).all())
    if identities:
        await session.execute(delete(ConversationState).where(
            ConversationState.identity_id.in_([i.id for i in identities])))
    for identity in identities:
        identity.contact_id = None
    old.active = False
    await session.execute(delete(ContactUnit).where(ContactUnit.contact_id == old.id))
    while True:
        code = new_code()
        if await session.scalar(select(Invite.id).where(Invite.code == code)) is None:
            break
    session.add(Invite(code=code, unit_id=units[0].id, role=old.role, expires_at=None,
                       max_uses=1, uses=0, created_at=now))
    await session.flush()
    await history.record(session, actor=actor, action="contact.replace",
                         subject=f"{old.name} → {name}", at=now,
                         before={"name": old.name, "phone": old.phone,
                                 "chats": len(identities)},
                         after={"name": name, "phone": number,
                                "units": [u.code for u in units]},
                         scope_path=units[0].path)
    return Replacement(code, units[0], len(identities))
