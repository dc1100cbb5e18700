"""The outbox: messages committed with the change that caused them, delivered afterwards."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import OutboxMessage
from conversations.events import Button, OutboundMessage


def to_payload(message: OutboundMessage) -> dict[str, Any]:
    return {"text": message.text,
            "buttons": [[b.token, b.label, b.shortcut] for b in message.buttons]}


def from_payload(payload: dict[str, Any]) -> OutboundMessage:
    buttons = tuple(Button(t, label, bool(s)) for t, label, s in payload.get("buttons") or [])
    return OutboundMessage(text=payload.get("text", ""), buttons=buttons)


@dataclass(frozen=True)
class Pending:
    id: int
    channel: str
    chat_id: str
    message: OutboundMessage


def enqueue(session: AsyncSession, channel: str, chat_id: str,
            messages: Sequence[OutboundMessage], now: datetime) -> None:
    for message in messages:
        session.add(OutboxMessage(channel=channel, chat_id=chat_id, payload=to_payload(message),
                                  created_at=now, attempts=0))


async def pending(session: AsyncSession, channel: str, chat_id: str | None = None,
                  limit: int = 100) -> list[Pending]:
    query = (select(OutboxMessage).where(OutboxMessage.sent_at.is_(None),
                                         OutboxMessage.failed.is_(None),
                                         OutboxMessage.channel == channel)
             .order_by(OutboxMessage.id).limit(limit))
    if chat_id is not None:
        query = query.where(OutboxMessage.chat_id == chat_id)
    rows = (await session.scalars(query)).all()
    return [Pending(r.id, r.channel, r.chat_id, from_payload(r.payload)) for r in rows]


async def mark_sent(session: AsyncSession, ids: Sequence[int], now: datetime) -> None:
    if ids:
        await session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(list(ids)))
                              .values(sent_at=now, attempts=OutboxMessage.attempts + 1))
