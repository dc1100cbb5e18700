"""Telegram and the network misbehaving, through the real `baocao run` wiring and the fake Bot
API server: proxy error pages, updates aiogram's models refuse, mangled answers, slow requests,
one chat's 429. The bot keeps receiving and sending, sends nothing twice without a crash, and
keeps the token out of its logs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.app import build_app
from bot.runtime import Running, start
from bot.settings import Settings

from .conftest import VN, seed_reference_data
from .fake_telegram import FakeTelegram
from .test_telegram_e2e import FlowingClock, free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def flowing_clock() -> FlowingClock:
    return FlowingClock(datetime(2023, 10, 5, 9, 0, tzinfo=VN))


@pytest.fixture
async def seeded(tg: FakeTelegram, db_url: str, flowing_clock: FlowingClock,
                 tmp_path: Path) -> Settings:
    settings = Settings(database_url=db_url, telegram_bot_token=tg.token,
                        telegram_api_base=tg.base_url, telegram_rate_per_chat=50,
                        outbox_lease_seconds=1, files_dir=str(tmp_path / "files"))
    app = await build_app(settings, clock=flowing_clock)
    await seed_reference_data(app, tmp_path)
    await app.close()
    return settings


@pytest.fixture
async def bot(seeded: Settings, flowing_clock: FlowingClock) -> AsyncIterator[Running]:
    running = await start(seeded, clock=flowing_clock)
    yield running
    await running.stop()

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
        seeded: Settings, tg: FakeTelegram, flowing_clock: FlowingClock):
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


# ------------------------------------------------------------------ defect 2: sends


async def enqueue(running: Running, chat_ids: list[int], text: str) -> None:
    from bot.delivery import outbox

    async with running.app.sessions() as session, session.begin():
        for chat_id in chat_ids:
            outbox.enqueue_payload(session, "telegram", str(chat_id),
                                   {"kind": "message", "text": f"{text} {chat_id}",
                                    "buttons": []}, running.app.clock())
    running.wake_senders()


def texts(tg: FakeTelegram, chat_id: int) -> list[str]:
    return [m.text for m in tg.sent_to(chat_id)]


async def test_a_mangled_answer_or_a_proxy_page_costs_only_that_message(
        bot: Running, tg: FakeTelegram):
    chats = [1301, 1302, 1303, 1304, 1305]
    for chat_id in chats:
        tg.user(chat_id)
    tg.garble_next(1, method="sendMessage", chat_id=1302)  # delivered, answer cut off
    tg.fail_next_html(1, 502, method="sendMessage", chat_id=1303)  # never reached Telegram
    await enqueue(bot, chats, "Kính nhắc")
    await wait_until(lambda: all(texts(tg, c) for c in chats), timeout=8)
    await asyncio.sleep(3.5)  # more than three leases (1 s here): nothing comes twice
    for chat_id in chats:
        assert texts(tg, chat_id) == [f"Kính nhắc {chat_id}"], chat_id
    assert sum(r.status == 502 for r in tg.calls("sendMessage")) == 1


async def test_a_slow_request_holds_only_its_own_chat(bot: Running, tg: FakeTelegram):
    for chat_id in (1311, 1312, 1313):
        tg.user(chat_id)
    tg.delay(7, "sendMessage", chat_id=1311)
    await enqueue(bot, [1311, 1312, 1313], "Một")
    await wait_until(lambda: texts(tg, 1312) and texts(tg, 1313), timeout=5)
    await enqueue(bot, [1312], "Hai")
    await wait_until(lambda: len(texts(tg, 1312)) == 2, timeout=5)
    assert texts(tg, 1311) == []  # both went while 1311's request still hung
    tg.delay(0, "sendMessage", chat_id=1311)
    await wait_until(lambda: texts(tg, 1311), timeout=10)
    await asyncio.sleep(1.5)
    assert texts(tg, 1311) == ["Một 1311"]  # its lease was kept while it was in flight


async def test_one_chats_429_does_not_hold_the_others(bot: Running, tg: FakeTelegram):
    for chat_id in (1321, 1322, 1323):
        tg.user(chat_id)
    tg.fail_next(1, 429, method="sendMessage", retry_after=5, chat_id=1321)
    await enqueue(bot, [1321, 1322, 1323], "Một")
    await wait_until(lambda: texts(tg, 1322) and texts(tg, 1323), timeout=5)
    await wait_until(lambda: any(r.status == 429 for r in tg.calls("sendMessage")), timeout=5)
    await enqueue(bot, [1322, 1323], "Hai")
    await wait_until(lambda: len(texts(tg, 1322)) == 2 and len(texts(tg, 1323)) == 2,
                     timeout=5)
    assert texts(tg, 1321) == []  # the others went on while 1321 waited out its 5 s
    await wait_until(lambda: texts(tg, 1321), timeout=10)
    assert texts(tg, 1321) == ["Một 1321"]


# ------------------------------------------------------------------ defect 9: restarts


async def test_after_a_restart_an_instance_takes_back_its_own_claims_at_once(
        seeded: Settings, tg: FakeTelegram, flowing_clock: FlowingClock):
    from datetime import timedelta

    from sqlalchemy import select

    from bot.delivery import outbox
    from bot.storage.models import OutboxMessage

    settings = seeded.model_copy(update={"outbox_lease_seconds": 30})
    running = await start(settings, clock=flowing_clock)
    mine = str(running.instance)
    await running.stop()
    for chat_id in (1331, 1332):
        tg.user(chat_id)
    # What a process killed mid-send leaves: rows claimed for 30 s, by it and by another one.
    async with running.app.sessions() as session, session.begin():
        now = flowing_clock()
        for chat_id in (1331, 1332):
            outbox.enqueue_payload(session, "telegram", str(chat_id),
                                   {"kind": "message", "text": "Trả lời", "buttons": []}, now)
        await session.flush()
        for row in (await session.scalars(select(OutboxMessage).where(
                OutboxMessage.sent_at.is_(None)))).all():
            row.claimed_until = now + timedelta(seconds=30)
            row.claimed_by = "another-instance" if row.chat_id == "1332" else mine
            row.attempts = 1
    running = await start(settings, clock=flowing_clock)
    try:
        assert str(running.instance) == mine  # the id survived the restart
        await wait_until(lambda: texts(tg, 1331), timeout=3)
        await asyncio.sleep(1)
        assert texts(tg, 1332) == []  # another instance's claim keeps its lease
    finally:
        await running.stop()
