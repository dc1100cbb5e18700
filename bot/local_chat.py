"""The local chat: the real engine and database, in a terminal. Buttons become numbered
options and words to type, as on text-only channels."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable

from bot import outbox
from bot.app import App
from conversations.events import InboundEvent, OutboundMessage

CHANNEL = "local"


def render(message: OutboundMessage) -> str:
    """Answer buttons as '1. Có  2. Không'; shortcuts as words in brackets."""
    lines = [message.text]
    answers = [b for b in message.buttons if not b.shortcut]
    shortcuts = [b for b in message.buttons if b.shortcut]
    if answers:
        lines.append("  ".join(f"[{i}] {b.label}" for i, b in enumerate(answers, start=1)))
    if shortcuts:
        lines.append("  ".join(f"«{b.label}»" for b in shortcuts))
    return "\n".join(lines)


class LocalChat:
    """One terminal user; message ids are unique per run and identity, so nothing dedupes."""

    def __init__(self, app: App, user: str, display_name: str = "") -> None:
        self.app = app
        self.user = user
        self.display_name = display_name or user
        self._counter = itertools.count(1)
        self._run = uuid.uuid4().hex[:12]

    def event(self, text: str) -> InboundEvent:
        return InboundEvent(channel=CHANNEL, chat_id=self.user, user_id=self.user,
                            message_id=f"{self.user}:{self._run}:{next(self._counter)}",
                            kind="text", text=text, received_at=self.app.clock(),
                            display_name=self.display_name)

    async def send(self, text: str) -> list[OutboundMessage]:
        """Handle one typed line and deliver (and return) the replies."""
        await self.app.dispatcher.handle(self.event(text))
        return await self.deliver()

    async def deliver(self) -> list[OutboundMessage]:
        async with self.app.sessions() as session, session.begin():
            items = await outbox.pending(session, CHANNEL, self.user)
            await outbox.mark_sent(session, [p.id for p in items], self.app.clock())
        return [p.message for p in items]


async def run_terminal(chat: LocalChat, read: Callable[[str], Awaitable[str | None]],
                       write: Callable[[str], None]) -> None:
    """Read lines until end of input; print every reply."""
    for message in await chat.deliver():
        write(render(message))
    while True:
        line = await read("> ")
        if line is None:
            break
        if not line.strip():
            continue
        for message in await chat.send(line):
            write(render(message))
            write("")
