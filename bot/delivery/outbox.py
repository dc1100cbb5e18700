"""The outbox: messages committed with the change that caused them, delivered afterwards."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.channels.text_split import split_text
from bot.storage.models import OutboxMessage
from conversations.events import Button, InboundEvent, OutboundMessage
from conversations.prompts import OUTSIDE_FORM, Prompt, parse_prompt

# The longest text each channel takes in one message.
TEXT_LIMITS = {"telegram": 4096, "zalo": 1800}  # Zalo: 2000, less room for the options
# Who waits for whom: a reply to someone who wrote (or a notice a person's action causes) goes
# ahead of bulk messages (reminders, digests, nudges, budget warnings), which get the capacity
# the replies leave.
REPLY, BULK = 0, 1
# `failed` of a prompt dropped because the conversation moved past it (not a failure).
SUPERSEDED = "superseded"


def to_payload(message: OutboundMessage, language: str = "vi") -> dict[str, Any]:
    """`language` is the reader's: text-only channels word their hints ("Trả lời 1 hoặc 2")."""
    payload: dict[str, Any] = {
        "kind": "message", "text": message.text, "language": language,
        "buttons": [[b.token, b.label, b.shortcut, *([b.kind] if b.kind != "press" else [])]
                    for b in message.buttons]}
    if message.lead:
        payload["lead"] = message.lead
    return payload


def from_payload(payload: dict[str, Any]) -> OutboundMessage:
    buttons = tuple(Button(t, label, bool(s), *kind)
                    for t, label, s, *kind in payload.get("buttons") or [])
    return OutboundMessage(text=payload.get("text", ""), buttons=buttons)


@dataclass(frozen=True)
class Pending:
    id: int
    channel: str
    chat_id: str
    payload: dict[str, Any]
    attempts: int = 0
    priority: int = REPLY
    asks: str | None = None  # what a conversation's prompt asks (conversations.prompts)

    @property
    def message(self) -> OutboundMessage:
        return from_payload(self.payload)


def enqueue(session: AsyncSession, channel: str, chat_id: str,
            messages: Sequence[OutboundMessage], now: datetime, language: str = "vi",
            asks: str | None = None) -> None:
    for row in message_rows(channel, chat_id, messages, now, language, asks):
        session.add(OutboxMessage(**row))


def message_rows(channel: str, chat_id: str, messages: Sequence[OutboundMessage],
                 now: datetime, language: str = "vi",
                 asks: str | None = None) -> list[dict[str, Any]]:
    """Outbox rows for engine messages; a text over the channel's limit becomes several
    messages, the buttons going with the last one. `asks` (conversations.prompts: what the
    turn's last message asks) is kept on the last row."""
    limit = TEXT_LIMITS.get(channel, 0)
    rows = []
    for message in messages:
        pieces = split_text(message.text, limit)
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            # Split, the lead goes in the first piece, which nothing makes stale.
            part = OutboundMessage(piece, message.buttons if last else (),
                                   lead=message.lead if len(pieces) == 1 else "")
            rows.append(payload_row(channel, chat_id, to_payload(part, language), now))
    if rows and asks is not None:
        rows[-1]["asks"] = asks
    return rows


def payload_row(channel: str, chat_id: str, payload: dict[str, Any], now: datetime,
                dedupe_key: str | None = None, priority: int = REPLY) -> dict[str, Any]:
    return {"channel": channel, "chat_id": chat_id, "payload": payload, "created_at": now,
            "attempts": 0, "dedupe_key": dedupe_key, "priority": priority, "asks": None}


def lead_only(payload: dict[str, Any]) -> dict[str, Any] | None:
    """A stale prompt's opening lines (what the answer before it stored) as a message of their
    own; None when it has none."""
    lead = payload.get("lead")
    if not lead:
        return None
    return {"kind": "message", "text": lead, "buttons": [],
            "language": payload.get("language", "vi")}


def stale_prompt() -> ColumnElement[bool]:
    """A row asking a form question with a later conversation turn's message of the same
    chat behind it: the conversation has moved on, so it is not sent (after a restart, a
    resent old question had people answer it while the bot stored the value under the
    current one). One indexed look on (channel, chat_id, id); on SQLite and PostgreSQL."""
    later = aliased(OutboxMessage)
    return and_(OutboxMessage.asks.is_not(None), OutboxMessage.asks != OUTSIDE_FORM,
                exists().where(later.channel == OutboxMessage.channel,
                               later.chat_id == OutboxMessage.chat_id,
                               later.id > OutboxMessage.id, later.asks.is_not(None)))


async def replied_prompts(session: AsyncSession, events: Sequence[InboundEvent]
                          ) -> dict[tuple[str, str, str], Prompt]:
    """What the bot messages these events reply to asked, by (channel, chat id, messenger id
    replied to): one query for all, and none when no event is a reply."""
    wanted = {(e.channel, e.chat_id, e.reply_to) for e in events if e.reply_to}
    if not wanted:
        return {}
    rows = (await session.execute(
        select(OutboxMessage.channel, OutboxMessage.chat_id, OutboxMessage.sent_message_id,
               OutboxMessage.asks)
        .where(OutboxMessage.channel.in_(sorted({c for c, _chat, _m in wanted})),
               OutboxMessage.chat_id.in_(sorted({chat for _c, chat, _m in wanted})),
               OutboxMessage.sent_message_id.in_(sorted({m for _c, _chat, m in wanted})))
    )).all()
    found: dict[tuple[str, str, str], Prompt] = {}
    for channel, chat_id, message_id, asks in rows:
        prompt = parse_prompt(asks)
        if (channel, chat_id, message_id) in wanted and prompt is not None:
            found[(channel, chat_id, message_id)] = prompt
    return found


def enqueue_payload(session: AsyncSession, channel: str, chat_id: str, payload: dict[str, Any],
                    now: datetime, dedupe_key: str | None = None,
                    priority: int = REPLY) -> None:
    session.add(OutboxMessage(**payload_row(channel, chat_id, payload, now, dedupe_key,
                                            priority)))


class Head(NamedTuple):
    """An unsent message as the sender first sees it: no payload (read only when claimed).
    A tuple: the sender reads hundreds of them a round."""

    id: int
    chat_id: str
    priority: int
    held_until: datetime | None  # a claim or a retry time


async def queue_heads(session: AsyncSession, channel: str, limit: int,
                      after: tuple[int, int] | None = None) -> list[Head]:
    """Unsent messages in the order they are served (replies first, then bulk, each oldest
    first), each with the time it is held until, in one statement on the queue index;
    `after` (priority, id) continues from the last row of the previous page."""
    query = (select(OutboxMessage.id, OutboxMessage.chat_id, OutboxMessage.priority,
                    OutboxMessage.claimed_until, OutboxMessage.not_before)
             .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed.is_(None),
                    OutboxMessage.channel == channel))
    if after is not None:
        priority, row_id = after
        query = query.where(or_(OutboxMessage.priority > priority,
                                and_(OutboxMessage.priority == priority,
                                     OutboxMessage.id > row_id)))
    rows = (await session.execute(
        query.order_by(OutboxMessage.priority, OutboxMessage.id).limit(limit))).all()
    return [Head(row_id, chat_id, priority,
                 claimed if not_before is None else not_before if claimed is None
                 else max(claimed, not_before))
            for row_id, chat_id, priority, claimed, not_before in rows]


async def pending(session: AsyncSession, channel: str, chat_id: str | None = None,
                  limit: int = 100, now: datetime | None = None) -> list[Pending]:
    query = (select(OutboxMessage).where(OutboxMessage.sent_at.is_(None),
                                         OutboxMessage.failed.is_(None),
                                         OutboxMessage.channel == channel)
             .order_by(OutboxMessage.id).limit(limit))
    if chat_id is not None:
        query = query.where(OutboxMessage.chat_id == chat_id)
    if now is not None:
        query = query.where((OutboxMessage.not_before.is_(None))
                            | (OutboxMessage.not_before <= now),
                            (OutboxMessage.claimed_until.is_(None))
                            | (OutboxMessage.claimed_until <= now))
    rows = (await session.scalars(query)).all()
    return [Pending(r.id, r.channel, r.chat_id, r.payload, r.attempts) for r in rows]


async def mark_sent(session: AsyncSession, ids: Sequence[int], now: datetime) -> None:
    if ids:
        await session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(list(ids)))
                              .values(sent_at=now, attempts=OutboxMessage.attempts + 1))
