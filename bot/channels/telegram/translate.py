"""Telegram update → engine event (and the chores a button press needs). Translation only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram.types import CallbackQuery, Message, Update

from bot.delivery.inbox import Received
from conversations.events import InboundEvent

CHANNEL = "telegram"
EDIT_LIMIT = 4096
# Ids Telegram uses for everyone at once: anonymous group admins ("GroupAnonymousBot") and
# messages sent "as" a channel. They identify no person.
SHARED_SENDER_IDS = frozenset({1087968824, 136817688})


def received(update: Update, now: datetime) -> Received | None:
    """None for updates the bot does not use (edits, channel posts, …).

    A message is known by its chat and message id, a button press by its callback query id:
    update_id is no key, Telegram starts it again at a random number after a week without
    updates (Bot API, getUpdates)."""
    if update.message is not None:
        return _message(update.message, now)
    if update.callback_query is not None:
        return _callback(update.callback_query, now)
    return None


def _base(message_id: str, chat: Any, user: Any, now: datetime,
          sender_chat: Any = None) -> dict[str, Any]:
    chat_id = chat.id if chat is not None else user.id
    return {"channel": CHANNEL, "chat_id": str(chat_id),
            "user_id": str(user.id) if user else str(chat_id),
            "message_id": message_id, "received_at": now,
            "display_name": user.full_name if user else "",
            "chat_type": chat.type if chat is not None else "private",
            "anonymous": user is None or user.id in SHARED_SENDER_IDS
            or sender_chat is not None}


def sent_at(message: Message, now: datetime) -> datetime:
    """When Telegram received the message (its `date`), never later than now: deadlines are
    judged by it, not by when a restart or a backlog let the bot read it. A button press has
    no time of its own, so it keeps the time the bot received the update."""
    date = getattr(message, "date", None)
    if isinstance(date, datetime) and date.tzinfo is not None and date < now:
        return date
    return now


def _received(event: InboundEvent, acks: list[dict[str, Any]] | None = None) -> Received:
    return Received(f"{event.chat_id}:{event.message_id}", event, acks or [])


def _message(message: Message, now: datetime) -> Received:
    base = _base(str(message.message_id), message.chat, message.from_user,
                 sent_at(message, now), message.sender_chat)
    replied = message.reply_to_message
    if replied is not None:  # the whole message replied to; its id says which question
        base["reply_to"] = str(replied.message_id)
    if message.contact is not None:
        event = InboundEvent(kind="contact", phone=message.contact.phone_number,
                             contact_user_id=str(message.contact.user_id or ""), **base)
    elif message.document is not None:  # a filled-in Excel file, fetched after the commit
        document = message.document
        event = InboundEvent(kind="document", payload=document.file_id,
                             file_name=document.file_name or "",
                             file_size=document.file_size or 0, text=message.caption or "",
                             **base)
    elif message.forward_origin is not None:
        event = InboundEvent(kind="forward", text=message.text or message.caption or "",
                             payload=_media(message) or "text", **base)
    elif message.text is not None:
        event = InboundEvent(kind="text", text=message.text, **base)
    else:
        event = InboundEvent(kind="media", text=message.caption or "",
                             payload=_media(message) or "other", **base)
    return _received(event)


MEDIA = ("photo", "sticker", "location", "venue", "voice", "audio", "video", "video_note",
         "document", "animation", "poll", "dice")


def _media(message: Message) -> str:
    """What a message carries besides text, by its Bot API field; "" for none."""
    return next((kind for kind in MEDIA if getattr(message, kind, None) is not None), "")


def _callback(query: CallbackQuery, now: datetime) -> Received:
    message = query.message
    chat = message.chat if message is not None else None
    event = InboundEvent(kind="button", payload=query.data or "",
                         **_base(f"cb:{query.id}", chat, query.from_user, now))
    acks: list[dict[str, Any]] = [{"kind": "callback_answer", "callback_id": query.id}]
    text = getattr(message, "text", None)
    if message is not None and text and event.personal:
        label = _pressed_label(message, query.data or "")
        shown = f"{text}\n\n→ {label}" if label else text
        acks.append({"kind": "edit", "message_id": message.message_id,
                     "text": shown[:EDIT_LIMIT]})
    return _received(event, acks)


def _pressed_label(message: Any, data: str) -> str:
    markup = getattr(message, "reply_markup", None)
    for row in getattr(markup, "inline_keyboard", None) or []:
        for button in row:
            if button.callback_data == data:
                return button.text
    return ""
