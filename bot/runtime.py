"""`baocao run`: everything that runs at once — the inbox worker, an outbox sender per
messenger, the messenger receivers, reminders, and one web server for webhooks and file links —
wired from the settings."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import hashlib
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from bot import __version__
from bot.app import App, build_app
from bot.delivery.budget import check_zalo_budget
from bot.delivery.catch_up import CatchUp
from bot.delivery.dispatcher import utc_now
from bot.delivery.flood_control import TELEGRAM_PAID_BROADCAST_RATE, FloodControl
from bot.delivery.health import Health, describe
from bot.delivery.inbox import InboxWorker, release_claims
from bot.delivery.instance import InstanceId, acquire, id_file
from bot.delivery.outbox_sender import OutboxSender
from bot.housekeeping import housekeeping
from bot.log_safety import SafeAccessLogger, mask_secrets
from bot.settings import Settings
from bot.web.file_links import FileLinks
from bot.web.uploads import UploadLinks

log = logging.getLogger(__name__)
HOUSEKEEPING_EVERY = timedelta(hours=1)
# After a (re)start, replies first: the first reminder tick waits until the pollers have handled
# what waited for them (at most CATCH_UP_LIMIT), housekeeping HOUSEKEEPING_AFTER_START more.
CATCH_UP_LIMIT = timedelta(seconds=10)
HOUSEKEEPING_AFTER_START = timedelta(minutes=1)
GRACEFUL = frozenset({"inbox", "tg-sender", "zalo-sender"})  # tasks that end on stop_event


class StartupError(RuntimeError):
    """The bot cannot start (database unreachable, a token refused): one line says why."""


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
    web_runner: web.AppRunner | None = None
    clock: Callable[[], datetime] = utc_now
    zalo_budget: int = 0
    settings: Settings | None = None
    console: Any = None  # bot.web.server.Console when the web console runs
    health: Health = field(default_factory=lambda: Health(utc_now, "local"))
    instance: InstanceId = field(default_factory=lambda: InstanceId("local"))
    links: FileLinks | None = None
    catch_up: CatchUp = field(default_factory=CatchUp)

    async def reminder_tick(self) -> int:
        """Plan and enqueue due reminders now (APScheduler calls this every minute)."""
        started = time.monotonic()
        try:
            count = await self.app.dispatcher.reminders.tick(self.clock())
            if self.zalo_budget:
                count += await check_zalo_budget(self.app.sessions, self.app.catalog,
                                                 self.zalo_budget, self.clock())
        except Exception:
            log.exception("reminder tick failed")
            return 0
        finally:
            release_free_memory()
        log.info("reminder tick: %s queued in %.2f s", count, time.monotonic() - started)
        if count:
            self.wake_senders()
        return count

    async def housekeeping(self) -> None:
        """Forget old processed keys and expired links, delete old exports (every hour)."""
        settings = self.settings or self.app.settings
        await housekeeping(self.app.sessions, Path(settings.files_dir), self.clock(),
                           timedelta(days=settings.dedupe_retention_days),
                           timedelta(days=settings.files_keep_days))

    def wake_senders(self) -> None:
        for sender in self.senders:
            sender.wake()

    async def stop(self, grace: float = 5.0) -> None:
        """Senders and the inbox worker finish the round in hand (so a message sent is also
        marked sent, and not sent again after a restart); pollers are cancelled at once."""
        self.stop_event.set()
        finishing = [t for t in self.tasks if t.get_name() in GRACEFUL and not t.done()]
        if finishing:
            await asyncio.wait(finishing, timeout=grace)
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(TimeoutError, Exception):  # files being read finish first
            await asyncio.wait_for(self.app.dispatcher.settle(), timeout=grace)
        for cleanup in reversed(self.cleanups):
            with contextlib.suppress(Exception):
                await cleanup()
        await self.app.close()
        self.instance.release()


def process_age() -> float:
    """Seconds since this process began (Linux), for the start-up log; 0 if unknown."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return 0.0


def release_free_memory() -> None:
    """A tick reads every contact of the province and frees it again; glibc keeps freed heap
    pages unless asked, so an idle bot would stay at the tick's peak (bench/README.md)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


async def start(settings: Settings, *, clock: Callable[[], datetime] = utc_now) -> Running:
    """Start every channel whose token is set, the reminders, and the web server if needed.
    Raises StartupError (after undoing what was started) when a part cannot start."""
    mask_secrets(secret.get_secret_value() for secret in (
        settings.telegram_bot_token, settings.zalo_bot_token, settings.webhook_secret,
        settings.zalo_webhook_secret, settings.web_secret) if secret is not None)
    try:
        app = await build_app(settings, clock=clock)
    except (OSError, TimeoutError) as exc:
        raise StartupError(f"Cannot open the database {settings.safe_database_url()}: "
                           f"{exc}") from exc
    except Exception as exc:
        from sqlalchemy.exc import SQLAlchemyError

        if not isinstance(exc, SQLAlchemyError):
            raise
        reason = getattr(exc, "orig", None) or exc
        raise StartupError(f"Cannot open the database {settings.safe_database_url()}: "
                           f"{reason}") from exc
    stop = asyncio.Event()
    worker = InboxWorker(app.sessions, app.dispatcher, clock,
                         read_sessions=app.dispatcher.read_sessions)
    try:
        instance = acquire(id_file(settings.database_url, settings.instance_file),
                           settings.instance_id)
    except BaseException:
        await app.close()
        raise
    running = Running(app, stop, worker, clock=clock, zalo_budget=settings.zalo_monthly_budget,
                      settings=settings, health=Health(clock, str(instance)), instance=instance)
    try:
        await _start(running, settings, clock)
    except BaseException:
        await running.stop()
        raise
    log.info("Started %.1f s after the process began; reminders once the pollers have "
             "caught up", process_age())
    return running


async def _start(running: Running, settings: Settings, clock: Callable[[], datetime]) -> None:
    app = running.app
    await release_claims(app.sessions)
    running.tasks.append(asyncio.create_task(running.worker.run(running.stop_event),
                                             name="inbox"))
    running.tasks.append(asyncio.create_task(running.health.watch(app.sessions,
                                                                  running.stop_event),
                                             name="watchdog"))
    app.dispatcher.on_commit.append(running.wake_senders)
    web_app = web.Application()
    webhooks: list[Callable[[], Awaitable[None]]] = []
    links = None
    uploads = None
    if settings.public_url:
        links = FileLinks(app.sessions, settings.public_url, _link_key(settings), clock,
                          timedelta(hours=settings.file_link_hours), app.catalog,
                          settings.timezone)
        links.routes(web_app)
        _start_console(running, settings, clock, web_app)
        running.links = links
        uploads = UploadLinks(links, Path(settings.files_dir), app.catalog,
                              on_upload=app.dispatcher.received_upload)
        uploads.routes(web_app)
    if settings.telegram_bot_token is not None:
        await _start_telegram(running, settings, clock, web_app, webhooks)
    if settings.zalo_bot_token is not None:
        await _start_zalo(running, settings, clock, web_app, webhooks, links, uploads)
    if links is not None or webhooks:
        runner = web.AppRunner(web_app, access_log_class=SafeAccessLogger)
        await runner.setup()
        running.web_runner = runner
        running.cleanups.append(runner.cleanup)
        try:
            await web.TCPSite(runner, settings.webhook_listen, settings.webhook_port).start()
        except OSError as exc:
            raise StartupError(f"Cannot listen on {settings.webhook_listen}:"
                               f"{settings.webhook_port} (BAOCAO_WEBHOOK_LISTEN, "
                               f"BAOCAO_WEBHOOK_PORT): {exc.strerror or exc}") from exc
        for register in webhooks:
            await register()
    running.tasks.append(asyncio.create_task(
        _start_scheduler(running, settings.reminder_tick_seconds), name="scheduler-start"))


def _start_console(running: Running, settings: Settings, clock: Callable[[], datetime],
                   web_app: web.Application) -> None:
    """The coordinators' web console under /web, when it has its secret."""
    if settings.web_secret is None:
        log.warning("Web console off: set BAOCAO_WEB_SECRET to turn it on")
        return
    from bot.web.server import Console

    app = running.app
    console = Console(app.sessions, app.dispatcher.read_sessions, app.catalog,
                      app.dispatcher.forms, app.dispatcher.reminders,
                      settings.web_secret.get_secret_value(), settings.public_url, clock,
                      timedelta(days=settings.late_window_days),
                      on_commit=app.dispatcher.on_commit,
                      telegram_token=settings.telegram_bot_token.get_secret_value()
                      if settings.telegram_bot_token is not None else "")
    console.bot_names, console.report_settings = app.dispatcher.bot_names, \
        app.dispatcher.report_settings
    console.dispatcher = app.dispatcher
    console.mount(web_app)
    running.console = console
    log.info("Web console at %s/web/ (coordinators send /web for a link)",
             settings.public_url.rstrip("/"))


def _link_key(settings: Settings) -> bytes:
    """Download links are signed with a key derived from the bot tokens (never stored)."""
    secret = "".join(t.get_secret_value() for t in (settings.telegram_bot_token,
                                                   settings.zalo_bot_token) if t is not None)
    return hashlib.sha256(f"baocao-file-links:{secret or settings.database_url}".encode()
                          ).digest()


async def _start_telegram(running: Running, settings: Settings, clock: Callable[[], datetime],
                          web_app: web.Application,
                          webhooks: list[Callable[[], Awaitable[None]]]) -> None:
    """Everything Telegram, in one place: aiogram is imported only when Telegram is used."""
    from aiogram.exceptions import TelegramAPIError, TelegramNetworkError

    from bot.channels.telegram.channel import (
        TelegramReceiver,
        make_bot,
        register_commands,
        webhook_secret,
    )
    from bot.channels.telegram.transport import TelegramFiles, TelegramTransport

    app = running.app
    token = settings.telegram_bot_token.get_secret_value()  # type: ignore[union-attr]
    bot = make_bot(token, settings.telegram_api_base)
    running.cleanups.append(bot.session.close)
    try:
        me = await bot.get_me()
    except TelegramNetworkError as exc:
        raise StartupError(f"Cannot reach the Telegram Bot API "
                           f"({settings.telegram_api_base or 'api.telegram.org'}): "
                           f"{exc.message}") from exc
    except TelegramAPIError as exc:
        raise StartupError(f"Telegram refused TELEGRAM_BOT_TOKEN: {exc.message}") from exc
    running.telegram_username = me.username or ""
    app.dispatcher.bot_names["telegram"] = running.telegram_username
    running.tasks.append(asyncio.create_task(  # the menu can wait; the first replies cannot
        _register_commands(lambda: register_commands(bot, app.catalog,
                                                     settings.default_language)),
        name="tg-commands"))
    flood = FloodControl(per_second=settings.telegram_rate_per_second,
                         per_chat_per_second=settings.telegram_rate_per_chat,
                         group_per_minute=settings.telegram_group_per_minute,
                         paid_per_second=(TELEGRAM_PAID_BROADCAST_RATE
                                          if settings.telegram_paid_broadcast else 0.0))
    from bot.web.telegram_webapp import web_app_base

    mini_app = web_app_base(settings.public_url, settings.web_console())
    if settings.web_console() and not mini_app:
        log.warning("Telegram opens Mini Apps only from https: BAOCAO_PUBLIC_URL is not, so "
                    "no Web App or menu button")
    transport = TelegramTransport(bot, app.catalog, mini_app)
    if mini_app:  # those who signed in before it was on get theirs, a bounded batch a start
        from bot.channels.telegram.menu_buttons import queue_missing

        await queue_missing(app.sessions, mini_app, clock())
    app.dispatcher.fetchers["telegram"] = TelegramFiles(bot).fetch
    sender = OutboxSender(app.sessions, transport, clock, app.catalog, flood,
                          lease=timedelta(seconds=settings.outbox_lease_seconds),
                          read_sessions=app.dispatcher.read_sessions,
                          instance_id=str(running.instance), health=running.health)
    running.senders.append(sender)
    running.tasks.append(asyncio.create_task(sender.run(running.stop_event), name="tg-sender"))
    receiver = TelegramReceiver(bot, app.sessions, clock, running.worker.wake,
                                handle_now=running.worker.handle_now, health=running.health)
    if settings.webhook_url:
        secret = webhook_secret(token, settings.webhook_secret.get_secret_value()
                                if settings.webhook_secret else "")
        receiver.add_webhook(web_app, url_path(settings.webhook_url), secret)
        webhooks.append(lambda: receiver.register_webhook(settings.webhook_url, secret))
        log.info("Telegram webhook mode")
    else:
        running.tasks.append(asyncio.create_task(
            receiver.poll(running.stop_event, caught_up=running.catch_up.expect("telegram")),
            name="tg-polling"))
        log.info("Telegram long polling as @%s", running.telegram_username)


async def _register_commands(register: Callable[[], Awaitable[None]]) -> None:
    """The command menu, sent once polling runs; a failure costs only the menu."""
    try:
        await register()
    except Exception as exc:
        log.warning("The Telegram command menu could not be set (%s); the commands work all "
                    "the same", describe(exc))


async def _start_zalo(running: Running, settings: Settings, clock: Callable[[], datetime],
                      web_app: web.Application, webhooks: list[Callable[[], Awaitable[None]]],
                      links: FileLinks | None, uploads: UploadLinks | None = None) -> None:
    """Everything Zalo; imported only when Zalo is used."""
    from bot.channels.zalo import channel as zalo_channel
    from bot.channels.zalo.api import ZaloClient, ZaloError
    from bot.channels.zalo.transport import ZaloTransport

    app = running.app
    token = settings.zalo_bot_token.get_secret_value()  # type: ignore[union-attr]
    client = ZaloClient(token, settings.zalo_api_base)
    running.cleanups.append(client.close)
    try:
        await client.call("getMe")
    except ZaloError as exc:
        raise StartupError(f"Zalo refused ZALO_BOT_TOKEN ({exc.code}: "
                           f"{exc.description})") from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise StartupError(f"Cannot reach the Zalo Bot API ({client.base}): "
                           f"{exc or type(exc).__name__}") from exc
    flood = FloodControl(per_second=settings.zalo_rate_per_second,
                         per_chat_per_second=settings.zalo_rate_per_chat)
    transport = ZaloTransport(client, app.catalog, links, uploads)
    sender = OutboxSender(app.sessions, transport, clock, app.catalog, flood,
                          lease=timedelta(seconds=settings.outbox_lease_seconds),
                          read_sessions=app.dispatcher.read_sessions,
                          instance_id=str(running.instance), health=running.health)
    running.senders.append(sender)
    running.tasks.append(asyncio.create_task(sender.run(running.stop_event), name="zalo-sender"))
    receiver = zalo_channel.ZaloReceiver(client, app.sessions, clock, running.worker.wake,
                                         health=running.health)
    if settings.zalo_webhook_url:
        secret = zalo_channel.webhook_secret(
            token, settings.zalo_webhook_secret.get_secret_value()
            if settings.zalo_webhook_secret else "")
        receiver.add_webhook(web_app, url_path(settings.zalo_webhook_url), secret)
        webhooks.append(lambda: client.set_webhook(settings.zalo_webhook_url, secret))
        log.info("Zalo webhook mode")
    else:
        running.tasks.append(asyncio.create_task(receiver.poll(running.stop_event),
                                                 name="zalo-polling"))
        log.info("Zalo long polling")


def url_path(url: str) -> str:
    return urlsplit(url).path or "/"


async def _start_scheduler(running: Running, reminder_every: float) -> None:
    """Reminders are derived from the database each tick; nothing is kept in the scheduler.
    Missed runs are coalesced into one, whatever the delay. The first tick runs once the
    pollers have caught up (replies first), housekeeping a minute later, then every hour."""
    await running.catch_up.wait(CATCH_UP_LIMIT.total_seconds())
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    scheduler = AsyncIOScheduler(timezone="UTC")
    now = datetime.now(UTC)
    if reminder_every > 0:
        scheduler.add_job(running.reminder_tick, "interval", seconds=reminder_every,
                          id="reminders", next_run_time=now,
                          misfire_grace_time=None, coalesce=True, max_instances=1)
    scheduler.add_job(running.housekeeping, "interval",
                      seconds=HOUSEKEEPING_EVERY.total_seconds(), id="housekeeping",
                      next_run_time=now + HOUSEKEEPING_AFTER_START, misfire_grace_time=None,
                      coalesce=True, max_instances=1)
    scheduler.start()

    async def shutdown() -> None:
        scheduler.shutdown(wait=False)

    running.cleanups.append(shutdown)


async def serve_forever(settings: Settings) -> None:
    """`baocao run`: until SIGINT (Ctrl-C) or SIGTERM (systemd, docker stop), then a clean
    stop. Raises StartupError when the bot cannot start."""
    channels = ", ".join(f"{name} ({mode})" for name, mode in settings.channels())
    log.info("baocao %s: starting on %s; database %s", __version__, channels,
             settings.safe_database_url())
    running = await start(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, running.stop_event.set)
    log.info("Ready: running on %s; Ctrl-C (or SIGTERM) stops the bot.", channels)
    try:
        await running.stop_event.wait()
    finally:
        log.info("Stopping…")
        await running.stop()
