"""Outbox payload → Bot API call through aiogram, with its errors mapped to delivery outcomes."""

from __future__ import annotations

import base64
import functools
import logging
from pathlib import Path
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    FSInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    MenuButtonWebApp,
    ReplyKeyboardMarkup,
    WebAppInfo,
)

from bot.channels.telegram.session import UndecodableAnswer
from bot.delivery.outbox_sender import Rejected, RetryLater, Transient, Unreachable
from bot.web.telegram_webapp import web_app_url
from conversations.events import WEB_APP
from conversations.i18n import Catalog

log = logging.getLogger(__name__)
CALLBACK_DATA_LIMIT = 64
HARMLESS = ("message is not modified", "query is too old", "query id is invalid")


def keyboard(buttons: list[list[Any]], web_app_base: str = "", group: bool = False
             ) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    """Answers one or two to a row, shortcuts together in the last row; the phone-sharing
    button is a reply keyboard, as Telegram requires. A Web App button opens the page under
    `web_app_base` (the console's https address); without one, or in a group (Telegram
    refuses web_app buttons there), it is left out."""
    kept = tuple((str(t), str(label), bool(s), str(kind[0]) if kind else "press")
                 for t, label, s, *kind in buttons
                 if not kind or kind[0] != WEB_APP or (web_app_base and not group))
    if not kept:
        return None
    return _keyboard(kept, web_app_base)


@functools.lru_cache(maxsize=2048)  # everyone at question 4.2 gets the same keyboard
def _keyboard(buttons: tuple[tuple[str, str, bool, str], ...], web_app_base: str
              ) -> InlineKeyboardMarkup | ReplyKeyboardMarkup:
    if any(token == "share_phone" for token, _label, _s, _k in buttons):
        label = next(label for token, label, _s, _k in buttons if token == "share_phone")
        return ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text=label, request_contact=True)]],
            resize_keyboard=True, one_time_keyboard=True)

    def button(token: str, label: str, kind: str) -> InlineKeyboardButton:
        if kind == WEB_APP:
            return InlineKeyboardButton(text=label, web_app=WebAppInfo(
                url=web_app_url(web_app_base, token)))
        return InlineKeyboardButton(text=label, callback_data=_data(token))

    answers = [button(token, label, kind)
               for token, label, shortcut, kind in buttons if not shortcut]
    shortcuts = [button(token, label, kind)
                 for token, label, shortcut, kind in buttons if shortcut]
    rows: list[list[InlineKeyboardButton]] = []
    short = all(len(b.text) <= 16 for b in answers)
    step = 2 if short else 1
    for i in range(0, len(answers), step):
        rows.append(answers[i:i + step])
    if shortcuts:
        rows.append(shortcuts)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _data(token: str) -> str:
    if len(token.encode()) > CALLBACK_DATA_LIMIT:
        raise Rejected(f"button data over {CALLBACK_DATA_LIMIT} bytes: {token!r}")
    return token


class TelegramTransport:
    channel = "telegram"

    def __init__(self, bot: Bot, catalog: Catalog, web_app_base: str = "") -> None:
        self.bot = bot
        self.catalog = catalog
        # The console's address when Mini Apps can open it (https, console on); "" otherwise.
        self.web_app_base = web_app_base
        # Command menus by (language, coordinator): built once, as pydantic models cost about
        # 2 ms a menu to make, a third of a sign-in's CPU (bench/README.md).
        self._menus: dict[tuple[str, bool], list[BotCommand]] = {}

    def is_group(self, chat_id: str) -> bool:
        return chat_id.startswith("-")

    async def send(self, chat_id: str, payload: dict[str, Any]) -> str | None:
        """Returns the message_id of a text message sent (a reply to it is matched by it)."""
        try:
            return await self._call(int(chat_id), payload)
        except TelegramRetryAfter as exc:
            raise RetryLater(float(exc.retry_after)) from exc
        except TelegramForbiddenError as exc:
            raise Unreachable(exc.message) from exc
        except TelegramBadRequest as exc:
            if any(h in exc.message.lower() for h in HARMLESS):
                return None
            raise Rejected(exc.message) from exc
        except UndecodableAnswer as exc:
            if exc.delivered:  # Telegram did it; only its answer was mangled on the way
                log.warning("chat %s: %s; counted as sent", chat_id, exc)
                return None
            raise Transient(str(exc)) from exc
        except (TimeoutError, TelegramServerError, TelegramNetworkError,
                aiohttp.ClientError) as exc:
            raise Transient(str(exc)) from exc
        except TelegramAPIError as exc:
            raise Transient(exc.message) from exc

    async def _call(self, chat_id: int, payload: dict[str, Any]) -> str | None:
        kind = payload.get("kind", "message")
        if kind == "message":
            # Paid broadcast (the sender marks bulk messages when it is on): Telegram lets
            # these go beyond 30 a second, for 0.1 Star each beyond the free rate.
            buttons = payload.get("buttons") or []
            markup = keyboard(buttons, self.web_app_base, self.is_group(str(chat_id)))
            paid = payload.get("paid_broadcast") or None
            try:
                sent = await self.bot.send_message(chat_id, payload["text"],
                                                   reply_markup=markup,
                                                   allow_paid_broadcast=paid)
            except TelegramBadRequest as exc:
                plain = keyboard(buttons)  # never lose a reply over the Web App button
                if plain == markup or any(h in exc.message.lower() for h in HARMLESS):
                    raise
                log.warning("chat %s: refused with its Web App button (%s); sent without it",
                            chat_id, exc.message)
                sent = await self.bot.send_message(chat_id, payload["text"],
                                                   reply_markup=plain,
                                                   allow_paid_broadcast=paid)
            return str(sent.message_id)
        if kind == "edit":
            await self.bot.edit_message_text(text=payload["text"], chat_id=chat_id,
                                             message_id=int(payload["message_id"]))
        elif kind == "callback_answer":
            await self.bot.answer_callback_query(payload["callback_id"],
                                                 text=payload.get("text") or None)
        elif kind == "menu":
            coordinator = payload.get("role") in ("coordinator", "admin")
            await self.bot.set_my_commands(self._menu(payload.get("language", "vi"), coordinator),
                                           scope=BotCommandScopeChat(chat_id=chat_id))
            if self.web_app_base and not self.is_group(str(chat_id)):
                await self.bot.set_chat_menu_button(chat_id=chat_id, menu_button=self._menu_button(
                    payload.get("language", "vi"), coordinator))
        elif kind in ("document", "photo"):
            source = _file(payload)
            caption = payload.get("caption") or None
            if kind == "document":
                await self.bot.send_document(chat_id, source, caption=caption)
            else:
                await self.bot.send_photo(chat_id, source, caption=caption)
        else:
            raise Rejected(f"unknown payload kind {kind!r}")
        return None


    def _menu_button(self, language: str, coordinator: bool) -> MenuButtonWebApp:
        """The button beside the text box: the console for a coordinator, the form for a
        reporter, opened as a Mini App that signs them in by its initData."""
        tr = self.catalog.tr(language)
        page, text = ("console", tr("Console")) if coordinator else ("form", tr("Open the form"))
        return MenuButtonWebApp(text=text, web_app=WebAppInfo(
            url=web_app_url(self.web_app_base, page)))

    def _menu(self, language: str, coordinator: bool) -> list[BotCommand]:
        from bot.channels.telegram.channel import command_list

        key = (language, coordinator)
        if key not in self._menus:
            self._menus[key] = command_list(self.catalog, language, coordinator=coordinator)
        return self._menus[key]


def _file(payload: dict[str, Any]) -> Any:
    if payload.get("url"):
        return payload["url"]
    if payload.get("path"):
        return FSInputFile(Path(payload["path"]), filename=payload.get("filename"))
    data = base64.b64decode(payload["data_b64"])
    return BufferedInputFile(data, filename=payload.get("filename") or "file")


class TelegramFiles:
    """Downloads a file a person sent: getFile (Telegram refuses files over 20 MB), then a GET
    on the file path, written to disk."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def fetch(self, file_id: str, destination: Path) -> None:
        from bot.delivery.dispatcher import FileNotFetched, FileTooBig
        from conversations.uploaded_workbook import MAX_FILE_BYTES

        try:
            file = await self.bot.get_file(file_id)
        except TelegramBadRequest as exc:
            if "too big" in exc.message.lower():
                raise FileTooBig(exc.message) from exc
            raise FileNotFetched(exc.message) from exc
        if (file.file_size or 0) > MAX_FILE_BYTES or not file.file_path:
            raise FileTooBig(f"{file.file_size} bytes")
        await self.bot.download_file(file.file_path, destination, timeout=120)
