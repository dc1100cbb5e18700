"""Excel files that come back to the bot: the unit's own template of a report (written here),
and any .xlsx a person sends (read here, in openpyxl's read-only mode, into plain values the
engine interprets: conversations/workbook_entry.py).

The template is one sheet: the unit and the period at the top, then one row per question with
its id (column A), label (B), the answer (C), the unit of measure (D) and a note (E). It prints
as an office files it: A4 portrait, one page wide, the column header on every page. Only C
and E of the question rows can be typed in (the sheet is protected, without a password: it
guides, it does not lock anyone out); each answer cell checks its type as Excel can (whole
numbers, yes/no from a list, dates). A very hidden sheet says which unit, period and form
version the file is for, so a file sent back is matched to its report, and a file of another
unit or of an old form version is refused.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from bot.spreadsheets.xlsx_checks import WorkbookRefused, check_xlsx
from conversations.answer_parsing import show_value
from conversations.forms import Form, Question
from conversations.i18n import Tr
from conversations.uploaded_workbook import (
    MAX_FILE_BYTES,
    META_SHEET,
    TEMPLATE_KIND,
    SheetRows,
    UploadedWorkbook,
)

TEMPLATE_SHEET = "Báo cáo"
HEADER_ROW = 6
FORMAT_VERSION = "1"
# What is read of a file at most: a template has ~50 rows, a coordinator's table one row per
# unit of a province.
MAX_ROWS = 60_000
MAX_COLUMNS = 300

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_SECTION_FILL = PatternFill("solid", fgColor="DDEBF7")
_INPUT_FILL = PatternFill("solid", fgColor="FFF9DB")
_WRAP = Alignment(wrap_text=True, vertical="top")
_UNLOCKED = Protection(locked=False)
_THIN = Side(style="thin")
_GRID = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
# Columns A-E in characters: ~92 fill an A4 portrait page between 1.3 cm margins at about
# full size, so the printed page reads like the paper form (a wider sheet shrinks to fit).
WIDTHS = (6, 46, 15, 10, 15)
_LINE_HEIGHT = 15  # points, one line of 11 pt text


@dataclass(frozen=True)
class TemplateFor:
    """What the template names at the top and hides for matching it back."""

    unit_code: str
    unit_name: str
    period_id: int
    period_label: str
    campaign_title: str
    due: str  # "trước ngày 13/10/2023", as the chat says it


def write_template(path: Path, form: Form, target: TemplateFor,
                   answers: dict[str, dict[str, Any]], tr: Tr, made_at: datetime) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = TEMPLATE_SHEET
    for column, width in zip("ABCDE", WIDTHS, strict=True):
        ws.column_dimensions[column].width = width
    ws["A1"] = target.campaign_title
    ws["A1"].font = _TITLE
    ws["A2"] = tr("Unit: {unit} ({code})", unit=target.unit_name, code=target.unit_code)
    ws["A2"].font = _BOLD
    ws["A3"] = tr("Period: {period}. Due {deadline}.", period=target.period_label,
                  deadline=target.due)
    ws["A4"] = tr("Fill in column C (and a note in column E if needed), save the file and "
                  "send it back to the bot. Empty cells are not saved; leave the other columns "
                  "as they are.")
    for top in range(1, 5):  # across the page width, wrapped: nothing runs off the print
        ws.merge_cells(f"A{top}:E{top}")
        ws[f"A{top}"].alignment = _WRAP
    ws.row_dimensions[1].height = _lines(target.campaign_title, sum(WIDTHS) * 0.75) * 19
    ws.row_dimensions[4].height = _lines(str(ws["A4"].value), sum(WIDTHS)) * _LINE_HEIGHT
    headers = (tr("No."), tr("Activity"), tr("Result, quantity"), tr("Unit"), tr("Note"))
    for column, title in enumerate(headers, start=1):
        cell = ws.cell(HEADER_ROW, column, title)
        cell.font, cell.fill = _BOLD, _SECTION_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.border = _GRID
    ws.row_dimensions[HEADER_ROW].height = 2 * _LINE_HEIGHT
    ws.freeze_panes = f"C{HEADER_ROW + 1}"
    validations = _Validations(ws)
    row = HEADER_ROW
    for section in form.sections:
        row += 1
        title = ws.cell(row, 2, f"{section.id}. {section.title.get(tr.language)}")
        title.font, title.alignment = _BOLD, _WRAP
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=5)
        ws.row_dimensions[row].height = _lines(str(title.value), sum(WIDTHS[1:])) \
            * _LINE_HEIGHT
        for column in range(1, 6):
            ws.cell(row, column).fill = _SECTION_FILL
            ws.cell(row, column).border = _GRID
        for q in section.questions:
            row += 1
            _question_row(ws, row, q, answers.get(q.id) or {}, tr, validations)
    _print_setup(ws, row)
    ws.protection.sheet = True
    ws.protection.formatColumns = False  # people may widen a column or a row
    ws.protection.formatRows = False
    ws.protection.selectLockedCells = False
    meta = wb.create_sheet(META_SHEET)
    for key, value in (("kind", TEMPLATE_KIND), ("format", FORMAT_VERSION),
                       ("unit", target.unit_code), ("unit_name", target.unit_name),
                       ("period_id", str(target.period_id)), ("period", target.period_label),
                       ("form", form.id), ("form_version", str(form.version)),
                       ("sheet", TEMPLATE_SHEET), ("header_row", str(HEADER_ROW)),
                       ("made_at", made_at.isoformat(timespec="seconds"))):
        meta.append([key, value])
    validations.lists(meta)
    meta.sheet_state = "veryHidden"
    wb.save(path)


def _lines(text: str, width: float) -> int:
    """Lines a wrapped text takes in a cell `width` characters wide. Excel does not size rows
    on opening, so each row gets the height its label needs; a width holds a few more letters
    of text than of digits, which leaves a little slack."""
    return max(1, sum(-(-len(part) // max(1, int(width))) or 1 for part in text.split("\n")))


def _print_setup(ws: Any, last_row: int) -> None:
    """A4 portrait, one page wide and as many down as the form needs, the header row on every
    page, numbered pages: printed, it is filed with the paper reports."""
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait"
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_options.horizontalCentered = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.print_area = f"A1:E{last_row}"
    ws.oddFooter.center.text = "Trang &P/&N"


class _Validations:
    """One data validation per kind of cell, as Excel checks a typed value. Warnings, not
    stops: a person may still type "5tr" or "12 người", which the bot reads like a chat."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.by_key: dict[str, DataValidation] = {}
        self.choice_lists: list[tuple[DataValidation, list[str]]] = []

    def add(self, q: Question, cell: str, tr: Tr) -> None:
        key = q.type if q.type != "choice" else f"choice:{q.id}"
        dv = self.by_key.get(key)
        if dv is None:
            dv = self._make(q, tr)
            if dv is None:
                return
            self.by_key[key] = dv
            self.ws.add_data_validation(dv)
        dv.add(cell)

    def _make(self, q: Question, tr: Tr) -> DataValidation | None:
        common = {"errorStyle": "warning", "showErrorMessage": True, "allow_blank": True,
                  "errorTitle": tr("Please check this value")}
        if q.type in ("count", "money"):
            return DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0",
                                  error=tr("A whole number, for example 12 or 1500000."),
                                  **common)
        if q.type == "number":
            return DataValidation(type="decimal", error=tr("A number, for example 12,5."),
                                  **common)
        if q.type == "yes_no":
            return DataValidation(type="list", formula1=f'"{tr("Yes")},{tr("No")}"',
                                  error=tr("Choose Yes or No."), **common)
        if q.type == "date":
            return DataValidation(type="date", operator="greaterThan", formula1="1",
                                  error=tr("A date, for example 13/10/2023."), **common)
        if q.type == "choice":
            dv = DataValidation(type="list", error=tr("Choose one of the list."), **common)
            self.choice_lists.append((dv, [c.label.get(tr.language) for c in q.choices]))
            return dv
        return None

    def lists(self, meta: Any) -> None:
        """Choice lists live on the hidden sheet (labels may hold commas)."""
        for index, (dv, labels) in enumerate(self.choice_lists):
            column = chr(ord("D") + index) if index < 20 else None
            if column is None:
                continue
            for row, label in enumerate(labels, start=1):
                meta[f"{column}{row}"] = label
            dv.formula1 = f"{META_SHEET}!${column}$1:${column}${len(labels)}"


def _question_row(ws: Any, row: int, q: Question, stored: dict[str, Any], tr: Tr,
                  validations: _Validations) -> None:
    ws.cell(row, 1, q.id).alignment = _WRAP
    label = ws.cell(row, 2, q.label.get(tr.language))
    label.alignment = _WRAP
    ws.cell(row, 4, q.unit.get(tr.language) or None).alignment = _WRAP
    ws.row_dimensions[row].height = _lines(label.value, WIDTHS[1]) * _LINE_HEIGHT
    value = ws.cell(row, 3, _cell_value(q, stored.get("value"), tr))
    note = ws.cell(row, 5, stored.get("note") or None)
    if isinstance(value.value, str) and value.value.startswith("="):
        value.data_type = "s"  # a text answer "=…" is no formula
    for cell in (value, note):
        cell.protection = _UNLOCKED
        cell.fill = _INPUT_FILL
        cell.alignment = _WRAP
    if q.type in ("count", "money"):
        value.number_format = "#,##0"
    elif q.type == "date":
        value.number_format = "dd/mm/yyyy"
    elif q.type == "text":
        ws.row_dimensions[row].height = max(75, ws.row_dimensions[row].height or 0)
        value.number_format = "@"
    for column in range(1, 6):
        ws.cell(row, column).border = _GRID
    if q.help.get(tr.language):
        from openpyxl.comments import Comment

        label.comment = Comment(q.help.get(tr.language), "baocao")
    validations.add(q, value.coordinate, tr)


def _cell_value(q: Question, stored: Any, tr: Tr) -> Any:
    """A stored answer as the cell shows it, so that sent back unchanged it reads the same."""
    if stored is None:
        return None
    if q.numeric:
        number = Decimal(str(stored))
        return int(number) if number == number.to_integral_value() else float(number)
    if q.type == "date":
        return date.fromisoformat(stored)
    if q.type in ("yes_no", "choice"):
        return show_value(q, stored, tr)
    return str(stored)


# ----------------------------------------------------------------------------- reading

def read_workbook(path: Path, file_name: str) -> UploadedWorkbook:
    """Any .xlsx as plain values: every sheet's non-empty rows (formulas as Excel last
    computed them), and the bot's hidden identifiers if the file has them. The file is
    checked first while streaming (bot/spreadsheets/xlsx_checks.py); any failure of the
    reader is a problem of the file, never an exception."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return UploadedWorkbook(file_name, "too_big")
        if not zipfile.is_zipfile(path):
            return UploadedWorkbook(file_name, "unreadable")
        facts = check_xlsx(path)
    except WorkbookRefused as refused:
        return UploadedWorkbook(file_name, refused.code)
    except OSError:
        return UploadedWorkbook(file_name, "unreadable")
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except MemoryError:
        return UploadedWorkbook(file_name, "too_heavy")
    except Exception:  # noqa: BLE001 - whatever a damaged file makes openpyxl raise
        return UploadedWorkbook(file_name, "unreadable")
    try:
        sheets = []
        meta: dict[str, str] = {}
        for ws in wb.worksheets:
            hidden = ws.sheet_state != "visible"
            rows = _rows(ws)
            if ws.title == META_SHEET:
                meta = {str(r[0]).strip(): "" if len(r) < 2 or r[1] is None else str(r[1])
                        for _, r in rows if r and r[0] is not None}
            sheets.append(SheetRows(ws.title, tuple(rows), hidden))
        formulas = tuple(f for f in facts.formulas_without_values
                         if not f.startswith(f"{META_SHEET}!"))
        return UploadedWorkbook(file_name, "", meta, tuple(sheets), formulas,
                                facts.formulas_unread)
    except MemoryError:
        return UploadedWorkbook(file_name, "too_heavy")
    except Exception:  # noqa: BLE001
        return UploadedWorkbook(file_name, "unreadable")
    finally:
        wb.close()


def _rows(ws: Any) -> list[tuple[int, tuple[Any, ...]]]:
    ws.reset_dimensions()  # some programs write a wrong size; read what is there
    rows = []
    for row in ws.iter_rows(max_col=MAX_COLUMNS):
        cells = [c for c in row if getattr(c, "row", None) is not None]
        if not cells:
            continue
        number = cells[0].row
        if number > MAX_ROWS:
            break
        values: list[Any] = []
        for cell in cells:
            value = cell.value
            if isinstance(value, str):
                value = value.strip() or None
            if value is None:
                continue
            while len(values) < cell.column - 1:
                values.append(None)
            values.append(value)
        if values:
            rows.append((number, tuple(values)))
    return rows
