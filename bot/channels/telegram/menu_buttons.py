"""Menu buttons for people who signed in before the Mini App was turned on (or before its
address changed): each start queues, through the outbox, the menu of a bounded batch of such
Telegram chats, once per chat and address (the outbox's dedupe key remembers it).

Bounded so that a start never costs in proportion to every contact: a province's chats are
covered over a few starts, the most recent first, and everyone signing in meanwhile gets theirs
with the sign-in."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import exists, literal, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery import outbox
from bot.storage.database import dialect_insert
from bot.storage.models import Contact, Identity, OutboxMessage

BATCH = 500


def key_prefix(web_app_base: str) -> str:
    return f"menu-button:{hashlib.sha256(web_app_base.encode()).hexdigest()[:12]}:"


async def queue_missing(sessions: async_sessionmaker[AsyncSession], web_app_base: str,
                        now: datetime, limit: int = BATCH) -> int:
    """Queue the menu (commands and the Web App button) of up to `limit` Telegram chats that
    have not had it for this address; returns how many."""
    prefix = key_prefix(web_app_base)
    async with sessions() as session, session.begin():
        rows = (await session.execute(
            select(Identity.chat_id, Contact.role, Contact.language)
            .join(Contact, Contact.id == Identity.contact_id)
            .where(Identity.channel == "telegram", Contact.active,
                   Identity.unreachable_at.is_(None), ~Identity.chat_id.startswith("-"),
                   ~exists().where(OutboxMessage.dedupe_key == literal(prefix)
                                   + Identity.chat_id))
            .order_by(Identity.id.desc()).limit(limit))).all()
        if rows:
            values = [outbox.payload_row("telegram", chat_id,
                                         {"kind": "menu", "role": role, "language": language},
                                         now, dedupe_key=prefix + chat_id,
                                         priority=outbox.BULK)
                      for chat_id, role, language in rows]
            await session.execute(dialect_insert(session)(OutboxMessage).values(values)
                                  .on_conflict_do_nothing())
    return len(rows)
