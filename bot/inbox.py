"""The inbox: an update is stored (one small insert) before the messenger is told it arrived,
then handled in order per chat, chats in parallel. A restart handles what is left."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dispatcher import Dispatcher
from bot.storage.models import InboxMessage
from conversations.events import InboundEvent

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)


@dataclass(frozen=True)
class Received:
    """An adapter's translation of one update: the event, and channel chores for it."""

    update_key: str
    event: InboundEvent
    acks: list[dict[str, Any]] = field(default_factory=list)


def event_to_json(event: InboundEvent) -> dict[str, Any]:
    data = asdict(event)
    data["received_at"] = event.received_at.isoformat()
    return data


def event_from_json(data: dict[str, Any]) -> InboundEvent:
    return InboundEvent(**{**data, "received_at": datetime.fromisoformat(data["received_at"])})


async def store(sessions: async_sessionmaker[AsyncSession], items: Sequence[Received],
                now: datetime) -> None:
    """Insert received updates in one transaction; a redelivered update is ignored here."""
    if not items:
        return
    async with sessions() as session, session.begin():
        rows = [{"channel": r.event.channel, "update_key": r.update_key,
                 "chat_id": r.event.chat_id, "event": event_to_json(r.event), "acks": r.acks,
                 "received_at": now} for r in items]
        dialect = session.bind.dialect.name
        if dialect == "sqlite":
            await session.execute(sqlite_insert(InboxMessage).values(rows)
                                  .on_conflict_do_nothing())
        elif dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            await session.execute(pg_insert(InboxMessage).values(rows).on_conflict_do_nothing())
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            for row in rows:
                session.add(InboxMessage(**row))


class InboxWorker:
    """Handles stored updates: per chat in order, different chats concurrently."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], dispatcher: Dispatcher,
                 clock: Callable[[], datetime], batch: int = 200) -> None:
        self.sessions = sessions
        self.dispatcher = dispatcher
        self.clock = clock
        self.batch = batch
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event, idle_poll: float = 1.0) -> None:
        while not stop.is_set():
            handled = await self.drain_once()
            if handled:
                continue
            self._wake.clear()
            waiters = [asyncio.ensure_future(self._wake.wait()),
                       asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waiters, timeout=idle_poll, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    async def drain_once(self) -> int:
        """Claim a batch of stored updates and handle them; returns how many."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            rows = (await session.scalars(
                select(InboxMessage).where((InboxMessage.claimed_until.is_(None))
                                           | (InboxMessage.claimed_until <= now))
                .order_by(InboxMessage.id).limit(self.batch))).all()
            if not rows:
                return 0
            await session.execute(update(InboxMessage)
                                  .where(InboxMessage.id.in_([r.id for r in rows]))
                                  .values(claimed_until=now + LEASE))
            items = [(r.id, r.chat_id, r.channel, r.event, r.acks) for r in rows]
        by_chat: dict[tuple[str, str], list[tuple[int, dict, list]]] = {}
        for row_id, chat_id, channel, event, acks in items:
            by_chat.setdefault((channel, chat_id), []).append((row_id, event, acks))
        await asyncio.gather(*(self._chat(rows) for rows in by_chat.values()))
        return len(items)

    async def _chat(self, rows: list[tuple[int, dict, list]]) -> None:
        for row_id, event, acks in rows:
            try:
                await self.dispatcher.handle(event_from_json(event), acks=acks, inbox_id=row_id)
            except Exception:  # the dispatcher already apologised; keep the chat moving
                log.exception("inbox row %s failed", row_id)


async def release_claims(sessions: async_sessionmaker[AsyncSession]) -> None:
    """At start-up, updates a previous run of this process claimed are free again."""
    async with sessions() as session, session.begin():
        await session.execute(update(InboxMessage).values(claimed_until=None))
