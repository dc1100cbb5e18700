"""Delivers the outbox: in order per chat, within the messenger's flood limits, with retries.

Each message is judged on its own. A row is claimed (a lease, committed, with this instance's
id) before it is sent; its send runs as its own task, and its outcome — sent, retry later,
refused — is recorded for that row alone. The next claim transaction marks the sent ones sent,
renews the lease of those still in flight, and claims the next message of every chat that is
free, so one slow request or one chat's 429 holds only its own chat.

A crash between sending and marking leaves the row claimed: the restarted instance takes its
own claims back at once and sends those once more (at most one resend per message per crash,
and only for the messages in flight then, at most `concurrency`); another instance's claims
wait for their lease.

The structure, for whoever extends it: `run` loops over `drain_once` (one transaction:
mark, renew, claim) and waits for new work or free slots; `_ready` picks what may go now;
`_deliver` sends one message and records its outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery import outbox
from bot.delivery.flood_control import FloodControl
from bot.delivery.health import Health, describe
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
                 read_sessions: async_sessionmaker[AsyncSession] | None = None,
                 instance_id: str = "local", health: Health | None = None) -> None:
        self.sessions = sessions
        self.read_sessions = read_sessions or sessions
        self.transport = transport
        self.channel = transport.channel
        self.clock = clock
        self.catalog = catalog
        self.flood = flood or FloodControl()
        self.lease = lease
        self.max_attempts = max_attempts
        self.concurrency = concurrency
        self.monotonic = monotonic
        self.instance_id = instance_id
        self.health = health or Health(clock, instance_id)
        self.part = f"{self.channel}-send"
        self._wake = asyncio.Event()  # new messages were queued
        self._room = asyncio.Event()  # sends finished: slots are free again
        self._turns = asyncio.Lock()  # the overall rate's turns, in the order of claiming
        self._in_flight: dict[int, str] = {}  # row id → chat id, sends under way
        self._tasks: set[asyncio.Task] = set()
        self._unmarked: list[int] = []  # sent, written down by the next claim transaction
        self.sent_count = 0

    def wake(self) -> None:
        self._wake.set()

    # ------------------------------------------------------------------ the loop

    async def run(self, stop: asyncio.Event, idle_poll: float = 0.2) -> None:
        try:
            await self.take_back_own_claims()
        except Exception as exc:
            log.warning("%s sender could not take back its claims (%s)", self.channel,
                        describe(exc))
        try:
            while not stop.is_set():
                try:
                    claimed = await self.drain_once()
                except Exception as exc:  # the database is away: try again shortly
                    self.health.failed(self.part, exc)
                    log.exception("outbox sender for %s failed; retrying", self.channel)
                    claimed = 0
                if claimed and self._free() > 0:
                    continue  # more chats may be ready
                await self._pause(stop, idle_poll)
        finally:
            await self._finish_in_flight()
            with contextlib.suppress(Exception):
                await self.mark_sent()

    async def _pause(self, stop: asyncio.Event, timeout: float) -> None:
        """Until new messages are queued, sends free enough slots, or `timeout` passes
        (another instance may have written meanwhile; a held chat may have become free)."""
        self._wake.clear()
        self._room.clear()
        waiters = [asyncio.ensure_future(self._wake.wait()),
                   asyncio.ensure_future(self._room.wait()),
                   asyncio.ensure_future(stop.wait())]
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()

    async def _finish_in_flight(self, grace: float = 5.0) -> None:
        """On stop: let sends under way finish briefly; those cut off stay claimed by this
        instance, which takes them back when it starts again."""
        if self._tasks:
            _done, pending = await asyncio.wait(list(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.gather(*pending, return_exceptions=True)

    def _free(self) -> int:
        return self.concurrency - len(self._in_flight)

    async def take_back_own_claims(self) -> int:
        """At start: messages this instance claimed before it stopped (or was killed) are
        free again at once, instead of after their lease."""
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.channel == self.channel,
                       OutboxMessage.claimed_by == self.instance_id,
                       OutboxMessage.claimed_until.is_not(None),
                       OutboxMessage.sent_at.is_(None), OutboxMessage.failed.is_(None))
                .values(claimed_until=None))
        taken = result.rowcount or 0
        if taken:
            log.info("%s sender took back %s message(s) claimed before the restart",
                     self.channel, taken)
        return taken

    async def mark_sent(self) -> None:
        """Write down what was sent since the last claim transaction."""
        if not self._unmarked:
            return
        marked: list[int] = []
        try:
            async with self.sessions() as session, session.begin():
                marked = await self._mark(session)
        except BaseException:
            self._unmarked = marked + self._unmarked  # not committed: next time
            raise

    async def _mark(self, session: AsyncSession) -> list[int]:
        """Mark the sent rows sent (in the caller's transaction); returns their ids, which
        the caller puts back should its transaction fail."""
        ids, self._unmarked = self._unmarked, []
        if ids:
            try:
                await session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                                      .values(claimed_until=None, sent_at=self.clock()))
            except BaseException:
                self._unmarked = ids + self._unmarked
                raise
        return ids

    async def drain_once(self, limit: int = 2000) -> int:
        """One transaction: what was sent is marked sent, the leases of sends under way are
        renewed, and the oldest unsent message of every chat that may receive one now is
        claimed (as many as there are free slots); each is then sent by its own task.
        Returns how many were claimed."""
        now = self.clock()
        marked: list[int] = []
        try:
            async with self.sessions() as session, session.begin():
                marked = await self._mark(session)
                await self._renew(session, now)
                ready: list[outbox.Pending] = []
                waiting = bool(self._in_flight)
                if self._free() > 0:
                    rows = await outbox.queue_heads(session, self.channel, limit)
                    ready = self._ready(rows, now)[: self._free()]
                    waiting = waiting or bool(rows)
                claimed = await self._claim(session, [item.id for item in ready], now) \
                    if ready else {}
        except BaseException:
            self._unmarked = marked + self._unmarked  # not committed: next time
            raise
        for item in ready:
            if item.id in claimed:
                self._start(dataclasses.replace(item, payload=claimed[item.id]))
        # With messages waiting, a sender that never succeeds is stuck (the watchdog says so).
        self.health.set_busy(self.part, waiting)
        return len(claimed)

    def _start(self, item: outbox.Pending) -> None:
        self._in_flight[item.id] = item.chat_id
        task = asyncio.create_task(self._deliver(item), name=f"send-{item.id}")
        self._tasks.add(task)

        def done(finished: asyncio.Task) -> None:
            self._tasks.discard(finished)
            self._in_flight.pop(item.id, None)
            if self._free() >= max(1, self.concurrency // 4) or not self._in_flight:
                self._room.set()

        task.add_done_callback(done)

    def _ready(self, rows: list[tuple[outbox.Pending, datetime | None]], now: datetime
               ) -> list[outbox.Pending]:
        """The oldest unsent message of each chat that may receive one now. A chat whose
        oldest is held (being sent, by this instance or another, or waiting to be retried)
        or that the flood limits hold gets nothing this time."""
        busy = set(self._in_flight.values())
        heads: dict[str, outbox.Pending | None] = {}
        for item, held_until in rows:
            if item.chat_id not in heads:
                free = (held_until is None or held_until <= now) and item.chat_id not in busy
                heads[item.chat_id] = item if free else None
        mono = self.monotonic()
        return [item for chat, item in heads.items() if item is not None and
                self.flood.chat_delay(chat, mono, self.transport.is_group(chat)) < 0.05]

    async def _renew(self, session: AsyncSession, now: datetime) -> None:
        """Sends under way keep their claim however long the messenger takes to answer."""
        if self._in_flight:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(list(self._in_flight)),
                       OutboxMessage.claimed_by == self.instance_id,
                       OutboxMessage.sent_at.is_(None))
                .values(claimed_until=now + self.lease))

    async def _claim(self, session: AsyncSession, ids: list[int], now: datetime
                     ) -> dict[int, dict[str, Any]]:
        """Claim rows for `lease`; returns the payloads of those this sender got (another
        instance may hold some)."""
        result = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.sent_at.is_(None),
                   OutboxMessage.failed.is_(None),
                   (OutboxMessage.claimed_until.is_(None))
                   | (OutboxMessage.claimed_until <= now))
            .values(claimed_until=now + self.lease, claimed_by=self.instance_id,
                    attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage.id, OutboxMessage.payload))
        return {row_id: payload for row_id, payload in result.all()}

    # ------------------------------------------------------------------ one message

    async def _deliver(self, item: outbox.Pending) -> None:
        """Send one claimed message and record its own outcome; never raises."""
        chat_id = item.chat_id
        try:
            if item.payload.get("kind") not in NOT_MESSAGES:
                # Timed right before the request, so the database's own delays never bunch
                # requests up on the messenger's side.
                await self._wait_turn(chat_id)
            await self.transport.send(chat_id, item.payload)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._failed(item, exc)
            return
        self._unmarked.append(item.id)
        self.sent_count += 1
        self.health.ok(self.part)

    async def _failed(self, item: outbox.Pending, exc: Exception) -> None:
        chat_id = item.chat_id
        try:
            if isinstance(exc, RetryLater):
                self.flood.retry_after(chat_id, exc.seconds, self.monotonic())
                await self._postpone(item.id, timedelta(seconds=exc.seconds), count=False)
            elif isinstance(exc, Unreachable):
                await self._unreachable(chat_id, str(exc))
            elif isinstance(exc, Rejected):
                log.error("%s refused outbox row %s: %s", self.channel, item.id, exc)
                await self._finish(item.id, failed=f"rejected: {exc}"[:500])
            else:  # Transient, or anything unforeseen: try again later
                self.health.failed(self.part, exc)
                if not isinstance(exc, Transient):
                    log.warning("sending outbox row %s failed (%s); will retry", item.id,
                                describe(exc))
                await self._backoff(item, describe(exc))
        except Exception as error:  # the row stays claimed; its lease ends and it goes again
            log.warning("could not record the outcome of outbox row %s (%s)", item.id,
                        describe(error))

    async def _wait_turn(self, chat_id: str) -> None:
        """Wait until this message may go. Messages take the overall rate's turns in the order
        they were claimed (oldest first: after a restart, the messages taken back go first),
        never overtaken by later ones; a chat's own limit is waited out before queueing."""
        group = self.transport.is_group(chat_id)
        while (wait := self.flood.chat_delay(chat_id, self.monotonic(), group)) > 0:
            await asyncio.sleep(wait)
        async with self._turns:  # FIFO
            while True:
                delay = self.flood.delay(chat_id, self.monotonic(), group)
                if delay <= 0:
                    self.flood.sent(chat_id, self.monotonic(), group)
                    return
                await asyncio.sleep(delay)

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
