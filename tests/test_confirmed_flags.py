"""Issue 22, defects 2 and 9: every value kept after being asked back is stored with the reason
it was asked ("cần kiểm tra"), whichever check asked (the row's usual maximum too); and the
zeros of "0 cho cả mục này" are checked against the form's hard rules when they are stored.
Conversations in the local chat against a real SQLite file."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select

from bot.app import App
from bot.coordinators.coordination import make_export
from bot.storage.models import Campaign, Contact, Period

from .conftest import Clock
from .filing import sign_in
from .test_checks_and_rules import at_question, stored

USUAL_MAX = "cao hơn nhiều so với thường lệ (trên 5.000 người)"


async def school_at_4_2(app: App, unit: str = "TH-ANLAO") -> tuple[object, str]:
    """A school opens its report and answers sections 1-3 and 4.1; returns the person and the
    question 4.2 as asked."""
    lan = await sign_in(app, unit, user="co-lan")
    await lan.say("/baocao")
    await lan.say("có")
    await lan.say("Kế hoạch số 12/KH-THAL.")
    await lan.say("mục 2: 1, 1, 1")
    await lan.say("mục 3: 1")
    reply = await lan.say("2")
    assert "4.2. Số người tham gia hội thảo, tọa đàm" in reply
    return lan, reply


async def test_a_school_figure_kept_above_the_usual_maximum_is_flagged_for_the_coordinator(
        app: App, clock: Clock, tmp_path: Path):
    lan, _ = await school_at_4_2(app)
    reply = await lan.say("9000")
    assert "9.000 người" in reply and "cao hơn nhiều so với thông thường" in reply
    assert "Đúng, giữ nguyên" in reply
    assert "4.2" not in await stored(app, "TH-ANLAO")
    reply = await lan.say("Đúng, giữ nguyên")
    assert "cần kiểm tra" in reply and "4.5. " in reply
    assert (await stored(app, "TH-ANLAO"))["4.2"] == (9000, USUAL_MAX)
    # The review shows it, with its reason.
    await lan.say("mục 4: 2, 9000, 1")  # the same values again: nothing asked twice
    for section in ("5: 1, 10, 1, 10, 1, 10, 1, 10", "6: 1, 1, 1", "8: 1, 1, 1tr"):
        await lan.say("mục " + section)
    for text in ("I", "II.2", "III", "IV"):  # asked in turn; after the last, the review
        review = await lan.say(f"Nội dung phần {text} của nhà trường.")
    assert "Xem lại báo cáo" in review, review
    assert f"4.2  9.000 người — cần kiểm tra: {USUAL_MAX}" in review, review
    assert "đã được nộp" in await lan.say("Nộp báo cáo")

    # The commune (2 schools: too few to compare siblings) sees it in /xem and /kiemtra.
    boss = await sign_in(app, "X-ANLAO", role="coordinator")
    view = await boss.say("/xem TH-ANLAO")
    assert f"4.2  9.000 người — ⚠ cần kiểm tra: {USUAL_MAX}" in view
    check = await boss.say("/kiemtra")
    assert "Đơn vị giữ nguyên sau khi được hỏi lại (cần kiểm tra):" in check
    assert "• Trường Tiểu học An Lão (TH-ANLAO) — 4.2 Số người tham gia hội thảo, tọa đàm: " \
           f"9.000 người; {USUAL_MAX}" in check

    # The XLSX export lists it on its "Cần kiểm tra" sheet.
    async with app.sessions() as session:
        contact_id = await session.scalar(select(Contact.id).where(
            Contact.role == "coordinator"))  # the commune's
        period_id = await session.scalar(select(Period.id).join(Campaign).where(
            Campaign.key == "tuan-le-htsd-2023"))
        made = await make_export(session, contact_id, "coordinator", period_id, "xlsx",
                                 app.dispatcher.forms, tmp_path / "files", clock())
    book = load_workbook(made[0][0], read_only=True)
    rows = list(book["Cần kiểm tra"].values)
    assert ("TH-ANLAO", "Trường Tiểu học An Lão", "4.2", 9000, USUAL_MAX) in rows


async def test_a_value_above_the_usual_maximum_entered_in_a_line_is_flagged_when_kept(app: App):
    lan, _ = await school_at_4_2(app)
    reply = await lan.say("4.2=9000 4.5=1")
    assert "Đúng, giữ nguyên" in reply
    await lan.say("có")
    assert (await stored(app, "TH-ANLAO"))["4.2"] == (9000, USUAL_MAX)
    # Corrected to a usual figure: the flag goes.
    await lan.say("4.2 300")
    assert (await stored(app, "TH-ANLAO"))["4.2"] == (300, "")


async def test_zeros_for_the_section_that_break_a_hard_rule_are_refused_at_once(app: App):
    thu = await sign_in(app, "X-ANLAO")
    await at_question(thu, "5.1")
    reply = await thu.say("4")
    assert "5.2. Số lượt người tham gia lớp bồi dưỡng" in reply
    reply = await thu.say("0 cho cả mục này")
    assert "Số lượt người tham gia (5.2 = 0 lượt) không thể ít hơn số lớp (5.1 = 4 lớp)" \
        in reply
    assert reply.startswith("Đã lưu 0 cho các câu 5.3, 5.4, 5.5, 5.6, 5.7, 5.8, 5.9, 5.10.")
    assert "5.2. Số lượt người tham gia lớp bồi dưỡng" in reply.split("Chưa lưu")[1]  # again
    answers = await stored(app, "X-ANLAO")
    assert "5.2" not in answers and answers["5.1"] == (4, "")
    assert all(answers[f"5.{n}"] == (0, "") for n in range(3, 11))
    reply = await thu.say("40")
    assert (await stored(app, "X-ANLAO"))["5.2"] == (40, "")
    assert "6.1. " in reply


async def test_a_zero_for_the_section_breaking_a_soft_rule_is_asked_back_then_flagged(app: App):
    thu = await sign_in(app, "X-ANLAO")
    await at_question(thu, "4.3")
    await thu.say("2")
    reply = await thu.say("0 cho cả mục này")
    assert "4.4. Số lượt người dự triển lãm: 0 lượt — Có triển lãm (4.3 = 2 cuộc) nhưng " \
           "không có lượt người dự (4.4 = 0 lượt). Số liệu này có đúng không?" in reply
    answers = await stored(app, "X-ANLAO")
    assert "4.4" not in answers and answers["4.5"] == (0, "")
    reply = await thu.say("Đúng, giữ nguyên")
    assert "cần kiểm tra" in reply and "5.1. " in reply
    assert (await stored(app, "X-ANLAO"))["4.4"] == (
        0, "Có triển lãm (4.3 = 2 cuộc) nhưng không có lượt người dự (4.4 = 0 lượt)")


def test_a_kind_of_check_without_a_reason_of_its_own_still_leaves_a_flag(monkeypatch):
    """A new kind of ask-back (another helper's near-miss unit words) keeps a flag even
    before it has a reason of its own: no value kept after being asked goes unmarked."""
    from conversations import vetting
    from conversations.engine import advance

    from .test_engine_table import CONTEXT, NOW, at, typed

    monkeypatch.delitem(vetting.REASONS, "soft_max")
    asked = advance(at("1.1"), typed("500"), CONTEXT, NOW)
    assert asked.state["step"] == "confirming"
    kept = advance(asked.state, typed("có"), CONTEXT, NOW)
    assert kept.effects[0].answers["1.1"]["flag"] == "đơn vị giữ nguyên sau khi được hỏi lại"
