"""Running the Telegram side: long polling or a webhook, both storing updates in the inbox
before Telegram is told they arrived; and the command menu in vi and en."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramConflictError, TelegramRetryAfter
from aiogram.methods.base import Response
from aiogram.types import BotCommand, BotCommandScopeDefault, Message, Update, User
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.telegram.session import TelegramSession, UndecodableAnswer
from bot.channels.telegram.translate import received
from bot.delivery import inbox
from bot.delivery.health import Health, describe
from conversations.i18n import Catalog

log = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "callback_query"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
POLL, WEBHOOK = "telegram-poll", "telegram-webhook"  # parts the watchdog follows
BATCH_LIMIT = 100  # getUpdates returns at most this many updates a call
# aiogram validates every answer as Response[<result type>]; pydantic keeps such generic models
# only weakly, so after a garbage collection each is rebuilt (~5 ms, measured in bench/). Keeping
# the ones the bot uses alive avoids that on every call.
PINNED_RESPONSE_MODELS = (Response[Message], Response[list[Update]], Response[bool],
                          Response[User], Response[list[BotCommand]])


def make_bot(token: str, api_base: str = "") -> Bot:
    """A Bot whose session keeps the HTTP status of answers it cannot decode."""
    if api_base:
        return Bot(token, session=TelegramSession(
            api=TelegramAPIServer.from_base(api_base.rstrip("/"))))
    return Bot(token, session=TelegramSession())


def webhook_secret(token: str, configured: str = "") -> str:
    """The configured secret, or one derived from the token: stable across restarts and the
    same for every instance, yet not guessable without the token."""
    if configured:
        return configured
    return hashlib.sha256(f"baocao-webhook:{token}".encode()).hexdigest()


def command_list(catalog: Catalog, language: str, coordinator: bool = False
                 ) -> list[BotCommand]:
    tr = catalog.tr(language)
    extra = [
        BotCommand(command="tonghop", description=tr("Who has reported, and the totals")),
        BotCommand(command="chuanop", description=tr("Units that have not reported")),
        BotCommand(command="xuat", description=tr("Excel file of the reports")),
        BotCommand(command="bieudo", description=tr("Chart of who has reported")),
        BotCommand(command="nhac", description=tr("Remind units that have not reported")),
        BotCommand(command="web", description=tr("Web console: every unit, reports, files")),
        BotCommand(command="kiemtra", description=tr("Figures to check")),
    ]
    return ([] if not coordinator else extra) + [
        BotCommand(command="baocao", description=tr("Fill in or correct a report")),
        BotCommand(command="mau", description=tr("Template of the whole report")),
        BotCommand(command="excel", description=tr("The report as an Excel file")),
        BotCommand(command="trangthai", description=tr("What is due and by when")),
        BotCommand(command="huy", description=tr("Stop the current report")),
        BotCommand(command="trogiup", description=tr("Help")),
        BotCommand(command="ngonngu", description=tr("Language: Tiếng Việt / English")),
    ]


async def register_commands(bot: Bot, catalog: Catalog, default_language: str) -> None:
    scope = BotCommandScopeDefault()
    await bot.set_my_commands(command_list(catalog, default_language), scope=scope)
    for language in ("vi", "en"):
        await bot.set_my_commands(command_list(catalog, language), scope=scope,
                                  language_code=language)


class TelegramReceiver:
    """Turns Telegram updates into stored inbox rows and wakes the worker.

    Nothing stops it: every failure of a poll is logged with its class and retried with
    backoff; an update that cannot be read is logged, counted and confirmed (skipped), so
    Telegram does not offer it again forever."""

    def __init__(self, bot: Bot, sessions: async_sessionmaker[AsyncSession],
                 clock: Callable[[], datetime], wake: Callable[[], None],
                 handle_now: inbox.HandleNow | None = None, health: Health | None = None
                 ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.clock = clock
        self.wake = wake
        self.handle_now = handle_now
        self.health = health or Health(clock, "local")

    async def accept(self, updates: list[Update], *, now_or_store: bool = False) -> None:
        """Store the updates for the inbox worker; or, when polling, handle them at once in
        one transaction (falling back to storing them)."""
        now = self.clock()
        items = [r for r in (received(u, now) for u in updates) if r is not None]
        if now_or_store and self.handle_now is not None and await self.handle_now(items):
            return
        await inbox.store(self.sessions, items, now)
        self.wake()

    async def poll(self, stop: asyncio.Event, timeout: int = 25,
                   caught_up: Callable[[], None] | None = None) -> None:
        """Long polling; an update is confirmed (next offset) only after it is handled or
        stored. Updates that arrive while a batch is handled wait at Telegram and come as
        the next batch. Until what waited at Telegram is handled, it polls without waiting
        and then calls `caught_up` once (reminders wait for that: bot/delivery/catch_up.py)."""
        offset: int | None = None
        failures = 0
        webhook_deleted = False  # deleted only when Telegram says one is set: no extra call
        while not stop.is_set():
            try:
                updates, next_offset = await self._get_updates(
                    offset, timeout if caught_up is None else 0)
                if updates:
                    await self.accept(updates, now_or_store=True)
                if caught_up is not None and len(updates) < BATCH_LIMIT:
                    caught_up()
                    caught_up = None
            except TelegramRetryAfter as exc:
                self.health.failed(POLL, exc)
                await _sleep(stop, exc.retry_after)
                continue
            except TelegramConflictError as exc:
                if webhook_deleted:  # another instance polls: retried with backoff
                    failures = await self._failed(stop, exc, failures)
                    continue
                log.info("A webhook was set (%s); deleting it to poll", exc.message)
                webhook_deleted = True
                try:
                    await self.bot.delete_webhook(drop_pending_updates=False)
                except Exception as error:
                    failures = await self._failed(stop, error, failures)
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # whatever it is, polling goes on
                failures = await self._failed(stop, exc, failures)
                continue
            failures = 0
            self.health.ok(POLL)
            if next_offset is not None:
                offset = next_offset

    async def _failed(self, stop: asyncio.Event, exc: BaseException, failures: int) -> int:
        """Logs a failed poll and waits with backoff; returns the failures so far."""
        failures += 1
        wait = min(30.0, 0.5 * 2 ** min(failures, 6))
        self.health.failed(POLL, exc)
        log.warning("getUpdates failed (%s); retrying in %.1f s", describe(exc), wait)
        await _sleep(stop, wait)
        return failures

    async def _get_updates(self, offset: int | None, timeout: int
                           ) -> tuple[list[Update], int | None]:
        """The updates of one long poll and the offset that confirms them all. An answer
        aiogram's models refuse (an update Telegram sent without a documented field) is read
        update by update: those that cannot be read are logged, counted and skipped."""
        try:
            updates = await self.bot.get_updates(offset=offset, timeout=timeout,
                                                 allowed_updates=ALLOWED_UPDATES,
                                                 request_timeout=timeout + 10)
        except UndecodableAnswer as exc:
            if not exc.delivered or not isinstance(exc.data, dict) or \
                    not isinstance(exc.data.get("result"), list):
                raise
            updates, last = self._readable(exc.data["result"], POLL)
            return updates, last + 1 if last is not None else None
        return updates, updates[-1].update_id + 1 if updates else None

    def _readable(self, raw: list[Any], part: str) -> tuple[list[Update], int | None]:
        updates, last = [], None
        for item in raw:
            update_id = item.get("update_id") if isinstance(item, dict) else None
            if isinstance(update_id, int):
                last = max(last or update_id, update_id)
            try:
                updates.append(Update.model_validate(item, context={"bot": self.bot}))
            except ValueError as error:
                self._skip(part, update_id, error)
        return updates, last

    def _skip(self, part: str, update_id: Any, error: Exception) -> None:
        self.health.skipped(part)
        first = str(error).strip().splitlines()
        log.warning("skipped Telegram update %s that could not be read (%s: %s)", update_id,
                    type(error).__name__, " / ".join(first[:3])[:300])

    def add_webhook(self, app: web.Application, path: str, secret: str) -> None:
        async def handle(request: web.Request) -> web.Response:
            given = request.headers.get(SECRET_HEADER, "")
            if not secrets.compare_digest(given.encode(), secret.encode()):
                return web.Response(status=401, text="Unauthorized")
            body: Any = None
            try:
                body = await request.json()
                update = Update.model_validate(body, context={"bot": self.bot})
            except ValueError as error:
                # Answered 200 all the same: Telegram would otherwise send it again forever.
                self._skip(WEBHOOK, body.get("update_id") if isinstance(body, dict) else None,
                           error)
                return web.Response(text="ok")
            try:
                await self.accept([update])  # one small insert, then 200; handled later
            except Exception as exc:
                self.health.failed(WEBHOOK, exc)
                log.warning("a webhook update could not be stored (%s); Telegram will send it "
                            "again", describe(exc))
                return web.Response(status=503, text="Try again")
            self.health.ok(WEBHOOK)
            return web.Response(text="ok")

        app.router.add_post(path, handle)

    async def register_webhook(self, url: str, secret: str) -> None:
        await self.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)


def url_path(url: str) -> str:
    return urlsplit(url).path or "/"


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
