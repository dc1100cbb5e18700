"""A small client for the Zalo Bot API: POST JSON, always check `ok`."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

DEFAULT_BASE = "https://bot-api.zaloplatforms.com"


class ZaloError(Exception):
    """`ok: false` from the platform (or an HTTP error), with its code."""

    def __init__(self, code: int, description: str, status: int = 0,
                 undecodable: bool = False) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.status = status
        self.undecodable = undecodable  # the answer was no JSON object (cut off, a proxy page)

    @property
    def delivered(self) -> bool:
        """An undecodable answer with a 2xx status: the platform did carry out the call."""
        return self.undecodable and 200 <= self.status < 300


class ZaloClient:
    def __init__(self, token: str, base: str = "", session: aiohttp.ClientSession | None = None,
                 timeout: float = 40.0) -> None:
        self._token = token
        self.base = (base or DEFAULT_BASE).rstrip("/")
        self._session = session
        self._own = session is None
        self.timeout = timeout

    async def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        if self._own and self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, method: str, body: dict[str, Any] | None = None,
                   timeout: float | None = None) -> Any:
        http = await self._http()
        url = f"{self.base}/bot{self._token}/{method}"
        async with http.post(url, json=body or {},
                             timeout=aiohttp.ClientTimeout(total=timeout or self.timeout)) as r:
            try:
                data = await r.json(content_type=None)
            except (ValueError, aiohttp.ContentTypeError):
                data = None
            if not isinstance(data, dict):
                raise ZaloError(r.status or 500, f"unexpected answer (HTTP {r.status})", r.status,
                                undecodable=True)
            if not data.get("ok"):
                code = int(data.get("error_code") or r.status or 500)
                raise ZaloError(code, str(data.get("description") or ""), r.status)
            return data.get("result")

    async def get_updates(self, timeout: int = 30) -> dict[str, Any] | None:
        """One update, or None when the long poll ends idle (error 408)."""
        try:
            return await self.call("getUpdates", {"timeout": str(timeout)},
                                   timeout=timeout + 15)
        except ZaloError as exc:
            if exc.code == 408:
                return None
            raise

    async def send_message(self, chat_id: str, text: str) -> Any:
        return await self.call("sendMessage", {"chat_id": chat_id, "text": text})

    async def send_photo(self, chat_id: str, photo: str, caption: str = "") -> Any:
        body = {"chat_id": chat_id, "photo": photo}
        if caption:
            body["caption"] = caption
        return await self.call("sendPhoto", body)

    async def set_webhook(self, url: str, secret: str) -> Any:
        return await self.call("setWebhook", {"url": url, "secret_token": secret})

    async def delete_webhook(self) -> Any:
        return await self.call("deleteWebhook")


__all__ = ["ZaloClient", "ZaloError", "asyncio"]
