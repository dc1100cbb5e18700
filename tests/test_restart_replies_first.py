"""Issue 23, defect 6: replies near a restart. The people who wrote while the bot was down are
answered before the first reminder tick plans the reminders and before housekeeping runs; the
reminders still go out at once after that, and the command menu no longer holds the start."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

import bot.runtime
from bot.app import build_app
from bot.coordinators.reminders import ReminderStore
from bot.delivery.catch_up import CatchUp
from bot.runtime import start
from bot.settings import Settings
from bot.storage.models import OutboxMessage

from .conftest import VN, seed_reference_data
from .fake_telegram import FakeTelegram
from .test_telegram_e2e import FlowingClock, deep_link_sign_in

pytestmark = pytest.mark.slow

BEFORE_THE_WEEK = datetime(2023, 10, 1, 12, 0, tzinfo=VN)  # nothing due yet
THREE_DAYS_BEFORE = datetime(2023, 10, 10, 7, 5, tzinfo=VN)  # the 07:00 reminders are due


class Recorder:
    """When the reminder tick and housekeeping began, by the bot's clock."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, clock: FlowingClock) -> None:
        self.ticks: list[datetime] = []
        self.housekeeping: list[datetime] = []
        real_tick = ReminderStore.tick

        async def tick(store: ReminderStore, now: datetime) -> int:
            self.ticks.append(now)
            return await real_tick(store, now)

        async def housekeeping(*_args: object) -> None:
            self.housekeeping.append(clock())

        monkeypatch.setattr(ReminderStore, "tick", tick)
        monkeypatch.setattr(bot.runtime, "housekeeping", housekeeping)


async def reply_rows(running: bot.runtime.Running, chat: int) -> list[OutboxMessage]:
    async with running.app.sessions() as session:
        return list((await session.scalars(select(OutboxMessage).where(
            OutboxMessage.chat_id == str(chat)).order_by(OutboxMessage.id))).all())


async def test_after_a_restart_the_waiting_reporter_is_answered_before_the_reminder_tick(
        tg: FakeTelegram, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    clock = FlowingClock(BEFORE_THE_WEEK)
    settings = Settings(database_url=db_url, telegram_bot_token=tg.token,
                        telegram_api_base=tg.base_url, telegram_rate_per_chat=50,
                        outbox_lease_seconds=1, files_dir=str(tmp_path / "files"),
                        reminder_tick_seconds=3600)
    app = await build_app(settings, clock=clock)
    await seed_reference_data(app, tmp_path)
    await app.close()
    running = await start(settings, clock=clock)
    nam = tg.user(1006, "Nam")
    await deep_link_sign_in(running, nam)
    await running.stop()

    recorder = Recorder(monkeypatch, clock)
    clock.set(THREE_DAYS_BEFORE)
    await nam.send("/baocao")  # typed while the bot was down
    running = await start(settings, clock=clock)
    try:
        await nam.wait_for("1.1. ", timeout=10)
        deadline = time.monotonic() + 10  # the reminders are still planned at once
        rows = await reply_rows(running, nam.id)
        while not any(r.dedupe_key for r in rows) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            rows = await reply_rows(running, nam.id)
    finally:
        await running.stop()
    reply = next(r for r in rows if "1.1. " in (r.payload or {}).get("text", ""))
    reminder = next(r for r in rows if r.dedupe_key)  # held while Nam is in the form
    assert "Kính nhắc" in reminder.payload["text"]
    assert len(recorder.ticks) == 1
    # The reply was queued before the tick began planning; the reminder came from the tick.
    assert reply.created_at < recorder.ticks[0] <= reminder.created_at
    assert recorder.housekeeping == []  # a minute after the start, not during it


async def test_with_nobody_waiting_the_first_tick_does_not_wait_for_a_long_poll(
        tg: FakeTelegram, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Catching up is one short poll: an idle bot's first tick runs within a second or two,
    not after the 25 s of a long poll."""
    clock = FlowingClock(THREE_DAYS_BEFORE)
    settings = Settings(database_url=db_url, telegram_bot_token=tg.token,
                        telegram_api_base=tg.base_url, files_dir=str(tmp_path / "files"),
                        reminder_tick_seconds=3600)
    app = await build_app(settings, clock=clock)
    await seed_reference_data(app, tmp_path)
    await app.close()
    recorder = Recorder(monkeypatch, clock)
    running = await start(settings, clock=clock)
    try:
        started = time.monotonic()
        while not recorder.ticks and time.monotonic() - started < 8:
            await asyncio.sleep(0.05)
        waited = time.monotonic() - started
    finally:
        await running.stop()
    assert recorder.ticks and waited < 5
    assert recorder.housekeeping == []


async def test_a_receiver_that_never_catches_up_holds_the_reminders_only_for_the_limit():
    catch_up = CatchUp()
    done = catch_up.expect("telegram")
    catch_up.expect("other")
    started = time.monotonic()
    assert await catch_up.wait(0.2) is False
    assert 0.2 <= time.monotonic() - started < 2
    assert catch_up.pending() == ["telegram", "other"]
    done()
    assert catch_up.pending() == ["other"]
    assert await CatchUp().wait(10) is True  # nothing to wait for


async def test_polling_deletes_a_webhook_only_when_telegram_says_one_is_set(
        tg: FakeTelegram, db_url: str, tmp_path: Path):
    """No deleteWebhook round trip before the first poll of every start; a webhook left set
    (the bot moved from webhook to polling) is deleted when getUpdates says so."""
    clock = FlowingClock(BEFORE_THE_WEEK)
    settings = Settings(database_url=db_url, telegram_bot_token=tg.token,
                        telegram_api_base=tg.base_url, files_dir=str(tmp_path / "files"),
                        reminder_tick_seconds=0)
    app = await build_app(settings, clock=clock)
    await seed_reference_data(app, tmp_path)
    await app.close()
    thu = tg.user(4242, "Thu")
    running = await start(settings, clock=clock)
    try:
        await thu.send("xin chào")
        await thu.wait_for("mã mời", timeout=10)
    finally:
        await running.stop()
    assert tg.calls("deleteWebhook") == []

    tg.webhook_url = "https://example.org/telegram"  # set by an earlier webhook deployment
    running = await start(settings, clock=clock)
    try:
        deadline = time.monotonic() + 10
        while tg.webhook_url and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await thu.send("xin chào")
        await thu.wait_for("mã mời", timeout=10)
    finally:
        await running.stop()
    assert len(tg.calls("deleteWebhook")) == 1


async def test_a_slow_or_failing_command_menu_does_not_hold_the_start(
        tg: FakeTelegram, db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture):
    """setMyCommands (three calls) used to come before polling: on a slow link each round
    trip delayed the first reply, and a refusal stopped the start."""
    clock = FlowingClock(BEFORE_THE_WEEK)
    settings = Settings(database_url=db_url, telegram_bot_token=tg.token,
                        telegram_api_base=tg.base_url, files_dir=str(tmp_path / "files"),
                        reminder_tick_seconds=0)
    app = await build_app(settings, clock=clock)
    await seed_reference_data(app, tmp_path)
    await app.close()
    thu = tg.user(4242, "Thu")
    await thu.send("xin chào")  # waiting while the bot was down
    tg.delay(5, "setMyCommands")
    began = time.monotonic()
    running = await start(settings, clock=clock)
    try:
        await thu.wait_for("mã mời", timeout=10)
        answered = time.monotonic() - began
        deadline = time.monotonic() + 20
        while len(tg.calls("setMyCommands")) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
    finally:
        await running.stop()
    assert answered < 5  # before: after three 5 s calls
    assert len(tg.calls("setMyCommands")) == 3  # the menu is still set, meanwhile

    tg.delay(0, "setMyCommands")
    tg.fail_next(1, 400, method="setMyCommands", description="Bad Request: refused")
    running = await start(settings, clock=clock)
    try:
        await thu.send("xin chào")
        await thu.wait_for("mã mời", timeout=10)
    finally:
        await running.stop()
    assert any("command menu could not be set" in r.getMessage() for r in caplog.records)
