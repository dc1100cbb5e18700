"""The watchdog: each poller and sender reports when it last succeeded; the log warns when one
is stuck, and `baocao status` shows it all and exits 1 when something is stuck."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.app import build_app
from bot.cli import app as cli
from bot.delivery import outbox
from bot.delivery.health import Health
from bot.runtime import start
from bot.settings import Settings
from bot.storage.database import create_engine, sessionmaker
from bot.storage.models import Heartbeat

from .conftest import seed_reference_data
from .fake_telegram import FakeTelegram


class Moving:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_stuck_poller_or_sender_is_logged_once_a_minute(caplog: pytest.LogCaptureFixture):
    clock = Moving()
    health = Health(clock, "host-1")
    health.ok("telegram-poll")
    health.ok("telegram-send")
    health.set_busy("telegram-send", True)
    with caplog.at_level(logging.WARNING, logger="bot.delivery.health"):
        clock.now += timedelta(seconds=60)
        health.check()
        assert caplog.records == []  # a long poll takes up to 35 s: not stuck yet
        health.failed("telegram-poll", OSError("Connection reset by peer"))
        clock.now += timedelta(seconds=90)
        health.check()
        health.check()  # the same minute: not again
        clock.now += timedelta(seconds=61)
        health.check()
    lines = [r.getMessage() for r in caplog.records]
    polls = [line for line in lines if "telegram-poll" in line]
    sends = [line for line in lines if "telegram-send" in line]
    assert len(polls) == 2 and "OSError: Connection reset by peer" in polls[0]
    assert len(sends) == 2  # busy and silent for more than two minutes
    health.set_busy("telegram-send", False)
    health.ok("telegram-poll")
    caplog.clear()
    clock.now += timedelta(seconds=62)
    health.check()
    assert caplog.records == []  # idle senders are not stuck
    health.set_busy("telegram-send", True)  # work arrives long after the last send
    health.ok("telegram-poll")
    clock.now += timedelta(seconds=30)
    health.check()
    assert caplog.records == []  # it has had only 30 s


@pytest.mark.slow
async def test_baocao_status_shows_what_the_running_bot_last_managed(
        tg: FakeTelegram, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    settings = Settings(database_url=db_url, telegram_bot_token=tg.token,
                        telegram_api_base=tg.base_url, files_dir=str(tmp_path / "files"),
                        reminder_tick_seconds=0)
    app = await build_app(settings)  # the machine's clock, as `baocao status` reads it
    await seed_reference_data(app, tmp_path)
    await app.close()
    running = await start(settings)
    try:
        thu = tg.user(1601, "Thu")
        await thu.send("xin chào")
        await thu.wait_for("mã mời")
        await asyncio.sleep(0.3)
        await running.health.persist(running.app.sessions)
    finally:
        await running.stop()
    monkeypatch.setenv("BAOCAO_DATABASE_URL", db_url)
    runner = CliRunner()
    result = await asyncio.to_thread(runner.invoke, cli, ["status"])
    assert result.exit_code == 0, result.output
    assert "telegram-poll" in result.output and "telegram-send" in result.output
    assert str(running.instance) in result.output and "OK" in result.output
    # Ten minutes on, with the bot gone, the poller is stale: a monitor is told.
    engine = create_engine(db_url)
    async with sessionmaker(engine)() as session, session.begin():
        for beat in (await session.scalars(select(Heartbeat))).all():
            beat.last_ok_at -= timedelta(minutes=10)
            beat.updated_at -= timedelta(minutes=10)
        earlier = datetime.now(UTC) - timedelta(minutes=5)
        outbox.enqueue_payload(session, "telegram", "1601",
                               {"kind": "message", "text": "Kính nhắc", "buttons": []}, earlier)
    await engine.dispose()
    result = await asyncio.to_thread(runner.invoke, cli, ["status"])
    assert result.exit_code == 1, result.output
    assert "PROBLEM: telegram-poll: no successful poll for 10 min" in result.output
    assert "1 message(s) waiting, the oldest for 5 min" in result.output
