"""Replies first after a (re)start: the people who wrote while the bot was down are answered
before the first reminder tick plans a province's reminders and before housekeeping runs
(issue 23: a tick at start held those replies for seconds on a loaded machine)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


class CatchUp:
    """Each polling receiver says once when it has fetched and handled what waited for it;
    `wait` returns when all have, or after a limit (a messenger that cannot be reached must
    not hold the reminders for ever)."""

    def __init__(self) -> None:
        self._parts: dict[str, asyncio.Event] = {}

    def expect(self, part: str) -> Callable[[], None]:
        """Registers a part that must catch up; call the returned function when it has."""
        event = self._parts.setdefault(part, asyncio.Event())
        return event.set

    def pending(self) -> list[str]:
        return [name for name, event in self._parts.items() if not event.is_set()]

    async def wait(self, limit: float) -> bool:
        """True when every part caught up within `limit` seconds."""
        waits = [asyncio.ensure_future(event.wait()) for event in self._parts.values()]
        if not waits:
            return True
        _done, late = await asyncio.wait(waits, timeout=limit)
        for task in late:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if late:
            log.warning("%s not caught up after %.0f s; reminders start anyway",
                        ", ".join(self.pending()), limit)
        return not late
