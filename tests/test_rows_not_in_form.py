"""Issue 22, defects 3 and 6, in the local chat against a real SQLite file: rows typed from the
commune paper form that a school's form lacks are named while the rows it has are stored; a
one-character text part is never dropped in silence."""

from __future__ import annotations

from bot.app import App

from .test_answer_safety import school_person
from .test_report_conversation import signed_in, stored_report

NO_4_3 = "Báo cáo của trường không có câu 4.3"
SECTION_4 = "các câu của mục 4: 4.1, 4.2, 4.5"


async def _answers(app: App, unit: str) -> dict:
    report = await stored_report(app, unit)
    return {} if report is None else report.answers


# --- 3. rows this unit's form does not have --------------------------------------------------

async def test_3_a_pair_line_stores_the_schools_row_and_names_the_other(app: App):
    lan = await school_person(app)
    await lan.say("/baocao")
    reply = await lan.say("4.1=2 4.3=1")
    answers = await _answers(app, "TH-ANLAO")
    assert answers.get("4.1") == 2 and "4.3" not in answers
    assert NO_4_3 in reply and SECTION_4 in reply.lower()
    assert "Chưa đọc được số này" not in reply


async def test_3_two_rows_the_school_lacks_in_one_line(app: App):
    lan = await school_person(app)
    await lan.say("/baocao")
    reply = await lan.say("4.2=300 4.4=250")
    answers = await _answers(app, "TH-ANLAO")
    assert answers.get("4.2") == 300 and "4.4" not in answers
    assert "Báo cáo của trường không có câu 4.4" in reply and SECTION_4 in reply.lower()


async def test_3_three_lines_store_both_rows_the_school_has(app: App):
    lan = await school_person(app)
    await lan.say("/baocao")
    reply = await lan.say("2.1 = 3\n2.2 = 5\n2.3 = 4")
    answers = await _answers(app, "TH-ANLAO")
    assert answers.get("2.1") == 3 and answers.get("2.3") == 4 and "2.2" not in answers
    assert "Báo cáo của trường không có câu 2.2" in reply
    assert "các câu của mục 2: 2.1, 2.3, 2.4" in reply.lower()


async def test_3_an_id_the_form_lacks_is_never_read_as_a_number(app: App):
    lan = await school_person(app)
    await lan.say("/baocao")
    await lan.say("có")
    reply = await lan.say("Bỏ qua")
    assert "2.1. " in reply
    reply = await lan.say("4.9 5")
    assert "Báo cáo của trường không có câu 4.9" in reply
    assert "chữ số" not in reply
    assert "2.1" not in await _answers(app, "TH-ANLAO")
    assert "2.1. " in reply  # and the question being asked is asked again


async def test_3_a_section_the_school_form_lacks(app: App):
    lan = await school_person(app)
    await lan.say("/baocao")
    reply = await lan.say("4.1=2 7.1=1")
    assert (await _answers(app, "TH-ANLAO")).get("4.1") == 2
    assert "Báo cáo của trường không có câu 7.1 (không có mục 7)" in reply


async def test_3_a_commune_is_told_of_its_units_report(app: App, person):  # noqa: ANN001
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    reply = await thu.say("4.1=2 4.3=1 4.9=3")
    answers = await _answers(app, "X-ANLAO")
    assert answers.get("4.1") == 2 and answers.get("4.3") == 1
    assert "Báo cáo của đơn vị không có câu 4.9" in reply
    assert "các câu của mục 4: 4.1, 4.2, 4.3, 4.4, 4.5" in reply.lower()


async def test_3_in_english_too(app: App):
    lan = await school_person(app)
    await lan.say("/ngonngu en")
    await lan.say("/baocao")
    reply = await lan.say("4.1=2 4.3=1 4.4=3")
    assert (await _answers(app, "TH-ANLAO")).get("4.1") == 2
    assert "This school's report has no questions 4.3, 4.4" in reply


# --- 6. one-character text answers -----------------------------------------------------------

async def test_6_a_one_character_text_part_is_asked_for_again(app: App, person):  # noqa: ANN001
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    reply = await thu.say("4.1=2\nII.2: x")
    answers = await _answers(app, "X-ANLAO")
    assert answers.get("4.1") == 2 and "II.2" not in answers
    assert "II.2: “x”" in reply and "một ký tự" in reply
    assert "II.2. " in reply  # the part is asked for


async def test_6_a_dash_leaves_an_optional_part_empty_and_says_so(app: App, person):  # noqa: ANN001
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    reply = await thu.say("III: -")
    assert "III" not in await _answers(app, "X-ANLAO")
    assert "III: “-”" in reply and "không có gì để báo cáo" in reply and "để trống" in reply


async def test_6_a_dash_keeps_a_text_given_before(app: App, person):  # noqa: ANN001
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    await thu.say("III: Tiếp tục mở lớp tin học.")
    reply = await thu.say("III: -")
    assert (await _answers(app, "X-ANLAO"))["III"] == "Tiếp tục mở lớp tin học."
    assert "III: “-”" in reply and "giữ nội dung" in reply


async def test_6_a_dash_for_the_required_part_asks_for_its_text(app: App):
    lan = await school_person(app)
    await lan.say("/baocao")
    reply = await lan.say("I: -")
    assert "I" not in await _answers(app, "TH-ANLAO")
    assert "I: “-”" in reply and "Thầy/cô vui lòng viết nội dung" in reply
