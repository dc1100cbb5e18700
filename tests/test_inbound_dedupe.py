"""Inbound dedupe that survives Telegram's update id reuse: a message is known by its channel,
chat and message id (a button press by its callback query id), and the bot forgets processed
keys after a retention window."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import runtime
from bot.app import App
from bot.housekeeping import prune_processed
from bot.runtime import start
from bot.settings import Settings
from bot.storage.models import ProcessedMessage

from . import test_telegram_e2e as telegram_e2e
from .conftest import VN, Clock
from .fake_telegram import FakeTelegram
from .test_telegram_e2e import FlowingClock, deep_link_sign_in, free_port

# The Telegram end-to-end fixtures: a seeded database and the clock of the Week 2023.
settings, seeded, flowing_clock = (telegram_e2e.settings, telegram_e2e.seeded,
                                   telegram_e2e.flowing_clock)


async def test_update_ids_telegram_starts_again_are_not_mistaken_for_old_ones(
        seeded: Settings, tg: FakeTelegram, flowing_clock: FlowingClock):
    """Defect 3: after a week without updates Telegram restarts update ids at a random number;
    with processed updates keyed by update_id, every new message was dropped unanswered."""
    seeded = seeded.model_copy(update={"reminder_tick_seconds": 0})  # replies only
    running = await start(seeded, clock=flowing_clock)
    thu = tg.user(1201, "Thu")
    try:
        await deep_link_sign_in(running, thu)
        await thu.send("/trangthai")
        await thu.wait_for("trước ngày 13/10/2023")
    finally:
        await running.stop()

    before_restart = len(thu.messages())
    tg.restart_update_ids()  # the ids already processed come again, for new messages
    running = await start(seeded, clock=flowing_clock)
    try:
        first = await thu.send("/trogiup")
        await thu.wait_for("/huy — dừng báo cáo")
        await thu.send("/baocao")
        await thu.wait_for("Mục 1 · câu 1/40")
        # Exactly the two replies: nothing said before the stop is said again, nothing lost.
        assert len(thu.messages()) == before_restart + 2
        # A real redelivery of a message is still handled once.
        before = len(thu.messages())
        tg.redeliver(first)
        await asyncio.sleep(1.0)
        assert len(thu.messages()) == before
    finally:
        await running.stop()


async def test_on_a_webhook_button_presses_are_known_by_their_query_id(
        seeded: Settings, tg: FakeTelegram, flowing_clock: FlowingClock):
    port = free_port()
    settings = seeded.model_copy(update={
        "webhook_url": f"http://127.0.0.1:{port}/telegram/hook", "webhook_port": port,
        "reminder_tick_seconds": 0})
    running = await start(settings, clock=flowing_clock)
    try:
        an = tg.user(1202, "An")
        await deep_link_sign_in(running, an)
        await an.send("/baocao")
        await an.wait_for("1.1. ")
        tg.restart_update_ids()
        pressed = await an.press("Có")  # an update id already used, for a new button press
        await an.wait_for("1.2. ")
        before = len(an.messages())
        tg.redeliver(pressed)  # the same press delivered again: nothing new
        await tg.wait_webhooks()
        await asyncio.sleep(1.0)
        assert len(an.messages()) == before
        await an.send("Số 5/KH")
        await an.wait_for("2.1. ")
    finally:
        await running.stop()


async def test_processed_keys_are_forgotten_after_the_retention_window(app: App, clock: Clock):
    clock.set("2023-10-25 09:00")
    now = clock()
    rows = {("telegram", "1", "old"): now - timedelta(days=8),
            ("telegram", "1", "recent"): now - timedelta(days=2),
            ("zalo", "z", "this-month"): now - timedelta(days=20),
            ("zalo", "z", "last-month"): now - timedelta(days=30)}
    async with app.sessions() as session, session.begin():
        for (channel, chat, message), at in rows.items():
            session.add(ProcessedMessage(channel=channel, chat_id=chat, message_id=message,
                                         processed_at=at))
    assert await prune_processed(app.sessions, now, timedelta(days=7)) == 2
    async with app.sessions() as session:
        kept = set((await session.scalars(select(ProcessedMessage.message_id))).all())
    # Zalo keys of this month stay: the monthly Zalo budget counts them.
    assert kept == {"recent", "this-month"}


async def test_the_running_bot_prunes_processed_keys_itself(
        seeded: Settings, tg: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # Housekeeping runs a minute after the start (replies first, issue 23); here at once.
    monkeypatch.setattr(runtime, "HOUSEKEEPING_AFTER_START", timedelta(0))
    clock = FlowingClock(datetime(2023, 10, 25, 9, 0, tzinfo=VN))
    from bot.app import build_app

    app = await build_app(seeded, clock=clock)
    async with app.sessions() as session, session.begin():
        session.add(ProcessedMessage(channel="telegram", chat_id="9", message_id="41",
                                     processed_at=clock() - timedelta(days=10)))
        session.add(ProcessedMessage(channel="telegram", chat_id="9", message_id="42",
                                     processed_at=clock() - timedelta(hours=30)))
    await app.close()
    running = await start(seeded, clock=clock)
    try:
        for _ in range(50):
            async with running.app.sessions() as session:
                left = set((await session.scalars(select(ProcessedMessage.message_id))).all())
            if left == {"42"}:
                break
            await asyncio.sleep(0.1)
        assert left == {"42"}
    finally:
        await running.stop()
