"""Figures checked before they go up, as conversations in the local chat against a real SQLite
file: the rules the seed 004 and 000 forms imply (hard: refused with the rule's message; soft:
asked, then kept with the reason), the comparison with the unit's previous report of the same
form (asked back once, kept as "cần kiểm tra" for the coordinator: /xem, the export, the
digest), and /kiemtra's outliers among sibling units."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, select

from bot.app import App
from bot.coordinators.coordination import make_export
from bot.coordinators.reminders import ReminderStore
from bot.delivery.dispatcher import Queued
from bot.storage.models import (
    Answer,
    Campaign,
    Contact,
    FormVersion,
    Period,
    Submission,
    Unit,
)
from conversations.checks import outliers, previous_gap
from conversations.events import InboundEvent
from conversations.forms import FormError, PreviousCheck, load_form_text
from conversations.rules import RuleError, parse_comparison
from scheduler.reminder_plan import plan

from .conftest import VN, Clock, Person
from .filing import COMMUNE, FORMS, file_report, fill, sign_in

MONTH = FORMS["thang-khuyen-hoc"]


async def last_year(app: App, unit: str, values: dict[str, int]) -> None:
    """The unit's submitted report of the Week 2022 (same form, an earlier period)."""
    async with app.sessions() as session, session.begin():
        unit_id = await session.scalar(select(Unit.id).where(Unit.code == unit))
        period = await session.scalar(select(Period).join(Campaign).where(
            Campaign.key == "tuan-le-htsd-2022-phuc-dong"))
        form_id = await session.scalar(select(FormVersion.id).where(
            FormVersion.key == "tuan-le-htsd"))
        when = datetime(2022, 10, 6, 9, 0, tzinfo=VN)
        submission = Submission(unit_id=unit_id, period_id=period.id, form_id=form_id,
                                status="submitted", revision=1, submitted_at=when,
                                first_submitted_at=when, on_time=True, return_comment="",
                                created_at=when, updated_at=when)
        session.add(submission)
        await session.flush()
        for qid, value in values.items():
            session.add(Answer(submission_id=submission.id, question_id=qid, value=value,
                               num_value=Decimal(value), note="", answered_at=when))


async def stored(app: App, unit: str, campaign: str = "tuan-le-htsd-2023"
                 ) -> dict[str, tuple[object, str]]:
    async with app.sessions() as session:
        rows = (await session.execute(
            select(Answer.question_id, Answer.value, Answer.flag)
            .join(Submission, Submission.id == Answer.submission_id)
            .join(Unit, Unit.id == Submission.unit_id)
            .join(Period, Period.id == Submission.period_id)
            .join(Campaign, Campaign.id == Period.campaign_id)
            .where(Unit.code == unit, Campaign.key == campaign))).all()
    return {qid: (value, flag) for qid, value, flag in rows}


async def at_question(person: Person, qid: str) -> str:
    """Open the report and answer everything before `qid` with a section line each."""
    reply = await person.say("/baocao")
    for section in COMMUNE.sections:
        ids = [q.id for q in section.questions]
        if qid in ids:
            before = ids[:ids.index(qid)]
            if before:
                reply = await person.say(" ".join(f"{i}=1" for i in before))
            return reply
        values = {"yes_no": "có", "text": "Nội dung."}
        reply = await person.say("mục " + section.id + ": " + "; ".join(
            values.get(q.type, "10" if q.unit.vi == "lượt" else "1")
            for q in section.questions))
    raise AssertionError(qid)


# ----------------------------------------------------------------------------- rules

async def test_a_hard_rule_refuses_the_value_with_its_own_message(app: App):
    thu = await sign_in(app, "X-ANLAO")
    await at_question(thu, "5.1")
    reply = await thu.say("4")
    assert "5.2. Số lượt người tham gia lớp bồi dưỡng" in reply
    reply = await thu.say("2")
    assert "Chưa lưu" in reply
    assert ("Số lượt người tham gia (5.2 = 2 lượt) không thể ít hơn số lớp (5.1 = 4 lớp)"
            in reply)
    assert "5.2. Số lượt người tham gia lớp bồi dưỡng" in reply  # asked again
    assert "5.2" not in await stored(app, "X-ANLAO")
    reply = await thu.say("40")
    assert "5.3. " in reply
    assert (await stored(app, "X-ANLAO"))["5.2"] == (40, "")


async def test_a_hard_rule_refuses_both_values_of_a_section_line(app: App):
    thu = await sign_in(app, "X-ANLAO")
    await at_question(thu, "5.1")
    reply = await thu.say("mục 5: 4, 2, 1, 10, 1, 10, 1, 10, 1, 10")
    assert "Đã lưu 8 câu" in reply
    assert "• 5.1: “4”, 5.2: “2” — Số lượt người tham gia (5.2 = 2 lượt) không thể ít hơn " \
           "số lớp (5.1 = 4 lớp)" in reply
    answers = await stored(app, "X-ANLAO")
    assert "5.1" not in answers and "5.2" not in answers and answers["5.4"] == (10, "")
    # Reward money with nobody rewarded: refused, even when typed in one message.
    reply = await thu.say("8.1=0 8.2=0 8.3=5tr")
    assert "Có kinh phí khen thưởng (8.3 = 5.000.000 đồng) nhưng không có tập thể (8.1 = 0 " \
           "tập thể) hay cá nhân (8.2 = 0 người)" in reply
    assert {"8.1", "8.2", "8.3"}.isdisjoint(await stored(app, "X-ANLAO"))


async def test_a_soft_rule_asks_then_keeps_the_value_with_the_reason(app: App):
    thu = await sign_in(app, "X-ANLAO")
    await at_question(thu, "4.3")
    await thu.say("2")
    reply = await thu.say("0")
    assert "4.4. Số lượt người dự triển lãm: 0 lượt — Có triển lãm (4.3 = 2 cuộc) nhưng " \
           "không có lượt người dự (4.4 = 0 lượt). Số liệu này có đúng không?" in reply
    assert "4.4" not in await stored(app, "X-ANLAO")
    reply = await thu.say("Đúng, giữ nguyên")
    assert "cần kiểm tra" in reply and "4.5. " in reply
    value, flag = (await stored(app, "X-ANLAO"))["4.4"]
    assert value == 0 and flag == "Có triển lãm (4.3 = 2 cuộc) nhưng không có lượt người dự " \
                                  "(4.4 = 0 lượt)"


async def test_the_month_form_keeps_a_part_within_its_whole(app: App, clock: Clock):
    clock.set("2024-09-20T09:00")  # the Study Promotion Month 2024 is open
    hoa = await sign_in(app, "X-ANLAO", user="hoa")
    reply = await fill(hoa, MONTH, {"3.1": 200, "3.2": 250})
    assert "Số hội viên mới kết nạp (3.2 = 250 hội viên) không thể nhiều hơn tổng số hội " \
           "viên (3.1 = 200 hội viên)" in reply
    answers = await stored(app, "X-ANLAO", "thang-khuyen-hoc-2024")
    assert "3.1" not in answers and "3.2" not in answers


def test_rules_are_read_with_their_place_and_refused_when_wrong():
    assert parse_comparison("[8.1] + [8.2] > 0").text() == "[8.1] + [8.2] > 0"
    assert parse_comparison("[4.2]>=10*[4.1]").holds({"4.2": Decimal(30), "4.1": Decimal(3)})
    assert parse_comparison("[5.2] ≥ [5.1]").holds({"5.2": Decimal(1)}) is None
    for bad in ("[4.2]", "[4.2] >= ", "4.2 >= 4.1 >= 1", "[4.2] >> 1", "[4.2] * 3 > 1"):
        with pytest.raises(RuleError):
            parse_comparison(bad)
    assert {r.id for r in COMMUNE.rules} >= {"hoi-thao-nguoi-du", "lop-chuyen-doi-so",
                                            "kinh-phi-khen-thuong", "trien-lam-luot-du"}
    text = """
id: mini
title: Mini
sections:
  - id: "1"
    title: Một
    questions:
      - {id: "1.1", type: count, label: Lớp}
      - {id: "1.2", type: text, label: Ghi chép}
rules:
  - {id: ok, check: "[1.1] >= 0", level: hard}
  - {id: bad, check: "[1.2] > 0", level: soft}
"""
    with pytest.raises(FormError, match=r"mini rule 2 \(bad\): \[1.2\] is not a question"):
        load_form_text(text)
    with pytest.raises(FormError, match="level must be hard or soft"):
        load_form_text(text.replace("level: soft", "level: maybe"))


# ----------------------------------------------------------------------------- previous report

def test_far_from_the_previous_report_ignoring_small_numbers():
    q = COMMUNE.question("4.2")
    check = PreviousCheck()
    assert previous_gap(q, 2500, Decimal(100), check).times == 25
    assert previous_gap(q, 10, Decimal(300), check).up is False
    assert previous_gap(q, 400, Decimal(100), check) is None      # 4×: within the factor
    assert previous_gap(q, 15, Decimal(2), check) is None         # both small
    assert previous_gap(q, 30, Decimal(0), check).times == 0      # from nothing
    assert previous_gap(q, 2500, None, check) is None             # nothing to compare
    assert previous_gap(q, 2500, Decimal(100), PreviousCheck(Decimal(0))) is None  # off
    assert previous_gap(q, 900, Decimal(100), PreviousCheck(Decimal(8))) .times == 9


async def test_a_figure_far_from_last_years_is_asked_back_once_and_flagged(app: App):
    await last_year(app, "X-ANLAO", {"4.1": 3, "4.2": 100, "4.3": 1})
    thu = await sign_in(app, "X-ANLAO")
    await at_question(thu, "4.1")
    reply = await thu.say("2")  # 3 last year: small numbers are not compared
    assert "4.2. Số người tham gia" in reply
    reply = await thu.say("2500")
    assert "4.2. Số người tham gia hội thảo, tọa đàm: 2.500 người — gấp 25 lần báo cáo kỳ " \
           "trước (100 người, Tuần lễ 02/10 - 08/10/2022). Số liệu này có đúng không?" in reply
    reply = await thu.say("Nhập lại")
    assert "4.2. Số người tham gia" in reply
    reply = await thu.say("2600")  # asked back once: kept as given, with the reason
    assert "4.3. " in reply and "cần kiểm tra" in reply
    value, flag = (await stored(app, "X-ANLAO"))["4.2"]
    assert value == 2600 and flag == "gấp 26 lần báo cáo kỳ trước (100 người, Tuần lễ " \
                                     "02/10 - 08/10/2022)"
    # A corrected figure is stored without the flag.
    reply = await thu.say("4.2 150")
    assert (await stored(app, "X-ANLAO"))["4.2"] == (150, "")


async def test_the_coordinator_sees_the_flag_in_xem_the_export_and_the_digest(
        app: App, clock: Clock, tmp_path: Path):
    await last_year(app, "X-ANLAO", {"4.2": 100})
    thu = await sign_in(app, "X-ANLAO")
    reply = await fill(thu, COMMUNE, {"4.2": 2500, "4.1": 3})
    assert "cần kiểm tra" in reply
    reply = await thu.say("Nộp báo cáo")
    assert "đúng hạn" in reply
    boss = await sign_in(app, "HP", role="coordinator")
    view = await boss.say("/xem X-ANLAO")
    assert "4.2  2.500 người — ⚠ cần kiểm tra: gấp 25 lần báo cáo kỳ trước (100 người, " \
           "Tuần lễ 02/10 - 08/10/2022)" in view
    async with app.sessions() as session:
        contact_id = await session.scalar(select(Contact.id).where(
            Contact.role == "coordinator"))
        period_id = await session.scalar(select(Period.id).join(Campaign).where(
            Campaign.key == "tuan-le-htsd-2023"))
        made = await make_export(session, contact_id, "coordinator", period_id, "xlsx",
                                 app.dispatcher.forms, tmp_path / "files", clock())
    book = load_workbook(made[0][0], read_only=True)
    rows = list(book["Cần kiểm tra"].values)
    assert rows[0] == ("Mã", "Đơn vị", "Câu", "Giá trị", "Cần kiểm tra")
    assert rows[1] == ("X-ANLAO", "Xã An Lão", "4.2", 2500,
                       "gấp 25 lần báo cáo kỳ trước (100 người, Tuần lễ 02/10 - 08/10/2022)")
    store = ReminderStore(app.sessions, app.catalog, app.dispatcher.forms)
    at = datetime(2023, 10, 12, 8, 1, tzinfo=VN)  # the last day's digest slot
    async with app.sessions() as session:
        due = plan(await store.snapshots(session, at, "tuan-le-htsd-2023"), at)
    digests = [r for r in due if r.kind == "digest" and r.coordinator_unit
               and r.coordinator_unit.name == "Thành phố Hải Phòng"]
    assert digests
    from scheduler.reminder_texts import render

    text = render(digests[0], app.catalog, at).text
    assert "“cần kiểm tra”" in text and "• Xã An Lão: 4.2" in text


async def test_previous_figures_come_with_the_batch_not_a_query_per_answer(app: App):
    """On the batched fast path the previous report is read with the snapshot: a batch of
    ten answers runs as many statements as a batch of one, and still asks back."""
    await last_year(app, "X-ANLAO", {f"2.{n}": 100 for n in range(1, 5)})
    thu = await sign_in(app, "X-ANLAO")
    await thu.say("/baocao")
    await thu.say("có")
    await thu.say("Bỏ qua")
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        statements.append(statement)

    async def batch(texts: list[str]) -> int:
        identity_chat = thu.chat.user
        events = [InboundEvent("local", identity_chat, identity_chat,
                               f"batch-{len(statements)}-{n}", "text", app.clock(), text=t)
                  for n, t in enumerate(texts)]
        queued = [Queued(e) for e in events]

        async def take(_session, items=queued):  # noqa: ANN001, ANN202
            return items

        before = len(statements)
        await app.dispatcher.handle_batch(take)
        return len(statements) - before

    event.listen(app.engine.sync_engine, "before_cursor_execute", count)
    try:
        one = await batch(["2.1 90"])
        ten = await batch([f"2.{n % 4 + 1} {90 + n}" for n in range(10)])
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", count)
    assert app.dispatcher.counts["fast"] >= 11
    assert ten == one
    answers = await stored(app, "X-ANLAO")
    assert (answers["2.2"], answers["2.4"]) == ((99, ""), (97, ""))
    reply = await thu.say("2.1 900")  # nine times last year's 100: asked back
    assert "gấp 9 lần báo cáo kỳ trước (100 bài" in reply


# ----------------------------------------------------------------------------- /kiemtra

def test_modified_z_score_finds_the_figure_far_from_the_others():
    values = [("a", Decimal(120)), ("b", Decimal(150)), ("c", Decimal(130)),
              ("d", Decimal(140)), ("e", Decimal(2500)), ("f", Decimal(135))]
    found = outliers(values)
    assert [(o.key, o.median) for o in found] == [("e", Decimal("137.5"))]
    assert found[0].score > 3.5 and found[0].group_size == 6
    assert outliers(values[:4]) == []                       # too few to compare
    assert outliers([(k, Decimal(0)) for k in "abcdef"]) == []  # all the same
    mostly_zero = [(k, Decimal(0)) for k in "abcde"] + [("z", Decimal(40))]
    assert [o.key for o in outliers(mostly_zero)] == ["z"]  # MAD 0: mean deviation stands in


async def test_kiemtra_lists_outliers_among_sibling_units_in_scope(app: App, tmp_path: Path):
    extra = tmp_path / "communes.csv"
    extra.write_text("code,name,kind,parent_code\n" + "".join(
        f"X-{n},Xã {n},commune,HP\n" for n in range(1, 6)), encoding="utf-8")
    from bot import admin

    async with app.sessions() as session, session.begin():
        await admin.import_units(session, extra)
    figures = {"X-1": 120, "X-2": 150, "X-3": 130, "X-4": 140, "X-5": 135, "X-ANLAO": 9000}
    for code, value in figures.items():
        await file_report(app, code, COMMUNE, {"4.2": value, "4.1": 2})
    boss = await sign_in(app, "HP", role="coordinator")
    reply = await boss.say("/kiemtra")
    assert "Xã An Lão (X-ANLAO) — 4.2 Số người tham gia hội thảo, tọa đàm: 9.000 người; " \
           "trung vị 137,5 người của 6 đơn vị thuộc Thành phố Hải Phòng" in reply
    assert "X-1)" not in reply
    assert await boss.say("/check") == reply  # the English alias
    # A commune's coordinator sees only its own schools; a reporter may not ask.
    chief = await sign_in(app, "X-ANTHANG", role="coordinator")
    assert "X-ANLAO" not in await chief.say("/kiemtra")
    lan = await sign_in(app, "X-1", user="lan")
    assert "dành cho cán bộ tổng hợp" in await lan.say("/kiemtra")



async def test_a_report_breaking_a_hard_rule_is_not_submitted(app: App):
    """Figures stored before a rule existed (or by other means) are checked at submission."""
    thu = await sign_in(app, "X-ANLAO")
    reply = await fill(thu, COMMUNE, {"5.1": 3, "5.2": 30})
    assert "Nộp báo cáo" in reply
    async with app.sessions() as session, session.begin():
        answer = await session.scalar(select(Answer).where(Answer.question_id == "5.2"))
        answer.value, answer.num_value = 1, Decimal(1)
    reply = await thu.say("Nộp báo cáo")
    assert "Chưa nộp được báo cáo; các số liệu sau chưa khớp nhau:" in reply
    assert "• Số lượt người tham gia (5.2 = 1 lượt) không thể ít hơn số lớp (5.1 = 3 lớp)" \
           in reply
    async with app.sessions() as session:
        assert await session.scalar(select(Submission.status)) == "draft"
    await thu.say("5.2 30")
    assert "đúng hạn" in await thu.say("Nộp báo cáo")
