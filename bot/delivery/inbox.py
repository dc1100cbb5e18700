"""The inbox: an update is stored (one small insert) before the messenger is told it arrived,
then handled in order per chat, chats in parallel. A restart handles what is left."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery.dispatcher import Dispatcher, Queued
from bot.delivery.drain_loop import drain_until_stopped
from bot.storage.database import dialect_insert
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


EVENT_FIELDS = tuple(f.name for f in fields(InboundEvent))


def event_to_json(event: InboundEvent) -> dict[str, Any]:
    data = {name: getattr(event, name) for name in EVENT_FIELDS}
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
        await session.execute(
            dialect_insert(session)(InboxMessage).on_conflict_do_nothing(), rows)


HandleNow = Callable[[Sequence[Received]], Awaitable[bool]]


class InboxWorker:
    """Handles stored updates: per chat in order, different chats concurrently.

    A chat is handled by one worker at a time: an asyncio lock within the process and, on
    PostgreSQL (several instances on one database), a session advisory lock per chat, taken
    with try-lock so a busy chat is simply left to the instance that holds it."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], dispatcher: Dispatcher,
                 clock: Callable[[], datetime], batch: int = 200, concurrency: int = 8,
                 read_sessions: async_sessionmaker[AsyncSession] | None = None) -> None:
        self.sessions = sessions
        self.read_sessions = read_sessions or sessions
        self.dispatcher = dispatcher
        self.clock = clock
        self.batch = batch
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(concurrency)
        self._busy: set[tuple[str, str]] = set()
        self._backlog = True  # until a drain finds the inbox empty
        self._stores = 0
        self._turn = asyncio.Lock()  # the worker's drains and polled batches take turns

    def wake(self) -> None:
        self._backlog = True
        self._stores += 1
        self._wake.set()

    async def handle_now(self, items: Sequence[Received]) -> bool:
        """Handle a polled batch at once, in one transaction, before it is confirmed to the
        messenger: no inbox round trip. Stored updates go first (order per chat). False
        (nothing written) when it must go through the inbox instead: a chat is busy elsewhere,
        or the batch failed (the worker then handles it one update at a time)."""
        async with self._turn:
            for _ in range(10):
                if not self._backlog:
                    break
                await self._drain()
            if self._backlog or any(self.dispatcher.locks.busy(r.event.channel,
                                                               r.event.chat_id)
                                    for r in items):
                return False
            queued = [Queued(r.event, r.acks) for r in items]

            async def take(_session: AsyncSession) -> list[Queued]:
                return queued

            try:
                await self.dispatcher.handle_batch(take)
            except Exception:
                log.exception("a polled batch of %s updates failed; storing it", len(items))
                return False
            return True

    async def run(self, stop: asyncio.Event, idle_poll: float = 1.0) -> None:
        await drain_until_stopped(self.drain_once, self._wake, stop, idle_poll, "inbox worker")

    async def drain_once(self) -> int:
        """Handle the oldest stored updates as one batch (one transaction); returns how many
        were handled. Should the batch fail, its chats are handled one update at a time, so
        one bad update costs only itself."""
        async with self._turn:
            return await self._drain()

    async def _drain(self) -> int:
        taken: list[Queued] = []
        stores = self._stores

        async def take(session: AsyncSession) -> list[Queued]:
            taken[:] = await take_rows(session, self.batch, self.dispatcher.locks.busy)
            return taken

        try:
            handled = await self.dispatcher.handle_batch(take)
            if not taken and stores == self._stores:  # nothing stored since we looked
                self._backlog = False
            return handled
        except Exception:
            log.exception("a batch of %s updates failed; handling them one by one", len(taken))
        chats = list(dict.fromkeys((i.event.channel, i.event.chat_id) for i in taken))
        counts = await asyncio.gather(*(self._chat(channel, chat) for channel, chat in chats))
        return sum(counts)

    async def _chat(self, channel: str, chat_id: str) -> int:
        key = (channel, chat_id)
        async with self._slots:
            if key in self._busy:
                return 0
            self._busy.add(key)
            try:
                async with chat_guard(self.sessions, channel, chat_id) as owned:
                    if not owned:
                        return 0
                    return await self._handle_chat(channel, chat_id)
            finally:
                self._busy.discard(key)

    async def _handle_chat(self, channel: str, chat_id: str) -> int:
        async with self.read_sessions() as session:
            rows = (await session.execute(
                select(InboxMessage.id, InboxMessage.event, InboxMessage.acks)
                .where(InboxMessage.channel == channel, InboxMessage.chat_id == chat_id)
                .order_by(InboxMessage.id))).all()
        for row_id, event, acks in rows:
            try:
                await self.dispatcher.handle(event_from_json(event), acks=acks, inbox_id=row_id)
            except Exception:  # the dispatcher already apologised; keep the chat moving
                log.exception("inbox row %s failed", row_id)
        return len(rows)


async def take_rows(session: AsyncSession, limit: int,
                    busy: Callable[[str, str], bool]) -> list[Queued]:
    """Inside the batch's transaction: the oldest stored updates of chats nobody else is
    handling, deleted from the inbox (the deletion commits with their effects).

    On PostgreSQL a chat is taken with a transaction advisory lock (try-lock: a chat another
    instance is handling is left to it), and only rows still there after the lock are kept, so
    an update another instance handled meanwhile is not handled again."""
    rows = (await session.execute(
        select(InboxMessage.id, InboxMessage.channel, InboxMessage.chat_id,
               InboxMessage.event, InboxMessage.acks)
        .order_by(InboxMessage.id).limit(limit))).all()
    rows = [r for r in rows if not busy(r[1], r[2])]
    if session.bind.dialect.name == "postgresql" and rows:
        keys = {chat_key(r[1], r[2]) for r in rows}
        owned = set((await session.execute(
            text("SELECT k FROM unnest(CAST(:keys AS bigint[])) AS k "
                 "WHERE pg_try_advisory_xact_lock(k)"), {"keys": sorted(keys)})).scalars())
        rows = [r for r in rows if chat_key(r[1], r[2]) in owned]
    if not rows:
        return []
    kept = set((await session.execute(
        delete(InboxMessage).where(InboxMessage.id.in_([r[0] for r in rows]))
        .returning(InboxMessage.id))).scalars())
    return [Queued(event_from_json(event), acks or [], row_id)
            for row_id, _channel, _chat, event, acks in rows if row_id in kept]


def chat_key(channel: str, chat_id: str) -> int:
    """A stable signed 64-bit number for a chat, for PostgreSQL advisory locks."""
    digest = hashlib.blake2b(f"{channel}:{chat_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextlib.asynccontextmanager
async def chat_guard(sessions: async_sessionmaker[AsyncSession], channel: str,
                     chat_id: str) -> AsyncIterator[bool]:
    """Yields True if this process may handle the chat now (always, on SQLite)."""
    bind = sessions.kw.get("bind")
    if bind is None or bind.dialect.name != "postgresql":
        yield True
        return
    key = chat_key(channel, chat_id)
    async with bind.connect() as connection:
        owned = bool((await connection.execute(
            text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar())
        await connection.commit()
        try:
            yield owned
        finally:
            if owned:
                await connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                await connection.commit()


async def release_claims(sessions: async_sessionmaker[AsyncSession]) -> None:
    """At start-up, updates a previous run of this process claimed are free again (only
    those rows are written: nothing at start grows with the inbox)."""
    async with sessions() as session, session.begin():
        await session.execute(update(InboxMessage).where(InboxMessage.claimed_until.is_not(None))
                              .values(claimed_until=None))
