"""Every answer lands in the row it was meant for, or nowhere (issue 14): the reproduced defects
as conversations in the local chat, against a real SQLite file."""

from __future__ import annotations

import re

import pytest

from bot.app import App
from conversations.forms import bundled_form_files as form_files
from conversations.forms import load_form_file

from .conftest import Person, invite
from .test_report_conversation import COMMUNE_FORM, signed_in, stored_report, typed_answer

SCHOOL_FORM = next(load_form_file(p) for p in form_files() if p.stem == "tuan-le-htsd-truong")
APOLOGY = "sự cố"


async def school_person(app: App, user: str = "co-lan") -> Person:
    lan = Person(app, user)
    code = await invite(app, "TH-ANLAO")
    reply = await lan.say(code)
    assert "Trường Tiểu học An Lão" in reply
    return lan


async def at_question_2_1(person: Person) -> None:
    await person.say("/baocao")
    await person.say("có")
    reply = await person.say("Bỏ qua")
    assert "2.1. " in reply


def section_lines(form, n: int = 7) -> list[str]:  # noqa: ANN001
    """`mục N: …` lines answering every section of `form` (as the older tests do)."""
    lines = []
    for section in form.sections:
        values = [typed_answer(q, n)[0] for q in section.questions]
        lines.append(f"mục {section.id}: " + "; ".join(values))
    return lines


async def submit_whole_report(person: Person, form=COMMUNE_FORM) -> None:  # noqa: ANN001
    for line in section_lines(form):
        await person.say(line)
    reply = await person.say("/baocao")
    assert "Xem lại báo cáo" in reply
    reply = await person.say("Nộp báo cáo")
    assert "đã được nộp" in reply


# --- 1. positional values only when their count matches this unit's section ---------------

async def test_1_the_commune_example_on_a_school_form_stores_nothing_and_shows_the_rows(
        app: App):
    lan = await school_person(app)
    await lan.say("/baocao")
    reply = await lan.say("mục 4: 2, 150, 1, 300, 3")
    report = await stored_report(app, "TH-ANLAO")
    assert report is None or not any(q.startswith("4.") for q in report.answers)
    # The reply names the section's rows of the school's form and gives an example for it.
    for qid in ("4.1", "4.2", "4.5"):
        assert f"{qid} " in reply
    assert "4.3" not in reply and "4.4" not in reply
    example = re.search(r"mục 4: ([^\n—]+)", reply.split("Ví dụ", 1)[-1])
    assert example and len(example.group(1).split(",")) == 3
    # The same values sent in the school's order are stored as meant.
    reply = await lan.say("mục 4: 2, 150, 3")
    report = await stored_report(app, "TH-ANLAO")
    assert report.answers["4.1"] == 2 and report.answers["4.2"] == 150
    assert report.answers["4.5"] == 3


async def test_1_the_intro_example_is_built_from_the_units_own_form(app: App):
    lan = await school_person(app)
    reply = await lan.say("/baocao")
    assert "mục 4: 2, 150, 1, 300, 3" not in reply
    example = re.search(r"mục (\S+): ([^\n.]+)", reply)
    assert example, reply
    section = SCHOOL_FORM.section(example.group(1))
    assert len(example.group(2).split(",")) == len(section.questions)


# --- 2. several sections in one message -----------------------------------------------------

PASTED = ("mục 1: có\n"
          "mục 2: 5, 2, 30, 12\n"
          "mục 3: 1.500, 20, 12\n"
          "mục 4: 2, 150, 1, 300, 3")


async def test_2_several_sections_pasted_in_one_message_land_in_their_rows(app: App, person):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    reply = await thu.say(PASTED)
    report = await stored_report(app, "X-ANLAO")
    assert report.answers == {
        "1.1": True, "2.1": 5, "2.2": 2, "2.3": 30, "2.4": 12, "3.1": 1500, "3.2": 20,
        "3.3": 12, "4.1": 2, "4.2": 150, "4.3": 1, "4.4": 300, "4.5": 3}
    assert "Chưa lưu" not in reply
    assert "5.1. " in reply  # the next question left


async def test_2_a_section_line_at_a_text_question_is_never_its_answer(app: App, person):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    reply = await thu.say("có")
    assert "1.2. " in reply  # a free-text question
    await thu.say("mục 2: 5, 2, 30, 12\nmục 3: 1.500, 20, 12")
    report = await stored_report(app, "X-ANLAO")
    assert "1.2" not in report.answers
    assert report.answers["2.4"] == 12 and report.answers["3.1"] == 1500


# --- 3. a person with two units --------------------------------------------------------------

async def test_3_an_answer_typed_with_no_form_open_waits_for_the_unit(app: App, person):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    await submit_whole_report(thu)
    reply = await thu.say(await invite(app, "TH-ANLAO"))
    assert "Trường Tiểu học An Lão" in reply
    reply = await thu.say("/baocao")
    option = next(line for line in reply.splitlines()
                  if line[:1].isdigit() and "Trường Tiểu học" in line)
    reply = await thu.say(option.split(".")[0])
    await thu.say("có")
    await thu.say("/huy")
    commune_before = (await stored_report(app, "X-ANLAO")).answers

    reply = await thu.say("4.2 170")
    assert "Đã lưu" not in reply
    assert "Xã An Lão" in reply and "Trường Tiểu học An Lão" in reply
    assert "4.2" not in (await stored_report(app, "TH-ANLAO")).answers
    assert (await stored_report(app, "X-ANLAO")).answers == commune_before
    # Choosing the unit stores the held answer there, and the reply names the unit.
    option = next(line for line in reply.splitlines()
                  if line[:1].isdigit() and "Trường Tiểu học" in line)
    reply = await thu.say(option.split(".")[0])
    assert "4.2 = 170 người" in reply and "Trường Tiểu học An Lão" in reply
    assert (await stored_report(app, "TH-ANLAO")).answers["4.2"] == 170
    assert (await stored_report(app, "X-ANLAO")).answers == commune_before


async def test_3_every_acknowledgement_names_the_unit_for_a_person_with_two_units(
        app: App, person):
    thu = await signed_in(person(), app)
    await thu.say(await invite(app, "TTHTCD-ANLAO"))
    reply = await thu.say("/baocao")
    option = next(line for line in reply.splitlines() if line.endswith(". Xã An Lão"))
    await thu.say(option.split(".")[0])
    reply = await thu.say("mục 2: 3, 1, 12, 4")
    assert "Đã lưu 4 câu cho Xã An Lão" in reply
    assert "câu 1/40 · Xã An Lão" in reply  # the question asked again says whose it is


# --- 4. phones type values without spaces; notes keep their commas ---------------------------

async def test_4_values_without_spaces_and_a_note_with_a_comma(app: App, person):
    lan = await school_person(app)
    await lan.say("/baocao")
    reply = await lan.say("mục 2: 3,10,17")
    report = await stored_report(app, "TH-ANLAO")
    assert [report.answers[q] for q in ("2.1", "2.3", "2.4")] == [3, 10, 17]
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    reply = await thu.say("mục 2: 3, 1, 5, 12 ghi chú: 2 tờ báo tường, 10 bài viết")
    report = await stored_report(app, "X-ANLAO")
    assert report.answers["2.4"] == 12
    assert report.notes["2.4"] == "2 tờ báo tường, 10 bài viết"
    assert "Chưa lưu" not in reply


# --- 5. corrections after submission are pending ---------------------------------------------

async def test_5_a_correction_after_submission_is_pending_until_resubmitted(app: App, person):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    await submit_whole_report(thu)
    before = await stored_report(app, "X-ANLAO")
    reply = await thu.say("/baocao")
    reply = await thu.say("4.2 999")
    assert "Đã lưu" not in reply
    assert "4.2 = 999 người" in reply and "nộp lại" in reply.lower()
    assert "Nộp lại báo cáo" in reply  # offered as the first option
    after = await stored_report(app, "X-ANLAO")
    assert after.answers == before.answers and after.revision == before.revision
    reply = await thu.say("1")
    assert (await stored_report(app, "X-ANLAO")).answers["4.2"] == 999


async def test_5_a_correction_typed_with_no_form_open_is_pending_too(app: App, person):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    await submit_whole_report(thu)
    before = await stored_report(app, "X-ANLAO")
    reply = await thu.say("4.2 999")
    assert "Đã lưu" not in reply and "nộp lại" in reply.lower()
    assert (await stored_report(app, "X-ANLAO")).answers == before.answers


# --- 6. Vietnamese typed answers ---------------------------------------------------------------

@pytest.mark.parametrize(("typed", "stored"), [
    ("ko co", False), ("chưa làm", False), ("chua lam", False), ("dạ có", True),
])
async def test_6_yes_no_typed_the_vietnamese_way(app: App, person, typed: str, stored: bool):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    reply = await thu.say(typed)
    assert "1.2. " in reply
    assert (await stored_report(app, "X-ANLAO")).answers["1.1"] is stored


@pytest.mark.parametrize(("typed", "stored"), [
    ("dạ 12", 12), ("da 12", 12), ("ko co", 0), ("Dạ, 12 bài ạ", 12),
])
async def test_6_counts_typed_the_vietnamese_way(app: App, person, typed: str, stored: int):
    thu = await signed_in(person(), app)
    await at_question_2_1(thu)
    reply = await thu.say(typed)
    assert "2.2. " in reply
    assert (await stored_report(app, "X-ANLAO")).answers["2.1"] == stored


@pytest.mark.parametrize(("typed", "qid", "says"), [
    ("8.3 100 USD", "8.3", "ngoại tệ"),
    ("8.3 100 đô", "8.3", "ngoại tệ"),
    ("8.3 100k/người", "8.3", "tổng"),
    ("8.3 5 triệu/lớp", "8.3", "tổng"),
    ("4.1 12 lần/tuần", "4.1", "tổng"),
    ("2.1 12tr", "2.1", "số tiền"),
])
async def test_6_rates_currencies_and_money_for_a_count_are_refused(
        app: App, person, typed: str, qid: str, says: str):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    reply = await thu.say(typed)
    report = await stored_report(app, "X-ANLAO")
    assert report is None or qid not in report.answers
    assert says in reply
    assert "Chưa đọc được số" not in reply


@pytest.mark.parametrize("typed", ["khoảng 30", "tầm 30", "khoang 30 nguoi"])
async def test_6_an_estimate_is_stored_with_a_visible_note(app: App, person, typed: str):
    thu = await signed_in(person(), app)
    await at_question_2_1(thu)
    reply = await thu.say(typed)
    assert "2.2. " in reply
    report = await stored_report(app, "X-ANLAO")
    assert report.answers["2.1"] == 30 and "ước tính" in report.notes["2.1"]
    reply = await thu.say("4.2 khoảng 200 ghi chú: chưa đủ danh sách")
    report = await stored_report(app, "X-ANLAO")
    assert report.answers["4.2"] == 200
    assert report.notes["4.2"] == "ước tính; chưa đủ danh sách"
    assert "ước tính" in reply


# --- 7. refusals that say what was wrong; one form of address; English plurals ---------------

@pytest.mark.parametrize(("typed", "says"), [
    ("10-12", "khoảng"),
    ("10 đến 12", "khoảng"),
    ("hơn 100", "chính xác"),
    ("trên 100 bài", "chính xác"),
    ("2,5", "số nguyên"),
])
async def test_7_a_number_refusal_says_what_was_wrong(app: App, person, typed: str, says: str):
    thu = await signed_in(person(), app)
    await at_question_2_1(thu)
    reply = await thu.say(typed)
    assert "Chưa đọc được số" not in reply
    assert says in reply and "2.1. " in reply
    assert "2.1" not in (await stored_report(app, "X-ANLAO")).answers


async def test_7_an_emoji_at_a_yes_no_question_gets_a_yes_no_hint(app: App, person):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    reply = await thu.say("👍")
    assert "Chưa đọc được số" not in reply
    assert "“có”" in reply and "“không”" in reply and "1.1. " in reply


async def test_7_a_school_is_addressed_thay_co_throughout(app: App):
    lan = Person(app, "co-lan")
    code = await invite(app, "TH-ANLAO")
    replies = [await lan.say(code), await lan.say("/baocao"), await lan.say("abc"),
               await lan.say("👍"), await lan.say("có"), await lan.say("Bỏ qua"),
               await lan.say("2,5"), await lan.say("/trogiup"), await lan.say("/huy")]
    shown = "\n".join(replies)
    assert "thầy/cô" in shown.lower()
    assert "anh/chị" not in shown.lower()
    # A commune is still addressed anh/chị.
    thu = Person(app, "thu")
    reply = await thu.say(await invite(app, "X-ANLAO"))
    assert "anh/chị" in reply.lower() and "thầy/cô" not in reply.lower()


async def test_7_english_units_are_singular_for_one(app: App, person):
    thu = await signed_in(person(), app)
    await thu.say("/lang en")
    await thu.say("/baocao")
    reply = await thu.say("4.3=1 4.4=1 4.5=2")
    assert "4.3 = 1 exhibition;" in reply and "4.4 = 1 visit;" in reply
    assert "4.5 = 2 performances" in reply
    assert "1 exhibitions" not in reply


# --- 8. invite codes --------------------------------------------------------------------------

@pytest.mark.parametrize("shape", ["{code}.", "Mã: {code}", "mã mời: {dashed}", "code: {code}!",
                                   "“{code}”", "Mã {dashed}."])
async def test_8_invite_codes_with_punctuation_or_a_prefix_are_read(app: App, shape: str):
    code = await invite(app, "X-ANLAO")
    dashed = f"{code[:4]}-{code[4:]}"
    reply = await Person(app, "newbie").say(shape.format(code=code, dashed=dashed))
    assert "Xã An Lão" in reply


async def test_8_a_near_miss_code_gets_a_specific_hint(app: App):
    code = await invite(app, "X-ANLAO")
    newbie = Person(app, "newbie")
    reply = await newbie.say(code[:9])
    assert "10 ký tự" in reply and "9" in reply
    reply = await newbie.say(code + "7")
    assert "10 ký tự" in reply and "11" in reply
    reply = await newbie.say(code[:3] + "O" + code[4:])
    assert "chữ O" in reply
    reply = await newbie.say(code)
    assert "Xã An Lão" in reply


# --- 9. keeping the answer after "Quay lại" --------------------------------------------------

@pytest.mark.parametrize("word", ["giữ nguyên", "giu nguyen", "tiếp", "ok", "Tiếp tục"])
async def test_9_keep_the_answer_after_going_back(app: App, person, word: str):
    thu = await signed_in(person(), app)
    await at_question_2_1(thu)
    await thu.say("3")
    await thu.say("5")
    reply = await thu.say("Quay lại")
    assert "2.2. " in reply and "Câu trả lời hiện tại: 5" in reply
    reply = await thu.say(word)
    assert "2.3. " in reply
    assert (await stored_report(app, "X-ANLAO")).answers["2.2"] == 5


async def test_9_ok_keeps_a_no_at_a_yes_no_question(app: App, person):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    await thu.say("không")
    reply = await thu.say("Quay lại")
    assert "1.1. " in reply and "Câu trả lời hiện tại: Không" in reply
    reply = await thu.say("ok")
    assert "1.2. " in reply
    assert (await stored_report(app, "X-ANLAO")).answers["1.1"] is False


# --- 10. long texts, short echoes, absurd numbers ---------------------------------------------

PART_I = ("Ngày 25/9/2023, UBND xã ban hành Kế hoạch số 125/KH-UBND về tổ chức Tuần lễ hưởng "
          "ứng học tập suốt đời năm 2023; chỉ đạo các nhà trường, Trung tâm học tập cộng đồng, "
          "các thôn triển khai các hoạt động thiết thực. ") * 40


async def test_10_a_long_part_i_is_accepted_and_more_can_be_appended(app: App, person):
    assert 5000 < len(PART_I) < 10_000
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    reply = await thu.say("I: " + PART_I)
    assert "I = " in reply
    assert len(reply) < 2000  # the acknowledgement shows an excerpt, not the whole text
    report = await stored_report(app, "X-ANLAO")
    assert report.answers["I"] == PART_I.strip()
    reply = await thu.say("thêm: Kết quả: 12 lớp học, 1.500 lượt người tham gia.")
    report = await stored_report(app, "X-ANLAO")
    assert report.answers["I"].endswith("1.500 lượt người tham gia.")
    assert report.answers["I"].startswith(PART_I.strip()[:100])
    assert "1.1. " in reply  # still at the question it was on


async def test_10_a_text_over_ten_thousand_characters_is_refused_with_the_limit(app: App, person):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    reply = await thu.say("I: " + "x" * 10_500)
    assert "10.000" in reply and len(reply) < 1500
    report = await stored_report(app, "X-ANLAO")
    assert report is None or "I" not in report.answers


async def test_10_a_refusal_never_echoes_a_long_input(app: App, person):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    junk = "4.2 " + "abc " * 1250
    reply = await thu.say(junk)
    assert "4.2" in reply and len(reply) < 1500


@pytest.mark.parametrize("typed", ["9" * 5000, "2.1 " + "9" * 5000, "9" * 30])
async def test_10_an_absurd_number_is_refused_politely(app: App, person, typed: str):
    thu = await signed_in(person(), app)
    await at_question_2_1(thu)
    reply = await thu.say(typed)
    assert APOLOGY not in reply
    assert "quá lớn" in reply and len(reply) < 1500
    assert "2.1" not in (await stored_report(app, "X-ANLAO")).answers


async def test_7_a_reminder_to_a_school_says_thay_co(app: App, clock):  # noqa: ANN001
    from datetime import datetime

    from .conftest import VN
    from .test_tasks_and_nudges import reminders_to

    lan = await school_person(app)
    thu = Person(app, "thu")
    await thu.say(await invite(app, "X-ANLAO"))
    clock.now = datetime(2023, 10, 10, 7, 5, tzinfo=VN)
    await app.dispatcher.reminders.tick(clock())
    to_school = "\n".join(await reminders_to(app, lan.chat.user))
    to_commune = "\n".join(await reminders_to(app, "thu"))
    assert "Kính nhắc" in to_school and "Kính nhắc" in to_commune
    assert "Thầy/cô gửi /baocao" in to_school and "anh/chị" not in to_school.lower()
    assert "Anh/chị gửi /baocao" in to_commune


async def test_2_a_pasted_report_in_the_terminal_chat_is_one_message(app: App):
    """The local chat end to end: a terminal (a pty) where a report is pasted at once."""
    import asyncio
    import os

    from bot.channels.local_chat import LocalChat, read_pasted, run_terminal

    from .test_telegram_e2e import PASTED_REPORT, PASTED_STORED

    master, slave = os.openpty()
    typed = iter([await invite(app, "X-ANLAO"), "/baocao", PASTED_REPORT, "\x04"])
    shown: list[str] = []

    async def read(prompt: str) -> str | None:
        text = next(typed)
        os.write(master, text.encode() + (b"" if text == "\x04" else b"\n"))
        return await asyncio.to_thread(read_pasted, slave)

    try:
        await run_terminal(LocalChat(app, "thu-terminal"), read, shown.append)
    finally:
        os.close(master)
        os.close(slave)
    replies = [s for s in shown if s]
    assert len(replies) == 3  # welcome, first question, then one answer to the paste
    assert "Đã lưu 16 câu" in replies[-1] and "Chưa lưu" not in replies[-1]
    assert (await stored_report(app, "X-ANLAO")).answers == PASTED_STORED


async def test_an_id_that_may_be_a_decimal_is_asked_about_not_guessed(app: App, person):
    """At the money question 8.3, "4.5 triệu" may be question 4.5 or 4,5 million."""
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    for line in ("mục 1: có", "bỏ qua", "mục 2: 1,2,3,4", "mục 3: 1, 2, 3", "mục 4: 1, 2, 3, 4, 5",
                 "mục 5: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10", "mục 6: 1, 2, 3, 4",
                 "mục 7: 1, 1, 1, 1, 1", "mục 8: 3, 12, -"):
        reply = await thu.say(line)
    assert "8.3. " in reply
    reply = await thu.say("4.5 triệu")
    assert "4,5 triệu" in reply and "8.3. " in reply
    report = await stored_report(app, "X-ANLAO")
    assert report.answers["4.5"] == 5 and "8.3" not in report.answers
    reply = await thu.say("4,5 triệu")
    assert (await stored_report(app, "X-ANLAO")).answers["8.3"] == 4_500_000
