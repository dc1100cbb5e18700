"""A commune reports the Lifelong Learning Week 2023 (seed 004) in the local chat, end to end,
against a real SQLite file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App, build_app
from bot.settings import Settings
from bot.storage.models import (
    Answer,
    AnswerRevision,
    Campaign,
    OutboxMessage,
    Period,
    Submission,
    Unit,
)
from conversations.forms import Question, load_form_file
from conversations.forms import bundled_form_files as form_files

from .conftest import Clock, Person, invite

COMMUNE_FORM = next(load_form_file(p) for p in form_files() if p.stem == "tuan-le-htsd")


@dataclass
class Stored:
    status: str
    on_time: bool | None
    revision: int
    answers: dict[str, Any]
    notes: dict[str, str]
    revisions: list[tuple[int, str, Any, Any]]


async def stored_report(app: App, unit: str, campaign: str = "tuan-le-htsd-2023") -> Stored | None:
    async with app.sessions() as session:
        submission = await session.scalar(
            select(Submission).join(Unit, Unit.id == Submission.unit_id)
            .join(Period, Period.id == Submission.period_id)
            .join(Campaign, Campaign.id == Period.campaign_id)
            .where(Unit.code == unit, Campaign.key == campaign))
        if submission is None:
            return None
        answers = (await session.scalars(
            select(Answer).where(Answer.submission_id == submission.id))).all()
        revisions = (await session.scalars(
            select(AnswerRevision).where(AnswerRevision.submission_id == submission.id)
            .order_by(AnswerRevision.id))).all()
        return Stored(submission.status, submission.on_time, submission.revision,
                      {a.question_id: a.value for a in answers},
                      {a.question_id: a.note for a in answers if a.note},
                      [(r.revision, r.question_id, r.old_value, r.new_value) for r in revisions])


def typed_answer(q: Question, n: int) -> tuple[str, Any]:
    """What a reporter types for a question, and what must be stored."""
    if q.type == "yes_no":
        return "co", True
    if q.type == "text":
        return f"Nội dung phần {q.id} của xã.", f"Nội dung phần {q.id} của xã."
    if q.type == "money":
        return "2tr5", 2_500_000
    value = n % 4 + 1  # small enough for every row's plausible range
    if q.unit.vi == "lượt":  # attendances and visits: at least the classes or exhibitions
        value *= 10
    return (f"{value} người" if n % 3 == 0 else str(value)), value


async def signed_in(person: Person, app: App, unit: str = "X-ANLAO") -> Person:
    code = await invite(app, unit)
    reply = await person.say(code)
    assert "Xã An Lão" in reply if unit == "X-ANLAO" else True
    return person


async def test_a_commune_answers_the_whole_form_step_by_step_and_submits(app: App, person):
    thu = await signed_in(person(), app)
    reply = await thu.say("/baocao")
    assert "Tuần lễ hưởng ứng học tập suốt đời năm 2023" in reply
    assert "trước ngày 13/10/2023" in reply
    assert "Mục 1 · câu 1/40" in reply
    expected: dict[str, Any] = {}
    questions = COMMUNE_FORM.questions
    for n, q in enumerate(questions, start=1):
        assert f"{q.id}. {q.label.vi}" in reply, f"question {q.id} was not asked"
        typed, value = typed_answer(q, n)
        expected[q.id] = value
        reply = await thu.say(typed)
        if n < len(questions):
            assert f"câu {n + 1}/40" in reply
    # The review lists every answer by id, formatted the Vietnamese way.
    assert "8.3  2.500.000 đồng" in reply
    assert "4.2  4 người" in reply
    for q in questions:
        assert f"\n{q.id}  " in reply
    assert "Nộp báo cáo" in reply
    assert (await stored_report(app, "X-ANLAO")).status == "draft"

    reply = await thu.say("Nộp báo cáo")
    assert "đúng hạn" in reply
    report = await stored_report(app, "X-ANLAO")
    assert report.status == "submitted" and report.on_time is True and report.revision == 1
    assert report.answers == expected
    # The first revision records every answer, from nothing.
    assert {(qid, new) for rev, qid, old, new in report.revisions} == set(expected.items())


async def test_whole_sections_in_one_message_and_a_typo_corrected(app: App, person):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    await thu.say("có")
    await thu.say("Bỏ qua")
    reply = await thu.say("mục 2: 3, 1, 12, 4")
    assert "2.1 = 3 bài" in reply
    assert "Mục 3 · câu 7/40" in reply
    # One value per line, with a thousands separator, a typo and a note.
    reply = await thu.say("mục 3:\n1.500\n2O\n12 ghi chú: treo tại trụ sở UBND")
    assert "3.1 = 1.500" in reply and "3.3 = 12" in reply
    assert "3.2" in reply and "“2O”" in reply  # the letter O instead of a zero is refused
    assert "chữ O" in reply  # says what was wrong: a letter among the digits
    # The bot asks 3.2 again, the only one left in the section.
    assert "3.2. " in reply
    reply = await thu.say("20")
    assert "4.1. " in reply
    reply = await thu.say("4.1=2 4.2=150 4.3=1 4.4=300 4.5=3")
    assert "Mục 5" in reply
    report = await stored_report(app, "X-ANLAO")
    assert report.answers["3.2"] == 20 and report.answers["3.1"] == 1500
    assert report.notes["3.3"] == "treo tại trụ sở UBND"
    assert report.answers["4.4"] == 300 and report.answers["1.2"] is None


async def test_going_back_after_a_whole_section_in_one_message(app: App, person):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    await thu.say("có")
    await thu.say("Bỏ qua")
    reply = await thu.say("mục 2: 3, 1, 12, 4")
    assert "Mục 3 · câu 7/40" in reply
    # Back goes to the last answer typed, then the one before, as after answering one by one.
    reply = await thu.say("Quay lại")
    assert "2.4. " in reply and "Câu trả lời hiện tại: 4" in reply
    reply = await thu.say("Quay lại")
    assert "2.3. " in reply and "Câu trả lời hiện tại: 12" in reply


async def test_zero_for_the_rest_of_a_section_and_going_back(app: App, person):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    await thu.say("co")
    await thu.say("Bỏ qua")
    reply = await thu.say("0 cho cả mục này")
    assert "2.1, 2.2, 2.3, 2.4" in reply
    assert "3.1. " in reply
    reply = await thu.say("Quay lại")
    assert "2.1. " in reply and "Câu trả lời hiện tại: 0" in reply
    reply = await thu.say("5")
    assert "3.1. " in reply  # 2.2-2.4 are answered, so the next unanswered question follows
    report = await stored_report(app, "X-ANLAO")
    assert [report.answers[q] for q in ("2.1", "2.2", "2.3", "2.4")] == [5, 0, 0, 0]


@pytest.mark.parametrize(("typed", "expected"), [
    ("-5", "giá trị âm"),
    ("2,5", "số nguyên"),
    ("mười hai", "bằng chữ số"),
    ("???", "Chưa đọc được số"),
])
async def test_bad_numbers_get_a_polite_explanation_and_the_same_question(
        app: App, person, typed: str, expected: str):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    await thu.say("co")
    await thu.say("Bỏ qua")
    reply = await thu.say(typed)
    assert expected in reply
    assert "2.1. Số bài viết trên các báo" in reply
    assert "2.1" not in (await stored_report(app, "X-ANLAO")).answers


async def test_an_implausible_value_is_confirmed_not_refused(app: App, person):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    await thu.say("có")
    await thu.say("Bỏ qua")
    await thu.say("0 cho cả mục này")
    await thu.say("mục 3: 1, 1, 1")
    await thu.say("2")
    reply = await thu.say("150.000")
    assert "150.000 người" in reply and "Đúng, giữ nguyên" in reply
    assert "4.2" not in (await stored_report(app, "X-ANLAO")).answers
    reply = await thu.say("Nhập lại")
    assert "4.2. " in reply
    await thu.say("1.500.000")
    reply = await thu.say("đúng")
    assert "4.3. " in reply
    assert (await stored_report(app, "X-ANLAO")).answers["4.2"] == 1_500_000


async def test_yes_no_by_number_or_word_and_garbage(app: App, person):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    reply = await thu.say("chac vay")
    assert "“có” (yes) hoặc “không”" in reply or "có" in reply.lower()
    assert "1.1. " in reply
    reply = await thu.say("2")
    assert "1.2. " in reply
    assert (await stored_report(app, "X-ANLAO")).answers["1.1"] is False


async def test_corrections_from_the_review_then_after_submitting(app: App, person, clock: Clock):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    for section in COMMUNE_FORM.sections:
        values = [typed_answer(q, 7)[0] for q in section.questions]
        if section.questions[0].type == "text":
            await thu.say(f"mục {section.id}: {values[0]}")
        else:
            await thu.say(f"mục {section.id}: " + "; ".join(values))
    reply = await thu.say("/baocao")
    assert "4.2  4 người" in reply
    reply = await thu.say("4.2 150")
    assert "4.2 = 150 người" in reply
    reply = await thu.say("IV")
    assert "IV. " in reply
    reply = await thu.say("Đề nghị huyện hỗ trợ kinh phí mua sách cho thư viện.")
    assert "Nộp báo cáo" in reply
    await thu.say("Nộp báo cáo")
    report = await stored_report(app, "X-ANLAO")
    assert report.status == "submitted" and report.answers["4.2"] == 150

    # Two days later, still before the deadline: a correction creates revision 2.
    clock.set("2023-10-07T15:30")
    reply = await thu.say("/baocao")
    assert "đã được nộp" in reply
    await thu.say("8.3 3.000.000")
    await thu.say("Nộp báo cáo")
    report = await stored_report(app, "X-ANLAO")
    assert report.revision == 2 and report.answers["8.3"] == 3_000_000
    assert (2, "8.3", 2_500_000, 3_000_000) in report.revisions
    assert report.on_time is True


async def test_a_report_after_the_deadline_is_accepted_and_marked_late(app: App, person,
                                                                      clock: Clock):
    thu = await signed_in(person(), app)
    clock.set("2023-10-14T08:00")
    await thu.say("/baocao")
    for section in COMMUNE_FORM.sections:
        values = [typed_answer(q, 1)[0] for q in section.questions]
        await thu.say(f"mục {section.id}: " + "; ".join(values))
    reply = await thu.say("Nộp báo cáo")
    assert "muộn" in reply
    report = await stored_report(app, "X-ANLAO")
    assert report.status == "submitted" and report.on_time is False


async def test_a_restart_in_the_middle_resumes_where_it_stopped(app: App, person, db_url: str,
                                                               clock: Clock):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    await thu.say("có")
    await thu.say("Số 12/KH-UBND ngày 20/9/2023")
    await thu.say("3")
    await app.close()  # the process dies here

    again = await build_app(Settings(database_url=db_url), clock=clock)
    try:
        restarted = Person(again, "thu-trang")
        reply = await restarted.say("5")
        assert "2.3. " in reply  # the answer went to 2.2, the question it was waiting on
        report = await stored_report(again, "X-ANLAO")
        assert report.answers == {"1.1": True, "1.2": "Số 12/KH-UBND ngày 20/9/2023",
                                  "2.1": 3, "2.2": 5}
        reply = await restarted.say("/baocao")
        assert "2.3. " in reply
    finally:
        await again.close()


async def test_the_same_message_delivered_twice_is_handled_once(app: App, person):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    await thu.say("có")
    await thu.say("Bỏ qua")
    event = thu.chat.event("7")
    assert await app.dispatcher.handle(event) is True
    assert await app.dispatcher.handle(event) is False
    async with app.sessions() as session:
        outbox_rows = (await session.scalars(select(OutboxMessage))).all()
    assert sum(1 for r in outbox_rows if "2.2. " in r.payload["text"]) == 1
    assert (await stored_report(app, "X-ANLAO")).answers["2.1"] == 7


async def test_status_cancel_help_and_language(app: App, person):
    thu = await signed_in(person(), app)
    reply = await thu.say("/trangthai")
    assert "Xã An Lão" in reply and "trước ngày 13/10/2023" in reply
    await thu.say("/baocao")
    await thu.say("có")
    reply = await thu.say("/huy")
    assert "/baocao" in reply
    reply = await thu.say("/trangthai")
    assert "39" in reply  # 39 of 40 questions still unanswered
    reply = await thu.say("/trogiup")
    assert "/baocao" in reply and "/mau" in reply
    assert "mục 2: 2, 15, 3, 40" in reply  # an example for the commune's own form
    reply = await thu.say("/ngonngu en")
    assert "English" in reply
    reply = await thu.say("/status")
    assert "Due before 13/10/2023" in reply
    reply = await thu.say("/lang vi")
    reply = await thu.say("/trangthai")
    assert "trước ngày 13/10/2023" in reply


async def test_a_school_gets_the_school_form(app: App, person):
    co_lan = Person(app, "co-lan")
    code = await invite(app, "TH-ANLAO")
    reply = await co_lan.say(f"/start {code}")
    assert "Trường Tiểu học An Lão" in reply
    reply = await co_lan.say("/baocao")
    assert "câu 1/27" in reply


async def test_one_person_reports_for_a_commune_and_its_learning_centre(app: App, person):
    thu = await signed_in(person(), app)
    code = await invite(app, "TTHTCD-ANLAO")
    reply = await thu.say(code)
    assert "Trung tâm học tập cộng đồng xã An Lão" in reply
    reply = await thu.say("/baocao")
    assert "Xã An Lão" in reply and "Trung tâm học tập cộng đồng xã An Lão" in reply
    option = next(line for line in reply.splitlines()
                  if line[:1].isdigit() and "Trung tâm học tập" in line)
    reply = await thu.say(option.split(".")[0])
    assert "câu 1/27" in reply
