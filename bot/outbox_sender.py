"""Delivers the outbox: in order per chat, within the messenger's flood limits, with retries.

A row is claimed (a lease, committed) before it is sent and marked sent after. A crash between
the two leaves the row claimed; when the lease ends it is sent again: at most one resend per
message per crash, and only for the messages in flight at that moment (at most `concurrency`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import outbox
from bot.drain_loop import drain_until_stopped
from bot.flood_control import FloodControl
from bot.storage.models import Contact, ContactUnit, Identity, OutboxMessage, Unit
from conversations.i18n import Catalog

log = logging.getLogger(__name__)
NOT_MESSAGES = frozenset({"callback_answer", "menu"})  # no per-chat message limit applies


class SendError(Exception):
    """Why a message did not go."""


class RetryLater(SendError):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds}s")
        self.seconds = seconds


class Transient(SendError):
    """A network error or a 5xx: try again later."""


class Unreachable(SendError):
    """The person blocked the bot or left: nothing more can be sent to this chat."""


class Rejected(SendError):
    """The messenger refused this message for good (a bad request)."""


class Transport(Protocol):
    channel: str

    def is_group(self, chat_id: str) -> bool: ...

    async def send(self, chat_id: str, payload: dict[str, Any]) -> None: ...


class OutboxSender:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], transport: Transport,
                 clock: Callable[[], datetime], catalog: Catalog,
                 flood: FloodControl | None = None, *, lease: timedelta = timedelta(seconds=30),
                 max_attempts: int = 12, concurrency: int = 60,
                 monotonic: Callable[[], float] = time.monotonic,
                 read_sessions: async_sessionmaker[AsyncSession] | None = None) -> None:
        self.sessions = sessions
        self.read_sessions = read_sessions or sessions
        self.transport = transport
        self.channel = transport.channel
        self.clock = clock
        self.catalog = catalog
        self.flood = flood or FloodControl()
        self.lease = lease
        self.max_attempts = max_attempts
        self.monotonic = monotonic
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self.sent_count = 0
        self._unmarked: list[int] = []  # sent by the last round, marked by the next

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event, idle_poll: float = 0.2) -> None:
        try:
            await drain_until_stopped(self.drain_once, self._wake, stop, idle_poll,
                                      f"outbox sender for {self.channel}")
        finally:
            await self.mark_sent()

    async def mark_sent(self) -> None:
        """Write down what the last round sent (normally done by the next round)."""
        if self._unmarked:
            async with self.sessions() as session, session.begin():
                await self._mark(session)
            self._unmarked = []

    async def _mark(self, session: AsyncSession) -> None:
        if self._unmarked:
            await session.execute(update(OutboxMessage)
                                  .where(OutboxMessage.id.in_(self._unmarked))
                                  .values(claimed_until=None, sent_at=self.clock()))

    async def drain_once(self, limit: int = 2000) -> int:
        """One round, one transaction: what the last round sent is marked sent, and the oldest
        unsent message of every chat that may receive one now is claimed; then those are sent
        concurrently within the flood limits. Returns how many went out (or were claimed).

        The drain loop runs the next round at once after a busy one, so the marks follow the
        sending within milliseconds; a crash in between resends those messages once."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            await self._mark(session)
            rows = await outbox.queue_heads(session, self.channel, limit)
            ready = self._ready(rows, now)
            claimed = await self._claim(session, [item.id for item in ready], now) \
                if ready else set()
        self._unmarked = []  # committed
        if not claimed:
            return 0
        results = await asyncio.gather(*(self._send(item) for item in ready
                                         if item.id in claimed))
        sent = [item_id for item_id in results if item_id is not None]
        self._unmarked += sent
        self.sent_count += len(sent)
        return len(sent) or len(claimed)

    def _ready(self, rows: list[tuple[outbox.Pending, datetime | None]], now: datetime
               ) -> list[outbox.Pending]:
        """The oldest unsent message of each chat that may receive one now. A chat whose
        oldest is held (being sent by another round or instance, or waiting to be retried)
        gets nothing this round."""
        heads: dict[str, outbox.Pending | None] = {}
        for item, held_until in rows:
            if item.chat_id not in heads:
                heads[item.chat_id] = item if held_until is None or held_until <= now \
                    else None
        mono = self.monotonic()
        return [item for chat, item in heads.items() if item is not None and
                self.flood.chat_delay(chat, mono, self.transport.is_group(chat)) < 0.05]

    async def _send(self, item: outbox.Pending) -> int | None:
        """Send one claimed message; its id when it went out, None otherwise (already handled)."""
        chat_id = item.chat_id
        async with self._slots:
            if item.payload.get("kind") not in NOT_MESSAGES:
                # Timed right before the request, so the database's own delays never bunch
                # requests up on the messenger's side.
                await self._wait_turn(chat_id)
            try:
                await self.transport.send(chat_id, item.payload)
            except RetryLater as exc:
                self.flood.retry_after(chat_id, exc.seconds, self.monotonic())
                self.flood.pause_all(exc.seconds, self.monotonic())
                await self._postpone(item.id, timedelta(seconds=exc.seconds), count=False)
                return None
            except Transient as exc:
                await self._backoff(item, str(exc))
                return None
            except Unreachable as exc:
                await self._unreachable(chat_id, str(exc))
                return None
            except Rejected as exc:
                log.error("%s refused outbox row %s: %s", self.channel, item.id, exc)
                await self._finish(item.id, failed=f"rejected: {exc}"[:500])
                return None
        return item.id

    async def _wait_turn(self, chat_id: str) -> None:
        group = self.transport.is_group(chat_id)
        while True:
            delay = self.flood.delay(chat_id, self.monotonic(), group)
            if delay <= 0:
                self.flood.sent(chat_id, self.monotonic(), group)
                return
            await asyncio.sleep(delay)

    async def _claim(self, session: AsyncSession, ids: list[int], now: datetime) -> set[int]:
        """Claim rows for `lease`; returns those this sender got (another instance may hold
        some)."""
        result = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.sent_at.is_(None),
                   OutboxMessage.failed.is_(None),
                   (OutboxMessage.claimed_until.is_(None))
                   | (OutboxMessage.claimed_until <= now))
            .values(claimed_until=now + self.lease, attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage.id))
        return set(result.scalars().all())

    async def _finish(self, row_id: int, failed: str | None = None) -> None:
        async with self.sessions() as session, session.begin():
            values: dict[str, Any] = {"claimed_until": None}
            if failed is None:
                values["sent_at"] = self.clock()
            else:
                values["failed"] = failed
            await session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                                  .values(**values))

    async def _postpone(self, row_id: int, wait: timedelta, count: bool = True) -> None:
        async with self.sessions() as session, session.begin():
            values: dict[str, Any] = {"claimed_until": None,
                                      "not_before": self.clock() + wait}
            if not count:
                values["attempts"] = OutboxMessage.attempts - 1
            await session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                                  .values(**values))

    async def _backoff(self, item: outbox.Pending, why: str) -> None:
        attempts = item.attempts + 1
        if attempts >= self.max_attempts:
            log.error("giving up on outbox row %s after %s attempts: %s", item.id, attempts, why)
            await self._finish(item.id, failed=f"gave up: {why}"[:500])
            return
        await self._postpone(item.id, timedelta(seconds=min(60.0, 0.5 * 2 ** attempts)))

    async def _unreachable(self, chat_id: str, why: str) -> None:
        """Stop writing to a chat that blocked the bot, and tell the person's coordinators."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.channel == self.channel,
                                            OutboxMessage.chat_id == chat_id,
                                            OutboxMessage.sent_at.is_(None),
                                            OutboxMessage.failed.is_(None))
                .values(failed=f"unreachable: {why}"[:500], claimed_until=None))
            identities = (await session.scalars(select(Identity).where(
                Identity.channel == self.channel, Identity.chat_id == chat_id))).all()
            for identity in identities:
                if identity.unreachable_at is None:
                    identity.unreachable_at = now
                    if identity.contact_id:
                        await notify_coordinators(session, identity, self.catalog, now)


async def notify_coordinators(session: AsyncSession, identity: Identity, catalog: Catalog,
                              now: datetime) -> None:
    """Tell the coordinators above the person's units that the bot cannot reach them."""
    contact = await session.get(Contact, identity.contact_id)
    if contact is None:
        return
    units = (await session.scalars(select(Unit).join(ContactUnit, ContactUnit.unit_id == Unit.id)
                                   .where(ContactUnit.contact_id == contact.id))).all()
    told: set[int] = set()
    for unit in units:
        for coordinator in await coordinators_above(session, unit):
            if coordinator.id in told or coordinator.id == contact.id:
                continue
            told.add(coordinator.id)
            tr = catalog.tr(coordinator.language)
            text = tr("The bot can no longer reach {name} ({unit}) on {channel}: they blocked "
                      "the bot or left the chat. Please contact them directly{phone}.",
                      name=contact.name, unit=unit.name, channel=identity.channel.capitalize(),
                      phone=f": {contact.phone}" if contact.phone else "")
            for target in (await session.scalars(select(Identity).where(
                    Identity.contact_id == coordinator.id,
                    Identity.unreachable_at.is_(None)))).all():
                outbox.enqueue_payload(session, target.channel, target.chat_id,
                                       {"kind": "message", "text": text, "buttons": [],
                                        "language": coordinator.language}, now)


async def coordinators_above(session: AsyncSession, unit: Unit) -> list[Contact]:
    """Coordinators of the nearest unit above (or at) `unit` that has any."""
    codes = [c for c in unit.path.strip("/").split("/") if c]
    for code in reversed(codes):
        found = (await session.scalars(
            select(Contact).join(ContactUnit, ContactUnit.contact_id == Contact.id)
            .join(Unit, Unit.id == ContactUnit.unit_id)
            .where(Unit.code == code, Contact.role.in_(("coordinator", "admin")),
                   Contact.active.is_(True)))).all()
        if found:
            return list(found)
    return []
