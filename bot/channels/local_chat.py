"""The local chat: the real engine and database, in a terminal. Buttons become numbered
options and words to type, exactly as on Zalo."""

from __future__ import annotations

import asyncio
import itertools
import os
import select
import shutil
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.app import App
from bot.channels.text_rendering import render_text
from bot.delivery import outbox
from bot.delivery.outbox import from_payload
from conversations.events import InboundEvent

CHANNEL = "local"


class LocalChat:
    """One terminal user; message ids are unique per run and identity, so nothing dedupes."""

    def __init__(self, app: App, user: str, display_name: str = "") -> None:
        self.app = app
        self.user = user
        self.display_name = display_name or user
        self._counter = itertools.count(1)
        self._run = uuid.uuid4().hex[:12]
        # A file "sent" in the terminal is a path on this machine: fetched by copying it.
        app.dispatcher.fetchers.setdefault(CHANNEL, _copy_local_file)

    def event(self, text: str) -> InboundEvent:
        return InboundEvent(channel=CHANNEL, chat_id=self.user, user_id=self.user,
                            message_id=f"{self.user}:{self._run}:{next(self._counter)}",
                            kind="text", text=text, received_at=self.app.clock(),
                            display_name=self.display_name)

    async def send(self, text: str) -> list[str]:
        """Handle one typed line and deliver (and return) the replies, as shown."""
        await self.app.dispatcher.handle(self.event(text))
        await self.app.dispatcher.settle()
        return await self.deliver()

    async def send_file(self, path: Path) -> list[str]:
        """Send a file, as a person drops an Excel file into a chat."""
        event = replace(self.event(""), kind="document", payload=str(path),
                        file_name=path.name, file_size=path.stat().st_size)
        await self.app.dispatcher.handle(event)
        await self.app.dispatcher.settle()
        return await self.deliver()

    async def deliver(self) -> list[str]:
        async with self.app.sessions() as session, session.begin():
            # what is held (quiet hours, a retry) arrives when its time comes, as elsewhere
            items = await outbox.pending(session, CHANNEL, self.user, now=self.app.clock())
            await outbox.mark_sent(session, [p.id for p in items], self.app.clock())
        return [self.show(p.payload) for p in items]

    def show(self, payload: dict[str, Any]) -> str:
        kind = payload.get("kind", "message")
        if kind in ("document", "photo"):
            return f"[{payload.get('filename')}] {payload.get('path')}"
        if kind == "upload_link":
            return ""
        if kind != "message":
            return ""
        return render_text(from_payload(payload), self.app.catalog,
                           payload.get("language", "vi"))


async def run_terminal(chat: LocalChat, read: Callable[[str], Awaitable[str | None]],
                       write: Callable[[str], None]) -> None:
    """Read lines until end of input; print every reply."""
    for shown in await chat.deliver():
        write(shown)
    while True:
        line = await read("> ")
        if line is None:
            break
        if not line.strip():
            continue
        typed = Path(line.strip().strip("'\"")).expanduser()
        if "\n" not in line and len(line) < 1024 and typed.suffix.lower() in (
                ".xlsx", ".xls") and typed.is_file():
            replies = await chat.send_file(typed)  # a path typed or dropped: the file is sent
        else:
            replies = await chat.send(line)
        for shown in replies:
            if shown:
                write(shown)
                write("")


# Lines pasted at once reach the terminal within a few milliseconds; typed lines do not.
PASTE_GAP_SECONDS = 0.05


def read_pasted(fd: int, gap: float = PASTE_GAP_SECONDS) -> str | None:
    """One message from a terminal: a line, or every line of a paste (a report pasted from a
    document is one message, as on Telegram or Zalo). None at end of input."""
    data = os.read(fd, 65536)
    if not data:
        return None
    chunks = [data]
    while select.select([fd], [], [], gap)[0]:
        more = os.read(fd, 65536)
        if not more:
            break
        chunks.append(more)
    return b"".join(chunks).decode("utf-8", errors="replace").rstrip("\r\n")


async def _copy_local_file(ref: str, destination: Path) -> None:
    await asyncio.to_thread(shutil.copyfile, ref, destination)
