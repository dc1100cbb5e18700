"""Receiving from Zalo: long polling (one update per call; 408 when idle is normal) or a
webhook with a secret header; each update is stored in the inbox before it is acknowledged."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import secrets
from collections.abc import Callable
from datetime import datetime

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.zalo.api import ZaloClient, ZaloError
from bot.channels.zalo.translate import received, unwrap
from bot.delivery import inbox
from bot.delivery.health import Health, describe

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Bot-Api-Secret-Token"
POLL, WEBHOOK = "zalo-poll", "zalo-webhook"  # parts the watchdog follows


def webhook_secret(token: str, configured: str = "") -> str:
    return configured or hashlib.sha256(f"baocao-zalo-webhook:{token}".encode()).hexdigest()


class ZaloReceiver:
    def __init__(self, client: ZaloClient, sessions: async_sessionmaker[AsyncSession],
                 clock: Callable[[], datetime], wake: Callable[[], None],
                 health: Health | None = None) -> None:
        self.client = client
        self.sessions = sessions
        self.clock = clock
        self.wake = wake
        self.health = health or Health(clock, "local")

    async def accept(self, update: dict) -> None:
        now = self.clock()
        item = received(update, now)
        if item is not None:
            await inbox.store(self.sessions, [item], now)
            self.wake()

    async def poll(self, stop: asyncio.Event, timeout: int = 30) -> None:
        with contextlib.suppress(ZaloError, aiohttp.ClientError, TimeoutError):
            await self.client.delete_webhook()
        failures = 0
        while not stop.is_set():
            try:
                update = await self.client.get_updates(timeout)
                if update:
                    await self.accept(update)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # whatever it is, polling goes on
                failures += 1
                wait = min(30.0, 0.5 * 2 ** min(failures, 6))
                self.health.failed(POLL, exc)
                log.warning("Zalo getUpdates failed (%s); retrying in %.1f s", describe(exc),
                            wait)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)
                continue
            failures = 0
            self.health.ok(POLL)

    def add_webhook(self, app: web.Application, path: str, secret: str) -> None:
        async def handle(request: web.Request) -> web.Response:
            given = request.headers.get(SECRET_HEADER, "")
            if not secrets.compare_digest(given.encode(), secret.encode()):
                return web.Response(status=401, text="Unauthorized")
            try:
                update = unwrap(json.loads(await request.text()))
            except ValueError:
                update = None
            if update is None:  # 200 all the same: a 4xx would be sent again forever
                self.health.skipped(WEBHOOK)
                log.warning("skipped a Zalo webhook update that could not be read")
                return web.json_response({"ok": True})
            try:
                await self.accept(update)
            except Exception as exc:
                self.health.failed(WEBHOOK, exc)
                log.warning("a Zalo webhook update could not be stored (%s)", describe(exc))
                return web.Response(status=503, text="Try again")
            self.health.ok(WEBHOOK)
            return web.json_response({"ok": True})

        app.router.add_post(path, handle)
