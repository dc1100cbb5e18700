"""A reply to a stale prompt never lands on another question (issue 22, number 10): every
stored answer is acknowledged with its id before the next question; a prompt the conversation
has moved past is not sent after a restart; a Telegram reply to a question's message answers
that question."""

from __future__ import annotations

from bot.app import App

from .conftest import Person
from .test_report_conversation import signed_in, stored_report


async def at_question_2_1(person: Person) -> str:
    await person.say("/baocao")
    await person.say("có")
    reply = await person.say("Bỏ qua")
    assert "2.1. " in reply
    return reply


async def test_each_stored_answer_is_acknowledged_with_its_id_before_the_next_question(
        app: App, person):
    thu = await signed_in(person(), app)
    await at_question_2_1(thu)
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
