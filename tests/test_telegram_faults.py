"""Telegram and the network misbehaving, through the real `baocao run` wiring and the fake Bot
API server: proxy error pages, updates aiogram's models refuse, mangled answers, slow requests,
one chat's 429. The bot keeps receiving and sending, sends nothing twice without a crash, and
keeps the token out of its logs."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.runtime import Running, start
from bot.settings import Settings

from .fake_telegram import FakeTelegram
from .test_telegram_e2e import (  # noqa: F401 - fixtures
    FlowingClock,
    bot,
    flowing_clock,
    free_port,
    seeded,
    settings,
)

pytestmark = pytest.mark.slow
HELP = "Trợ lý này tiếp nhận báo cáo"


async def wait_until(predicate, timeout: float = 5.0) -> None:  # noqa: ANN001
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


# ------------------------------------------------------------------ defect 1: polling


async def test_a_proxy_error_page_on_get_updates_does_not_stop_polling(
        bot: Running, tg: FakeTelegram, caplog: pytest.LogCaptureFixture):
    thu = tg.user(1201, "Thu")
    tg.fail_next_html(2, 502, method="getUpdates")
    with caplog.at_level(logging.WARNING):
        await thu.send("/trogiup")  # ends the long poll in progress; the next two get a page
        await thu.wait_for(HELP)
        await wait_until(lambda: sum(r.status == 502 for r in tg.calls("getUpdates")) == 2)
        await thu.send("/trogiup")
        await thu.wait_for(HELP, timeout=8)
    logged = [r.getMessage() for r in caplog.records if "getUpdates" in r.getMessage()]
    assert logged and all("UndecodableAnswer" in line or "ClientDecodeError" in line
                          for line in logged), logged
    assert bot.health.parts["telegram-poll"].last_ok is not None


async def test_an_update_aiograms_models_refuse_is_skipped_not_retried_forever(
        bot: Running, tg: FakeTelegram, caplog: pytest.LogCaptureFixture):
    thu = tg.user(1202, "Thu")
    with caplog.at_level(logging.WARNING):
        bad = await thu.forward("tin cũ", origin="hidden_user", hidden_name=None)
        await thu.send("/trogiup")
        await thu.wait_for(HELP, timeout=8)
    assert bot.health.parts["telegram-poll"].skipped == 1
    assert all(u["id"] != bad for u in tg._updates)  # confirmed: Telegram drops it
    assert any(str(bad) in r.getMessage() for r in caplog.records)
    await asyncio.sleep(0.3)
    assert len([m for m in thu.messages() if HELP in (m.text or "")]) == 1


async def test_a_webhook_answers_200_to_an_update_it_cannot_read(
        seeded: Settings, tg: FakeTelegram, flowing_clock: FlowingClock):  # noqa: F811
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    running = await start(seeded.model_copy(update={"webhook_url": url, "webhook_port": port}),
                          clock=flowing_clock)
    try:
        thu = tg.user(1203, "Thu")
        await thu.forward("tin cũ", origin="hidden_user", hidden_name=None)
        await tg.wait_webhooks()
        await thu.send("/trogiup")
        await thu.wait_for(HELP)
        assert tg.webhook_statuses == [200, 200]  # never a 4xx Telegram would retry forever
        assert running.health.parts["telegram-webhook"].skipped == 1
    finally:
        await running.stop()
