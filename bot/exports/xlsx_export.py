"""The coordinator's workbook: every unit's answers, progress, who has not submitted,
free-text opinions, history; ready to print and to compute in.

Written with openpyxl in write-only mode, so rows stream to disk as they are made: 10,000
units × 40 questions take a few seconds and little memory. Values are typed cells (numbers as
numbers, times as date-times in the campaign's time zone) so the coordinator can sort, filter
and add up in Excel. The units whose figures count come first, a subtotal row per parent unit
(a commune's schools) with outline grouping, then the totals row: SUBTOTAL formulas, each with
its value stored beside it in the file (what Excel shows before it recalculates, and what a
program reads), the two always agreeing. Drafts, returned and unstarted reports follow the
totals, greyed, outside every formula. Every sheet has borders, prints one page wide on A4
landscape with the header row repeated and "Trang N/M" in the footer.

How a program finds the unit table of a report sheet: the header row is the first row whose
column A is "Mã đơn vị"; below it every row with a unit code in column A is one unit (subtotal,
totals and section rows have none); a question's column is headed "<id>. <label>" (the unit
after it in brackets, "4.2. Số người tham gia hội thảo, tọa đàm (người)"), so its id is the
text before the first ". ".

The helpers at the top (status words, local times, typed values) are shared by the CSV and
DOCX writers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from lxml.etree import fromstring as _fromstring
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.properties import Outline, PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from bot.exports.model import ExportData, QuestionColumn, ReportBlock, UnitRow

Progress = Callable[[int, int], None]

PROGRESS_STEP = 250  # units between two progress calls

STATUS_ON_TIME = "Đã nộp đúng hạn"
STATUS_LATE = "Nộp muộn"
STATUS_SUBMITTED = "Đã nộp"  # submitted, timeliness unknown (no time, no flag)
STATUS_ACCEPTED_ON_TIME = "Đã duyệt (nộp đúng hạn)"
STATUS_ACCEPTED_LATE = "Đã duyệt (nộp muộn)"
STATUS_DRAFT = "Đang soạn"
STATUS_RETURNED = "Trả lại để sửa"
STATUS_NONE = "Chưa nộp"

# The first submission decides on time or late; a resubmission is shown apart.
FIRST_HEADER = "Nộp lần đầu"
TIMING_HEADER = "Đúng hạn/muộn"
AGAIN_HEADER = "Nộp lại"
ON_TIME = "Đúng hạn"
LATE = "Muộn"

YES = "Có"
NO = "Không"

UNIT_HEADERS = (
    "Mã đơn vị",
    "Tên đơn vị",
    "Đơn vị cấp trên",
    "Trạng thái",
    FIRST_HEADER,
    TIMING_HEADER,
    AGAIN_HEADER,
    "Người nộp",
)
TOTALS_LABEL = "Tổng cộng (các đơn vị đã nộp)"
SUBTOTAL_LABEL = "Cộng: {name}"
WAITING_LABEL = ("Các đơn vị chưa nộp (đang soạn, trả lại, chưa bắt đầu): số liệu chưa tính "
                 "vào tổng")
MISSING_SHEET = "Chưa nộp"
NOTE_SUFFIX = " (ghi chú)"

DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
DATE_FORMAT = "dd/mm/yyyy"
INTEGER_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.0##"
PERCENT_FORMAT = "0.0%"

# XML 1.0 cannot hold C0 controls other than tab, newline and carriage return.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# --- shared helpers -------------------------------------------------------------------------


def clean_text(value: Any) -> str:
    """Text safe for XML files (phones put odd control characters into messages)."""
    return _ILLEGAL.sub("", str(value))


def status_vi(unit: UnitRow, deadline: datetime | None = None) -> str:
    """The unit's status in the words the coordinator reads."""
    if unit.status == "accepted":
        return STATUS_ACCEPTED_LATE if unit.on_time is False else STATUS_ACCEPTED_ON_TIME
    if unit.status == "submitted":
        on_time = unit.on_time
        if on_time is None and unit.submitted_at is not None and deadline is not None:
            try:
                on_time = unit.submitted_at <= deadline
            except TypeError:  # one aware, one naive: do not guess
                on_time = None
        if on_time is None:
            return STATUS_SUBMITTED
        return STATUS_ON_TIME if on_time else STATUS_LATE
    if unit.status == "draft":
        return STATUS_DRAFT
    if unit.status == "returned":
        return STATUS_RETURNED
    return STATUS_NONE


def timing_vi(unit: UnitRow, deadline: datetime | None = None) -> str:
    """On time or late, as the first submission decided it; "" if never submitted."""
    on_time = unit.on_time
    first = unit.first_submission
    if first is None:
        return ""
    if on_time is None and deadline is not None:
        try:
            on_time = first <= deadline
        except TypeError:  # one aware, one naive: do not guess
            return ""
    if on_time is None:
        return ""
    return ON_TIME if on_time else LATE


def local_naive(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """``moment`` in the campaign's time zone, without tzinfo (spreadsheets have none).

    A naive datetime is taken as already local.
    """
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone)
    return moment.replace(tzinfo=None, microsecond=0)


def zone_of(data: ExportData) -> ZoneInfo:
    try:
        return ZoneInfo(data.timezone or "Asia/Ho_Chi_Minh")
    except (KeyError, ValueError):
        return ZoneInfo("Asia/Ho_Chi_Minh")


def to_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def plain_number(value: Decimal) -> int | float:
    """A Decimal as the number a spreadsheet keeps: int when whole, else float."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def typed_value(question: QuestionColumn, stored: Any) -> Any:
    """A stored answer as a typed value: int/float, "Có"/"Không", a choice label, a date, text.

    None (skipped) stays None; a value that does not fit the question's type is kept as text.
    """
    if stored is None:
        return None
    kind = question.type
    if question.numeric:
        if isinstance(stored, int) and not isinstance(stored, bool):
            return stored
        number = to_decimal(stored)
        return plain_number(number) if number is not None else clean_text(stored)
    if kind == "yes_no":
        if isinstance(stored, bool):
            return YES if stored else NO
        return clean_text(stored)
    if kind == "choice":
        label = question.choices_vi.get(str(stored))
        return clean_text(label if label is not None else stored)
    if kind == "date":
        if isinstance(stored, datetime):
            return stored.date()
        if isinstance(stored, date):
            return stored
        try:
            return date.fromisoformat(str(stored))
        except ValueError:
            return clean_text(stored)
    return clean_text(stored)


SUBMITTED_STATUSES = ("submitted", "accepted")  # figures in the totals


def submitted_units(data: ExportData) -> list[UnitRow]:
    return [unit for unit in data.units if unit.status in SUBMITTED_STATUSES]


def question_header(question: QuestionColumn) -> str:
    """ "4.2. Số người tham gia hội thảo, tọa đàm (người)": the id, the label, the unit."""
    unit = f" ({question.unit_vi})" if question.unit_vi and question.numeric else ""
    return f"{question.id}. {question.label_vi}{unit}"


def is_section_text(question: QuestionColumn) -> bool:
    """A free-text part of the report (I, II.2, …), as opposed to a text row inside a table."""
    return question.type == "text" and question.id == question.section_id




class _ReusedCell(Cell):
    """A styled write-only cell reused row after row (see `_Cells`).

    Its style never changes once set, so its id in the workbook's style table is looked up
    once, not at every value; and openpyxl, which tells a cell from a value by failing to
    store the cell as a value, formats the cell into that error's message: keep that cheap.
    Together these were a fifth of the time of a 10,000-unit workbook."""

    __slots__ = ("_style_id",)

    @property
    def style_id(self) -> int:
        try:
            return self._style_id
        except AttributeError:
            self._style_id: int = Cell.style_id.fget(self)  # type: ignore[attr-defined]
            return self._style_id

    def __repr__(self) -> str:
        return "<reused cell>"


class _Row(list):
    """A row of table cells, each `(style id, kind, value)` or None, written straight to the
    sheet's XML (see `_Writer`): openpyxl's cell by cell path took two thirds of the time."""

    __slots__ = ("outline",)

    def __init__(self, cells: Iterable[Any] = (), outline: int = 0) -> None:
        super().__init__(cells)
        self.outline = outline


_SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


class _Writer(WorksheetWriter):
    """openpyxl's sheet writer with a fast path for `_Row`s, which also writes a formula with
    its value stored beside it (`<f>` and `<v>`), which openpyxl cannot: Excel shows the value
    until it recalculates, a program reads it as is."""

    def write_row(self, xf: Any, row: Any, row_idx: int) -> None:
        if type(row) is not _Row:
            cells = WriteOnlyWorksheet._values_to_row(self.ws, row, row_idx)
            super().write_row(xf, cells, row_idx)
            return
        attrs = f' r="{row_idx}"'
        dims = self.ws.row_dimensions.get(row_idx)
        if dims is not None:
            attrs += "".join(f' {k}="{v}"' for k, v in dims if k != "r")
        if row.outline:
            attrs += f' outlineLevel="{row.outline}"'
        parts = [f'<row xmlns="{_SHEET_NS}"{attrs}>']
        number = str(row_idx)
        for column, item in enumerate(row):
            if item is None:
                continue
            style, kind, value = item
            ref = _LETTERS[column] + number
            if kind == "n":
                parts.append(f'<c r="{ref}" s="{style}"><v>{value!r}</v></c>')
            elif kind == "s":
                parts.append(f'<c r="{ref}" s="{style}" t="inlineStr"><is><t xml:space='
                             f'"preserve">{_escape(value)}</t></is></c>')
            elif kind == "e":
                parts.append(f'<c r="{ref}" s="{style}"/>')
            elif kind == "f":
                formula, cached = value
                parts.append(f'<c r="{ref}" s="{style}"><f>{_escape(formula)}</f>'
                             f'<v>{cached!r}</v></c>')
            else:  # "b"
                parts.append(f'<c r="{ref}" s="{style}" t="b"><v>{value}</v></c>')
        parts.append("</row>")
        xf.write(_fromstring("".join(parts)))


_LETTERS = [get_column_letter(n) for n in range(1, 16385)]  # index 0 → "A"
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _escape(text: str) -> str:
    return text.translate(_ESCAPES)


def _start(ws: Any) -> None:
    """Open the sheet's stream with our writer, once its columns, views and properties are
    set (they are written before the first row)."""
    writer = _Writer(ws)
    writer.write_top()
    ws._writer = writer
    ws._values_to_row = lambda values, row_idx: values  # our writer converts the rest


_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_BOLD = Font(name="Calibri", bold=True)
_GREY = Font(name="Calibri", italic=True, color="808080")
_PLAIN = Font(name="Calibri")
_TITLE = Font(name="Calibri", bold=True, size=14)
_WRAP = Alignment(wrap_text=True, vertical="top")
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
_HEADER_ALIGN = Alignment(wrap_text=True, vertical="center", horizontal="center")

NORMAL, BOLD, GREY, TOTAL = "normal", "bold", "grey", "total"


class _Cells:
    """Table cells as `(style id, kind, value)`: one openpyxl cell per (column, format,
    look) gives the style's id in the workbook's table, looked up once. Every cell of a table
    has a border, empty ones included."""

    def __init__(self, ws: Any, wrap_columns: Iterable[int] = ()) -> None:
        self.ws = ws
        self.wrap_columns = frozenset(wrap_columns)
        self._cache: dict[tuple[int, str, str], int] = {}

    def get(self, column: int, value: Any, number_format: str = "", look: str = NORMAL) -> Any:
        style = self.style(column, number_format, look)
        if value is None:
            return (style, "e", None)
        if isinstance(value, str):
            return (style, "s", value) if value else (style, "e", None)
        if isinstance(value, bool):
            return (style, "b", int(value))
        if isinstance(value, int | float):
            return (style, "n", value)
        if isinstance(value, Decimal):
            return (style, "n", plain_number(value))
        if isinstance(value, datetime | date):
            return (style, "n", to_excel(value))
        return (style, "s", clean_text(value))

    def number(self, column: int, value: int, look: str = NORMAL) -> Any:
        """The common case, kept short: a whole number."""
        return (self.style(column, INTEGER_FORMAT, look), "n", value)

    def formula(self, column: int, formula: str, cached: Any, number_format: str,
                look: str = TOTAL) -> Any:
        return (self.style(column, number_format, look), "f", (formula[1:], cached))

    def style(self, column: int, number_format: str, look: str) -> int:
        key = (column, number_format, look)
        style = self._cache.get(key)
        if style is None:
            cell = _ReusedCell(self.ws)
            if number_format:
                cell.number_format = number_format
            cell.border = _BORDER
            if look in (BOLD, TOTAL):
                cell.font = _BOLD
            elif look == GREY:
                cell.font = _GREY
            if look == TOTAL:
                cell.fill = _TOTAL_FILL
            if column in self.wrap_columns:
                cell.alignment = _WRAP
            style = self._cache[key] = cell.style_id
        return style


def _header_row(ws: Any, titles: Iterable[str]) -> list[WriteOnlyCell]:
    row = []
    for title in titles:
        cell = WriteOnlyCell(ws, value=clean_text(title))
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.alignment = _HEADER_ALIGN
        cell.border = _BORDER
        row.append(cell)
    return row


def _title_cell(ws: Any, text: str, font: Font = _TITLE) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=clean_text(text))
    cell.font = font
    return cell


def _print_setup(ws: Any, title_rows: str = "1:1") -> None:
    """A4 landscape, one page wide, the header repeated on every page, "Trang N/M" below."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_options.horizontalCentered = True
    ws.print_title_rows = title_rows
    ws.HeaderFooter.oddFooter.center.text = "Trang &P/&N"
    ws.HeaderFooter.oddFooter.right.text = "&A"


def _widths(ws: Any, widths: Iterable[float]) -> None:
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width


def _number_format(value: Any) -> str:
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return INTEGER_FORMAT
    if isinstance(value, float):
        return DECIMAL_FORMAT
    if isinstance(value, datetime):
        return DATETIME_FORMAT
    if isinstance(value, date):
        return DATE_FORMAT
    return ""


def _format_moment(moment: datetime | None, zone: ZoneInfo) -> str:
    local = local_naive(moment, zone)
    return local.strftime("%d/%m/%Y %H:%M") if local else ""


def write_xlsx(data: ExportData, out: BinaryIO | Path, progress: Progress | None = None) -> None:
    """Write the workbook: a "Báo cáo" sheet for the reports that come to the scope's level,
    a sheet for each block from further down (its own totals, never added to the first),
    then "Chưa nộp", "Tiến độ", "Ý kiến", "Lịch sử"."""
    zone = zone_of(data)
    wb = Workbook(write_only=True)
    # Write-only sheets stream to their own files, so they can be filled in any order.
    main = data.main
    blocks = [main] + [b for b in data.blocks if b is not main]
    names: set[str] = set()
    report_sheets = [(wb.create_sheet(_sheet_name(b, b is main, names)), b) for b in blocks]
    missing_ws = wb.create_sheet(MISSING_SHEET)
    progress_ws = wb.create_sheet("Tiến độ")
    opinions = wb.create_sheet("Ý kiến")
    history = wb.create_sheet("Lịch sử")
    flagged = [(unit, qid, reason) for unit in data.units
               for qid, reason in unit.flags.items()]
    checks = wb.create_sheet(CHECKS_SHEET) if flagged else None
    meta = wb.create_sheet(META_SHEET)
    opinion_rows = _Opinions(opinions)
    total = len(data.units)
    done = 0
    for ws, block in report_sheets:
        done = _block_sheet(ws, data, block, zone, opinion_rows, progress, done, total)
    _missing_sheet(missing_ws, data, blocks, zone)
    _progress_sheet(progress_ws, data)
    _history_sheet(history, data, zone, {q.id: q for q in data.questions})
    if checks is not None:
        _checks_sheet(checks, flagged, {q.id: q for q in data.questions})
    _meta_sheet(meta, data)

    if isinstance(out, Path | str):
        wb.save(str(out))
    else:
        wb.save(out)
    if progress is not None:
        progress(total, total)


def _sheet_name(block: ReportBlock, first: bool, taken: set[str]) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique."""
    if first:
        name = "Báo cáo"
    else:
        title = block.title.removeprefix("Các ").strip() or "Khác"
        name = re.sub(r"[\[\]:*?/\\]", " ", title[:1].upper() + title[1:])[:31].strip()
    base, n = name, 2
    while name in taken or name in (MISSING_SHEET, "Tiến độ", "Ý kiến", "Lịch sử"):
        suffix = f" ({n})"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(name)
    return name


def _header_height(headers: list[str], widths: list[float]) -> float:
    lines = max(_lines(h, int(w)) for h, w in zip(headers, widths, strict=True))
    return min(max(15.0 * lines + 6, 45.0), 160.0)


def _groups(units: list[UnitRow]) -> list[tuple[str, list[UnitRow]]]:
    """The counted units, by parent unit in tree order (units come sorted by tree path)."""
    groups: list[tuple[str, list[UnitRow]]] = []
    for unit in units:
        if groups and groups[-1][0] == unit.parent_name:
            groups[-1][1].append(unit)
        else:
            groups.append((unit.parent_name, [unit]))
    return groups


def _block_sheet(report: Any, data: ExportData, block: ReportBlock, zone: ZoneInfo,
                 opinion_rows: _Opinions, progress: Progress | None, done: int,
                 total: int) -> int:
    """Title rows, header, the counted units (a subtotal per parent when there are several),
    the totals row, then the units whose figures do not count yet, greyed."""
    table_questions = [q for q in block.questions if not is_section_text(q)]
    header_row = 4
    headers = list(UNIT_HEADERS) + [question_header(q) for q in table_questions]
    widths = [13.0, 30.0, 22.0, 21.0, 15.0, 11.0, 15.0, 18.0] + [
        22.0 if q.type == "text" else 11.0 for q in table_questions]
    report.freeze_panes = f"C{header_row + 1}"
    _print_setup(report, title_rows=f"{header_row}:{header_row}")
    _widths(report, widths)
    report.row_dimensions[header_row].height = _header_height(headers, widths)
    report.sheet_properties.outlinePr = Outline(summaryBelow=True, summaryRight=True)

    counted = [u for u in block.units if u.counted]
    waiting = [u for u in block.units if not u.counted]
    groups = _groups(counted)
    grouped = len(groups) > 1
    if grouped:
        report.sheet_format.outlineLevelRow = 1
    _start(report)
    report.append([_title_cell(report, data.campaign_title)])
    details = [
        f"Kỳ báo cáo: {data.period_label}" if data.period_label else "",
        f"Đơn vị tổng hợp: {data.scope_name}",
        f"Hạn nộp: {_format_moment(data.deadline, zone)}",
        f"Thời điểm xuất: {_format_moment(data.generated_at, zone)}",
    ]
    report.append([_title_cell(report, "; ".join(d for d in details if d), _BOLD)])
    line = f"{block.title} — {block.form_title}" if block.form_title else block.title
    report.append([_title_cell(report, f"{line}. {block.note}".strip(" ."), _BOLD)])
    report.append(_header_row(report, headers))

    cells = _Cells(report, wrap_columns=[
        len(UNIT_HEADERS) + 1 + i for i, q in enumerate(table_questions) if q.type == "text"])
    columns = [(column, q.id, q.numeric, q)
               for column, q in enumerate(table_questions, start=len(UNIT_HEADERS) + 1)]
    numeric = [(column, q) for column, _, is_number, q in columns if is_number]
    row_index = header_row
    first_row = header_row + 1
    for name, units in groups:
        start = row_index + 1
        sums = dict.fromkeys((c for c, _ in numeric), Decimal(0))
        for unit in units:
            row_index += 1
            report.append(_unit_row(cells, unit, data, zone, columns, NORMAL, sums,
                                    outline=1 if grouped else 0))
            opinion_rows.add_unit(unit, block.questions)
            done += 1
            if progress is not None and done % PROGRESS_STEP == 0:
                progress(done, total)
        if grouped:
            row_index += 1
            report.append(_sum_row(cells, SUBTOTAL_LABEL.format(name=name or "(không rõ)"),
                                   start, row_index - 1, numeric, sums, BOLD, table_questions,
                                   units))
    totals = {c: to_decimal(block.totals.get(q.id)) or Decimal(0) for c, q in numeric}
    row_index += 1
    report.append(_sum_row(cells, TOTALS_LABEL, first_row, row_index - 1,
                           numeric, totals, TOTAL, table_questions, counted))
    last_row = row_index
    if waiting:
        report.append([])
        report.append([None, _title_cell(report, WAITING_LABEL, _GREY)])
        for unit in waiting:
            report.append(_unit_row(cells, unit, data, zone, columns, GREY, None))
            opinion_rows.add_unit(unit, block.questions)
            done += 1
            if progress is not None and done % PROGRESS_STEP == 0:
                progress(done, total)
    report.auto_filter.ref = f"A{header_row}:{get_column_letter(len(headers))}{last_row - 1}" \
        if last_row - 1 > header_row else None
    return done


def _unit_row(cells: _Cells, unit: UnitRow, data: ExportData, zone: ZoneInfo,
              columns: list[tuple[int, str, bool, QuestionColumn]], look: str,
              sums: dict[int, Decimal] | None, outline: int = 0) -> _Row:
    row: list[Any] = [
        cells.get(1, clean_text(unit.code), "", look),
        cells.get(2, clean_text(unit.name), "", look),
        cells.get(3, clean_text(unit.parent_name) or None, "", look),
        cells.get(4, status_vi(unit, data.deadline), "", look),
        cells.get(5, local_naive(unit.first_submission, zone), DATETIME_FORMAT, look),
        cells.get(6, timing_vi(unit, data.deadline) or None, "", look),
        cells.get(7, local_naive(unit.resubmission, zone), DATETIME_FORMAT, look),
        cells.get(8, clean_text(unit.submitted_by) or None, "", look),
    ]
    answers = unit.answers
    for column, qid, numeric, question in columns:
        stored = answers.get(qid)
        if numeric and type(stored) is int:  # the common case, kept short
            row.append(cells.number(column, stored, look))
            if sums is not None:
                sums[column] += stored
            continue
        value = typed_value(question, stored) if stored is not None else None
        if isinstance(value, str) and not value.strip():
            value = None
        row.append(cells.get(column, value, _number_format(value), look))
        if sums is not None and numeric and isinstance(value, int | float) \
                and not isinstance(value, bool):
            sums[column] += to_decimal(value) or Decimal(0)
    return _Row(row, outline)


def _sum_row(cells: _Cells, label: str, first: int, last: int,
             numeric: list[tuple[int, QuestionColumn]], sums: dict[int, Decimal], look: str,
             questions: list[QuestionColumn], units: list[UnitRow]) -> _Row:
    """Subtotal or totals: SUBTOTAL(9, …) per number column, which leaves out the subtotal
    rows inside its range and rows hidden by a filter, with its value stored beside it."""
    row: list[Any] = [cells.get(1, None, "", look), cells.get(2, label, "", look)]
    row += [cells.get(c, None, "", look) for c in range(3, len(UNIT_HEADERS) + 1)]
    by_column = dict(numeric)
    for column, question in enumerate(questions, start=len(UNIT_HEADERS) + 1):
        if column in by_column and last < first:  # nothing to add up: no formula
            row.append(cells.number(column, 0, look))
        elif column in by_column:
            value = plain_number(sums[column])
            letter = get_column_letter(column)
            row.append(cells.formula(column, f"=SUBTOTAL(9,{letter}{first}:{letter}{last})",
                                     value, _number_format(value) or INTEGER_FORMAT, look))
        elif question.type == "yes_no":
            yes = sum(1 for unit in units if unit.answers.get(question.id) is True)
            row.append(cells.get(column, f"{YES}: {yes}/{len(units)}", "", look))
        else:
            row.append(cells.get(column, None, "", look))
    return _Row(row)


def _missing_sheet(ws: Any, data: ExportData, blocks: list[ReportBlock],
                   zone: ZoneInfo) -> None:
    """Who has not submitted, with whom to call: reporters, phones, the last reminder."""
    ws.freeze_panes = "A2"
    _print_setup(ws)
    _widths(ws, [14, 34, 24, 26, 18, 28, 16, 17])
    _start(ws)
    ws.append(_header_row(ws, ["Mã đơn vị", "Tên đơn vị", "Đơn vị cấp trên", "Tuyến báo cáo",
                               "Trạng thái", "Người báo cáo", "Điện thoại", "Nhắc lần cuối"]))
    cells = _Cells(ws, wrap_columns=(6, 7))
    row_index = 1
    for block in blocks:
        for unit in block.units:
            if unit.counted:
                continue
            row_index += 1
            if len(unit.reporters) > 1:
                ws.row_dimensions[row_index].height = 15 * min(len(unit.reporters), 10)
            names = "\n".join(clean_text(n) for n, _ in unit.reporters)
            phones = "\n".join(clean_text(p) for _, p in unit.reporters)
            ws.append(_Row([
                cells.get(1, clean_text(unit.code)),
                cells.get(2, clean_text(unit.name)),
                cells.get(3, clean_text(unit.parent_name) or None),
                cells.get(4, clean_text(block.title)),
                cells.get(5, "Chưa bắt đầu" if unit.status == "none"
                          else status_vi(unit, data.deadline)),
                cells.get(6, names or "(chưa có người báo cáo)"),
                cells.get(7, phones.strip() or None),
                cells.get(8, local_naive(unit.last_reminded, zone), DATETIME_FORMAT),
            ]))
    if row_index == 1:
        ws.append(_Row([None, cells.get(2, "Tất cả các đơn vị đã nộp báo cáo.")]))


class _Opinions:
    """The "Ý kiến" sheet: one row per free-text part or note, tall enough for its text."""

    WIDTHS = (14, 28, 14, 34, 70)
    LINE_PT = 15

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.cells = _Cells(ws, wrap_columns=(4, 5))
        self.row = 1
        ws.freeze_panes = "A2"
        _print_setup(ws)
        _widths(ws, self.WIDTHS)
        _start(ws)
        ws.append(_header_row(ws, ["Mã", "Đơn vị", "Mục", "Nội dung", "Ý kiến"]))

    def add_unit(self, unit: UnitRow, questions: Iterable[QuestionColumn]) -> None:
        answers = unit.answers
        notes = unit.notes
        for question in questions:
            if is_section_text(question):
                text = answers.get(question.id)
                if text is None or not str(text).strip():
                    continue
                self._add(unit, question.id, question.section_title_vi, text)
            elif question.type != "text":
                note = notes.get(question.id)
                if note and str(note).strip():
                    self._add(unit, question.id + NOTE_SUFFIX, question.label_vi, note)

    def _add(self, unit: UnitRow, item: str, topic: str, text: Any) -> None:
        topic = clean_text(topic)
        body = clean_text(text).strip()
        self.row += 1
        lines = max(_lines(topic, self.WIDTHS[3]), _lines(body, self.WIDTHS[4]))
        if lines > 1:  # write-only rows: the height must be known before the row is written
            self.ws.row_dimensions[self.row].height = self.LINE_PT * min(lines, 27)
        cells = self.cells
        look = NORMAL if unit.counted else GREY
        self.ws.append(
            _Row([
                cells.get(1, clean_text(unit.code), "", look),
                cells.get(2, clean_text(unit.name), "", look),
                cells.get(3, item, "", look),
                cells.get(4, topic, "", look),
                cells.get(5, body, "", look),
            ])
        )


def _lines(text: str, width: int) -> int:
    """Lines ``text`` takes in a wrapped column ``width`` characters wide (an estimate)."""
    per_line = max(int(width * 1.1), 1)
    return sum(max(1, -(-len(part) // per_line)) for part in text.split("\n"))


def _progress_sheet(ws: Any, data: ExportData) -> None:
    ws.freeze_panes = "A2"
    _print_setup(ws)
    _widths(ws, [14, 34, 14, 12, 12, 12, 12, 14, 16])
    _start(ws)
    ws.append(
        _header_row(
            ws,
            [
                "Mã",
                "Đơn vị",
                "Tổng số đơn vị",
                "Đúng hạn",
                "Muộn",
                "Trả lại",
                "Đang soạn",
                "Chưa bắt đầu",
                "Tỷ lệ đúng hạn",
            ],
        )
    )
    cells = _Cells(ws)
    # Every unit is in exactly one of the state columns, so they add up to the total.
    sums = [0, 0, 0, 0, 0, 0]
    rate_column = 3 + len(sums)
    for item in data.progress:
        counts = [item.total, item.on_time, item.late, item.returned, item.drafts,
                  item.not_started]
        sums = [a + b for a, b in zip(sums, counts, strict=True)]
        ws.append(_Row(
            [cells.get(1, clean_text(item.code)), cells.get(2, clean_text(item.name))]
            + [cells.number(3 + i, n) for i, n in enumerate(counts)]
            + [cells.get(rate_column, item.on_time_rate, PERCENT_FORMAT)]
        ))
    rate = sums[1] / sums[0] if sums[0] else 0.0
    ws.append(_Row(
        [cells.get(1, None, "", TOTAL), cells.get(2, "Tổng cộng", "", TOTAL)]
        + [cells.number(3 + i, n, TOTAL) for i, n in enumerate(sums)]
        + [cells.get(rate_column, rate, PERCENT_FORMAT, TOTAL)]
    ))


def _history_sheet(
    ws: Any, data: ExportData, zone: ZoneInfo, by_id: dict[str, QuestionColumn]
) -> None:
    ws.freeze_panes = "A2"
    _print_setup(ws)
    _widths(ws, [34, 10, 10, 24, 24, 22, 17])
    _start(ws)
    ws.append(
        _header_row(
            ws,
            ["Đơn vị", "Lần nộp", "Câu", "Giá trị cũ", "Giá trị mới", "Người sửa", "Thời điểm"],
        )
    )
    cells = _Cells(ws)
    for item in data.revisions:
        question = by_id.get(item.question_id)
        old = _history_value(question, item.old_value)
        new = _history_value(question, item.new_value)
        ws.append(_Row(
            [
                cells.get(1, clean_text(item.unit_name)),
                cells.get(2, item.revision),
                cells.get(3, clean_text(item.question_id)),
                cells.get(4, old, _number_format(old)),
                cells.get(5, new, _number_format(new)),
                cells.get(6, clean_text(item.changed_by) or None),
                cells.get(7, local_naive(item.changed_at, zone), DATETIME_FORMAT),
            ]
        ))


def _history_value(question: QuestionColumn | None, stored: Any) -> Any:
    if question is None:
        if stored is None or isinstance(stored, int | float | Decimal | date):
            return plain_number(stored) if isinstance(stored, Decimal) else stored
        return clean_text(stored)
    return typed_value(question, stored)


CHECKS_SHEET = "Cần kiểm tra"
META_SHEET = "baocao"  # conversations.uploaded_workbook.META_SHEET


def _checks_sheet(ws: Any, flagged: list[tuple[UnitRow, str, str]],
                  by_id: dict[str, QuestionColumn]) -> None:
    """Figures the units kept after being asked back: above the row's usual maximum, far from
    their previous report, or breaking a soft rule of the form; the reason the unit was shown."""
    ws.freeze_panes = "A2"
    _print_setup(ws)
    _widths(ws, [14, 34, 10, 18, 70])
    _start(ws)
    ws.append(_header_row(ws, ["Mã", "Đơn vị", "Câu", "Giá trị", "Cần kiểm tra"]))
    cells = _Cells(ws, wrap_columns=(5,))
    for unit, qid, reason in flagged:
        question = by_id.get(qid)
        value = typed_value(question, unit.answers.get(qid)) if question else \
            unit.answers.get(qid)
        ws.append(_Row([cells.get(1, clean_text(unit.code)), cells.get(2, clean_text(unit.name)),
                        cells.get(3, clean_text(qid)),
                        cells.get(4, value, _number_format(value)),
                        cells.get(5, clean_text(reason))]))


def _meta_sheet(ws: Any, data: ExportData) -> None:
    """Hidden: which report the file is for, so that the rows a coordinator fills in for
    units that reported on paper, sent back, land in that report."""
    ws.sheet_state = "veryHidden"
    for key, value in (("kind", "export"), ("campaign", data.campaign_key),
                       ("period_id", str(data.period_id)), ("period", data.period_key),
                       ("period_label", data.period_label)):
        ws.append([key, clean_text(value)])
