"""The `/excel` template prints as an office files it (issue 22, defect 11): A4 portrait, one
page wide (fit to width, as many pages down as needed), the column header repeated on every
page, labels wrapped, columns that fit the page. Read with openpyxl, then printed to PDF by
LibreOffice and read back with poppler, as in tests/test_export_render.py."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from bot.app import App
from bot.runtime import Running

from .fake_telegram import FakeTelegram
from .filing import COMMUNE, SCHOOL, sign_in
from .test_excel_reports import shown_path, tg_bot  # noqa: F401 (a fixture)
from .test_export_render import MISSING, pages, text, to_pdf
from .test_telegram_e2e import deep_link_sign_in

HEADER = ("Mã", "Nội dung hoạt động", "Kết quả, số lượng", "Đơn vị tính", "Ghi chú")


async def template_of(app: App, unit: str) -> Path:
    """The template a reporter of `unit` gets with /excel in the local chat."""
    person = await sign_in(app, unit)
    await person.say("/baocao")
    return shown_path(await person.say("/excel"))


def header_row(ws: Worksheet) -> int:
    return next(r for r in range(1, 20) if ws.cell(r, 1).value == HEADER[0])


@pytest.mark.parametrize("unit, form", [("X-ANLAO", COMMUNE), ("TH-ANLAO", SCHOOL)])
async def test_the_template_is_set_to_print_a4_portrait_one_page_wide(app: App, unit: str,
                                                                      form) -> None:  # noqa: ANN001
    ws = load_workbook(await template_of(app, unit))["Báo cáo"]
    setup = ws.page_setup
    assert str(setup.paperSize) == Worksheet.PAPERSIZE_A4  # "9", read back as 9
    assert setup.orientation == "portrait"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (setup.fitToWidth, setup.fitToHeight) == (1, 0)  # one page wide, any pages down
    row = header_row(ws)
    assert ws.print_title_rows.replace("$", "") == f"{row}:{row}"  # the header, every page
    assert ws.print_area == f"'Báo cáo'!$A$1:$E${ws.max_row}"
    assert "&P" in ws.oddFooter.center.text  # page numbers, as filed papers have
    # The five columns fit an A4 portrait page near full size (~95 characters of 11 pt).
    widths = [ws.column_dimensions[c].width for c in "ABCDE"]
    assert 80 <= sum(widths) <= 95, widths
    rows = {str(ws.cell(r, 1).value): r for r in range(row + 1, ws.max_row + 1)
            if ws.cell(r, 1).value}
    assert list(rows) == [q.id for q in form.questions]
    for r in rows.values():
        assert ws.cell(r, 2).alignment.wrap_text  # long labels wrap instead of running on
        assert ws.cell(r, 5).alignment.wrap_text
    assert ws.cell(row, 2).alignment.wrap_text


@pytest.mark.slow
async def test_the_template_sent_on_telegram_prints_one_page_wide(
        tg_bot: Running, tg: FakeTelegram, tmp_path: Path):  # noqa: F811 (the fixture above)
    lan = tg.user(2211, "Lan")
    await deep_link_sign_in(tg_bot, lan, "TH-ANLAO")
    await lan.send("/baocao")
    await lan.wait_for("câu 1/27")
    await lan.press("Tệp Excel")
    document = await lan.wait_for(lambda m: m.kind == "document")
    ws = load_workbook(io.BytesIO(document.data))["Báo cáo"]
    assert (str(ws.page_setup.paperSize), ws.page_setup.orientation) == ("9", "portrait")
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows.replace("$", "") == f"{header_row(ws)}:{header_row(ws)}"
    if not MISSING:  # and printed, the file as received is one page wide, two pages down
        source = tmp_path / document.filename
        source.write_bytes(document.data)
        pdf = to_pdf(source, tmp_path)
        assert pages(pdf) <= 2
        first = text(pdf, 1)
        assert "Ghi chú" in first and "1.1" in first and "Nhà trường đã ban hành" in first


def page_lines(pdf: Path, page: int) -> list[str]:
    return [line for line in text(pdf, page).splitlines() if line.strip()]


@pytest.mark.slow
@pytest.mark.skipif(bool(MISSING), reason=(
    f"{', '.join(MISSING)} not installed: apt-get install libreoffice-calc fonts-liberation2 "
    "poppler-utils"))
@pytest.mark.parametrize("unit, form, most", [("X-ANLAO", COMMUNE, 3), ("TH-ANLAO", SCHOOL, 2)])
async def test_the_template_prints_one_page_wide_with_ids_labels_and_answers_together(
        app: App, tmp_path: Path, unit: str, form, most: int) -> None:  # noqa: ANN001
    pdf = to_pdf(await template_of(app, unit), tmp_path)
    count = pages(pdf)
    assert 1 <= count <= most, count  # down only: not 6 pages across for 27 questions
    seen: list[str] = []
    for page in range(1, count + 1):
        lines = page_lines(pdf, page)
        shown = "\n".join(lines)
        # Every page is the whole width: all five column headers (wrapped over a few lines),
        # repeated on each page above its first row.
        first = next(i for i, x in enumerate(lines) if re.match(r"\s*\d+\.\d+\s|\s*I+V?\s", x))
        header = "\n".join(lines[:first])
        for word in ("Mã", "Nội dung hoạt động", "Kết quả, số", "Đơn vị", "Ghi chú"):
            assert word in header, (page, word, header)
        assert f"Trang {page}/{count}" in shown
        # An id and the start of its label share a line: the row is on one page width.
        for q in form.questions:
            start = " ".join(q.label.vi.split()[:3])
            line = next((x for x in lines if re.match(rf"\s*{re.escape(q.id)}\s", x)), None)
            if line is not None:
                assert start in line, (page, q.id, line)
                seen.append(q.id)
    assert seen == [q.id for q in form.questions]  # each question printed once, in order
