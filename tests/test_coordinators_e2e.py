"""Coordinators end to end on the fake Telegram server: ten units submit known values, the
province pulls totals and files and reads them back cell by cell, a report goes back for
correction, and nobody sees beyond their scope."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from bot import admin
from bot.runtime import Running, start
from bot.settings import Settings

from .conftest import invite
from .fake_telegram import FakeTelegram, FakeUser
from .test_report_conversation import COMMUNE_FORM
from .test_telegram_e2e import FlowingClock, deep_link_sign_in

pytestmark = pytest.mark.slow

UNITS = ["X-ANLAO", "TH-ANLAO", "THCS-ANLAO", "TTHTCD-ANLAO", "X-ANTHANG", "MN-ANTHANG",
         "GDNN-ANTHANG", "TH-ANTHANG", "P-VINHBAO", "THPT-VINHBAO"]


def school_form():  # noqa: ANN201
    from conversations.forms import bundled_form_files, load_form_file

    return next(load_form_file(p) for p in bundled_form_files() if p.stem == "tuan-le-htsd-truong")


def known_values(index: int, form) -> dict[str, object]:  # noqa: ANN001
    """What unit number `index` reports: small distinct numbers, money in millions, texts."""
    values: dict[str, object] = {}
    for k, q in enumerate(form.questions):
        if q.type == "yes_no":
            values[q.id] = index % 3 != 0
        elif q.type == "money":
            values[q.id] = (index + 1) * 1_000_000
        elif q.type == "text":
            values[q.id] = f"Phần {q.id} của đơn vị số {index}."
        elif q.section_id == "7":
            values[q.id] = 1
        elif q.unit.vi == "lượt":  # attendances and visits: more than the classes (form rules)
            values[q.id] = (index + k % 4) * 10 + 10
        else:
            values[q.id] = index + k % 4
    return values


def typed(value: object) -> str:
    if value is True:
        return "có"
    if value is False:
        return "không"
    return str(value)


async def submit_known_values(user: FakeUser, form, values: dict) -> None:  # noqa: ANN001
    await user.send("/baocao")
    await user.wait_for("câu 1/")
    for section in form.sections:
        parts = [typed(values[q.id]) for q in section.questions]
        await user.send(f"mục {section.id}: " + "; ".join(parts))
        await user.wait_for("Đã lưu")
    await user.wait_for("Xem lại báo cáo", fresh=False)
    await user.press("Nộp báo cáo")
    await user.wait_for("đúng hạn")




@pytest.fixture
async def bot(tg: FakeTelegram, db_url: str, tmp_path: Path) -> AsyncIterator[Running]:
    from datetime import datetime

    from .conftest import VN, seed_reference_data

    clock = FlowingClock(datetime(2023, 10, 9, 9, 0, tzinfo=VN))
    settings = Settings(database_url=db_url, telegram_bot_token=tg.token,
                        telegram_api_base=tg.base_url, telegram_rate_per_chat=50,
                        files_dir=str(tmp_path / "files"), reminder_tick_seconds=0)
    running = await start(settings, clock=clock)
    await seed_reference_data(running.app, tmp_path)
    extra = tmp_path / "extra.csv"
    extra.write_text("code,name,kind,parent_code\nTH-ANTHANG,Trường Tiểu học An Thắng,school,"
                     "X-ANTHANG\n", encoding="utf-8")
    async with running.app.sessions() as session, session.begin():
        await admin.import_units(session, extra)
    yield running
    await running.stop()


async def test_ten_units_report_and_the_province_gets_true_totals_and_files(
        bot: Running, tg: FakeTelegram):
    school = school_form()
    submitted: dict[str, dict[str, object]] = {}
    for i, code in enumerate(UNITS):
        form = COMMUNE_FORM if code.startswith(("X-", "P-")) else school
        user = tg.user(3000 + i, f"Người báo cáo {code}")
        await deep_link_sign_in(bot, user, code)
        submitted[code] = known_values(i, form)
        await submit_known_values(user, form, submitted[code])

    boss = tg.user(3100, "Sở GD&ĐT")
    await boss.send(f"/start {await invite(bot.app, 'HP', role='coordinator')}")
    await boss.wait_for("cán bộ tổng hợp")
    # /tonghop: counts and the main figures, summed block by block of the reporting line:
    # the communes' reports make the province's figures; the schools' are shown apart.
    await boss.send("/tonghop")
    summary = await boss.wait_for("đã nộp 7 (đúng hạn 7")  # the schools' block
    communes = {c: v for c, v in submitted.items() if c.startswith(("X-", "P-"))}
    schools = {c: v for c, v in submitted.items() if c not in communes}
    communes_text, schools_text = summary.text.split("\n\nCác trường")
    expected_42 = sum(v["4.2"] for v in communes.values())
    vn = f"{expected_42:,}".replace(",", ".")
    assert f"4.2 Số người tham gia hội thảo, tọa đàm: {vn} người" in communes_text
    schools_42 = f"{sum(v['4.2'] for v in schools.values()):,}".replace(",", ".")
    assert f"4.2 Số người tham gia hội thảo, tọa đàm: {schools_42} người" in schools_text
    expected_83 = sum(v["8.3"] for v in communes.values())
    assert f"{expected_83:,} đồng".replace(",", ".") in communes_text

    # /xuat: the XLSX, read back cell by cell.
    await boss.send("/xuat")
    xlsx = await boss.wait_for(lambda m: m.kind == "document" and m.filename.endswith(".xlsx"),
                               timeout=15)
    book = load_workbook(io.BytesIO(xlsx.data), data_only=True)  # values beside formulas
    sheet = book["Báo cáo"]
    rows = list(sheet.iter_rows(values_only=True))
    header_index = next(i for i, r in enumerate(rows) if r and r[0] == "Mã đơn vị")
    header = rows[header_index]
    column = {str(h).split(". ")[0]: j for j, h in enumerate(header) if h}
    body = {r[0]: r for r in rows[header_index + 1:] if r and r[0] in submitted}
    assert set(body) == set(communes)  # the schools have a sheet of their own
    for code, values in communes.items():
        for qid, value in values.items():
            if isinstance(value, str):
                continue  # free text is in the "Ý kiến" sheet
            expected = ("Có" if value else "Không") if isinstance(value, bool) else value
            assert body[code][column[qid]] == expected, (code, qid)
    totals_row = next(r for r in rows if r and str(r[0] or "").startswith("Tổng cộng")
                      or (r and str(r[1] or "").startswith("Tổng cộng")))
    assert totals_row[column["8.3"]] == expected_83
    assert totals_row[column["4.2"]] == expected_42
    assert {"Tiến độ", "Ý kiến", "Lịch sử"} <= set(book.sheetnames)
    school_rows = list(book[book.sheetnames[1]].iter_rows(values_only=True))
    assert {r[0] for r in school_rows if r and r[0] in schools} == set(schools)

    # /xuat csv: UTF-8 with a BOM, one row per unit.
    await boss.send("/xuat csv")
    csv_file = await boss.wait_for(lambda m: m.kind == "document" and
                                   m.filename.endswith(".csv"), timeout=15)
    assert csv_file.data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(csv_file.data.decode("utf-8-sig"))))
    head = table[0]
    by_code = {r[1]: r for r in table[1:]}  # after the reporting line's column
    money = next(j for j, h in enumerate(head) if h.startswith("8.3"))
    assert {code: int(by_code[code][money]) for code in submitted} == {
        code: v["8.3"] for code, v in submitted.items()}

    # /xuat docx: the consolidated report, with the summed row.
    await boss.send("/xuat docx")
    docx_file = await boss.wait_for(lambda m: m.kind == "document" and
                                    m.filename.endswith(".docx"), timeout=15)
    document = Document(io.BytesIO(docx_file.data))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in cells + text
    assert "BÁO CÁO" in text
    assert f"{expected_83:,} đồng".replace(",", ".") in cells
    assert "Phần I của đơn vị số 0." in text

    # /bieudo: a PNG that opens.
    await boss.send("/bieudo")
    chart = await boss.wait_for(lambda m: m.kind == "photo", timeout=15)
    assert chart.data.startswith(b"\x89PNG\r\n\x1a\n") and len(chart.data) > 5000

    # A report goes back for correction, is corrected, and the history shows both versions.
    reporter = tg.user(3000, "Người báo cáo X-ANLAO")
    await boss.send("/tralai X-ANLAO Số liệu mục 5 chưa khớp với danh sách lớp")
    await boss.wait_for("Đã trả lại báo cáo của Xã An Lão")
    await reporter.wait_for("Số liệu mục 5 chưa khớp với danh sách lớp")
    await boss.send("/tonghop")
    await boss.wait_for("đã nộp 2 (đúng hạn 2")  # the communes' block, one returned
    await reporter.press("Sửa báo cáo")
    await reporter.wait_for("Xem lại báo cáo")
    await reporter.send("5.2 99")
    await reporter.wait_for("5.2 = 99")
    await reporter.press("Nộp báo cáo")
    await reporter.wait_for("Cảm ơn")
    await boss.send("/xem X-ANLAO")
    view = await boss.wait_for("Lịch sử")
    old = submitted["X-ANLAO"]["5.2"]
    assert f"5.2 {old} lượt → 99 lượt" in view.text


async def test_scope_a_commune_sees_only_its_units_and_reporters_no_commands(
        bot: Running, tg: FakeTelegram):
    chairman = tg.user(3200, "Chủ tịch xã An Lão")
    await chairman.send(f"/start {await invite(bot.app, 'X-ANLAO', role='coordinator')}")
    await chairman.wait_for("cán bộ tổng hợp")
    await chairman.send("/tonghop")
    summary = await chairman.wait_for("tổng 3 đơn vị")  # its centre and two schools
    assert "Các trường, trung tâm học tập cộng đồng:" in summary.text
    await chairman.send("/xem MN-ANTHANG")
    await chairman.wait_for("không thuộc phạm vi anh/chị phụ trách")
    await chairman.send("/tralai THPT-VINHBAO sai số liệu")
    await chairman.wait_for("không thuộc phạm vi anh/chị phụ trách")
    await chairman.send("/xem TH-ANLAO")
    await chairman.wait_for("Trường Tiểu học An Lão (TH-ANLAO)")

    teacher = tg.user(3201, "Cô Lan")
    await deep_link_sign_in(bot, teacher, "TH-ANLAO")
    for command in ("/tonghop", "/chuanop", "/xem TH-ANLAO", "/tralai TH-ANLAO x", "/xuat",
                    "/bieudo", "/nhac"):
        await teacher.send(command)
        await teacher.wait_for("dành cho cán bộ tổng hợp")
    assert not [m for m in teacher.messages() if m.kind != "text"]
