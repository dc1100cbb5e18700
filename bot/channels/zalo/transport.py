"""Outbox payload → Zalo Bot API call: text only, files as one-time links."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

import aiohttp

from bot.channels.text_rendering import render_text
from bot.channels.text_split import split_text
from bot.channels.zalo.api import ZaloClient, ZaloError
from bot.delivery.outbox import from_payload
from bot.delivery.outbox_sender import Rejected, RetryLater, Transient, Unreachable
from bot.web.file_links import FileLinks
from bot.web.uploads import UploadLinks
from conversations.i18n import Catalog

log = logging.getLogger(__name__)
TEXT_LIMIT = 2000
QUOTA_BACKOFF = 5.0  # Zalo documents no retry_after for 429: back off ourselves


class ZaloTransport:
    channel = "zalo"

    def __init__(self, client: ZaloClient, catalog: Catalog, links: FileLinks | None,
                 uploads: UploadLinks | None = None) -> None:
        self.client = client
        self.catalog = catalog
        self.links = links
        self.uploads = uploads

    def is_group(self, chat_id: str) -> bool:
        return False

    async def send(self, chat_id: str, payload: dict[str, Any]) -> None:
        try:
            await self._call(chat_id, payload)
        except ZaloError as exc:
            if exc.undecodable:  # a proxy's page, the call may never have arrived
                raise Transient(str(exc)) from exc
            if exc.code == 429 or exc.status == 429:
                raise RetryLater(QUOTA_BACKOFF) from exc
            if exc.code >= 500 or exc.status >= 500 or exc.code == 408:
                raise Transient(str(exc)) from exc
            if exc.code == 403:
                raise Unreachable(exc.description) from exc
            raise Rejected(str(exc)) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Transient(str(exc) or type(exc).__name__) from exc

    async def _call(self, chat_id: str, payload: dict[str, Any]) -> None:
        kind = payload.get("kind", "message")
        language = payload.get("language", "vi")
        tr = self.catalog.tr(language)
        if kind == "message":
            text = render_text(from_payload(payload), self.catalog, language)
            for piece in split_text(text, TEXT_LIMIT):
                await _done(self.client.send_message(chat_id, piece), chat_id)
        elif kind in ("document", "photo"):
            if self.links is None:
                await self.client.send_message(chat_id, tr(
                    "The file is ready, but this bot has no public address for downloads "
                    "(BAOCAO_PUBLIC_URL); please ask the administrator."))
                return
            async with self.links.sessions() as session, session.begin():
                url = await self.links.create(session, payload["path"], payload["filename"])
            caption = payload.get("caption") or ""
            if kind == "photo":
                await _done(self.client.send_photo(chat_id, url, caption[:TEXT_LIMIT]), chat_id)
            else:
                hours = int(self.links.lifetime.total_seconds() // 3600)
                await _done(self.client.send_message(chat_id, tr(
                    "{caption}\nDownload (works once, for {hours} hours): {url}",
                    caption=caption, hours=hours, url=url)[:TEXT_LIMIT]), chat_id)
        elif kind == "upload_link":
            if self.uploads is None:
                await _done(self.client.send_message(chat_id, tr(
                    "Files can be sent to the bot only through an upload page, and this bot "
                    "has no public address (BAOCAO_PUBLIC_URL); please ask the administrator.")),
                    chat_id)
                return
            async with self.uploads.sessions() as session, session.begin():
                url = await self.uploads.create(session, self.channel, chat_id,
                                                str(payload.get("user_id") or chat_id))
            hours = int(self.uploads.lifetime.total_seconds() // 3600)
            await _done(self.client.send_message(chat_id, tr(
                "When the file is filled in, send it to the bot through this page (it works "
                "once, for {hours} hours): {url}", hours=hours, url=url)[:TEXT_LIMIT]), chat_id)
        elif kind in ("edit", "callback_answer", "menu"):
            return  # Telegram chores; nothing to do on Zalo
        else:
            raise Rejected(f"unknown payload kind {kind!r}")


async def _done(call: Awaitable[Any], chat_id: str) -> None:
    """One API call; an answer mangled after a 2xx counts as done (the platform did it), so the
    message is neither resent nor refused, and the next piece still goes."""
    try:
        await call
    except ZaloError as exc:
        if not exc.delivered:
            raise
        log.warning("Zalo chat %s: %s; counted as sent", chat_id, exc)
