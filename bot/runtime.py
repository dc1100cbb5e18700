"""`baocao run`: everything that runs at once — the inbox worker, the outbox senders and the
messenger receivers — wired from the settings."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import App, build_app
from bot.dispatcher import utc_now
from bot.flood_control import FloodControl
from bot.inbox import InboxWorker, release_claims
from bot.outbox_sender import OutboxSender
from bot.settings import Settings
from bot.telegram.channel import (
    TelegramReceiver,
    make_bot,
    register_commands,
    start_webhook,
    webhook_secret,
)
from bot.telegram.transport import TelegramTransport

log = logging.getLogger(__name__)


@dataclass
class Running:
    """The running bot; tests reach into it, `stop()` ends it cleanly."""

    app: App
    stop_event: asyncio.Event
    worker: InboxWorker
    senders: list[OutboxSender] = field(default_factory=list)
    tasks: list[asyncio.Task] = field(default_factory=list)
    cleanups: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    telegram_username: str = ""
    webhook_runner: web.AppRunner | None = None
    clock: Callable[[], datetime] = utc_now

    async def reminder_tick(self) -> int:
        """Plan and enqueue due reminders now (APScheduler calls this every minute)."""
        try:
            count = await self.app.dispatcher.reminders.tick(self.clock())
        except Exception:
            log.exception("reminder tick failed")
            return 0
        if count:
            for sender in self.senders:
                sender.wake()
        return count

    async def stop(self) -> None:
        self.stop_event.set()
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for cleanup in reversed(self.cleanups):
            with contextlib.suppress(Exception):
                await cleanup()
        await self.app.close()


async def start(settings: Settings, *, clock: Callable[[], datetime] = utc_now) -> Running:
    """Start the messenger channels configured in `settings` (Telegram when its token is set)."""
    app = await build_app(settings, clock=clock)
    stop = asyncio.Event()
    worker = InboxWorker(app.sessions, app.dispatcher, clock)
    await release_claims(app.sessions)
    running = Running(app, stop, worker, clock=clock)
    running.tasks.append(asyncio.create_task(worker.run(stop), name="inbox"))
    if settings.telegram_bot_token is not None:
        await _start_telegram(running, settings, clock)
    if settings.reminder_tick_seconds > 0:
        _start_reminders(running, settings.reminder_tick_seconds)
    return running


def _start_reminders(running: Running, every: float) -> None:
    """Reminders are derived from the database each tick; nothing is kept in the scheduler.
    Missed runs are coalesced into one, whatever the delay."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(running.reminder_tick, "interval", seconds=every, id="reminders",
                      next_run_time=datetime.now(UTC), misfire_grace_time=None,
                      coalesce=True, max_instances=1)
    scheduler.start()

    async def shutdown() -> None:
        scheduler.shutdown(wait=False)

    running.cleanups.append(shutdown)


async def _start_telegram(running: Running, settings: Settings,
                          clock: Callable[[], datetime]) -> None:
    app = running.app
    token = settings.telegram_bot_token.get_secret_value()  # type: ignore[union-attr]
    bot = make_bot(token, settings.telegram_api_base)
    running.cleanups.append(bot.session.close)
    me = await bot.get_me()
    running.telegram_username = me.username or ""
    await register_commands(bot, app.catalog, settings.default_language)
    flood = FloodControl(per_second=settings.telegram_rate_per_second,
                         per_chat_per_second=settings.telegram_rate_per_chat,
                         group_per_minute=settings.telegram_group_per_minute)
    transport = TelegramTransport(bot, app.catalog)
    sender = OutboxSender(app.sessions, transport, clock, app.catalog, flood,
                          lease=timedelta(seconds=settings.outbox_lease_seconds))
    running.senders.append(sender)
    app.dispatcher.on_commit.append(sender.wake)
    running.tasks.append(asyncio.create_task(sender.run(running.stop_event), name="tg-sender"))
    receiver = TelegramReceiver(bot, app.sessions, clock, running.worker.wake)
    if settings.webhook_url:
        secret = webhook_secret(token, settings.webhook_secret.get_secret_value()
                                if settings.webhook_secret else "")
        runner = await start_webhook(receiver, settings.webhook_url, secret,
                                     settings.webhook_listen, settings.webhook_port)
        running.webhook_runner = runner
        running.cleanups.append(runner.cleanup)
        log.info("Telegram webhook mode on %s:%s", settings.webhook_listen,
                 settings.webhook_port)
    else:
        running.tasks.append(asyncio.create_task(receiver.poll(running.stop_event),
                                                 name="tg-polling"))
        log.info("Telegram long polling as @%s", running.telegram_username)


async def serve_forever(settings: Settings) -> None:
    running = await start(settings)
    try:
        await running.stop_event.wait()
    finally:
        await running.stop()
