"""The first submission decides on time or late (issue 24, defects 2, 5 and 9): every file and
every view carries it apart from the last resubmission, a returned report is not shown late
for the time it waits, and the consolidated .docx lists its recipients and its phones as an
office writes them."""

from __future__ import annotations

import csv
import os
import re
import shutil
from datetime import datetime
from html import unescape
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from bot import admin
from bot.app import App

from . import test_export_render as render
from .conftest import VN, Clock, Person
from .filing import SCHOOL, document_path, file_report, sign_in

pytestmark = pytest.mark.slow

REASON = "Mục 4 thiếu danh sách người tham gia"


def csv_rows(path: Path) -> dict[str, dict[str, str]]:
    """The CSV export, row by unit code, read as any program reads it."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return {row["Mã đơn vị"]: row for row in csv.DictReader(handle)}


def xlsx_rows(path: Path) -> dict[str, dict[str, object]]:
    """The sheet "Báo cáo" below its "Mã đơn vị" header, row by unit code."""
    ws = load_workbook(path)["Báo cáo"]
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row[0] == "Mã đơn vị")
    header = rows[start]
    return {row[0]: dict(zip(header, row, strict=False)) for row in rows[start + 1:]
            if row and row[0]}


async def returned_then_resubmitted(app: App, clock: Clock) -> tuple[Person, Person]:
    """The primary school submits on 10/10 (due before 13/10); its commune returns it on
    14/10; it submits again on 16/10."""
    clock.set("2023-10-10 09:00")
    school = await file_report(app, "TH-ANLAO", SCHOOL, {"4.2": 37})
    boss = await sign_in(app, "X-ANLAO", role="coordinator")
    clock.set("2023-10-14 10:00")
    assert "Đã trả lại" in await boss.say(f"/tralai TH-ANLAO {REASON}")
    return school, boss


async def test_every_file_and_xem_carry_the_first_submission_and_the_resubmission_apart(
        app: App, clock: Clock):
    school, boss = await returned_then_resubmitted(app, clock)
    told = "\n".join(await school.chat.deliver())
    # A school reporter is addressed as "thầy/cô", in the return notice too.
    assert REASON in told and "Thầy/cô vui lòng sửa" in told and "nh/chị" not in told

    # While returned, the files still say when it first came in, and that it was on time.
    returned = csv_rows(document_path(await boss.say("/xuat csv")))["TH-ANLAO"]
    assert returned["Trạng thái"] == "Trả lại để sửa"
    assert returned["Nộp lần đầu"] == "2023-10-10 09:00"
    assert returned["Đúng hạn/muộn"] == "Đúng hạn"
    assert returned["Nộp lại"] == ""
    view = await boss.say("/xem TH-ANLAO")
    assert "Nộp lần đầu lúc 09:00 ngày 10/10/2023, đúng hạn." in view, view

    clock.set("2023-10-16 09:00")
    await school.say("/baocao")
    await school.say("4.2 40")
    reply = await school.say("Nộp lại báo cáo")
    assert "đúng hạn" in reply, reply

    rows = csv_rows(document_path(await boss.say("/xuat csv")))
    again = rows["TH-ANLAO"]
    assert again["Trạng thái"] == "Đã nộp đúng hạn"
    assert again["Nộp lần đầu"] == "2023-10-10 09:00"
    assert again["Đúng hạn/muộn"] == "Đúng hạn"
    assert again["Nộp lại"] == "2023-10-16 09:00"
    assert rows["THCS-ANLAO"]["Nộp lần đầu"] == rows["THCS-ANLAO"]["Nộp lại"] == ""

    sheet = xlsx_rows(document_path(await boss.say("/xuat")))["TH-ANLAO"]
    assert sheet["Nộp lần đầu"] == datetime(2023, 10, 10, 9, 0)
    assert sheet["Đúng hạn/muộn"] == "Đúng hạn"
    assert sheet["Nộp lại"] == datetime(2023, 10, 16, 9, 0)

    view = await boss.say("/xem TH-ANLAO")
    assert "Nộp lần đầu lúc 09:00 ngày 10/10/2023, đúng hạn" in view, view
    assert "nộp lại lúc 09:00 ngày 16/10/2023" in view, view

    await boss.say("/duyet TH-ANLAO")
    told = "\n".join(await school.chat.deliver())
    assert "đã được duyệt" in told and "Cảm ơn thầy/cô" in told and "nh/chị" not in told


async def test_the_docx_annex_says_when_a_returned_report_first_came_in(app: App,
                                                                         clock: Clock):
    _, boss = await returned_then_resubmitted(app, clock)
    doc = Document(str(document_path(await boss.say("/xuat docx"))))
    table = doc.tables[-1]  # the units that have not submitted
    row = next(r for r in table.rows if r.cells[1].text == "Trường Tiểu học An Lão")
    status = row.cells[2].text.splitlines()
    assert status == ["Trả lại để sửa", "Nộp lần đầu: 09:00 10/10/2023, đúng hạn"], status


PHONES = """name,phone,unit_code,role
Phạm Thị Lan,+84904200040,X-ANTHANG,reporter
Vũ Văn Hải,0225 3861 234,P-VINHBAO,reporter
"""


async def province_docx(app: App, clock: Clock, tmp_path: Path) -> Path:
    """The province's consolidated report: one commune submitted, the others have reporters
    with phones imported as offices type them."""
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(PHONES, encoding="utf-8")
    async with app.sessions() as session, session.begin():
        await admin.import_contacts(session, contacts, app.clock())
    from .filing import COMMUNE

    await file_report(app, "X-ANLAO", COMMUNE)
    province = await sign_in(app, "HP", role="coordinator")
    return document_path(await province.say("/xuat docx"))


async def test_the_province_docx_lists_its_recipients_and_writes_phones_as_an_office_does(
        app: App, clock: Clock, tmp_path: Path):
    doc = Document(str(await province_docx(app, clock, tmp_path)))
    signature = next(t for t in doc.tables if t.rows[0].cells[0].text.startswith("Nơi nhận"))
    recipients = [p.text for p in signature.rows[0].cells[0].paragraphs if p.text]
    assert recipients == ["Nơi nhận:", "- UBND các xã, phường;", "- Lưu: VT."], recipients
    missing = doc.tables[-1]
    phones = {r.cells[1].text: r.cells[4].text for r in missing.rows[1:]}
    assert phones["Xã An Thắng"] == "0904\u00a0200\u00a0040"  # kept on one line
    assert phones["Phường Vĩnh Bảo"] == "0225\u00a03861\u00a0234"


@pytest.mark.skipif(bool(render.MISSING), reason="LibreOffice or poppler-utils not installed")
async def test_the_province_docx_printed_keeps_stt_and_each_phone_on_one_line(
        app: App, clock: Clock, tmp_path: Path):
    pdf = render.to_pdf(await province_docx(app, clock, tmp_path), tmp_path)
    keep = os.environ.get("BAOCAO_TEST_ARTIFACTS")
    if keep:  # to look at the pages
        shutil.copy(pdf, Path(keep) / "province-report.pdf")
    printed = render.text(pdf).replace("\u00a0", " ")
    annex = printed[printed.index("DANH SÁCH ĐƠN VỊ CHƯA NỘP BÁO CÁO"):]
    header = next(line for line in annex.splitlines() if "Đơn vị" in line)
    assert re.search(r"\bSTT\b", header), annex[:600]
    assert re.search(r"\b0904 200 040\b", annex), annex
    assert re.search(r"\b0225 3861 234\b", annex), annex
    assert "+84" not in annex
    whole = printed[:printed.index("PHỤ LỤC")]
    assert re.search(r"- UBND các xã, phường;", whole), whole


async def test_the_board_judges_a_returned_report_by_its_first_submission_on_telegram(
        console, tg):  # noqa: ANN001
    """Through the fake Telegram server and real HTTP: the primary school submitted on 9/10
    (due before 13/10), was returned; on 18/10 the board shows it returned, first submitted on
    time, not "5 days late"; sent again, it shows both times."""
    from .web_console import base_url, client, coordinator, link_from_chat, report_through_chat
    from .web_console import sign_in as web_sign_in

    people = await report_through_chat(console, tg)
    school = people["TH-ANLAO"]
    boss = await coordinator(console, tg, "X-ANLAO", 4210, name="Cán bộ xã")
    await boss.send(f"/tralai TH-ANLAO {REASON}")
    await boss.wait_for("Đã trả lại")
    told = await school.wait_for(REASON)
    assert "Thầy/cô vui lòng sửa" in told.text and "nh/chị" not in told.text

    console.clock.set(datetime(2023, 10, 18, 9, 0, tzinfo=VN))

    async def school_row() -> str:
        async with client() as http:
            await web_sign_in(http, await link_from_chat(boss))
            async with http.get(base_url(console) + "/web/") as page:
                html = await page.text()
        found = re.search(r'<li class="unit [^"]*" data-search="truong tieu hoc an lao '
                          r'th-anlao">(.*?)</li>', html, re.S)
        assert found, html
        return " ".join(unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())

    row = await school_row()
    assert "Trả lại" in row and REASON in row, row
    assert "nộp lần đầu 09:0" in row and "09/10/2023" in row and "đúng hạn" in row, row
    assert "muộn" not in row, row

    await school.send("/baocao")
    await school.wait_for("Báo cáo được trả lại để chỉnh sửa")
    await school.send("4.2 6")
    await school.wait_for("Đã lưu")
    await school.press("Nộp báo cáo")
    again = await school.wait_for("đúng hạn")
    assert "Cảm ơn thầy/cô" in again.text
    row = await school_row()
    assert "nộp lần đầu 09:0" in row and "nộp lại 09:0" in row and "18/10/2023" in row, row
    assert "muộn" not in row, row
    async with client() as http:  # the unit's own page says the same
        await web_sign_in(http, await link_from_chat(boss))
        async with http.get(base_url(console) + "/web/unit/TH-ANLAO") as page:
            html = await page.text()
    state = re.search(r'<p class="state[^"]*" id="state">(.*?)</p>', html, re.S)
    assert state, html
    words = " ".join(unescape(re.sub(r"<[^>]+>", " ", state.group(1))).split())
    assert "Đã nộp đúng hạn" in words and "nộp lần đầu 09:0" in words, words
    assert "nộp lại 09:0" in words and "18/10/2023" in words, words


@pytest.mark.parametrize(("stored", "written"), [
    ("+84904200040", "0904 200 040"),       # a mobile
    ("0912345678", "0912 345 678"),         # typed nationally
    ("+842438261234", "024 3826 1234"),     # Hà Nội
    ("+842253861234", "0225 3861 234"),     # Hải Phòng
    ("+6591234567", "+6591234567"),         # abroad: as it is
    ("12345", "12345"),                     # not a phone: as it is
])
def test_a_phone_is_written_as_an_office_writes_it(stored: str, written: str) -> None:
    from conversations.phone_numbers import office_phone

    assert office_phone(stored) == written.replace(" ", "\u00a0")


@pytest.mark.skipif(bool(render.MISSING), reason="LibreOffice or poppler-utils not installed")
def test_a_returned_reports_first_submission_prints_its_date_whole(tmp_path: Path) -> None:
    from bot.exports.docx_report import write_docx

    from .test_export_files import commune_data

    source = tmp_path / "bao-cao.docx"
    write_docx(commune_data(), source)
    printed = render.text(render.to_pdf(source, tmp_path))
    annex = printed[printed.index("DANH SÁCH ĐƠN VỊ CHƯA NỘP BÁO CÁO"):]
    assert re.search(r"\b11/10/2023\b", annex), annex  # Xã Hưng Nhân, returned
    assert "Nguyễn Thị Hoa" in annex and "Nhắc lần" in annex
