"""The coordinator's workbook: every unit's answers, progress, free-text opinions, history.

Written with openpyxl in write-only mode, so rows stream to disk as they are made: 10,000
units × 40 questions take a few seconds and little memory. Values are typed cells (numbers as
numbers, times as date-times in the campaign's time zone) so the coordinator can sort, filter
and add up in Excel; the totals row carries the values, not formulas, so the file also reads
back without a spreadsheet program.

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

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
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

YES = "Có"
NO = "Không"

UNIT_HEADERS = (
    "Mã đơn vị",
    "Tên đơn vị",
    "Đơn vị cấp trên",
    "Trạng thái",
    "Thời điểm nộp",
    "Người nộp",
)
TOTALS_LABEL = "Tổng cộng (các đơn vị đã nộp)"
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
    return f"{question.id}. {question.label_vi}"


def is_section_text(question: QuestionColumn) -> bool:
    """A free-text part of the report (I, II.2, …), as opposed to a text row inside a table."""
    return question.type == "text" and question.id == question.section_id


# --- the workbook ---------------------------------------------------------------------------


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


class _Cells:
    """Styled write-only cells, one per (sheet, column, style), reused row after row.

    openpyxl writes each appended row at once, so a cell object can carry a new value on
    every row; building styled cells anew for 400,000 values would triple the run time.
    """

    def __init__(self, ws: Any, wrap_columns: Iterable[int] = ()) -> None:
        self.ws = ws
        self.wrap_columns = frozenset(wrap_columns)
        self._cache: dict[tuple[int, str, bool], WriteOnlyCell] = {}

    def get(self, column: int, value: Any, number_format: str = "", bold: bool = False) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            if not value.startswith("=") and not bold and column not in self.wrap_columns:
                return value
            cell = self._styled(column, "", bold)
            cell.value = value
            cell.data_type = "s"  # a text answer "=…" is not a formula
            return cell
        if not number_format and not bold:
            return value
        cell = self._styled(column, number_format, bold)
        cell.value = value
        return cell

    def _styled(self, column: int, number_format: str, bold: bool) -> WriteOnlyCell:
        key = (column, number_format, bold)
        cell = self._cache.get(key)
        if cell is None:
            cell = _ReusedCell(self.ws)
            if number_format:
                cell.number_format = number_format
            if bold:
                cell.font = _BOLD
            if column in self.wrap_columns:
                cell.alignment = _WRAP
            self._cache[key] = cell
        return cell


_BOLD = Font(name="Calibri", bold=True)
_TITLE = Font(name="Calibri", bold=True, size=14)
_WRAP = Alignment(wrap_text=True, vertical="top")
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_HEADER_ALIGN = Alignment(wrap_text=True, vertical="center", horizontal="center")


def _header_row(ws: Any, titles: Iterable[str]) -> list[WriteOnlyCell]:
    row = []
    for title in titles:
        cell = WriteOnlyCell(ws, value=clean_text(title))
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.alignment = _HEADER_ALIGN
        row.append(cell)
    return row


def _title_cell(ws: Any, text: str, font: Font = _TITLE) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=clean_text(text))
    cell.font = font
    return cell


def _print_setup(ws: Any, title_rows: str = "1:1", title_cols: str | None = None) -> None:
    """A4 landscape, the header repeated on every printed page; narrow sheets fit the width."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    if not title_cols:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
    ws.print_title_rows = title_rows
    if title_cols:
        ws.print_title_cols = title_cols


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
    then "Tiến độ", "Ý kiến", "Lịch sử"."""
    zone = zone_of(data)
    wb = Workbook(write_only=True)
    # Write-only sheets stream to their own files, so they can be filled in any order.
    main = data.main
    blocks = [main] + [b for b in data.blocks if b is not main]
    names: set[str] = set()
    report_sheets = [(wb.create_sheet(_sheet_name(b, b is main, names)), b) for b in blocks]
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
    while name in taken:
        suffix = f" ({n})"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(name)
    return name


def _block_sheet(report: Any, data: ExportData, block: ReportBlock, zone: ZoneInfo,
                 opinion_rows: _Opinions, progress: Progress | None, done: int,
                 total: int) -> int:
    """Title rows, header, one row per unit of the block, the block's totals."""
    table_questions = [q for q in block.questions if q.type != "text"]
    header_row = 4
    report.freeze_panes = f"C{header_row + 1}"
    _print_setup(report, title_rows=f"{header_row}:{header_row}", title_cols="A:B")
    _widths(report, [14, 34, 26, 17, 17, 22] + [16] * len(table_questions))
    report.row_dimensions[header_row].height = 90
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
    headers = list(UNIT_HEADERS) + [question_header(q) for q in table_questions]
    report.append(_header_row(report, headers))
    last_row = header_row + max(len(block.units), 1)
    report.auto_filter.ref = f"A{header_row}:{get_column_letter(len(headers))}{last_row}"

    cells = _Cells(report)
    columns = [
        (column, q.id, q.numeric, q)
        for column, q in enumerate(table_questions, start=len(UNIT_HEADERS) + 1)
    ]
    for unit in block.units:
        when = local_naive(unit.submitted_at, zone)
        row: list[Any] = [
            cells.get(1, clean_text(unit.code)),
            cells.get(2, clean_text(unit.name)),
            cells.get(3, clean_text(unit.parent_name) or None),
            status_vi(unit, data.deadline),
            cells.get(5, when, DATETIME_FORMAT),
            cells.get(6, clean_text(unit.submitted_by) or None),
        ]
        answers = unit.answers
        for column, qid, numeric, question in columns:
            stored = answers.get(qid)
            if stored is None:
                row.append(None)
            elif numeric and type(stored) is int:  # the common case, kept short
                row.append(cells.get(column, stored, INTEGER_FORMAT))
            else:
                value = typed_value(question, stored)
                row.append(cells.get(column, value, _number_format(value)))
        report.append(row)
        opinion_rows.add_unit(unit, block.questions)
        done += 1
        if progress is not None and done % PROGRESS_STEP == 0:
            progress(done, total)

    totals_row: list[Any] = [None, TOTALS_LABEL, None, None, None, None]
    submitted = [unit for unit in block.units if unit.status in SUBMITTED_STATUSES]
    for question in table_questions:
        value: Any = None
        if question.numeric:
            number = to_decimal(block.totals.get(question.id))
            value = plain_number(number) if number is not None else None
        elif question.type == "yes_no":
            yes = sum(1 for unit in submitted if unit.answers.get(question.id) is True)
            value = f"{YES}: {yes}/{len(submitted)}"
        totals_row.append(value)
    report.append(
        [
            cells.get(column, value, _number_format(value), bold=True)
            for column, value in enumerate(totals_row, start=1)
        ]
    )
    return done


class _Opinions:
    """The "Ý kiến" sheet: one row per free-text answer or note, tall enough for its text."""

    WIDTHS = (14, 28, 14, 34, 70)
    LINE_PT = 15

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.cells = _Cells(ws, wrap_columns=(4, 5))
        self.row = 1
        ws.freeze_panes = "A2"
        _print_setup(ws)
        _widths(ws, self.WIDTHS)
        ws.append(_header_row(ws, ["Mã", "Đơn vị", "Mục", "Nội dung", "Ý kiến"]))

    def add_unit(self, unit: UnitRow, questions: Iterable[QuestionColumn]) -> None:
        answers = unit.answers
        notes = unit.notes
        for question in questions:
            if question.type == "text":
                text = answers.get(question.id)
                if text is None or not str(text).strip():
                    continue
                section_level = is_section_text(question)
                topic = question.section_title_vi if section_level else question.label_vi
                self._add(unit, question.id, topic, text)
            else:
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
        self.ws.append(
            [
                cells.get(1, clean_text(unit.code)),
                cells.get(2, clean_text(unit.name)),
                cells.get(3, item),
                cells.get(4, topic),
                cells.get(5, body),
            ]
        )


def _lines(text: str, width: int) -> int:
    """Lines ``text`` takes in a wrapped column ``width`` characters wide (an estimate)."""
    per_line = max(int(width * 1.1), 1)
    return sum(max(1, -(-len(part) // per_line)) for part in text.split("\n"))


def _progress_sheet(ws: Any, data: ExportData) -> None:
    ws.freeze_panes = "A2"
    _print_setup(ws)
    _widths(ws, [14, 34, 14, 12, 12, 12, 12, 14, 16])
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
        ws.append(
            [cells.get(1, clean_text(item.code)), cells.get(2, clean_text(item.name))]
            + [cells.get(3 + i, n, INTEGER_FORMAT) for i, n in enumerate(counts)]
            + [cells.get(rate_column, item.on_time_rate, PERCENT_FORMAT)]
        )
    rate = sums[1] / sums[0] if sums[0] else 0.0
    ws.append(
        [None, cells.get(2, "Tổng cộng", bold=True)]
        + [cells.get(3 + i, n, INTEGER_FORMAT, bold=True) for i, n in enumerate(sums)]
        + [cells.get(rate_column, rate, PERCENT_FORMAT, bold=True)]
    )


def _history_sheet(
    ws: Any, data: ExportData, zone: ZoneInfo, by_id: dict[str, QuestionColumn]
) -> None:
    ws.freeze_panes = "A2"
    _print_setup(ws)
    _widths(ws, [34, 10, 10, 24, 24, 22, 17])
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
        ws.append(
            [
                cells.get(1, clean_text(item.unit_name)),
                item.revision,
                cells.get(3, clean_text(item.question_id)),
                cells.get(4, old, _number_format(old)),
                cells.get(5, new, _number_format(new)),
                cells.get(6, clean_text(item.changed_by) or None),
                cells.get(7, local_naive(item.changed_at, zone), DATETIME_FORMAT),
            ]
        )


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
    """Figures the units kept after being asked back: far from their previous report, or
    breaking a soft rule of the form; the reason is the one the unit was shown."""
    ws.freeze_panes = "A2"
    _print_setup(ws)
    _widths(ws, [14, 34, 10, 18, 70])
    ws.append(_header_row(ws, ["Mã", "Đơn vị", "Câu", "Giá trị", "Cần kiểm tra"]))
    cells = _Cells(ws, wrap_columns=(5,))
    for unit, qid, reason in flagged:
        question = by_id.get(qid)
        value = typed_value(question, unit.answers.get(qid)) if question else \
            unit.answers.get(qid)
        ws.append([cells.get(1, clean_text(unit.code)), cells.get(2, clean_text(unit.name)),
                   cells.get(3, clean_text(qid)), cells.get(4, value, _number_format(value)),
                   cells.get(5, clean_text(reason))])


def _meta_sheet(ws: Any, data: ExportData) -> None:
    """Hidden: which report the file is for, so that the rows a coordinator fills in for
    units that reported on paper, sent back, land in that report."""
    ws.sheet_state = "veryHidden"
    for key, value in (("kind", "export"), ("campaign", data.campaign_key),
                       ("period_id", str(data.period_id)), ("period", data.period_key),
                       ("period_label", data.period_label)):
        ws.append([key, clean_text(value)])
