"""Buttons for channels that only have text: answers numbered, shortcuts as words to type."""

from __future__ import annotations

from typing import Any

from conversations.events import WEB_APP, OutboundMessage
from conversations.i18n import Catalog

# Buttons a text-only channel leaves out because the text already says what to type.
TEXT_SAYS_IT = ("report",)


def render_text(message: OutboundMessage, catalog: Catalog, language: str) -> str:
    tr = catalog.tr(language)
    lines = [message.text]
    commands = [b for b in message.buttons if b.token.startswith("/")]
    buttons = [b for b in message.buttons if b.token not in TEXT_SAYS_IT and b.kind != WEB_APP
               and not b.token.startswith(("share_phone", "/"))]
    answers = [b for b in buttons if not b.shortcut]
    shortcuts = [b for b in buttons if b.shortcut]
    task_buttons = [b for b in answers if b.token.startswith("task:")]
    if task_buttons and len(task_buttons) == len(answers) == 2:
        lines.append(tr("Reply “đã xong” (done) or “chưa” (not yet)."))
        answers = []
    if answers:
        lines.append("")
        lines.extend(f"{i}. {b.label}" for i, b in enumerate(answers, start=1))
        numbers = [str(i) for i in range(1, len(answers) + 1)]
        choice = numbers[0] if len(numbers) == 1 else \
            tr("{first} or {last}", first=", ".join(numbers[:-1]), last=numbers[-1])
        lines.append(tr("Reply {numbers}.", numbers=choice))
    if shortcuts:
        words = " · ".join(f"“{b.label.lower()}”" for b in shortcuts)
        lines.append(tr("Or type: {words}", words=words))
    # A command button (a notice's "Duyệt báo cáo"): its command, to type.
    lines.extend(tr("{label}: type {command}", label=b.label, command=b.token)
                 for b in commands)
    return "\n".join(lines)


def payload_message(payload: dict[str, Any]) -> OutboundMessage:
    from bot.delivery.outbox import from_payload

    return from_payload(payload)
