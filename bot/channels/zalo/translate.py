"""Zalo update → engine event. Translation only; there are no button presses on Zalo."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.delivery.inbox import Received
from conversations.events import InboundEvent

CHANNEL = "zalo"


def unwrap(body: Any) -> dict[str, Any] | None:
    """The platform posts the update bare; one published sample wraps it in {ok, result}."""
    if isinstance(body, dict) and "result" in body and "message" not in body:
        body = body.get("result")
    return body if isinstance(body, dict) and isinstance(body.get("message"), dict) else None


def received(update: dict[str, Any], now: datetime) -> Received | None:
    message = update.get("message") or {}
    message_id = str(message.get("message_id") or "")
    chat = message.get("chat") or {}
    sender = message.get("from") or {}
    chat_id = str(chat.get("id") or sender.get("id") or "")
    if not message_id or not chat_id:
        return None
    name = sender.get("display_name") or sender.get("first_name") or ""
    kind = _kind(str(update.get("event_name") or ""), message)
    text = message.get("text") if kind == "text" else message.get("caption")
    event = InboundEvent(channel=CHANNEL, chat_id=chat_id, user_id=str(sender.get("id") or chat_id),
                         message_id=message_id, kind="text" if kind == "text" else "media",
                         payload="" if kind == "text" else kind,
                         received_at=sent_at(message, now), text=str(text or ""),
                         display_name=str(name))
    return Received(f"{chat_id}:{message_id}", event)


def _kind(event_name: str, message: dict[str, Any]) -> str:
    """"text", or what else was sent ("image", "sticker", "voice", "unsupported")."""
    if event_name:  # "message.image.received" → "image"
        parts = event_name.split(".")
        return parts[1] if len(parts) == 3 and parts[1] else "unsupported"
    return "text" if isinstance(message.get("text"), str) else "unsupported"


def sent_at(message: dict[str, Any], now: datetime) -> datetime:
    """When Zalo received the message (`date`, in milliseconds), never later than now."""
    raw = message.get("date")
    if isinstance(raw, int | float) and not isinstance(raw, bool) and raw > 0:
        try:
            when = datetime.fromtimestamp(raw / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return now
        return when if when < now else now
    return now
