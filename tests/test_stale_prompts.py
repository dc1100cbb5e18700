"""A reply to a stale prompt never lands on another question (issue 22, number 10): every
stored answer is acknowledged with its id before the next question; a prompt the conversation
has moved past is not sent after a restart; a Telegram reply to a question's message answers
that question."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.delivery.outbox_sender import OutboxSender
from bot.storage.models import OutboxMessage

from .conftest import VN, Person
from .fake_telegram import FakeTelegram
from .test_report_conversation import signed_in, stored_report
from .test_telegram_e2e import deep_link_sign_in, seeded_bot


async def at_question_2_1(person: Person) -> str:
    await person.say("/baocao")
    await person.say("có")
    reply = await person.say("Bỏ qua")
    assert "2.1. " in reply
    return reply


async def test_each_stored_answer_is_acknowledged_with_its_id_before_the_next_question(
        app: App, person):
    thu = await signed_in(person(), app)
    reply = await at_question_2_1(thu)
    assert reply.startswith("1.2 = (bỏ qua) ✓\n")  # a skip is stored too: as nothing
    reply = await thu.say("12")
    ack, _, rest = reply.partition("\n")
    assert ack == "2.1 = 12 bài ✓"
    assert "2.2. " in rest
    reply = await thu.say("3")
    assert reply.splitlines()[0] == "2.2 = 3 tin bài ✓"
    assert "2.3. " in reply
    report = await stored_report(app, "X-ANLAO")
    assert report.answers["2.1"] == 12 and report.answers["2.2"] == 3
    # A value asked back and kept is acknowledged with its id too.
    reply = await thu.say("900")
    assert "2.3 = 900" not in reply and "2.4. " not in reply
    reply = await thu.say("Đúng, giữ nguyên")
    assert "2.3 = 900" in reply.split("2.4. ")[0]


class Recording:
    """A messenger that takes every message; what it was sent, in order."""

    channel = "local"

    def __init__(self) -> None:
        self.sent: list[str] = []

    def is_group(self, chat_id: str) -> bool:
        return False

    async def send(self, chat_id: str, payload: dict) -> None:
        self.sent.append(payload.get("text", ""))


async def test_a_prompt_the_conversation_moved_past_is_not_sent_after_a_restart(
        app: App, person):
    """The 30-kill soak's case: question 2.1's prompt was in flight when the bot was killed
    (claimed, not marked sent); the person had read it and answered, so the conversation is
    at 2.2. The restarted sender must not send 2.1 again: a reply to it would be stored under
    the question then current."""
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    await thu.say("có")
    chat = thu.chat
    await app.dispatcher.handle(chat.event("Bỏ qua"))  # asks 2.1; not delivered
    now = app.clock()
    async with app.sessions() as session, session.begin():
        prompt_a = (await session.scalars(select(OutboxMessage).where(
            OutboxMessage.chat_id == chat.user, OutboxMessage.sent_at.is_(None)))).one()
        assert "2.1. " in prompt_a.payload["text"]
        prompt_a.claimed_by, prompt_a.claimed_until = "host-1", now + timedelta(seconds=30)
    await app.dispatcher.handle(chat.event("12"))  # the answer to 2.1: now at 2.2
    transport = Recording()
    sender = OutboxSender(app.sessions, transport, app.clock, app.catalog,
                          instance_id="host-1")
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop, idle_poll=0.05))
    try:
        async with asyncio.timeout(10):
            while not any("2.2. " in text for text in transport.sent):
                await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
    finally:
        stop.set()
        await running
    assert not any("2.1. " in text for text in transport.sent), transport.sent
    # What the stale prompt said before its question (the acknowledgement of the skip) still
    # goes, alone, before the next question.
    assert transport.sent[0] == "1.2 = (bỏ qua) ✓", transport.sent
    assert len(transport.sent) == 2 and transport.sent[1].startswith("2.1 = 12 bài ✓")
    async with app.sessions() as session:
        dropped = await session.get(OutboxMessage, prompt_a.id)
        assert dropped.payload["text"] == "1.2 = (bỏ qua) ✓" and dropped.asks is None
        unsent = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.sent_at.is_(None), OutboxMessage.failed.is_(None)))
        assert unsent == 0
    report = await stored_report(app, "X-ANLAO")
    assert report.answers == {"1.1": True, "1.2": None, "2.1": 12}


async def mark_prompt_sent_as(app: App, chat_id: str, qid: str, message_id: str) -> None:
    """As the sender does for a messenger that numbers messages (the local chat has none)."""
    async with app.sessions() as session, session.begin():
        row = (await session.scalars(select(OutboxMessage).where(
            OutboxMessage.chat_id == chat_id, OutboxMessage.asks.like(f"answering|%|{qid}"))
            .order_by(OutboxMessage.id.desc()).limit(1))).one()
        row.sent_message_id = message_id


async def test_a_reply_to_an_earlier_questions_message_answers_that_question(app: App, person):
    thu = await signed_in(person(), app)
    await at_question_2_1(thu)
    await thu.say("12")
    reply = await thu.say("3")
    assert "2.3. " in reply
    await mark_prompt_sent_as(app, thu.chat.user, "2.1", "m-21")
    # The person scrolls up and replies to 2.1's message while 2.3 is asked.
    await app.dispatcher.handle(replace(thu.chat.event("7"), reply_to="m-21"))
    reply = "\n".join(await thu.chat.deliver())
    assert reply.splitlines()[0] == "2.1 = 7 bài ✓"
    assert "2.3. " in reply and "2.4. " not in reply
    report = await stored_report(app, "X-ANLAO")
    assert report.answers["2.1"] == 7 and "2.3" not in report.answers
    # What does not read as an answer to 2.1 is stored nowhere, and says what is expected.
    await app.dispatcher.handle(replace(thu.chat.event("nhiều lắm"), reply_to="m-21"))
    reply = "\n".join(await thu.chat.deliver())
    assert "2.1" in reply.splitlines()[0] and "ví dụ" in reply and "2.3. " in reply
    report = await stored_report(app, "X-ANLAO")
    assert report.answers["2.1"] == 7 and "2.3" not in report.answers
    # The current question is answered as usual afterwards.
    reply = await thu.say("5")
    assert reply.startswith("2.3 = 5 tin bài ✓") and "2.4. " in reply
    report = await stored_report(app, "X-ANLAO")
    assert report.answers["2.3"] == 5 and report.answers["2.1"] == 7


@pytest.mark.slow
async def test_telegram_a_reply_to_2_1_while_2_3_is_asked_stores_under_2_1(
        tg: FakeTelegram, db_url: str, tmp_path: Path):
    async with seeded_bot(tg, db_url, tmp_path, datetime(2023, 10, 5, 9, 0, tzinfo=VN)) as bot:
        thu = tg.user(1001, "Thu")
        await deep_link_sign_in(bot, thu)
        await thu.press("Bắt đầu báo cáo")
        await thu.wait_for("1.1. ")
        await thu.press("Có")
        await thu.wait_for("1.2. ")
        await thu.press("Bỏ qua")
        question_2_1 = await thu.wait_for("2.1. ")
        await thu.send("12")
        await thu.wait_for("2.1 = 12 bài ✓")
        await thu.send("3")
        await thu.wait_for("2.3. ")
        await thu.send("7", reply_to=question_2_1)  # a reply to 2.1's message
        reply = await thu.wait_for("2.1 = 7 bài ✓")
        assert reply.text.startswith("2.1 = 7 bài ✓")
        assert "2.3. " in reply.text and "2.4. " not in reply.text
        report = await stored_report(bot.app, "X-ANLAO")
        assert report.answers["2.1"] == 7 and "2.3" not in report.answers
        await thu.send("5")  # not a reply: the current question
        reply = await thu.wait_for("2.4. ")
        assert reply.text.startswith("2.3 = 5 tin bài ✓")
        report = await stored_report(bot.app, "X-ANLAO")
        assert report.answers["2.1"] == 7 and report.answers["2.3"] == 5
        async with bot.app.sessions() as session:  # the prompt's message id, as sent
            asked = await session.scalar(select(OutboxMessage.asks).where(
                OutboxMessage.sent_message_id == str(question_2_1.message_id)))
        assert asked is not None and asked.endswith("|2.1")
