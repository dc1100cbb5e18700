"""Issue 23, defects 1 and 2: whatever .xlsx a person sends, it is read with limits, off the
event loop, by a hardened XML parser; every file that cannot be read gets an answer saying what
is wrong with it, nothing is stored, and the rest of the bot keeps answering. Hostile files are
made by the tests (tests/hostile_files.py)."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import aiohttp
import pytest
from openpyxl import load_workbook

from bot.app import App
from bot.runtime import Running
from bot.spreadsheets.workbooks import read_workbook
from bot.spreadsheets.xlsx_checks import MAX_CELL_CHARS

from . import hostile_files as hostile
from . import test_excel_reports as excel
from .fake_telegram import FakeTelegram
from .fake_zalo import FakeZalo
from .filing import sign_in
from .test_excel_reports import form_post, shown_path, stored_answers, template_rows
from .test_telegram_e2e import deep_link_sign_in

# The Telegram and Zalo bots of the Excel tests: a seeded database, the fake servers.
tg_bot, zalo_bot, zl = excel.tg_bot, excel.zalo_bot, excel.zl

DAMAGED = "Tệp “{name}” bị hỏng: nội dung không được ghi theo cách Excel ghi"
EXPECTED = {
    "zip_bomb": "chứa quá nhiều dữ liệu so với một báo cáo",
    "huge_string": "nhiều chữ hơn Excel cho phép (32.767 ký tự)",
    "many_cells": "có quá nhiều ô so với một báo cáo",
    "entity_bomb": DAMAGED,
    "xxe": DAMAGED,
    "truncated": DAMAGED,
    "mismatched": DAMAGED,
}


@pytest.mark.parametrize("kind", list(hostile.HOSTILE))
async def test_a_hostile_file_in_the_local_chat_is_answered_with_what_is_wrong(
        app: App, tmp_path: Path, kind: str):
    thu = await sign_in(app, "X-ANLAO")
    path = tmp_path / f"{kind}.xlsx"
    path.write_bytes(hostile.HOSTILE[kind]())
    reply = "\n".join(await thu.chat.send_file(path))
    assert EXPECTED[kind].format(name=path.name) in reply, reply
    assert "Chưa lưu gì" in reply
    assert "root:" not in reply  # XXE: nothing of the machine's files
    assert await stored_answers(app, "X-ANLAO") == {}
    # The chat goes on as before.
    assert "câu 1/" in await thu.say("/baocao")


async def test_a_broken_file_whose_path_is_typed_in_the_terminal_is_answered(
        app: App, tmp_path: Path):
    from bot.channels.local_chat import run_terminal

    thu = await sign_in(app, "X-ANLAO")
    path = tmp_path / "hong.xlsx"
    path.write_bytes(hostile.xml_sheet(hostile.TRUNCATED))
    typed = iter([f"'{path}'", None])
    shown: list[str] = []

    async def read(_prompt: str) -> str | None:
        return next(typed)

    await run_terminal(thu.chat, read, shown.append)
    assert DAMAGED.format(name="hong.xlsx") in "\n".join(shown)


async def test_the_checks_stop_a_bomb_before_it_is_held_in_memory(tmp_path: Path):
    """Straight on the reader: a 300 MB part and a row of 3 million cells are refused after
    reading a bounded part of them, in seconds and without the memory they would take."""
    import resource

    bomb = tmp_path / "bomb.xlsx"
    bomb.write_bytes(hostile.zip_bomb(300))
    cells = tmp_path / "cells.xlsx"
    cells.write_bytes(hostile.many_cells(3_000_000))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    assert read_workbook(bomb, "bomb.xlsx").problem == "too_large_inside"
    assert read_workbook(cells, "cells.xlsx").problem == "too_many_cells"
    assert time.monotonic() - started < 20
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 100 * 1024


async def test_others_are_answered_while_a_heavy_file_is_read(app: App, tmp_path: Path):
    """The file is read in a child process: another person's message is answered meanwhile,
    and a child past its memory limit is stopped and the file answered."""
    from bot.spreadsheets import workbook_worker

    thu = await sign_in(app, "X-ANLAO")
    minh = await sign_in(app, "X-ANTHANG", user="minh")
    path = tmp_path / "nhieu-dong.xlsx"
    path.write_bytes(hostile.many_rows())  # under the limits: read to the end, in seconds
    reading = asyncio.create_task(thu.chat.send_file(path))
    await asyncio.sleep(0.3)
    started = time.monotonic()
    await app.dispatcher.handle(minh.chat.event("/trogiup"))
    replies = await minh.chat.deliver()
    assert replies and time.monotonic() - started < 5
    assert not reading.done()
    await reading
    # The memory limit of the child: a file needing more is answered, the bot keeps its own.
    small = await workbook_worker.read_isolated(path, "x.xlsx", memory_limit=40 * 1024 * 1024)
    assert small.problem == "too_heavy"


async def test_formulas_without_computed_values_are_said_not_read(app: App, tmp_path: Path):
    thu = await sign_in(app, "X-ANLAO")
    template = shown_path(await thu.say("/excel"))
    book = load_workbook(template)
    rows = template_rows(book)
    book["Báo cáo"].cell(rows["2.1"], 3).value = "=2+3"  # openpyxl stores no computed value
    book["Báo cáo"].cell(rows["2.2"], 3).value = "=C8*2"
    filled = tmp_path / "cong-thuc.xlsx"
    book.save(filled)
    reply = "\n".join(await thu.chat.send_file(filled))
    assert (f"Bot chưa đọc các công thức (Báo cáo!C{rows['2.1']}, Báo cáo!C{rows['2.2']})"
            in reply), reply
    assert "nhập các giá trị" in reply
    assert await stored_answers(app, "X-ANLAO") == {}


async def test_a_tampered_hidden_sheet_is_never_quoted_back(app: App, tmp_path: Path):
    thu = await sign_in(app, "X-ANLAO")
    minh = await sign_in(app, "X-ANTHANG", user="minh")
    template = shown_path(await thu.say("/excel"))
    lure = "Chuyển tiền vào tài khoản 0123456789 để được duyệt"
    for unit, name in (("X-ANLAO", "x.xlsx"), ("KHONG-CO-DON-VI-NAY", "y.xlsx")):
        book = load_workbook(template)
        meta = book["baocao"]
        for row in meta.iter_rows(max_col=2):
            if row[0].value == "unit_name":
                row[1].value = lure
            if row[0].value == "unit":
                row[1].value = unit
        path = tmp_path / name
        book.save(path)
        reply = "\n".join(await minh.chat.send_file(path))
        assert lure not in reply, reply
        assert "Chưa lưu gì" in reply
        if unit == "X-ANLAO":  # named as the database names it
            assert "mẫu báo cáo của Xã An Lão (X-ANLAO)" in reply
        else:
            assert "mẫu báo cáo của một đơn vị mà anh/chị không báo cáo" in reply


def test_a_plain_long_text_under_excels_limit_is_read(tmp_path: Path):
    """The limits refuse nothing Excel itself writes."""
    from openpyxl import Workbook

    book = Workbook()
    book.active["A1"] = "x" * MAX_CELL_CHARS
    for column in range(1, 300):
        book.active.cell(2, column, column)
    path = tmp_path / "dai.xlsx"
    book.save(path)
    upload = read_workbook(path, "dai.xlsx")
    assert upload.problem == ""
    assert upload.sheets[0].rows[0][1][0] == "x" * MAX_CELL_CHARS


# ----------------------------------------------------------------------------- Telegram

@pytest.mark.slow
async def test_a_hostile_document_on_telegram_is_answered_and_the_bot_goes_on(
        tg_bot: Running, tg: FakeTelegram, caplog: pytest.LogCaptureFixture):
    thu = tg.user(1801, "Thu")
    await deep_link_sign_in(tg_bot, thu)
    await thu.send_document("bom.xlsx", hostile.xml_sheet(hostile.ENTITY_BOMB))
    await thu.wait_for(DAMAGED.format(name="bom.xlsx"), timeout=15)
    await thu.send_document("o.xlsx", hostile.many_cells(3_000_000))
    await thu.wait_for("có quá nhiều ô so với một báo cáo", timeout=15)
    # A file id Telegram does not know: the person is told; one warning line, no traceback.
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        await thu._push({"message": thu._message(document={  # noqa: SLF001
            "file_name": "mat.xlsx", "file_id": "khong-co", "file_unique_id": "x",
            "file_size": 1000})})
        await thu.wait_for("Chưa nhận được tệp", timeout=15)
    fetch_logs = [r for r in caplog.records if "mat.xlsx" in r.getMessage()]
    assert [r.levelno for r in fetch_logs] == [logging.WARNING]
    assert fetch_logs[0].exc_info is None and "\n" not in fetch_logs[0].getMessage()
    await thu.send("/baocao")
    await thu.wait_for("câu 1/40", timeout=10)
    assert await stored_answers(tg_bot.app, "X-ANLAO") == {}


# ----------------------------------------------------------------------------- Zalo

@pytest.mark.slow
async def test_a_hostile_file_on_the_upload_page_is_refused_and_the_link_still_works(
        zalo_bot: Running, zl: FakeZalo):
    from .test_excel_reports import filled_as_a_person_would
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
            data, _rows = filled_as_a_person_would(await response.read())
        for kind in ("truncated", "xxe", "huge_string"):
            bad = hostile.HOSTILE[kind]()
            async with http.post(put_url, data=form_post(bad, f"{kind}.xlsx")) as refused:
                page = await refused.text()
                assert refused.status == 422, page
                assert EXPECTED[kind].format(name=f"{kind}.xlsx") in page
                assert "Đường dẫn vẫn dùng được" in page and "The link can still" in page
        async with http.post(put_url, data=form_post(data)) as posted:
            assert posted.status == 200 and "Đã nhận tệp" in await posted.text()
        async with http.post(put_url, data=form_post(data)) as again:
            assert again.status == 410
    await thu.wait_for("Từ tệp “bao_cao.xlsx” (Xã An Lão)", timeout=15)
    assert "1.1" in await stored_answers(zalo_bot.app, "X-ANLAO")
