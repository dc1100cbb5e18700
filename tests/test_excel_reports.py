"""Excel in and out: the unit's own template of a report (`/excel`), filled in with openpyxl as
a person fills it (numbers, "5tr", a wrong type, a cell for a row that does not exist, an extra
sheet) and sent back through the fake Telegram server as a document, through the Zalo upload
page, and in the local chat; exactly the valid values stored, every other cell named with why;
a file of another unit or of an old form version refused; and a coordinator entering, from the
export file, the reports of units that sent paper."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from bot import admin
from bot.app import App
from bot.runtime import Running, start
from bot.settings import Settings
from bot.storage.models import Answer, Contact, ReportEvent, Submission, Unit
from conversations.campaigns import bundled_campaign_files, load_campaign_file
from conversations.forms import bundled_form_files

from .conftest import seed_reference_data
from .fake_telegram import FakeTelegram
from .fake_zalo import FakeZalo
from .filing import COMMUNE, SCHOOL, file_report, sign_in
from .test_telegram_e2e import FlowingClock, deep_link_sign_in, free_port

# ----------------------------------------------------------------------------- helpers


def template_rows(book: Any) -> dict[str, int]:
    """Question id → row, read from column A as a person sees it."""
    ws = book["Báo cáo"]
    return {str(ws.cell(r, 1).value): r for r in range(1, ws.max_row + 1)
            if ws.cell(r, 1).value}


def filled_as_a_person_would(data: bytes) -> tuple[bytes, dict[str, int]]:
    """Numbers, a number with its unit, "5tr", yes/no as a word, a note, a text part; a word
    where a count goes, a decimal count; a row added for a question the form does not have, a
    figure typed below the table; an extra sheet of the person's own notes."""
    book = load_workbook(io.BytesIO(data))
    rows = template_rows(book)
    ws = book["Báo cáo"]
    ws.cell(rows["1.1"], 3).value = "Có"
    ws.cell(rows["2.1"], 3).value = 12
    ws.cell(rows["2.2"], 3).value = "15 tin bài"
    ws.cell(rows["6.1"], 3).value = 3
    ws.cell(rows["6.1"], 5).value = "gồm cả TTHTCĐ"
    ws.cell(rows["8.3"], 3).value = "5tr"
    ws.cell(rows["I"], 3).value = "Đã ban hành kế hoạch, khai mạc ngày 02/10."
    ws.cell(rows["4.1"], 3).value = "hai"
    ws.cell(rows["4.2"], 3).value = 2.5
    last = ws.max_row
    ws.cell(last + 1, 1).value = "4.9"
    ws.cell(last + 1, 3).value = 7
    ws.cell(last + 3, 3).value = 99
    rows["4.9"], rows["below"] = last + 1, last + 3
    book.create_sheet("Ghi chép")["A1"] = "Nhớ hỏi lại trường TH về số lớp"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), rows


STORED_FROM_THE_FILE = {"1.1": True, "2.1": 12, "2.2": 15, "6.1": 3, "8.3": 5_000_000,
                        "I": "Đã ban hành kế hoạch, khai mạc ngày 02/10."}


def assert_the_reply_names_every_cell(reply: str, rows: dict[str, int]) -> None:
    assert f"C{rows['4.1']} (4.1): “hai” — Anh/chị vui lòng viết số bằng chữ số" in reply
    assert f"C{rows['4.2']} (4.2): “2.5” — " in reply and "số nguyên" in reply
    assert f"C{rows['4.9']} (4.9): báo cáo không có câu 4.9; chưa lưu." in reply
    assert f"C{rows['below']}: dòng này không phải câu hỏi của báo cáo; chưa lưu." in reply
    assert "Bot chỉ đọc trang “Báo cáo”; không đọc: “Ghi chép”." in reply
    assert "Đã lưu 6 câu" in reply
    assert "Xem lại báo cáo" in reply and "Nộp báo cáo" in reply


async def stored_answers(app: App, unit: str) -> dict[str, Any]:
    async with app.sessions() as session:
        rows = (await session.execute(
            select(Answer.question_id, Answer.value, Answer.note)
            .join(Submission, Submission.id == Answer.submission_id)
            .join(Unit, Unit.id == Submission.unit_id).where(Unit.code == unit))).all()
    return {qid: value for qid, value, _ in rows} | {
        f"{qid} (note)": note for qid, _, note in rows if note}


def shown_path(reply: str) -> Path:
    """The local chat shows a document as "[name] path"."""
    line = next(line for line in reply.splitlines() if line.startswith("["))
    return Path(line.split("] ", 1)[1].strip())


# ----------------------------------------------------------------------------- the template

async def test_the_template_is_made_for_this_unit_and_period(app: App):
    thu = await sign_in(app, "X-ANLAO")
    reply = await thu.say("/baocao")
    assert "“tệp excel”" in reply.lower()  # the option after /baocao
    await thu.say("có")
    await thu.say("Bỏ qua")
    await thu.say("mục 2: 3, 1, 12, 4 ghi chú: 2 tờ báo tường")
    reply = await thu.say("tệp excel")
    assert "Tệp Excel của Tuần lễ hưởng ứng học tập suốt đời năm 2023 — Xã An Lão" in reply
    assert "Sau đó anh/chị gửi lại tệp vào đây" in reply
    book = load_workbook(shown_path(reply))
    ws = book["Báo cáo"]
    assert ws["A1"].value == "Tuần lễ hưởng ứng học tập suốt đời năm 2023"
    assert ws["A2"].value == "Đơn vị: Xã An Lão (X-ANLAO)"
    assert ws["A3"].value == "Kỳ báo cáo: Tuần lễ 02/10 - 08/10/2023. Hạn nộp trước ngày " \
                             "13/10/2023."
    assert [c.value for c in ws[6]] == ["Mã", "Nội dung hoạt động", "Kết quả, số lượng",
                                        "Đơn vị tính", "Ghi chú"]
    rows = template_rows(book)
    assert [k for k, r in rows.items() if r > 6] == [q.id for q in COMMUNE.questions]
    assert ws.cell(rows["4.2"], 2).value == COMMUNE.question("4.2").label.vi
    assert ws.cell(rows["4.2"], 4).value == "người"
    # The draft's answers are filled in, as they are stored.
    assert ws.cell(rows["1.1"], 3).value == "Có"
    assert [ws.cell(rows[q], 3).value for q in ("2.1", "2.2", "2.3", "2.4")] == [3, 1, 12, 4]
    assert ws.cell(rows["2.4"], 5).value == "2 tờ báo tường"
    # Labels locked, answers and notes open; types checked as Excel can.
    assert ws.protection.sheet
    assert ws.cell(rows["4.2"], 2).protection.locked
    assert not ws.cell(rows["4.2"], 3).protection.locked
    assert not ws.cell(rows["4.2"], 5).protection.locked
    checked: dict[str, set[str]] = {}
    for dv in ws.data_validations.dataValidation:
        checked.setdefault(f"{dv.type} {dv.formula1}", set()).update(str(dv.sqref).split())
    assert {f"C{rows['4.2']}", f"C{rows['8.3']}"} <= checked["whole 0"]
    assert f"C{rows['1.1']}" in checked['list "Có,Không"']
    assert f"C{rows['I']}" not in set().union(*checked.values())
    # Hidden: which unit, period and form version the file is for.
    meta = book["baocao"]
    assert meta.sheet_state == "veryHidden"
    hidden = {r[0].value: r[1].value for r in meta.iter_rows(max_col=2)}
    assert hidden["kind"] == "unit-template" and hidden["unit"] == "X-ANLAO"
    assert (hidden["form"], hidden["form_version"]) == ("tuan-le-htsd", "1")
    assert hidden["period"] == "Tuần lễ 02/10 - 08/10/2023" and hidden["period_id"]


async def test_a_filled_template_in_the_local_chat_then_the_review_and_submit(
        app: App, tmp_path: Path):
    thu = await sign_in(app, "X-ANLAO")
    path = shown_path(await thu.say("/excel"))
    # No question was shown: a number typed now lands nowhere.
    assert "/baocao" in await thu.say("12")
    assert await stored_answers(app, "X-ANLAO") == {}
    data, rows = filled_as_a_person_would(path.read_bytes())
    filled = tmp_path / "bao cao xa An Lao.xlsx"
    filled.write_bytes(data)
    reply = "\n".join(await thu.chat.send_file(filled))
    assert_the_reply_names_every_cell(reply, rows)
    answers = await stored_answers(app, "X-ANLAO")
    assert answers == {**STORED_FROM_THE_FILE, "6.1 (note)": "gồm cả TTHTCĐ"}
    # The same file again: nothing new (its values are stored), nothing lost.
    reply = "\n".join(await thu.chat.send_file(filled))
    assert "6 câu gửi lại như cũ" in reply and "Đã lưu" not in reply
    # The rest typed in chat, then submitted as usual.
    reply = await thu.say("4.1=2 4.2=40")
    assert "Đã lưu 2 câu" in reply


async def test_a_file_of_another_unit_or_of_an_old_form_version_is_refused(
        app: App, tmp_path: Path):
    thu = await sign_in(app, "X-ANLAO")
    minh = await sign_in(app, "X-ANTHANG", user="minh")
    path = shown_path(await thu.say("/excel"))
    data, _rows = filled_as_a_person_would(path.read_bytes())
    theirs = tmp_path / "cua-xa-khac.xlsx"
    theirs.write_bytes(data)
    reply = "\n".join(await minh.chat.send_file(theirs))
    assert "Tệp này là mẫu báo cáo của Xã An Lão (X-ANLAO), không phải đơn vị anh/chị báo " \
           "cáo. Chưa lưu gì." in reply
    assert await stored_answers(app, "X-ANTHANG") == {}
    assert await stored_answers(app, "X-ANLAO") == {}
    # A new version of the form is loaded and the campaign moved to it: the old file is no
    # longer the form of the report, and says so.
    raw = yaml.safe_load(next(p for p in bundled_form_files()
                              if p.stem == "tuan-le-htsd").read_text(encoding="utf-8"))
    raw["version"] = 2
    raw["sections"][1]["questions"].append({"id": "2.5", "type": "count",
                                            "label": {"vi": "Số tin trên mạng xã hội"}})
    async with app.sessions() as session, session.begin():
        from conversations.forms import parse_form

        await admin.load_form(session, parse_form(raw), raw, app.clock())
        for campaign in bundled_campaign_files():
            await admin.load_campaign(session, load_campaign_file(campaign), app.clock())
    reply = "\n".join(await thu.chat.send_file(theirs))
    assert "Tệp này được tạo theo phiên bản khác của mẫu báo cáo (phiên bản 1); báo cáo của " \
           "Xã An Lão nay dùng phiên bản 2" in reply
    assert await stored_answers(app, "X-ANLAO") == {}
    # A workbook the bot did not make, and a file that is no workbook at all.
    own = tmp_path / "tu-lam.xlsx"
    Workbook().save(own)
    assert "không phải mẫu báo cáo do bot tạo" in "\n".join(await thu.chat.send_file(own))
    broken = tmp_path / "hong.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    assert "Không mở được tệp “hong.xlsx”" in "\n".join(await thu.chat.send_file(broken))


# ----------------------------------------------------------------------------- Telegram

@pytest.fixture
async def tg_bot(tg: FakeTelegram, db_url: str, tmp_path: Path) -> AsyncIterator[Running]:
    from datetime import datetime

    from .conftest import VN

    clock = FlowingClock(datetime(2023, 10, 5, 9, 0, tzinfo=VN))
    settings = Settings(database_url=db_url, telegram_bot_token=tg.token,
                        telegram_api_base=tg.base_url, telegram_rate_per_chat=50,
                        files_dir=str(tmp_path / "files"), reminder_tick_seconds=0,
                        outbox_lease_seconds=1)
    running = await start(settings, clock=clock)
    await seed_reference_data(running.app, tmp_path)
    yield running
    await running.stop()


@pytest.mark.slow
async def test_a_template_filled_as_a_person_would_comes_back_as_a_telegram_document(
        tg_bot: Running, tg: FakeTelegram):
    thu = tg.user(1801, "Thu")
    await deep_link_sign_in(tg_bot, thu)
    await thu.send("/baocao")
    await thu.wait_for("câu 1/40")
    await thu.press("Tệp Excel")
    document = await thu.wait_for(lambda m: m.kind == "document")
    assert document.filename == f"bao-cao-X-ANLAO-{document.filename.split('-')[-1]}"
    assert document.caption.startswith("Tệp Excel của báo cáo: Tuần lễ hưởng ứng học tập")
    data, rows = filled_as_a_person_would(document.data)
    await thu.send_document("bao_cao_xa.xlsx", data)
    reply = await thu.wait_for("Từ tệp “bao_cao_xa.xlsx” (Xã An Lão)", timeout=10)
    text = "\n".join(m.text for m in thu.messages() if m.version >= reply.version)
    assert_the_reply_names_every_cell(text, rows)
    assert tg.downloads  # getFile, then the file itself
    answers = await stored_answers(tg_bot.app, "X-ANLAO")
    assert answers == {**STORED_FROM_THE_FILE, "6.1 (note)": "gồm cả TTHTCĐ"}
    # Files the bot cannot take: refused with what is expected, never downloaded.
    before = len(tg.downloads)
    await thu.send_document("bao_cao.pdf", b"%PDF-1.4")
    await thu.wait_for("Bot chỉ đọc được tệp Excel (.xlsx)")
    await thu.send_document("bao_cao.xls", b"\xd0\xcf\x11\xe0old")
    await thu.wait_for("định dạng cũ (.xls)")
    await thu.send_document("rat_lon.xlsx", b"PK" + b"0" * (20 * 1024 * 1024 + 10))
    await thu.wait_for("bot chỉ nhận được tệp tối đa 20 MB", timeout=10)
    assert len(tg.downloads) == before
    assert await stored_answers(tg_bot.app, "X-ANLAO") == answers


# ----------------------------------------------------------------------------- Zalo

@pytest.fixture
async def zl() -> AsyncIterator[FakeZalo]:
    async with FakeZalo() as fake:
        yield fake
        assert fake.spec_errors == []


@pytest.fixture
async def zalo_bot(zl: FakeZalo, db_url: str, tmp_path: Path) -> AsyncIterator[Running]:
    from datetime import datetime

    from .conftest import VN

    port = free_port()
    clock = FlowingClock(datetime(2023, 10, 5, 9, 0, tzinfo=VN))
    settings = Settings(database_url=db_url, zalo_bot_token=zl.token, zalo_api_base=zl.base_url,
                        zalo_rate_per_chat=50, public_url=f"http://127.0.0.1:{port}",
                        webhook_port=port, files_dir=str(tmp_path / "files"),
                        reminder_tick_seconds=0, outbox_lease_seconds=1)
    running = await start(settings, clock=clock)
    await seed_reference_data(running.app, tmp_path)
    yield running
    await running.stop()


def form_post(data: bytes, name: str = "bao_cao.xlsx") -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("file", data, filename=name,
                   content_type="application/vnd.openxmlformats-officedocument."
                                "spreadsheetml.sheet")
    return form


@pytest.mark.slow
async def test_a_zalo_reporter_sends_the_template_back_through_the_upload_page(
        zalo_bot: Running, zl: FakeZalo):
    from .test_zalo_e2e import sign_in as zalo_sign_in

    thu = zl.user("00000000000000001801", "Thu")
    await zalo_sign_in(zalo_bot, thu)
    await thu.send("/excel")
    download = await thu.wait_for("dùng được một lần", timeout=10)
    upload = await thu.wait_for("/uploads/", timeout=10)
    get_url = next(w for w in download.text.split() if w.startswith("http"))
    put_url = next(w for w in upload.text.split() if "/uploads/" in w)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{get_url}&dl=1") as response:
            data, rows = filled_as_a_person_would(await response.read())
        async with http.head(put_url) as head:  # a preview uses nothing
            assert head.status == 200
        async with http.get(put_url) as page:
            assert page.status == 200
            assert 'enctype="multipart/form-data"' in await page.text()
        async with http.post(put_url, data=form_post(b"%PDF", "scan.pdf")) as wrong:
            assert wrong.status == 415  # refused, the link still usable
        async with http.post(put_url.replace("sig=", "sig=0"), data=form_post(data)) as forged:
            assert forged.status == 403
        async with http.post(put_url, data=form_post(data)) as posted:
            assert posted.status == 200 and "Đã nhận tệp" in await posted.text()
        async with http.post(put_url, data=form_post(data)) as again:
            assert again.status == 410  # works once
    reply = await thu.wait_for("Từ tệp “bao_cao.xlsx” (Xã An Lão)", timeout=10)
    await thu.wait_for(lambda m: "Nộp báo cáo" in m.text and m.version >= reply.version)
    text = "\n".join(m.text for m in thu.messages() if m.version >= reply.version)
    assert_the_reply_names_every_cell(text, rows)
    assert all(len(m.text) <= 2000 for m in thu.messages())
    answers = await stored_answers(zalo_bot.app, "X-ANLAO")
    assert answers == {**STORED_FROM_THE_FILE, "6.1 (note)": "gồm cả TTHTCĐ"}
    await thu.send("/tailen")  # a new link whenever one is needed
    await thu.wait_for(lambda m: "/uploads/" in m.text and m.version > upload.version)


# ----------------------------------------------------------------------------- on behalf

def header_columns(ws: Any) -> tuple[int, dict[str, int]]:
    """The header row (found by its "Mã đơn vị" cell) and each column by its header."""
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == "Mã đơn vị":
                columns = {str(c.value): c.column for c in row if c.value}
                # a header names the row's unit after its label: "4.2. … (người)"
                for text, column in list(columns.items()):
                    columns.setdefault(re.sub(r" \([^()]*\)$", "", text), column)
                return cell.row, columns
    raise AssertionError("no header row")


def paper_values(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for q in form.questions:
        if q.type == "yes_no":
            values[q.id] = "Có"
        elif q.type == "money":
            values[q.id] = "3tr"
        elif q.type != "text":
            values[q.id] = 20 if q.unit.vi == "lượt" else 2
    return values


async def test_a_coordinator_enters_the_paper_reports_of_units_from_the_export(
        app: App, tmp_path: Path):
    await file_report(app, "X-ANLAO", COMMUNE)  # reported in chat
    lan = await sign_in(app, "X-ANTHANG", user="lan")  # reports on paper
    boss = await sign_in(app, "HP", role="coordinator")
    path = shown_path(await boss.say("/xuat"))
    book = load_workbook(path)
    ws = book["Báo cáo"]
    # Someone restyled the sheet: a row above, a column in between. Headers still name them.
    ws.insert_rows(1)
    ws.insert_cols(3)
    header, columns = header_columns(ws)
    code_col = columns["Mã đơn vị"]
    row_of = {ws.cell(r, code_col).value: r for r in range(header + 1, ws.max_row + 1)}
    for qid, value in paper_values(COMMUNE).items():
        label = COMMUNE.question(qid).label.vi
        ws.cell(row_of["X-ANTHANG"], columns[f"{qid}. {label}"]).value = value
    label_21 = f"2.1. {COMMUNE.question('2.1').label.vi}"
    label_22 = f"2.2. {COMMUNE.question('2.2').label.vi}"
    ws.cell(row_of["P-VINHBAO"], columns[label_21]).value = 5        # a partial paper report
    ws.cell(row_of["P-VINHBAO"], columns[label_22]).value = "abc"    # and a wrong cell
    ws.cell(row_of["X-ANLAO"], columns[label_21]).value = 999        # reported itself: no
    ws.cell(ws.max_row + 1, code_col).value = "X-KHONGCO"            # an unknown code
    ws.cell(ws.max_row, columns[label_21]).value = 1
    opinions = book["Ý kiến"]
    opinions.append(["X-ANTHANG", "Xã An Thắng", "I", "Công tác chỉ đạo",
                     "Báo cáo giấy: đã khai mạc Tuần lễ ngày 02/10."])
    opinions.append(["X-ANTHANG", "Xã An Thắng", "4.2 (ghi chú)", "", "2 buổi trực tuyến"])
    filled = tmp_path / "nhap-thay.xlsx"
    book.save(filled)
    reply = "\n".join(await boss.chat.send_file(filled))
    assert "Báo cáo đã nhập thay các đơn vị (ghi nhận là do anh/chị nhập):" in reply
    assert "• Xã An Thắng (X-ANTHANG): đã nhập 36 câu; đã nộp thay, đúng hạn." in reply
    assert "• Phường Vĩnh Bảo (P-VINHBAO): đã nhập 1 câu; lưu nháp (chưa có trả lời cho" \
           in reply
    assert "(P-VINHBAO, 2.2): “abc” — Chưa đọc được số này" in reply
    assert "Xã An Lão (X-ANLAO): đơn vị đã tự nộp báo cáo nên dòng này không được nhập" in reply
    assert "(X-KHONGCO): không thuộc các đơn vị anh/chị phụ trách" in reply
    paper = await stored_answers(app, "X-ANTHANG")
    assert paper["4.2"] == 2 and paper["4.2 (note)"] == "2 buổi trực tuyến"
    assert paper["8.3"] == 3_000_000 and paper["1.1"] is True
    assert paper["I"] == "Báo cáo giấy: đã khai mạc Tuần lễ ngày 02/10."
    assert (await stored_answers(app, "P-VINHBAO")) == {"2.1": 5}
    assert (await stored_answers(app, "X-ANLAO"))["2.1"] == 1
    async with app.sessions() as session:
        boss_id = await session.scalar(select(Contact.id).where(Contact.role == "coordinator"))
        submission = await session.scalar(select(Submission).join(Unit).where(
            Unit.code == "X-ANTHANG"))
        events = (await session.scalars(select(ReportEvent).where(
            ReportEvent.submission_id == submission.id))).all()
        by = set((await session.scalars(select(Answer.answered_by).where(
            Answer.submission_id == submission.id))).all())
    assert submission.status == "submitted" and submission.submitted_by == boss_id
    assert [(e.kind, e.by, e.comment) for e in events] == [
        ("submitted", boss_id, "Nhập thay đơn vị (báo cáo giấy)")]
    assert by == {boss_id}
    view = await boss.say("/xem X-ANTHANG")
    assert "nhập thay đơn vị (báo cáo giấy)" in view
    told = "\n".join(await lan.chat.deliver())
    assert "đã được coordinator-HP nhập và nộp thay theo báo cáo giấy" in told
    # The same file again changes nothing more.
    reply = "\n".join(await boss.chat.send_file(filled))
    assert "Xã An Thắng (X-ANTHANG): đơn vị đã tự nộp" in reply or "giữ nguyên" in reply


async def test_a_coordinator_enters_nothing_outside_their_area(app: App, tmp_path: Path):
    chief = await sign_in(app, "X-ANLAO", role="coordinator")
    path = shown_path(await chief.say("/xuat"))
    book = load_workbook(path)
    ws = book["Báo cáo"]
    header, columns = header_columns(ws)
    label = f"2.1. {SCHOOL.question('2.1').label.vi}"
    for code in ("MN-ANTHANG", "X-ANTHANG"):  # a school of another commune, a sibling commune
        row = ws.max_row + 1
        ws.cell(row, columns["Mã đơn vị"]).value = code
        ws.cell(row, columns[label]).value = 7
    filled = tmp_path / "ngoai-pham-vi.xlsx"
    book.save(filled)
    reply = "\n".join(await chief.chat.send_file(filled))
    assert "(MN-ANTHANG): không thuộc các đơn vị anh/chị phụ trách" in reply
    assert "(X-ANTHANG): không thuộc các đơn vị anh/chị phụ trách" in reply
    assert await stored_answers(app, "MN-ANTHANG") == {}
    assert await stored_answers(app, "X-ANTHANG") == {}
    # A reporter cannot enter for other units with such a file.
    thu = await sign_in(app, "TH-ANLAO", user="thu")
    assert "Chỉ cán bộ tổng hợp mới nhập được" in "\n".join(await thu.chat.send_file(filled))




async def test_every_row_of_the_opinions_sheet_is_read_or_named_with_why(
        app: App, tmp_path: Path):
    """Rows of “Ý kiến” in the wrong columns, for an unknown item, or a note without its
    figure are named in the reply, row by row; none is dropped without a word."""
    lan = await sign_in(app, "X-ANTHANG", user="lan")  # reports on paper  # noqa: F841
    boss = await sign_in(app, "HP", role="coordinator")
    book = load_workbook(shown_path(await boss.say("/xuat")))
    ws = book["Báo cáo"]
    header, columns = header_columns(ws)
    row_of = {ws.cell(r, columns["Mã đơn vị"]).value: r for r in range(header + 1,
                                                                       ws.max_row + 1)}
    values = paper_values(COMMUNE)
    values.pop("4.4")  # left blank on paper
    for qid, value in values.items():
        label = COMMUNE.question(qid).label.vi
        ws.cell(row_of["X-ANTHANG"], columns[f"{qid}. {label}"]).value = value
    opinions = book["Ý kiến"]
    assert [c.value for c in opinions[1]] == ["Mã", "Đơn vị", "Mục", "Nội dung", "Ý kiến"]
    rows = {
        "in D": ["X-ANTHANG", "Xã An Thắng", "I", "Báo cáo giấy: đã khai mạc ngày 02/10.",
                 None],
        "no item": ["X-ANTHANG", "Xã An Thắng", None, None, "Một ý kiến không có mục"],
        "no code": [None, "Xã An Thắng", "III", None, "Kế hoạch năm sau"],
        "unknown": ["X-ANTHANG", None, "9.9", None, "Một mục không có"],
        "figure": ["X-ANTHANG", None, "4.2", None, "2 buổi"],
        "lone note": ["X-ANTHANG", None, "4.4 (ghi chú)", None, "1 triển lãm ảnh"],
        "outside": ["X-KHONGCO", None, "I", None, "Không thuộc"],
        "good": ["X-ANTHANG", "Xã An Thắng", "IV", "Kiến nghị", "Đề nghị thêm kinh phí."],
        "good note": ["X-ANTHANG", None, "4.2 (ghi chú)", None, "2 buổi trực tuyến"],
    }
    at = {}
    for name, cells in rows.items():
        opinions.append(cells)
        at[name] = opinions.max_row
    opinions.append([None, None, None, None, None])  # an empty row: nothing to say
    filled = tmp_path / "y-kien.xlsx"
    book.save(filled)
    reply = "\n".join(await boss.chat.send_file(filled))
    assert (f"“Ý kiến”, dòng {at['in D']} (X-ANTHANG, I): cột Ý kiến (E) trống, nội dung ở "
            "cột D; chưa nhập.") in reply
    assert f"“Ý kiến”, dòng {at['no item']} (X-ANTHANG): chưa ghi Mục (cột C)" in reply
    assert f"“Ý kiến”, dòng {at['no code']} (III): chưa ghi Mã đơn vị (cột A)" in reply
    assert f"“Ý kiến”, dòng {at['unknown']} (X-ANTHANG, 9.9): báo cáo của Xã An Thắng không " \
           "có mục 9.9" in reply
    assert f"“Ý kiến”, dòng {at['figure']} (X-ANTHANG, 4.2): 4.2 là số liệu" in reply
    assert f"“Ý kiến”, dòng {at['lone note']} (X-ANTHANG, 4.4 (ghi chú)): ghi chú được nhập " \
           "cùng số liệu 4.4" in reply
    assert f"“Ý kiến”, dòng {at['outside']} (X-KHONGCO): không thuộc các đơn vị" in reply
    assert f"dòng {at['good']}" not in reply and f"dòng {at['good note']}" not in reply
    assert f"dòng {at['good note'] + 1}" not in reply
    paper = await stored_answers(app, "X-ANTHANG")
    assert paper["IV"] == "Đề nghị thêm kinh phí."
    assert paper["4.2 (note)"] == "2 buổi trực tuyến"
    assert "I" not in paper and "III" not in paper and "4.4" not in paper
