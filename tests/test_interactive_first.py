"""Interactive first (issue 15): a reply to someone who wrote goes ahead of a reminder blast,
within Telegram's limits; the blast gets the capacity left; a reminder to someone filling in
a form waits until they pause. Through the real `baocao run` wiring, the fake Bot API server
enforcing Telegram's limits (30 messages a second, 1 a second per chat after a burst of 3),
and a clock frozen at one instant: ordering comes from the outbox, never from timestamps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from bot.app import App, build_app
from bot.delivery import outbox
from bot.runtime import Running, start
from bot.settings import Settings
from bot.storage.models import Contact, ContactUnit, Identity, OutboxMessage, Unit
from conversations.events import InboundEvent

from .conftest import VN, Clock, seed_reference_data
from .fake_telegram import FakeTelegram
from .test_telegram_e2e import deep_link_sign_in

pytestmark = pytest.mark.slow

WEEK = "tuan-le-htsd-2023"
BLAST = 1000
FIRST_CHAT = 7_000_001
REMINDER = "Kính nhắc"
HELP = "Các lệnh anh/chị có thể dùng"


@pytest.fixture
def frozen() -> Clock:
    return Clock(datetime(2023, 10, 5, 9, 0, tzinfo=VN))  # the Week 2023 is open


@pytest.fixture
async def settings(tg: FakeTelegram, db_url: str, frozen: Clock, tmp_path: Path) -> Settings:
    """Telegram's real limits on both sides; 1,000 more communes, each with a reporter on
    Telegram, to remind."""
    tg.enforce_flood_limits(per_second=30, per_chat_per_second=1.0, burst=3)
    settings = Settings(database_url=db_url, telegram_bot_token=tg.token,
                        telegram_api_base=tg.base_url, reminder_tick_seconds=0,
                        files_dir=str(tmp_path / "files"))
    app = await build_app(settings, clock=frozen)
    await seed_reference_data(app, tmp_path)
    await seed_communes(app, BLAST, frozen())
    await app.close()
    return settings


async def seed_communes(app: App, count: int, now: datetime) -> None:
    async with app.sessions() as session, session.begin():
        root = await session.scalar(select(Unit).where(Unit.code == "HP"))
        assert root is not None
        # Ids come from the database (explicit ids would leave PostgreSQL's sequences behind).
        codes = [f"X-BLAST{n:04d}" for n in range(count)]
        unit_ids = (await session.execute(
            insert(Unit).returning(Unit.id, sort_by_parameter_order=True),
            [{"code": code, "name": f"Xã {code}", "kind": "commune", "parent_id": root.id,
              "path": f"{root.path}{code}/"} for code in codes])).scalars().all()
        contact_ids = (await session.execute(
            insert(Contact).returning(Contact.id, sort_by_parameter_order=True),
            [{"name": f"Cán bộ {n}", "phone": None, "role": "reporter", "language": "vi",
              "active": True, "created_at": now} for n in range(count)])).scalars().all()
        await session.execute(insert(ContactUnit), [
            {"contact_id": contact_id, "unit_id": unit_id}
            for contact_id, unit_id in zip(contact_ids, unit_ids, strict=True)])
        await session.execute(insert(Identity), [
            {"channel": "telegram", "external_user_id": str(FIRST_CHAT + n),
             "chat_id": str(FIRST_CHAT + n), "display_name": f"Cán bộ {n}",
             "contact_id": contact_id, "created_at": now}
            for n, contact_id in enumerate(contact_ids)])


async def remind_everyone(app: App, now: datetime) -> int:
    """What `baocao remind now` does: a nudge of every reporter whose unit has not submitted."""
    async with app.sessions() as session, session.begin():
        return await app.dispatcher.reminders.nudge(session, WEEK, now)


def reminders_delivered(tg: FakeTelegram) -> int:
    return sum(1 for r in tg.requests if r.method == "sendMessage" and r.status == 200
               and REMINDER in str(r.params.get("text", "")))


async def wait_until(predicate, timeout: float) -> None:  # noqa: ANN001
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@pytest.fixture
async def running(settings: Settings, frozen: Clock) -> AsyncIterator[Running]:
    bot = await start(settings, clock=frozen)
    yield bot
    await bot.stop()


async def test_a_reply_queued_after_a_thousand_reminders_goes_out_first(
        settings: Settings, tg: FakeTelegram, frozen: Clock):
    lan = tg.user(1501, "Lan")
    running = await start(settings, clock=frozen)
    try:
        await deep_link_sign_in(running, lan, "X-ANLAO")
    finally:
        await running.stop()  # nothing is sent while the queue is being filled
    app = await build_app(settings, migrate=False, clock=frozen)
    try:
        queued = await remind_everyone(app, frozen())
        assert queued == BLAST + 1  # the 1,000 communes, and Lan's
        # Lan asks for help, at the same frozen instant: her reply is queued after them all.
        await app.dispatcher.handle(InboundEvent(
            channel="telegram", chat_id="1501", user_id="1501", message_id="9001",
            kind="text", received_at=frozen(), text="/trogiup", display_name="Lan"))
        async with app.sessions() as session:
            rows = (await session.execute(
                select(OutboxMessage.id, OutboxMessage.chat_id, OutboxMessage.priority)
                .where(OutboxMessage.sent_at.is_(None)).order_by(OutboxMessage.id))).all()
        assert len(rows) == BLAST + 2
        assert rows[-1].chat_id == "1501" and rows[-1].priority == outbox.REPLY
        assert all(r.priority == outbox.BULK for r in rows[:-1])
    finally:
        await app.close()
    before = len(tg.requests)
    bot = await start(settings, clock=frozen)
    try:
        await wait_until(lambda: reminders_delivered(tg) >= 60, timeout=10)
        sent = [r for r in tg.requests[before:] if r.method == "sendMessage"]
        assert sent[0].params["chat_id"] == 1501 and HELP in sent[0].params["text"]
        assert all(REMINDER in r.params["text"] for r in sent[1:])
        assert tg.flood_429s == 0
    finally:
        await bot.stop()


async def test_a_reply_overtakes_a_running_blast_and_a_form_is_not_interrupted(
        running: Running, tg: FakeTelegram, frozen: Clock):
    lan = tg.user(1502, "Lan")
    await deep_link_sign_in(running, lan, "X-ANLAO")
    await lan.send("/baocao")
    await lan.wait_for("câu 1/")
    queued = await remind_everyone(running.app, frozen())
    assert queued == BLAST + 1
    running.wake_senders()
    await wait_until(lambda: reminders_delivered(tg) >= 30, timeout=5)
    # Mid-blast, Lan answers the first question: the reply overtakes the ~970 reminders
    # still queued (at 30 a second they take half a minute). Counted, not timed: without
    # priorities the reply waits behind every reminder queued before it.
    before = reminders_delivered(tg)
    await lan.send("co")
    await lan.wait_for("câu 2/", timeout=15)
    assert reminders_delivered(tg) - before < 200
    assert reminders_delivered(tg) < BLAST - 200
    # The blast goes on with what the replies leave, within Telegram's limits.
    lan_reminder = await reminder_row(running, "1502")
    await until_sent_after(running, lan_reminder, count=60, timeout=30)
    assert tg.flood_429s == 0
    # Lan is filling in the form and wrote a moment ago (the clock is frozen): her reminder
    # waits, while those queued after it go.
    assert not [m for m in lan.messages() if REMINDER in (m.text or "")]
    frozen.now += timedelta(minutes=3)  # she paused
    await lan.wait_for(REMINDER, timeout=15)


async def reminder_row(running: Running, chat_id: str) -> int:
    async with running.app.sessions() as session:
        row_id = await session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.chat_id == chat_id, OutboxMessage.priority == outbox.BULK))
    assert row_id is not None
    return row_id


async def until_sent_after(running: Running, row_id: int, count: int, timeout: float) -> None:
    """Wait until `count` reminders queued after the one `row_id` were sent."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with running.app.sessions() as session:
            sent = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.id > row_id, OutboxMessage.priority == outbox.BULK,
                OutboxMessage.sent_at.is_not(None)))
        if sent >= count:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"only {sent} reminders queued after row {row_id} were sent")
        await asyncio.sleep(0.1)
