"""The record of every change an office makes, and the history page's query of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import ChangeRecord, Contact

CLI_ACTOR = "CLI"


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a signed-in console user (their contact) or the command line."""

    name: str = CLI_ACTOR
    contact_id: int | None = None

    @classmethod
    def of(cls, contact: Contact) -> Actor:
        label = contact.name or contact.phone or f"#{contact.id}"
        if contact.name and contact.phone:
            label = f"{contact.name} ({contact.phone})"
        return cls(label[:255], contact.id)


def _plain(value: Any) -> Any:
    """Values as JSON keeps them: dates as ISO text, decimals as their digits."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


async def record(session: AsyncSession, *, actor: Actor, action: str, subject: str,
                 at: datetime, before: Any = None, after: Any = None,
                 scope_path: str = "") -> ChangeRecord | None:
    """Write one change in the caller's transaction (it commits or rolls back with the change
    itself). Nothing is recorded when before and after are equal: no change, no line."""
    before, after = _plain(before), _plain(after)
    if before is not None and before == after:
        return None
    row = ChangeRecord(at=at, actor=actor.name, actor_contact_id=actor.contact_id,
                       action=action, subject=subject[:255], scope_path=scope_path,
                       before=before, after=after)
    session.add(row)
    await session.flush()
    return row


async def recent(session: AsyncSession, *, within: str | None = None,
                 limit: int = 200) -> list[ChangeRecord]:
    """The newest changes first; `within` a unit path limits them to that subtree (a
    coordinator's), None is everything (an admin's)."""
    query = select(ChangeRecord).order_by(ChangeRecord.at.desc(), ChangeRecord.id.desc())
    if within is not None:
        query = query.where(ChangeRecord.scope_path.like(within + "%"),
                            ChangeRecord.scope_path != "")
    return list((await session.scalars(query.limit(limit))).all())
