"""Delivers the outbox: replies first, in order per chat, within the messenger's flood limits,
with retries.

Each message is judged on its own. A row is claimed (a lease, committed, with this instance's
id) before it is sent; its send runs as its own task, and its outcome — sent, retry later,
refused — is recorded for that row alone. The next claim transaction marks the sent ones sent,
renews the leases of sends that take long, and claims the next message of every chat that is
free, so one slow request or one chat's 429 holds only its own chat.

Replies go first. A reply to someone who wrote (priority REPLY) takes the overall rate's next
turn ahead of any bulk message (reminders, digests, nudges: priority BULK), which get the turns
the replies leave; a bulk message to someone filling in a report who wrote in the last
ACTIVE_PAUSE waits until they pause, so a reminder never lands in the middle of the form.

The sender sleeps until something can go: new rows (a commit wakes it), a send finishing, or
the moment the earliest held message becomes free (a chat's flood limit, a retry time, a
lease, a person's pause). It claims about a second of sends ahead per class, no more, so a
claim transaction serves many messages and a crash leaves few claimed.

A crash between sending and marking leaves the row claimed: the restarted instance takes its
own claims back at once and sends those once more (at most one resend per message per crash,
and only for the messages in flight then); another instance's claims wait for their lease.
A question prompt the conversation has moved past (a later turn's message of the chat is
behind it) is never claimed but dropped: answered late, it would land on the question then
current. A question prompt sent keeps the messenger's id, so a reply to it answers it.

The structure, for whoever extends it: `run` loops over `drain_once` (one transaction:
mark, renew, claim) and `_pause`; `_choose` picks what may go now; `_deliver` sends one message
and records its outcome; `Turns` hands out the overall rate's turns.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery import outbox
from bot.delivery.flood_control import FloodControl
from bot.delivery.health import Health, describe
from bot.storage.models import (
    Contact,
    ContactUnit,
    ConversationState,
    Identity,
    OutboxMessage,
    Unit,
)
from conversations.i18n import Catalog
from conversations.prompts import QUESTION_PROMPT
from conversations.session import in_a_form

log = logging.getLogger(__name__)
NOT_MESSAGES = frozenset({"callback_answer", "menu"})  # no per-chat message limit applies
# A bulk message to someone filling in a report who wrote within this waits until they pause.
ACTIVE_PAUSE = timedelta(minutes=2)
# Rows another process wrote (a CLI's `remind now`, another instance) are looked for this often.
IDLE_POLL = 2.0
# Seconds of sends claimed ahead per class: enough to keep the rate, few to resend after a crash.
HORIZON = 1.0
# Sent rows are written down within this, even when nothing else calls for a transaction.
MARK_WITHIN = 0.2
# The soonest a held message is looked at again (many chats held a few ms apart cost one look).
MIN_RECHECK = 0.05
PAGE = 250  # queue rows read per page; more pages only when too few of them may go


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

    async def send(self, chat_id: str, payload: dict[str, Any]) -> str | None:
        """Returns the messenger's id of the message sent, when it gives one."""


class Turns:
    """The overall rate's turns, one holder at a time: replies before bulk messages, each in
    the order they were claimed (after a restart, the messages taken back first)."""

    def __init__(self) -> None:
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._held = False

    @contextlib.asynccontextmanager
    async def __call__(self, priority: int, order: int) -> AsyncIterator[None]:
        await self._acquire(priority, order)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, priority: int, order: int) -> None:
        if not self._held and not self._waiting:
            self._held = True
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, order, turn))
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release()  # handed the turn just as it was cancelled: pass it on
            raise

    def _release(self) -> None:
        while self._waiting:
            _priority, _order, turn = heapq.heappop(self._waiting)
            if not turn.done():
                turn.set_result(None)
                return
        self._held = False

    @property
    def waiting(self) -> int:
        return sum(not turn.done() for *_rest, turn in self._waiting)


class OutboxSender:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], transport: Transport,
                 clock: Callable[[], datetime], catalog: Catalog,
                 flood: FloodControl | None = None, *, lease: timedelta = timedelta(seconds=30),
                 max_attempts: int = 12, concurrency: int = 60,
                 monotonic: Callable[[], float] = time.monotonic,
                 read_sessions: async_sessionmaker[AsyncSession] | None = None,
                 instance_id: str = "local", health: Health | None = None,
                 active_pause: timedelta = ACTIVE_PAUSE) -> None:
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
        self.active_pause = active_pause
        self.part = f"{self.channel}-send"
        # About a second of sends at the overall rate, claimed ahead per class (with paid
        # broadcast, bulk messages have a faster rate of their own).
        rate = max(self.flood.per_second, self.flood.paid_per_second)
        self.ahead = max(4, min(concurrency, math.ceil(rate * HORIZON)))
        self._wake = asyncio.Event()  # new messages were queued
        self._room = asyncio.Event()  # sends finished: more may be claimed
        self._turns = Turns()
        self._order = itertools.count()  # claim order, for the turns
        self._in_flight: dict[int, tuple[str, int]] = {}  # row id → (chat id, priority)
        self._claimed_at: dict[int, float] = {}  # row id → when claimed or renewed (monotonic)
        self._tasks: set[asyncio.Task] = set()
        self._unmarked: list[int] = []  # sent, written down by the next claim transaction
        self._message_ids: dict[int, str] = {}  # row id → messenger id, of prompts sent
        # The last look found replies / bulk messages that may go but were not claimed.
        self._left_replies = False
        self._left_bulk = False
        self._chats_next: set[str] = set()  # chats whose next message waits for a send
        self._poll_at = 0.0  # monotonic time of the next look for rows written elsewhere
        self._next_look = math.inf  # monotonic time a held message may be claimable
        self.sent_count = 0
        self.drains = 0

    def wake(self) -> None:
        self._wake.set()

    # ------------------------------------------------------------------ the loop

    async def run(self, stop: asyncio.Event, idle_poll: float = IDLE_POLL) -> None:
        try:
            await self.take_back_own_claims()
        except Exception as exc:
            log.warning("%s sender could not take back its claims (%s)", self.channel,
                        describe(exc))
        try:
            look = True
            while not stop.is_set():
                try:
                    if look:
                        self._wake.clear()
                        self._room.clear()
                        self._poll_at = self.monotonic() + idle_poll
                        await self.drain_once()
                    else:  # only sent rows to write down: no need to read the queue
                        await self.mark_sent()
                except Exception as exc:  # the database is away: try again shortly
                    self.health.failed(self.part, exc)
                    log.exception("outbox sender for %s failed; retrying", self.channel)
                    self._next_look = self.monotonic() + 1.0
                look = await self._pause(stop)
        finally:
            await self._finish_in_flight()
            with contextlib.suppress(Exception):
                await self.mark_sent()

    def _replies_in_flight(self) -> int:
        return sum(priority == outbox.REPLY for _chat, priority in self._in_flight.values())

    def _worth_a_look(self) -> bool:
        """New rows may hold a reply that can be claimed now: not while a second of replies
        is already claimed (the new one would wait behind them anyway)."""
        return self._replies_in_flight() <= self.ahead // 2

    async def _pause(self, stop: asyncio.Event) -> bool:
        """Sleep until new rows are worth a look, sends free room for more, a held message
        may go, sent rows are due to be written down, or the idle poll comes (another process
        may have written meanwhile). Returns whether the queue is worth a look (False: only
        sent rows are due to be written down)."""
        now = self.monotonic()
        look_at = min(self._poll_at, max(self._next_look, now + MIN_RECHECK))
        until = min(look_at, now + MARK_WITHIN) if self._unmarked else look_at
        while not stop.is_set():
            if self._room.is_set() or (self._wake.is_set() and self._worth_a_look()):
                return True
            remaining = until - self.monotonic()
            if remaining <= 0:
                return self.monotonic() >= look_at
            waiters = [asyncio.ensure_future(self._room.wait()),
                       asyncio.ensure_future(stop.wait())]
            if not self._wake.is_set():
                waiters.append(asyncio.ensure_future(self._wake.wait()))
            await asyncio.wait(waiters, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
            if self._wake.is_set() and not self._worth_a_look():
                # Remembered for the next look; wait for room (or the timer) meanwhile.
                await self._wait_room_or(stop, until)
                return self._room.is_set() or self.monotonic() >= look_at
        return True

    async def _wait_room_or(self, stop: asyncio.Event, until: float) -> None:
        remaining = until - self.monotonic()
        if remaining <= 0 or self._room.is_set():
            return
        waiters = [asyncio.ensure_future(self._room.wait()), asyncio.ensure_future(stop.wait())]
        await asyncio.wait(waiters, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
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
            # A prompt's messenger id: a reply to that message answers the question it asked.
            message_ids = [{"id": row_id, "sent_message_id": self._message_ids[row_id]}
                           for row_id in ids if row_id in self._message_ids]
            try:
                await session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                                      .values(claimed_until=None, sent_at=self.clock()))
                if message_ids:
                    await session.execute(update(OutboxMessage), message_ids)
            except BaseException:
                self._unmarked = ids + self._unmarked
                raise
            for row_id in ids:
                self._message_ids.pop(row_id, None)
        return ids

    async def drain_once(self, limit: int = 2000) -> int:
        """One transaction: what was sent is marked sent, long sends keep their lease, and the
        next message of every chat that may receive one now is claimed — replies up to a
        second of sends ahead, bulk messages up to what the replies leave of that second;
        each is then sent by its own task. Returns how many were claimed."""
        now = self.clock()
        marked: list[int] = []
        self.drains += 1
        try:
            async with self.sessions() as session, session.begin():
                marked = await self._mark(session)
                await self._renew(session, now)
                chosen, waiting = await self._choose(session, now, limit)
                claimed = await self._claim(session, chosen, now) if chosen else []
        except BaseException:
            self._unmarked = marked + self._unmarked  # not committed: next time
            raise
        for item in claimed:
            self._start(item)
        # With messages waiting, a sender that never succeeds is stuck (the watchdog says so).
        self.health.set_busy(self.part, waiting or bool(self._in_flight))
        return len(claimed)

    def _start(self, item: outbox.Pending) -> None:
        self._in_flight[item.id] = (item.chat_id, item.priority)
        self._claimed_at[item.id] = self.monotonic()
        order = next(self._order)
        task = asyncio.create_task(self._deliver(item, order), name=f"send-{item.id}")
        self._tasks.add(task)

        def done(finished: asyncio.Task) -> None:
            self._tasks.discard(finished)
            self._in_flight.pop(item.id, None)
            self._claimed_at.pop(item.id, None)
            # A finished send is worth a look only when its chat has a next message, or it
            # freed room for what was left over: half the replies' second, or half the whole
            # second for bulk. (Not at every send: a blast paced at 30/s would then cost a
            # claim transaction per message, and a lone reply two.)
            # New rows that waited for reply room count as left over replies.
            left_replies = self._left_replies or self._wake.is_set()
            if item.chat_id in self._chats_next or (
                    left_replies and self._replies_in_flight() <= self.ahead // 2) or (
                    self._left_bulk and len(self._in_flight) <= self.ahead // 2):
                self._room.set()

        task.add_done_callback(done)

    async def _choose(self, session: AsyncSession, now: datetime, limit: int
                      ) -> tuple[list[int], bool]:
        """The rows to claim now, and whether anything waits at all. Reads the queue in the
        order it is served, a page at a time, until enough may go: the first message of each
        chat that nothing holds (a send under way, here or elsewhere; a retry time; the chat's
        flood limit; for bulk, the person writing right now)."""
        replies = max(0, min(self.ahead - self._replies_in_flight(), self._free()))
        bulk = max(0, min(self.ahead - len(self._in_flight), self._free()))
        busy = {chat for chat, _priority in self._in_flight.values()}
        seen: set[str] = set()
        chats_next: set[str] = set()
        mono = self.monotonic()
        next_look = math.inf
        picked: list[outbox.Head] = []
        bulk_heads: list[outbox.Head] = []
        waiting = False
        left_replies = left_bulk = False
        after: tuple[int, int] | None = None
        read = 0
        if replies <= 0 and bulk <= 0:  # no room: nothing read, more may wait
            self._left_replies = self._left_bulk = True
            self._chats_next = busy
            self._next_look = math.inf
            return [], True
        while read < limit:
            page = await outbox.queue_heads(session, self.channel, min(PAGE, limit - read),
                                            after)
            read += len(page)
            waiting = waiting or bool(page)
            for head in page:
                if head.chat_id in seen:
                    continue
                seen.add(head.chat_id)
                if head.held_until is not None and head.held_until > now:
                    next_look = min(next_look, mono + (head.held_until - now).total_seconds())
                    continue
                if head.chat_id in busy:
                    chats_next.add(head.chat_id)  # its send finishing calls for a look
                    continue
                delay = self.flood.chat_delay(head.chat_id, mono,
                                              self.transport.is_group(head.chat_id))
                if delay >= MIN_RECHECK:
                    next_look = min(next_look, mono + delay)
                    continue
                if head.priority == outbox.REPLY:
                    if replies > 0:
                        picked.append(head)
                        replies -= 1
                    else:
                        left_replies = True
                elif len(bulk_heads) < 2 * bulk + 8:
                    bulk_heads.append(head)
                else:
                    left_bulk = True
            # The queue is read replies first: once a page ends in bulk, every reply was seen,
            # and enough bulk heads (twice the room, the rest may turn out to be writing) end
            # the read; a blast of 20,000 rows is not read through at every claim.
            if len(page) < PAGE or (page[-1].priority != outbox.REPLY
                                    and len(bulk_heads) >= min(2 * bulk + 8, PAGE)):
                break
            if replies <= 0 and len(self._in_flight) + len(picked) >= self.ahead:
                # No room left for anything this round: the rest waits (a send finishing
                # calls for the next look); a backlog of replies is not read through.
                left_replies = True
                break
            after = (page[-1].priority, page[-1].id)
        # Bulk messages get what the replies leave of the second claimed ahead.
        bulk = min(bulk, self.ahead - len(self._in_flight) - len(picked))
        if bulk_heads:
            if bulk > 0:
                active = await self._writing(session, [h.chat_id for h in bulk_heads], now)
                for head in bulk_heads:
                    last = active.get(head.chat_id)
                    if last is not None:
                        free_at = last + self.active_pause
                        next_look = min(next_look, mono + (free_at - now).total_seconds())
                    elif bulk > 0:
                        picked.append(head)
                        bulk -= 1
                    else:
                        left_bulk = True
            else:
                left_bulk = True
        self._left_replies, self._left_bulk = left_replies, left_bulk
        self._chats_next = chats_next
        self._next_look = next_look
        return [head.id for head in picked], waiting

    async def _writing(self, session: AsyncSession, chats: list[str], now: datetime
                       ) -> dict[str, datetime]:
        """Of these chats, those whose person is filling in a report and wrote within the
        pause, and when they last wrote."""
        rows = (await session.execute(
            select(Identity.chat_id, ConversationState.updated_at, ConversationState.state)
            .join(ConversationState, ConversationState.identity_id == Identity.id)
            .where(Identity.channel == self.channel, Identity.chat_id.in_(chats),
                   ConversationState.updated_at > now - self.active_pause))).all()
        found: dict[str, datetime] = {}
        for chat, last, state in rows:
            if in_a_form(state) and (chat not in found or last > found[chat]):
                found[chat] = last
        return found

    async def _renew(self, session: AsyncSession, now: datetime) -> None:
        """Sends under way keep their claim however long the messenger takes to answer: those
        claimed a third of a lease ago are renewed."""
        due = self.monotonic() - self.lease.total_seconds() / 3
        old = [row_id for row_id, at in self._claimed_at.items() if at <= due]
        if old:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(old),
                       OutboxMessage.claimed_by == self.instance_id,
                       OutboxMessage.sent_at.is_(None))
                .values(claimed_until=now + self.lease))
            mono = self.monotonic()
            for row_id in old:
                self._claimed_at[row_id] = mono

    async def _claim(self, session: AsyncSession, ids: list[int], now: datetime
                     ) -> list[outbox.Pending]:
        """Claim rows for `lease`; returns those this sender got (another instance may hold
        some), with their payloads, in the order asked. A prompt the conversation has moved
        past (a later turn's message is queued or sent behind it) is not claimed but dropped:
        after a restart its resend would be answered as if current."""
        free = (OutboxMessage.id.in_(ids), OutboxMessage.sent_at.is_(None),
                OutboxMessage.failed.is_(None),
                (OutboxMessage.claimed_until.is_(None)) | (OutboxMessage.claimed_until <= now))
        result = await session.execute(
            update(OutboxMessage)
            .where(*free, ~outbox.stale_prompt())
            .values(claimed_until=now + self.lease, claimed_by=self.instance_id,
                    attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage.id, OutboxMessage.chat_id, OutboxMessage.payload,
                       OutboxMessage.attempts, OutboxMessage.priority, OutboxMessage.asks))
        got = {row_id: outbox.Pending(row_id, self.channel, chat_id, payload, attempts - 1,
                                      priority, asks)
               for row_id, chat_id, payload, attempts, priority, asks in result.all()}
        if len(got) < len(ids):  # stale prompts among the rest: not sent
            await self._drop_stale(session, free)
        return [got[row_id] for row_id in ids if row_id in got]

    async def _drop_stale(self, session: AsyncSession, free: tuple[Any, ...]) -> None:
        """Question prompts the conversation has moved past: dropped; what they said before
        the question (the acknowledgement of an answer) is kept as a message of its own."""
        stale = (await session.execute(select(OutboxMessage.id, OutboxMessage.payload)
                                       .where(*free, outbox.stale_prompt()))).all()
        if not stale:
            return
        kept = [{"id": row_id, "payload": lead, "asks": None} for row_id, payload in stale
                if (lead := outbox.lead_only(payload)) is not None]
        dropped = [row_id for row_id, payload in stale if outbox.lead_only(payload) is None]
        if kept:
            await session.execute(update(OutboxMessage), kept)
        if dropped:
            await session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(dropped))
                                  .values(failed=outbox.SUPERSEDED, claimed_until=None))
        log.info("%s sender dropped %s prompt(s) the conversation had moved past",
                 self.channel, len(stale))
        self._room.set()  # those chats' next messages (and the kept leads) may go at once

    # ------------------------------------------------------------------ one message

    async def _deliver(self, item: outbox.Pending, order: int = 0) -> None:
        """Send one claimed message and record its own outcome; never raises."""
        chat_id = item.chat_id
        payload = item.payload
        try:
            if payload.get("kind") not in NOT_MESSAGES:
                # Bulk messages go as paid broadcast when it is on (Telegram: up to 1,000 a
                # second, for a fee each); replies stay within the free rate.
                paid = (self.flood.paid_per_second > 0 and item.priority == outbox.BULK
                        and payload.get("kind", "message") == "message")
                if paid:
                    payload = {**payload, "paid_broadcast": True}
                # Timed right before the request, so the database's own delays never bunch
                # requests up on the messenger's side.
                await self._wait_turn(chat_id, item.priority, order, paid)
            sent = await self.transport.send(chat_id, payload)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._failed(item, exc)
            return
        if sent is not None and item.asks is not None and item.asks.startswith(QUESTION_PROMPT):
            self._message_ids[item.id] = str(sent)  # a reply to it answers its question
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

    async def _wait_turn(self, chat_id: str, priority: int = outbox.REPLY,
                         order: int = 0, paid: bool = False) -> None:
        """Sleep until this message may go. Replies take the overall rate's turns before bulk
        messages, each in the order claimed (after a restart, the messages taken back go
        first); a chat's own limit is waited out before queueing."""
        group = self.transport.is_group(chat_id)
        while (wait := self.flood.chat_delay(chat_id, self.monotonic(), group)) > 0:
            await asyncio.sleep(wait)
        async with self._turns(priority, order):
            while True:
                delay = self.flood.delay(chat_id, self.monotonic(), group, paid)
                if delay <= 0:
                    self.flood.sent(chat_id, self.monotonic(), group, paid)
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
