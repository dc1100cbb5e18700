"""The office's units: a file's preview (new, changed, moved, no longer listed, bad lines),
its apply, one unit edited in place, and two communes merged. The console and the CLI
(`baocao units import`) both call these.

The preview is computed from the file's rows against the stored tree; the apply recomputes it
in its own transaction and stores only a preview whose digest is the one the office was shown,
so what is stored is exactly what was previewed, never a tree that changed in between.

Scope: `scopes` None is the whole tree (an admin, the CLI); a coordinator's scopes (their
units) limit every line: a unit outside them, or a line that would place a unit outside them,
is a bad line. Units not listed in a file are shown, never deleted: a unit with reports keeps
them."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordinators.reporting import MERGED_KIND, Scope
from bot.offices import history
from bot.offices import problems as p
from bot.offices.history import Actor
from bot.offices.problems import Problem
from bot.spreadsheets.tables import Row
from bot.storage.models import CampaignForm, CampaignUnit, ContactUnit, Invite, Task, Unit
from conversations.unit_kinds import resolve_kind

# A code is part of the tree path "/HP/X-ANLAO/" matched with LIKE: a "/" would nest the unit
# under another's subtree, "%" or "_" would match others'. Letters, digits, "-" and "." only.
UNIT_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-]{0,63}")
MERGED = MERGED_KIND  # the kind of a unit merged into another: no campaign asks it any more


@dataclass(frozen=True)
class UnitLine:
    line: int
    code: str
    name: str
    kind: str
    parent: str


@dataclass(frozen=True)
class UnitChange:
    """One unit the file changes: `what` is new, changed (name, kind), moved (parent) or
    unlisted (stored, in scope, not in the file: kept as it is)."""

    what: str
    code: str
    before: dict[str, str] | None
    after: dict[str, str] | None


@dataclass
class UnitPreview:
    lines: list[UnitLine] = field(default_factory=list)
    changes: list[UnitChange] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unknown_kind: bool = False
    unchanged: int = 0

    def of(self, what: str) -> list[UnitChange]:
        return [c for c in self.changes if c.what == what]

    @property
    def digest(self) -> str:
        """What the office saw: the same digest at apply time means the same changes."""
        data = [(c.what, c.code, c.before, c.after) for c in self.changes]
        return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False)
                              .encode()).hexdigest()[:32]


def inside(scopes: Sequence[Scope] | None, path: str) -> bool:
    """A unit the office may change: below a coordinator's units; anything for an admin."""
    return scopes is None or any(s.contains(path) for s in scopes)


def may_hold(scopes: Sequence[Scope] | None, path: str) -> bool:
    """A unit others may be placed under: inside, or one of the coordinator's own units."""
    return inside(scopes, path) or any(s.path == path for s in scopes or ())


async def campaign_kinds(session: AsyncSession) -> set[str]:
    """Unit kinds some loaded campaign asks for a report, or gives a task."""
    kinds = set((await session.scalars(select(CampaignForm.unit_kind).distinct())).all())
    for owners in (await session.scalars(select(Task.owner_kinds))).all():
        kinds.update(owners or [])
    return kinds


def _fields(unit: Unit, parents: dict[int, str]) -> dict[str, str]:
    return {"name": unit.name, "kind": unit.kind,
            "parent": parents.get(unit.parent_id, "") if unit.parent_id else ""}


async def preview_units(session: AsyncSession, rows: Sequence[Row],
                        scopes: Sequence[Scope] | None) -> UnitPreview:
    """What the rows would change, and every bad line; nothing is stored."""
    preview = UnitPreview()
    extra = await campaign_kinds(session)
    units = list((await session.scalars(select(Unit))).all())
    existing = {u.code: u for u in units}
    code_of = {u.id: u.code for u in units}
    seen: dict[str, int] = {}
    for row in rows:
        before = len(preview.problems)

        def bad(message: str, line: int = row.line, **params: str) -> None:
            preview.problems.append(Problem(line, message, params))

        code, name, word, parent = (row.get("code"), row.get("name"), row.get("kind"),
                                    row.get("parent_code"))
        if not code:
            bad(p.EMPTY_CODE)
        elif not _code_ok(code):
            bad(p.BAD_CODE, code=code)
        elif code in seen:
            bad(p.DUPLICATE_CODE, code=code, other=str(seen[code]))
        else:
            seen[code] = row.line
        if not name:
            bad(p.EMPTY_NAME)
        kind = resolve_kind(word, extra) if word else None
        if not word:
            bad(p.EMPTY_KIND)
        elif kind is None:
            bad(p.UNKNOWN_KIND, word=word)
            preview.unknown_kind = True
        if len(preview.problems) == before and kind is not None:
            preview.lines.append(UnitLine(row.line, code, name, kind, parent))
    listed = {line.code: line for line in preview.lines}
    for line in preview.lines:
        def bad_line(message: str, line: UnitLine = line, **params: str) -> None:
            preview.problems.append(Problem(line.line, message, params))

        unit = existing.get(line.code)
        if unit is not None and unit.kind == MERGED:
            bad_line(p.MERGED_UNIT, code=line.code)
        elif unit is not None and not inside(scopes, unit.path):
            if not (may_hold(scopes, unit.path) and _same(unit, line, code_of)):
                bad_line(p.UNIT_OUTSIDE, code=line.code)
            continue
        if line.parent == line.code:
            bad_line(p.OWN_PARENT)
        elif line.parent and line.parent not in listed and line.parent not in existing:
            bad_line(p.NO_PARENT, parent=line.parent)
        elif line.parent and line.parent not in listed and \
                not may_hold(scopes, existing[line.parent].path):
            bad_line(p.PARENT_OUTSIDE, parent=line.parent)
        elif line.parent in existing and existing[line.parent].kind == MERGED:
            bad_line(p.MERGED_UNIT, code=line.parent)
        elif not line.parent and scopes is not None:
            bad_line(p.NO_PARENT_GIVEN)
    if not preview.problems:
        _find_loops(preview, existing, code_of)
    if preview.problems:
        preview.problems.sort(key=lambda x: x.line)
        return preview
    for line in preview.lines:
        unit = existing.get(line.code)
        after = {"name": line.name, "kind": line.kind, "parent": line.parent}
        if unit is None:
            preview.changes.append(UnitChange("new", line.code, None, after))
            continue
        before = _fields(unit, code_of)
        if before == after or not inside(scopes, unit.path):
            preview.unchanged += 1
        else:
            what = "moved" if before["parent"] != after["parent"] else "changed"
            preview.changes.append(UnitChange(what, line.code, before, after))
    for unit in sorted(units, key=lambda u: u.path):
        if unit.code not in listed and unit.kind != MERGED and inside(scopes, unit.path):
            preview.changes.append(UnitChange("unlisted", unit.code, _fields(unit, code_of),
                                              None))
    return preview


def _code_ok(code: str) -> bool:
    return UNIT_CODE.fullmatch(code) is not None


def _same(unit: Unit, line: UnitLine, code_of: dict[int, str]) -> bool:
    return _fields(unit, code_of) == {"name": line.name, "kind": line.kind,
                                      "parent": line.parent}


def _find_loops(preview: UnitPreview, existing: dict[str, Unit],
                code_of: dict[int, str]) -> None:
    """Parents as they would be after the file: the file's, else the stored ones."""
    parents = {c: code_of.get(u.parent_id, "") if u.parent_id else "" for c, u in
               existing.items()}
    parents.update({line.code: line.parent for line in preview.lines})
    for line in preview.lines:
        chain, code = set(), line.code
        while code and code not in chain:
            chain.add(code)
            code = parents.get(code, "")
        if code:
            preview.problems.append(Problem(line.line, p.LOOP, {"code": code}))


@dataclass
class UnitsApplied:
    count: int
    touched: list[Unit]


async def apply_units(session: AsyncSession, preview: UnitPreview, actor: Actor,
                      now: datetime) -> UnitsApplied:
    """Store a preview without problems, each change in the change history."""
    if preview.problems:
        raise ValueError("a preview with bad lines is not applied")
    existing = {u.code: u for u in (await session.scalars(select(Unit))).all()}
    touched: list[Unit] = []
    for line in preview.lines:
        unit = existing.get(line.code)
        if unit is None:
            unit = Unit(code=line.code, path="")
            session.add(unit)
            existing[unit.code] = unit
        unit.name, unit.kind = line.name, line.kind
        touched.append(unit)
    await session.flush()
    changed = {c.code: c for c in preview.changes if c.what != "unlisted"}
    for line in preview.lines:
        if line.code in changed:
            unit = existing[line.code]
            unit.parent_id = existing[line.parent].id if line.parent else None
    await session.flush()
    await rebuild_paths(session)
    for change in changed.values():
        unit = existing[change.code]
        action = {"new": "unit.create", "changed": "unit.update", "moved": "unit.move"}
        await history.record(session, actor=actor, action=action[change.what],
                             subject=change.code, at=now, before=change.before,
                             after=change.after, scope_path=unit.path)
    return UnitsApplied(len(preview.lines), touched)


async def rebuild_paths(session: AsyncSession) -> None:
    """Every unit's materialised path from its parents (after a move, a merge)."""
    units = {u.id: u for u in (await session.scalars(select(Unit))).all()}
    memo: dict[int, str] = {}

    def path_of(unit_id: int, depth: int = 0) -> str:
        if unit_id in memo:
            return memo[unit_id]
        unit = units[unit_id]
        if depth > len(units):
            raise ValueError(f"the unit tree has a loop at {unit.code}")
        prefix = path_of(unit.parent_id, depth + 1) if unit.parent_id else "/"
        memo[unit_id] = f"{prefix}{unit.code}/"
        return memo[unit_id]

    for unit in units.values():
        unit.path = path_of(unit.id)
    await session.flush()


# ----------------------------------------------------------------------------- one unit

class UnitRefused(ValueError):
    """An edit or merge that is not made; the message (a catalog msgid) says why."""

    def __init__(self, message: str, **params: str) -> None:
        super().__init__(message.format(**params))
        self.message, self.params = message, params


async def edit_unit(session: AsyncSession, unit: Unit, *, name: str, kind_word: str,
                    parent_code: str, scopes: Sequence[Scope] | None, actor: Actor,
                    now: datetime) -> bool:
    """One unit's name, kind and parent, checked as a file's line is; True if it changed."""
    row = Row(0, {"code": unit.code, "name": name, "kind": kind_word,
                  "parent_code": parent_code})
    preview = await preview_units(session, [row], scopes)
    if preview.problems:
        first = preview.problems[0]
        raise UnitRefused(first.message, **first.params)
    if not [c for c in preview.changes if c.what != "unlisted"]:
        return False
    await apply_units(session, preview, actor, now)
    return True


async def merge_units(session: AsyncSession, merged: Sequence[Unit], *, code: str, name: str,
                      scopes: Sequence[Scope] | None, actor: Actor, now: datetime) -> Unit:
    """Merge communes into a new unit (the 2025 reform).

    The model: the old units stay, as children of the new one, with the kind `merged`; their
    submissions, answers and revisions stay on them untouched, so both histories are read
    under the new unit's subtree exactly as they were reported (two communes may have
    reported the same period: moving their submissions onto one unit would collide or add
    two reports into one). What lives on moves to the new unit: the units below them, their
    contacts (so the same people now report for the new unit), unused invite codes, and
    campaigns that named them (no campaign asks the old ones any more; a period they reported
    in still counts their reports, bot/coordinators/reporting.lines_of). The new unit takes
    the first one's kind and parent."""
    if len(merged) < 2 or len({u.id for u in merged}) < len(merged):
        raise UnitRefused(p.tr("choose two different units to merge"))
    for unit in merged:
        if not inside(scopes, unit.path) or unit.kind == MERGED:
            raise UnitRefused(p.UNIT_OUTSIDE, code=unit.code)
    first = merged[0]
    if any(u.parent_id != first.parent_id for u in merged):
        raise UnitRefused(p.tr("the units to merge must be under the same unit"))
    name = " ".join(name.split())
    if not name:
        raise UnitRefused(p.EMPTY_NAME)
    if not _code_ok(code):
        raise UnitRefused(p.BAD_CODE, code=code)
    if await session.scalar(select(Unit.id).where(Unit.code == code)) is not None:
        raise UnitRefused(p.tr("code {code} is already used by another unit"), code=code)
    new = Unit(code=code, name=name, kind=first.kind, parent_id=first.parent_id, path="")
    session.add(new)
    await session.flush()
    ids = [u.id for u in merged]
    before = {u.code: {"name": u.name, "kind": u.kind} for u in merged}
    await session.execute(update(Unit).where(Unit.parent_id.in_(ids)).values(parent_id=new.id))
    for unit in merged:
        unit.parent_id, unit.kind = new.id, MERGED
    people = set((await session.scalars(select(ContactUnit.contact_id)
                                        .where(ContactUnit.unit_id.in_(ids)))).all())
    named = set((await session.scalars(select(CampaignUnit.campaign_id)
                                       .where(CampaignUnit.unit_id.in_(ids)))).all())
    await session.execute(delete(ContactUnit).where(ContactUnit.unit_id.in_(ids)))
    await session.execute(delete(CampaignUnit).where(CampaignUnit.unit_id.in_(ids)))
    for contact_id in sorted(people):
        session.add(ContactUnit(contact_id=contact_id, unit_id=new.id))
    for campaign_id in sorted(named):
        session.add(CampaignUnit(campaign_id=campaign_id, unit_id=new.id))
    await session.execute(update(Invite).where(Invite.unit_id.in_(ids),
                                               Invite.uses < Invite.max_uses)
                          .values(unit_id=new.id))
    await session.flush()
    await rebuild_paths(session)
    await history.record(session, actor=actor, action="unit.merge", subject=code, at=now,
                         before=before, after={"code": code, "name": name, "kind": new.kind,
                                               "merged": [u.code for u in merged],
                                               "contacts_moved": len(people)},
                         scope_path=new.path)
    return new


async def merged_into(session: AsyncSession, unit: Unit) -> list[Unit]:
    """The units merged into this one (their reports are read on their own pages)."""
    return list((await session.scalars(select(Unit).where(Unit.parent_id == unit.id,
                                                          Unit.kind == MERGED)
                                       .order_by(Unit.code))).all())


def describe(change: UnitChange) -> dict[str, Any]:
    """A change for a template: the fields before and after, side by side."""
    return {"what": change.what, "code": change.code, "before": change.before or {},
            "after": change.after or {}}
