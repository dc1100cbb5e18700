"""The watchdog: when each receiver and sender last succeeded, and what last went wrong.

A poller that stops getting updates or a sender that stops delivering must not fail silently:
each records its successes and errors here; the watchdog writes them to the `heartbeats` table
(read by `baocao status`) and logs a warning when a part has been stuck for too long."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery import outbox
from bot.storage.database import dialect_insert
from bot.storage.models import Heartbeat, InboxMessage, OutboxMessage

log = logging.getLogger(__name__)
# A long poll returns at least every 25 s (its timeout); a sender with work delivers within
# seconds unless the messenger holds it back.
STALE_POLL = timedelta(seconds=90)
STALE_SEND = timedelta(seconds=120)


@dataclass
class Part:
    """One receiver or sender of this instance."""

    name: str  # "telegram-poll", "telegram-send", "zalo-poll", "telegram-webhook", …
    last_ok: datetime | None = None
    last_error_at: datetime | None = None
    last_error: str = ""
    skipped: int = 0
    busy_since: datetime | None = None  # a sender with messages to deliver, since when
    warned_at: datetime | None = None

    @property
    def kind(self) -> str:
        return self.name.rpartition("-")[2]


class Health:
    def __init__(self, clock: Callable[[], datetime], instance_id: str,
                 started: datetime | None = None) -> None:
        self.clock = clock
        self.instance_id = instance_id
        self.started = started or clock()
        self.parts: dict[str, Part] = {}
        self._dirty = True

    def part(self, name: str) -> Part:
        part = self.parts.get(name)
        if part is None:
            part = self.parts[name] = Part(name)
            self._dirty = True
        return part

    def ok(self, name: str) -> None:
        part = self.part(name)
        part.last_ok = self.clock()
        part.warned_at = None
        self._dirty = True

    def failed(self, name: str, error: BaseException | str) -> None:
        part = self.part(name)
        part.last_error_at = self.clock()
        part.last_error = describe(error)[:500]
        self._dirty = True

    def skipped(self, name: str, count: int = 1) -> None:
        self.part(name).skipped += count
        self._dirty = True

    def set_busy(self, name: str, busy: bool) -> None:
        part = self.part(name)
        if not busy:
            part.busy_since = None
        elif part.busy_since is None:
            part.busy_since = self.clock()

    def stale(self, now: datetime) -> list[tuple[Part, timedelta]]:
        """Parts that should have succeeded by now and have not: a poller silent for
        STALE_POLL, a sender with work silent for STALE_SEND."""
        found = []
        for part in self.parts.values():
            since = now - (part.last_ok or self.started)
            if part.kind == "poll" and since > STALE_POLL:
                found.append((part, since))
            elif part.kind == "send" and part.busy_since is not None:
                since = now - max(part.last_ok or part.busy_since, part.busy_since)
                if since > STALE_SEND:
                    found.append((part, since))
        return found

    def check(self) -> None:
        """Log each stuck part once a minute while it stays stuck."""
        now = self.clock()
        for part, since in self.stale(now):
            if part.warned_at is not None and now - part.warned_at < timedelta(minutes=1):
                continue
            part.warned_at = now
            log.warning("watchdog: %s has not succeeded for %d s (last error: %s)",
                        part.name, since.total_seconds(), part.last_error or "none")

    async def persist(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        if not self._dirty or not self.parts:
            return
        self._dirty = False
        now = self.clock()
        rows = [{"instance_id": self.instance_id, "component": p.name,
                 "last_ok_at": p.last_ok, "last_error_at": p.last_error_at,
                 "last_error": p.last_error, "skipped": p.skipped, "updated_at": now}
                for p in self.parts.values()]
        async with sessions() as session, session.begin():
            stmt = dialect_insert(session)(Heartbeat)
            await session.execute(stmt.on_conflict_do_update(
                index_elements=[Heartbeat.instance_id, Heartbeat.component],
                set_={c: stmt.excluded[c] for c in ("last_ok_at", "last_error_at",
                                                    "last_error", "skipped", "updated_at")}),
                rows)

    async def watch(self, sessions: async_sessionmaker[AsyncSession], stop: asyncio.Event,
                    every: float = 10.0) -> None:
        while not stop.is_set():
            try:
                self.check()
                await self.persist(sessions)
            except Exception as exc:  # the watchdog itself must not die
                log.warning("watchdog could not write heartbeats (%s)", describe(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)
        with contextlib.suppress(Exception):
            self._dirty = True
            await self.persist(sessions)


def describe(error: BaseException | str) -> str:
    """'ClassName: message', so a log line says which kind of failure it was."""
    if isinstance(error, str):
        return error
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


@dataclass(frozen=True)
class StatusLine:
    instance_id: str
    component: str
    last_ok_at: datetime | None
    last_error_at: datetime | None
    last_error: str
    skipped: int
    updated_at: datetime


@dataclass(frozen=True)
class Status:
    parts: list[StatusLine]
    unsent: int
    oldest_unsent: datetime | None
    failed_last_day: int
    inbox: int

    def problems(self, now: datetime) -> list[str]:
        """What a monitor should page about: stuck pollers, undelivered messages."""
        found = []
        newest: dict[str, StatusLine] = {}
        for line in self.parts:  # the most recently active instance per component
            if line.component not in newest or line.updated_at > newest[line.component].updated_at:
                newest[line.component] = line
        for line in newest.values():
            if line.component.endswith("-poll"):
                since = now - (line.last_ok_at or line.updated_at)
                if since > STALE_POLL:
                    problems = f"{line.component}: no successful poll for {duration(since)}"
                    found.append(problems)
        if self.oldest_unsent is not None and now - self.oldest_unsent > STALE_SEND:
            found.append(f"{self.unsent} message(s) waiting, the oldest for "
                         f"{duration(now - self.oldest_unsent)}")
        return found


async def read_status(session: AsyncSession, now: datetime) -> Status:
    parts = [StatusLine(h.instance_id, h.component, h.last_ok_at, h.last_error_at,
                        h.last_error, h.skipped, h.updated_at)
             for h in (await session.scalars(select(Heartbeat).order_by(
                 Heartbeat.instance_id, Heartbeat.component))).all()]
    due = (OutboxMessage.sent_at.is_(None), OutboxMessage.failed.is_(None),
           (OutboxMessage.not_before.is_(None)) | (OutboxMessage.not_before <= now))
    unsent, oldest = (await session.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(*due))).one()
    failed = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.failed.is_not(None), OutboxMessage.failed != outbox.SUPERSEDED,
        OutboxMessage.created_at > now - timedelta(days=1)))
    inbox = await session.scalar(select(func.count()).select_from(InboxMessage))
    if isinstance(oldest, str):  # SQLite may hand an aggregate back as text
        oldest = datetime.fromisoformat(oldest)
    if isinstance(oldest, datetime) and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return Status(parts, unsent or 0, oldest, failed or 0, inbox or 0)


def duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def ago(moment: datetime | None, now: datetime) -> str:
    return "never" if moment is None else f"{duration(now - moment)} ago"
