"""Telegram's paid broadcast (issue 15, optional, off by default): with
BAOCAO_TELEGRAM_PAID_BROADCAST=true, bulk messages (reminders) go with `allow_paid_broadcast`
under an overall rate of their own (1,000 a second); replies never do, and stay within the
free 30 a second. The fake Bot API applies the higher limit only to messages carrying it."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiogram.exceptions import TelegramRetryAfter

from bot.app import build_app
from bot.channels.telegram.channel import make_bot
from bot.delivery.flood_control import TELEGRAM_PAID_BROADCAST_RATE, FloodControl
from bot.runtime import start
from bot.settings import Settings
from conversations.events import InboundEvent

from .conftest import Clock, seed_reference_data
from .fake_telegram import FakeTelegram
from .test_interactive_first import (
    REMINDER,
    remind_everyone,
    seed_communes,
    wait_until,
)
from .test_interactive_first import frozen as frozen  # noqa: F401 (a fixture)
from .test_telegram_e2e import deep_link_sign_in

pytestmark = pytest.mark.slow

BLAST = 120


def test_the_setting_is_off_unless_asked(monkeypatch: pytest.MonkeyPatch):
    assert Settings(database_url="sqlite+aiosqlite:///x.db").telegram_paid_broadcast is False
    monkeypatch.setenv("BAOCAO_TELEGRAM_PAID_BROADCAST", "true")
    assert Settings(database_url="sqlite+aiosqlite:///x.db").telegram_paid_broadcast is True


def test_paid_messages_have_a_rate_of_their_own_and_chats_keep_theirs():
    """Time passed in: 300 paid messages to 300 chats go within half a second, 300 free ones
    take ten; a chat still gets no more than its burst of 3 at once, paid or not."""
    def time_for(paid: bool) -> float:
        flood = FloodControl(per_second=30, paid_per_second=TELEGRAM_PAID_BROADCAST_RATE)
        now = 0.0
        for chat in range(300):
            now += flood.delay(str(chat), now, paid=paid)
            flood.sent(str(chat), now, paid=paid)
        return now

    assert time_for(paid=True) < 0.5
    assert time_for(paid=False) > 9.0
    flood = FloodControl(per_second=30, paid_per_second=TELEGRAM_PAID_BROADCAST_RATE)
    now = 0.0
    for _ in range(3):
        now += flood.delay("7", now, paid=True)
        flood.sent("7", now, paid=True)
    assert flood.delay("7", now, paid=True) > 0.9
    # Paid messages leave the free rate to the replies.
    assert flood.delay("8", now) < 0.05


async def test_the_fake_applies_the_higher_limit_only_to_messages_that_carry_it(
        tg: FakeTelegram):
    tg.enforce_flood_limits(per_second=30, per_chat_per_second=1.0, burst=3)
    bot = make_bot(tg.token, tg.base_url)
    try:
        for chat in range(1, 61):  # twice the free limit, well within a second
            await bot.send_message(9_000_000 + chat, "Kính nhắc", allow_paid_broadcast=True)
        assert tg.paid_broadcasts == 60 and tg.flood_429s == 0
        for chat in range(1, 31):
            await bot.send_message(9_100_000 + chat, "Trả lời")
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(9_200_000, "Trả lời")
        with pytest.raises(TelegramRetryAfter):  # a chat's own limit holds for paid ones too
            for _ in range(4):
                await bot.send_message(9_300_000, "Kính nhắc", allow_paid_broadcast=True)
    finally:
        await bot.session.close()
    assert tg.spec_errors == []


@pytest.fixture
async def paid_settings(tg: FakeTelegram, db_url: str, frozen: Clock,  # noqa: F811
                        tmp_path: Path) -> Settings:
    tg.enforce_flood_limits(per_second=30, per_chat_per_second=1.0, burst=3)
    settings = Settings(database_url=db_url, telegram_bot_token=tg.token,
                        telegram_api_base=tg.base_url, reminder_tick_seconds=0,
                        files_dir=str(tmp_path / "files"), telegram_paid_broadcast=True)
    app = await build_app(settings, clock=frozen)
    await seed_reference_data(app, tmp_path)
    await seed_communes(app, BLAST, frozen())
    await app.close()
    return settings


async def test_reminders_go_as_paid_broadcast_and_replies_do_not(
        paid_settings: Settings, tg: FakeTelegram, frozen: Clock):  # noqa: F811
    running = await start(paid_settings, clock=frozen)
    try:
        lan = tg.user(1601, "Lan")
        await deep_link_sign_in(running, lan, "X-ANLAO")
        queued = await remind_everyone(running.app, frozen())
        assert queued == BLAST + 1
        await running.app.dispatcher.handle(InboundEvent(
            channel="telegram", chat_id="1601", user_id="1601", message_id="9001",
            kind="text", received_at=frozen(), text="/trogiup", display_name="Lan"))
        running.wake_senders()
        await wait_until(lambda: tg.paid_broadcasts >= BLAST + 1, timeout=20)
        sent = [r for r in tg.requests if r.method == "sendMessage" and r.status == 200]
        reminders = [r for r in sent if REMINDER in str(r.params.get("text", ""))]
        others = [r for r in sent if REMINDER not in str(r.params.get("text", ""))]
        assert len(reminders) == BLAST + 1
        assert all(r.params.get("allow_paid_broadcast") is True for r in reminders)
        assert others and not any(r.params.get("allow_paid_broadcast") for r in others)
        assert tg.flood_429s == 0 and tg.spec_errors == []
    finally:
        await running.stop()
