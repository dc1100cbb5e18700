"""Issue 22, 5: a unit with two open periods of one campaign sees which period each choice is,
and what it types at that choice is held until it chooses; a value asked back (“Đúng, giữ
nguyên?”) is never dropped silently when another message comes. Local chat, real SQLite."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, select

from bot import admin
from bot.app import App
from bot.storage.models import Answer, Campaign, Period, Submission, Unit
from conversations.campaigns import parse_campaign

from .test_report_conversation import signed_in, stored_report

pytestmark = pytest.mark.slow

TWO_ROUNDS = {
    "id": "tuan-le-hai-dot",
    "title": {"vi": "Tuần lễ học tập suốt đời", "en": "Lifelong Learning Week"},
    "forms": [{"form": "tuan-le-htsd", "kinds": ["commune", "ward", "town"]}],
    "periods": [
        {"key": "dot-1", "label": {"vi": "Đợt 1 (02/10–08/10)", "en": "Round 1 (02/10–08/10)"},
         "start": "2023-10-02", "end": "2023-10-08", "due_before": "2023-10-13"},
        {"key": "dot-2", "label": {"vi": "Đợt 2 (04/10–10/10)", "en": "Round 2 (04/10–10/10)"},
         "start": "2023-10-04", "end": "2023-10-10", "due_before": "2023-10-15"},
    ],
}


async def _two_rounds_only(app: App) -> None:
    """The bundled 2023 Week replaced by one campaign with two open periods (05/10/2023)."""
    async with app.sessions() as session, session.begin():
        old = await session.scalar(select(Campaign).where(Campaign.key == "tuan-le-htsd-2023"))
        await session.execute(delete(Period).where(Period.campaign_id == old.id))
        await session.delete(old)
        await admin.load_campaign(session, parse_campaign(TWO_ROUNDS), app.clock())


async def answers_of(app: App, period: str, unit: str = "X-ANLAO") -> dict[str, Any]:
    async with app.sessions() as session:
        submission = await session.scalar(
            select(Submission).join(Unit, Unit.id == Submission.unit_id)
            .join(Period, Period.id == Submission.period_id)
            .where(Unit.code == unit, Period.key == period))
        if submission is None:
            return {}
        rows = await session.scalars(select(Answer).where(Answer.submission_id == submission.id))
        return {a.question_id: a.value for a in rows}


def options(reply: str) -> dict[str, str]:
    """The numbered choices a reply offers: number -> label."""
    found = {}
    for line in reply.splitlines():
        number, dot, label = line.partition(". ")
        if dot and number.isdigit():
            found[number] = label
    return found


async def test_each_choice_names_its_period(app: App, person):
    await _two_rounds_only(app)
    thu = await signed_in(person(), app)
    reply = await thu.say("/baocao")
    choices = options(reply)
    assert len(choices) == 2 and len(set(choices.values())) == 2, reply
    assert "Đợt 1 (02/10–08/10)" in choices["1"] and "Đợt 2 (04/10–10/10)" in choices["2"]
    bullets = [line for line in reply.splitlines() if line.startswith("• ")]
    assert len(set(bullets)) == 2 and "Đợt 1" in bullets[0] and "Đợt 2" in bullets[1]
    reply = await thu.say("2")
    assert "Đợt 2" in reply and "1.1. " in reply
    await thu.say("có")
    assert await answers_of(app, "dot-2") == {"1.1": True}
    assert await answers_of(app, "dot-1") == {}


async def test_an_answer_typed_at_the_period_choice_is_held_until_the_choice(app: App, person):
    await _two_rounds_only(app)
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    reply = await thu.say("4.2 150")
    assert "chưa được lưu" in reply and "4.2 150" in reply  # said, not dropped
    assert len(options(reply)) == 2  # and the choice asked again
    assert await answers_of(app, "dot-1") == {} and await answers_of(app, "dot-2") == {}
    reply = await thu.say("/baocao")  # asking for the list again keeps what was typed
    assert len(options(reply)) == 2
    reply = await thu.say("2")
    assert "4.2 = 150 người" in reply
    assert (await answers_of(app, "dot-2"))["4.2"] == 150
    assert await answers_of(app, "dot-1") == {}


async def test_a_pasted_report_at_the_period_choice_is_held_until_the_choice(app: App, person):
    await _two_rounds_only(app)
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    reply = await thu.say("mục 2: 3, 1, 5, 12\nmục 3: 1.500, 20, 12")
    assert "chưa được lưu" in reply and len(options(reply)) == 2
    reply = await thu.say("1")
    assert "Đã lưu 7 câu" in reply
    stored = await answers_of(app, "dot-1")
    assert stored["2.4"] == 12 and stored["3.1"] == 1500
    assert await answers_of(app, "dot-2") == {}


async def test_a_value_asked_back_is_asked_again_after_another_message(app: App, person):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    reply = await thu.say("6.4 200.000")
    assert "Đúng, giữ nguyên" in reply
    reply = await thu.say("mục 2: 3, 1, 5, 12")
    report = await stored_report(app, "X-ANLAO")
    assert report.answers["2.4"] == 12  # the new message is handled
    assert "6.4" not in report.answers
    assert "6.4 = 200.000" in reply and "chưa được lưu" in reply  # said, and asked again
    assert reply.rstrip().endswith("Trả lời 1 hoặc 2.") and "Đúng, giữ nguyên" in reply
    reply = await thu.say("Đúng, giữ nguyên")
    assert (await stored_report(app, "X-ANLAO")).answers["6.4"] == 200_000


async def test_several_values_asked_back_all_survive_another_message(app: App, person):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    reply = await thu.say("4.2=150.000\n6.4=200.000")
    assert "Đúng, giữ nguyên" in reply and "4.2" in reply
    reply = await thu.say("mục 2: 3, 1, 5, 12")
    assert "chưa được lưu" in reply and "4.2" in reply and "6.4" in reply
    await thu.say("đúng")
    reply = await thu.say("đúng")
    answers = (await stored_report(app, "X-ANLAO")).answers
    assert answers["4.2"] == 150_000 and answers["6.4"] == 200_000 and answers["2.4"] == 12


async def test_a_new_value_typed_for_the_asked_question_replaces_it(app: App, person):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    await thu.say("6.4 200.000")
    reply = await thu.say("6.4 2.000")
    assert "chưa được lưu" not in reply
    assert (await stored_report(app, "X-ANLAO")).answers["6.4"] == 2000


async def test_cancel_while_a_value_is_asked_back_says_it_was_not_saved(app: App, person):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    await thu.say("6.4 200.000")
    reply = await thu.say("/huy")
    assert "6.4 = 200.000" in reply and "chưa được lưu" in reply
    report = await stored_report(app, "X-ANLAO")
    assert report is None or "6.4" not in report.answers
