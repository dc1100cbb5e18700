"""A centre is asked as a centre (issue 22, defect 8): the school form's labels and examples
follow the unit's kind ("trung tâm", "45/KH-TTHTCĐ"), and so does the form of address
("anh/chị" at a community learning centre run by commune staff, "thầy/cô" at a school and at a
GDNN-GDTX centre, which has teachers). In the local chat against a real SQLite file, in
/mau and /excel, and through the fake Telegram server; the wording is data in the form."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.app import App
from bot.runtime import Running
from conversations.forms import FormError, form_to_dict, load_form_text, parse_form

from .conftest import Person, invite
from .fake_telegram import FakeTelegram
from .filing import SCHOOL, typed_values
from .test_excel_reports import shown_path, tg_bot  # noqa: F401 (a fixture)
from .test_telegram_e2e import deep_link_sign_in


async def walk_the_whole_form(app: App, unit: str) -> str:
    """Sign in for `unit`, answer every question one by one, open the review; all replies."""
    person = Person(app, f"reporter-{unit}")
    replies = [await person.say(await invite(app, unit)), await person.say("/baocao")]
    typed = typed_values(SCHOOL, {"1.2": "45/KH ngày 28/9/2023"})
    for q in SCHOOL.questions:
        reply = await person.say(typed[q.id])
        if "Đúng, giữ nguyên" in reply:
            reply = await person.say("Đúng, giữ nguyên")
        replies.append(reply)
    replies.append(await person.say("/baocao"))
    return "\n".join(replies)


def workbook_texts(path: Path | io.BytesIO) -> str:
    """Every cell and every comment (a question's help) of the /excel template, as shown."""
    ws = load_workbook(path)["Báo cáo"]
    texts = []
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                texts.append(cell.value)
            if cell.comment is not None:
                texts.append(cell.comment.text)
    return "\n".join(texts)


async def mau_and_excel(app: App, unit: str) -> tuple[str, str, str]:
    """The /mau reply, the /excel reply and the template's texts, for a fresh reporter."""
    person = Person(app, f"files-{unit}")
    await person.say(await invite(app, unit))
    await person.say("/baocao")
    mau = await person.say("/mau")
    excel = await person.say("/excel")
    return mau, excel, workbook_texts(shown_path(excel))


async def test_a_learning_centre_is_asked_as_a_centre_and_addressed_anh_chi(app: App):
    shown = await walk_the_whole_form(app, "TTHTCD-ANLAO")
    assert "1.1. Trung tâm đã ban hành kế hoạch tổ chức Tuần lễ HTSĐ chưa?" in shown
    assert "Ví dụ: 45/KH-TTHTCĐ ngày 28/9/2023" in shown
    assert "III. Kế hoạch tiếp theo của trung tâm nhằm hưởng ứng Tuần lễ HTSĐ" in shown
    assert "Xem lại báo cáo" in shown  # the walk reached the review, every label in it
    assert "nhà trường" not in shown.lower() and "KH-THCS" not in shown
    assert "anh/chị" in shown.lower() and "thầy/cô" not in shown.lower()


async def test_a_gdnn_gdtx_centre_is_a_centre_whose_staff_are_teachers(app: App):
    shown = await walk_the_whole_form(app, "GDNN-ANTHANG")
    assert "1.1. Trung tâm đã ban hành kế hoạch tổ chức Tuần lễ HTSĐ chưa?" in shown
    assert "Ví dụ: 45/KH-TTGDNN-GDTX ngày 28/9/2023" in shown
    assert "nhà trường" not in shown.lower() and "KH-THCS" not in shown
    assert "thầy/cô" in shown.lower() and "anh/chị" not in shown.lower()


async def test_a_school_is_still_asked_as_a_school(app: App):
    shown = await walk_the_whole_form(app, "THCS-ANLAO")
    assert "1.1. Nhà trường đã ban hành kế hoạch tổ chức Tuần lễ HTSĐ chưa?" in shown
    assert "Ví dụ: 45/KH-THCS ngày 28/9/2023" in shown
    assert "III. Kế hoạch tiếp theo của nhà trường nhằm hưởng ứng Tuần lễ HTSĐ" in shown
    assert "trung tâm đã" not in shown.lower()
    assert "thầy/cô" in shown.lower() and "anh/chị" not in shown.lower()


async def test_a_centre_reading_in_english_is_asked_about_the_centre(app: App):
    hoa = Person(app, "hoa")
    await hoa.say(await invite(app, "TTHTCD-ANLAO"))
    await hoa.say("/lang en")
    reply = await hoa.say("/baocao")
    assert "1.1. Has the centre issued its plan for the Lifelong Learning Week?" in reply
    assert "school" not in reply.lower()


async def test_mau_and_excel_for_a_learning_centre_speak_of_the_centre(app: App):
    mau, excel, book = await mau_and_excel(app, "TTHTCD-ANLAO")
    assert "1.1 Trung tâm đã ban hành kế hoạch" in mau
    assert "III Kế hoạch tiếp theo của trung tâm" in mau
    assert "anh/chị sao chép tin nhắn tiếp theo" in mau
    assert "Sau đó anh/chị gửi lại tệp vào đây" in excel
    assert "Trung tâm đã ban hành kế hoạch tổ chức Tuần lễ HTSĐ chưa?" in book
    assert "Kế hoạch tiếp theo của trung tâm nhằm hưởng ứng Tuần lễ HTSĐ" in book
    assert "45/KH-TTHTCĐ" in book
    for text in (mau, excel, book):
        assert "nhà trường" not in text.lower() and "KH-THCS" not in text
        assert "thầy/cô" not in text.lower()


async def test_excel_for_a_school_keeps_the_school_wording(app: App):
    mau, excel, book = await mau_and_excel(app, "TH-ANLAO")
    assert "1.1 Nhà trường đã ban hành kế hoạch" in mau
    assert "Nhà trường đã ban hành kế hoạch tổ chức Tuần lễ HTSĐ chưa?" in book
    assert "45/KH-THCS" in book and "Sau đó thầy/cô gửi lại tệp vào đây" in excel


@pytest.mark.slow
async def test_a_learning_centre_on_telegram_reads_the_centre_wording(
        tg_bot: Running, tg: FakeTelegram):  # noqa: F811 (the fixture imported above)
    hoa = tg.user(2201, "Hoa")
    await deep_link_sign_in(tg_bot, hoa, "TTHTCD-ANLAO")  # waits for "Anh/chị đã được đăng ký"
    await hoa.send("/baocao")
    await hoa.wait_for("1.1. Trung tâm đã ban hành kế hoạch tổ chức Tuần lễ HTSĐ chưa?")
    await hoa.press("Có")
    await hoa.wait_for("Ví dụ: 45/KH-TTHTCĐ ngày 28/9/2023")
    await hoa.send("/mau")
    await hoa.wait_for("III Kế hoạch tiếp theo của trung tâm")
    await hoa.send("/excel")
    document = await hoa.wait_for(lambda m: m.kind == "document")
    book = workbook_texts(io.BytesIO(document.data))
    assert "Trung tâm đã ban hành kế hoạch tổ chức Tuần lễ HTSĐ chưa?" in book
    assert "45/KH-TTHTCĐ" in book and "nhà trường" not in book.lower()
    shown = "\n".join(m.text or m.caption or "" for m in hoa.messages())
    assert "nhà trường" not in shown.lower() and "KH-THCS" not in shown
    assert "anh/chị" in shown.lower() and "thầy/cô" not in shown.lower()


# ----------------------------------------------------------------------------- the form format

WORDED = """
id: worded
title: {vi: "Báo cáo ({unit})", en: "Report ({unit})"}
wording:
  default:
    unit: {vi: "nhà trường", en: "school"}
    plan_no: "45/KH-THCS"
  learning_centre:
    unit: {vi: "trung tâm", en: "centre"}
    plan_no: "45/KH-TTHTCĐ"
sections:
  - id: "1"
    title: {vi: "Kế hoạch của {unit}", en: "The {unit}'s plan"}
    questions:
      - id: "1.1"
        type: yes_no
        label: {vi: "{Unit} đã ban hành kế hoạch chưa?", en: "Has the {unit} issued its plan?"}
      - id: "1.2"
        type: text
        label: {vi: "Số kế hoạch", en: "Plan number"}
        help: {vi: "Ví dụ: {plan_no}", en: "For example: {plan_no}"}
"""


def test_the_wording_is_data_in_the_form_default_and_per_kind():
    form = load_form_text(WORDED, "worded.yaml")
    assert form.question("1.1").label.vi == "Nhà trường đã ban hành kế hoạch chưa?"
    assert form.question("1.2").help.en == "For example: 45/KH-THCS"
    centre = form.worded_for("learning_centre")
    assert centre.title.vi == "Báo cáo (trung tâm)"
    assert centre.section("1").title.en == "The centre's plan"
    assert centre.question("1.1").label.vi == "Trung tâm đã ban hành kế hoạch chưa?"
    assert centre.question("1.2").help.vi == "Ví dụ: 45/KH-TTHTCĐ"
    assert form.worded_for("school") == form  # a kind without its own words: the default
    assert centre.questions == tuple(centre.question(q.id) for q in form.questions)
    # The canonical mapping keeps the placeholders and the words: it parses back the same.
    again = parse_form(form_to_dict(centre), "again")
    assert again == form and again.worded_for("learning_centre") == centre


@pytest.mark.parametrize("change, says", [
    ("{units} đã ban hành", "units"),
    ("{plan} đã ban hành", "plan"),
])
def test_a_word_the_form_does_not_define_is_refused_by_name(change: str, says: str):
    text = WORDED.replace("{Unit} đã ban hành", change)
    with pytest.raises(FormError, match=f"{says}"):
        load_form_text(text, "worded.yaml")


def test_a_kind_may_only_change_words_the_default_has():
    text = WORDED.replace('    plan_no: "45/KH-TTHTCĐ"', '    plan_number: "45/KH-TTHTCĐ"')
    with pytest.raises(FormError, match="plan_number"):
        load_form_text(text, "worded.yaml")


def test_a_form_without_wording_is_read_as_written():
    """A form stored before wording existed loads unchanged, whatever braces it holds."""
    form = load_form_text(WORDED.replace("wording:", "not_wording:"), "worded.yaml")
    assert form.question("1.1").label.vi == "{Unit} đã ban hành kế hoạch chưa?"
    assert form.worded_for("learning_centre") is form
