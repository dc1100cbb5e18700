"""aiogram's HTTP session, keeping the HTTP status of answers it cannot decode.

aiogram raises `ClientDecodeError` both for a proxy's HTML error page and for a 200 answer whose
JSON its models refuse (an update Telegram sends without a documented field, aiogram issue
1840). Only the status tells them apart: a 2xx means Telegram did the work (a message was
delivered, updates were returned), anything else means the request may never have reached it."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import ClientDecodeError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response


class UndecodableAnswer(ClientDecodeError):
    """An answer aiogram could not decode, with its HTTP status; `data` is the parsed JSON
    when it was JSON (the models refused it), else the raw text."""

    def __init__(self, status_code: int, error: ClientDecodeError) -> None:
        super().__init__(error.message, error.original, error.data)
        self.status_code = status_code

    @property
    def delivered(self) -> bool:
        """Telegram answered 2xx: the request was carried out."""
        return 200 <= self.status_code < 300

    def __str__(self) -> str:
        kind = type(self.original).__name__
        return f"{self.message} (HTTP {self.status_code}, {kind})"


class TelegramSession(AiohttpSession):
    def check_response(self, bot: Bot, method: TelegramMethod[Any], status_code: int,
                       content: str) -> Response[Any]:
        try:
            return super().check_response(bot, method, status_code, content)
        except UndecodableAnswer:
            raise
        except ClientDecodeError as exc:
            raise UndecodableAnswer(status_code, exc) from exc
