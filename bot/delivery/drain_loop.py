"""The loop shared by the inbox worker and the outbox senders: drain, then sleep until woken,
stopped, or a poll interval passes (another instance may have written meanwhile)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def drain_until_stopped(drain: Callable[[], Awaitable[int]], wake: asyncio.Event,
                              stop: asyncio.Event, idle_poll: float, name: str) -> None:
    while not stop.is_set():
        try:
            progressed = await drain()
        except Exception:
            log.exception("%s failed; retrying", name)
            progressed = 0
        if progressed:
            continue
        wake.clear()
        waiters = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())]
        await asyncio.wait(waiters, timeout=idle_poll, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()
