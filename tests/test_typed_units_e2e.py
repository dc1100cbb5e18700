"""Issue 22, defect 1, end to end: "8.3 = 5 triệuu" through the fake Telegram server is asked
back with its reading and the two buttons, and pressing "Đúng, giữ nguyên" stores 5.000.000;
through the fake Zalo server (no buttons) a typed "có" confirms it. Never 5 đồng."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.app import build_app
from bot.runtime import Running, start
from bot.settings import Settings

from .conftest import VN, invite, seed_reference_data
from .fake_telegram import FakeTelegram
from .fake_zalo import FakeZalo
from .test_report_conversation import stored_report
from .test_telegram_e2e import FlowingClock, deep_link_sign_in, free_port, seeded_bot

pytestmark = pytest.mark.slow

WEEK = datetime(2023, 10, 5, 9, 0, tzinfo=VN)


async def no_reward_money_stored(bot: Running) -> bool:
    report = await stored_report(bot.app, "X-ANLAO")
    return report is None or "8.3" not in report.answers


async def test_telegram_a_near_miss_is_asked_back_with_buttons_and_kept_when_confirmed(
        tg: FakeTelegram, db_url: str, tmp_path: Path):
    async with seeded_bot(tg, db_url, tmp_path, WEEK) as bot:
        thu = tg.user(2201, "Thu")
        await deep_link_sign_in(bot, thu)
        await thu.send("/baocao")
        await thu.wait_for("1.1. ")
        await thu.send("8.3 = 5 triệuu")
        asked = await thu.wait_for("“5 triệuu”: 5.000.000 đồng, đúng không?")
        assert [b["text"] for b in asked.buttons][:2] == ["Đúng, giữ nguyên", "Nhập lại"]
        assert "5 đồng" not in asked.text
        assert await no_reward_money_stored(bot)
        await thu.press("Đúng, giữ nguyên")
        await thu.wait_for("8.3 = 5.000.000 đồng")
        assert (await stored_report(bot.app, "X-ANLAO")).answers["8.3"] == 5_000_000


@contextlib.asynccontextmanager
async def zalo_bot(tg: FakeTelegram, zl: FakeZalo, db_url: str, tmp_path: Path
                   ) -> AsyncIterator[Running]:
    """The real wiring with Zalo (and Telegram) on a seeded database, stopped on the way out."""
    clock = FlowingClock(WEEK)
    port = free_port()
    settings = Settings(database_url=db_url, telegram_bot_token=tg.token,
                        telegram_api_base=tg.base_url, zalo_bot_token=zl.token,
                        zalo_api_base=zl.base_url, zalo_rate_per_chat=50,
                        public_url=f"http://127.0.0.1:{port}", webhook_port=port,
                        files_dir=str(tmp_path / "files"), reminder_tick_seconds=0,
                        outbox_lease_seconds=1)
    app = await build_app(settings, clock=clock)
    await seed_reference_data(app, tmp_path)
    await app.close()
    running = await start(settings, clock=clock)
    try:
        yield running
    finally:
        await running.stop()


async def test_zalo_a_near_miss_is_asked_back_and_a_typed_yes_keeps_it(
        tg: FakeTelegram, db_url: str, tmp_path: Path):
    async with FakeZalo() as zl, zalo_bot(tg, zl, db_url, tmp_path) as bot:
        thu = zl.user("f1e2d3c4b5a6978877665544", "Nguyễn Thị Thu")
        code = await invite(bot.app, "X-ANLAO")
        await thu.send("xin chào")
        await thu.wait_for("mã mời")
        await thu.send(code)
        await thu.wait_for("đã được đăng ký")
        await thu.send("/baocao")
        await thu.wait_for("Mục 1 · câu 1/40")
        await thu.send("8.3 = 5 trieuj")
        asked = await thu.wait_for("“5 trieuj”: 5.000.000 đồng, đúng không?")
        assert "Đúng, giữ nguyên" in asked.text and "Nhập lại" in asked.text
        assert await no_reward_money_stored(bot)
        await thu.send("có")
        await thu.wait_for("8.3 = 5.000.000 đồng")
        assert (await stored_report(bot.app, "X-ANLAO")).answers["8.3"] == 5_000_000
        assert zl.spec_errors == []
