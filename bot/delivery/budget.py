"""Zalo's basic plan allows a few thousand messages a month (both directions): count them and
warn the administrators at 80 % and at 100 % of the configured budget, once each a month."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery import outbox
from bot.storage.models import Contact, Identity, OutboxMessage, ProcessedMessage
from conversations.i18n import Catalog

CHANNEL = "zalo"
MESSAGE_KINDS = ("message", "photo", "document")


async def zalo_messages_this_month(session: AsyncSession, now: datetime) -> int:
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    sent = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.channel == CHANNEL, OutboxMessage.sent_at >= start)) or 0
    received = await session.scalar(select(func.count()).select_from(ProcessedMessage).where(
        ProcessedMessage.channel == CHANNEL, ProcessedMessage.processed_at >= start)) or 0
    return int(sent) + int(received)


async def check_zalo_budget(sessions: async_sessionmaker[AsyncSession], catalog: Catalog,
                            budget: int, now: datetime) -> int:
    """Queue the warnings due; returns how many messages were queued."""
    if budget <= 0:
        return 0
    async with sessions() as session, session.begin():
        used = await zalo_messages_this_month(session, now)
        level = 100 if used >= budget else 80 if used >= 0.8 * budget else 0
        if not level:
            return 0
        month = now.strftime("%Y-%m")
        queued = 0
        admins = (await session.scalars(select(Contact).where(
            Contact.role == "admin", Contact.active.is_(True)))).all()
        for admin in admins:
            tr = catalog.tr(admin.language)
            text = tr("Zalo message budget: {used} of {budget} messages used this month "
                      "({percent}%). Reminders and replies may stop when the plan's quota is "
                      "reached; consider a larger plan or fewer reminders.",
                      used=used, budget=budget, percent=round(100 * used / budget))
            for identity in (await session.scalars(select(Identity).where(
                    Identity.contact_id == admin.id, Identity.unreachable_at.is_(None)))).all():
                key = f"zalo-budget:{month}:{level}:{admin.id}"
                exists = await session.scalar(select(OutboxMessage.id).where(
                    OutboxMessage.dedupe_key == key))
                if exists is None:
                    outbox.enqueue_payload(session, identity.channel, identity.chat_id,
                                           {"kind": "message", "text": text, "buttons": [],
                                            "language": admin.language}, now, dedupe_key=key,
                                           priority=outbox.BULK)
                    queued += 1
                break  # one channel per person is enough
        return queued
