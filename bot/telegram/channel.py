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
from urllib.parse import urlsplit

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramRetryAfter
from aiogram.methods.base import Response
from aiogram.types import BotCommand, BotCommandScopeDefault, Message, Update, User
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import inbox
from bot.telegram.translate import received
from conversations.i18n import Catalog

log = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "callback_query"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# aiogram validates every answer as Response[<result type>]; pydantic keeps such generic models
# only weakly, so after a garbage collection each is rebuilt (~5 ms, measured in bench/). Keeping
# the ones the bot uses alive avoids that on every call.
PINNED_RESPONSE_MODELS = (Response[Message], Response[list[Update]], Response[bool],
                          Response[User], Response[list[BotCommand]])


def make_bot(token: str, api_base: str = "") -> Bot:
    if api_base:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_base.rstrip("/")))
        return Bot(token, session=session)
    return Bot(token)


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
    """Turns Telegram updates into stored inbox rows and wakes the worker."""

    def __init__(self, bot: Bot, sessions: async_sessionmaker[AsyncSession],
                 clock: Callable[[], datetime], wake: Callable[[], None],
                 handle_now: inbox.HandleNow | None = None) -> None:
        self.bot = bot
        self.sessions = sessions
        self.clock = clock
        self.wake = wake
        self.handle_now = handle_now

    async def accept(self, updates: list[Update], *, now_or_store: bool = False) -> None:
        """Store the updates for the inbox worker; or, when polling, handle them at once in
        one transaction (falling back to storing them)."""
        now = self.clock()
        items = [r for r in (received(u, now) for u in updates) if r is not None]
        if now_or_store and self.handle_now is not None and await self.handle_now(items):
            return
        await inbox.store(self.sessions, items, now)
        self.wake()

    async def poll(self, stop: asyncio.Event, timeout: int = 25) -> None:
        """Long polling; an update is confirmed (next offset) only after it is handled or
        stored. Updates that arrive while a batch is handled wait at Telegram and come as
        the next batch."""
        await self.bot.delete_webhook(drop_pending_updates=False)
        offset: int | None = None
        failures = 0
        while not stop.is_set():
            try:
                updates = await self.bot.get_updates(offset=offset, timeout=timeout,
                                                     allowed_updates=ALLOWED_UPDATES,
                                                     request_timeout=timeout + 10)
            except TelegramRetryAfter as exc:
                await _sleep(stop, exc.retry_after)
                continue
            except (TelegramNetworkError, TelegramAPIError, OSError) as exc:
                failures += 1
                log.warning("getUpdates failed (%s); retrying", exc)
                await _sleep(stop, min(30.0, 0.5 * 2 ** min(failures, 6)))
                continue
            failures = 0
            if updates:
                await self.accept(updates, now_or_store=True)
                offset = updates[-1].update_id + 1

    def add_webhook(self, app: web.Application, path: str, secret: str) -> None:
        async def handle(request: web.Request) -> web.Response:
            given = request.headers.get(SECRET_HEADER, "")
            if not secrets.compare_digest(given.encode(), secret.encode()):
                return web.Response(status=401, text="Unauthorized")
            try:
                update = Update.model_validate(await request.json(), context={"bot": self.bot})
            except ValueError:
                return web.Response(status=400, text="Bad Request")
            await self.accept([update])  # one small insert, then 200; handling happens later
            return web.Response(text="ok")

        app.router.add_post(path, handle)

    async def register_webhook(self, url: str, secret: str) -> None:
        await self.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)


def url_path(url: str) -> str:
    return urlsplit(url).path or "/"


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
