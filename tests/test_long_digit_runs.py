"""A long run of digits typed mid-form (issue 23, defect 5) gets the polite "too large" or
"answer 1 or 2" reply and the same question again, never the apology, and nothing is stored:
Python refuses to turn more than 4,300 digits into an int, so no reading may try."""

from __future__ import annotations

import pytest

from bot.app import App

from .test_answer_safety import APOLOGY, at_question_2_1
from .test_report_conversation import signed_in, stored_report

HUGE = "9" * 10_000


@pytest.mark.parametrize("typed", [HUGE, "1" * 4_301, "０" * 5_000, f"{HUGE} người"])
async def test_a_huge_number_at_a_count_question_is_refused_politely(app: App, person,
                                                                     typed: str):
    thu = await signed_in(person(), app)
    await at_question_2_1(thu)
    reply = await thu.say(typed)
    assert APOLOGY not in reply
    assert "Số này quá lớn" in reply and "2.1. " in reply, reply
    assert "2.1" not in (await stored_report(app, "X-ANLAO")).answers


@pytest.mark.parametrize("typed", [HUGE, "²" * 3])
async def test_a_huge_number_at_a_yes_no_question_is_refused_politely(app: App, person,
                                                                      typed: str):
    thu = await signed_in(person(), app)
    reply = await thu.say("/baocao")
    assert "1.1. " in reply
    reply = await thu.say(typed)
    assert APOLOGY not in reply
    assert "1.1. " in reply and "có" in reply, reply
    report = await stored_report(app, "X-ANLAO")
    assert report is None or "1.1" not in report.answers
