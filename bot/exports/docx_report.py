"""The consolidated report (.docx) in the layout of the official "Mẫu Báo cáo" (seed 004).

The coordinator sends it upward as their own report: the national heading, "BÁO CÁO", the
free-text parts gathered unit by unit, and the results table with every figure summed over
the units that submitted. Free-text parts are the form's section-level text questions, in
form order; the results table is part "II. Kết quả cụ thể" after part "I" (if the form has
one), and later parts are numbered on from there ("II.2" stays item 2 of part II).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.text.paragraph import Paragraph

from bot.exports.model import ExportData, QuestionColumn, ReportBlock
from bot.exports.xlsx_export import (
    PROGRESS_STEP,
    SUBMITTED_STATUSES,
    clean_text,
    is_section_text,
    local_naive,
    to_decimal,
    typed_value,
    zone_of,
)
from conversations.date_parsing import format_date
from conversations.number_parsing import format_number

Progress = Callable[[int, int], None]

FONT = "Times New Roman"
BODY_PT = 13
TABLE_PT = 12
MAX_NOTES_SHOWN = 5  # per table row; more are left to the workbook

_ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
_SUB_ITEM = re.compile(r"^II\.(\d+)$")


@dataclass
class _Figures:
    """What the submitted units said, gathered in one pass."""

    submitted: int = 0
    answered: dict[str, int] = field(default_factory=dict)  # non-text, not skipped
    yes: dict[str, int] = field(default_factory=dict)
    choices: dict[str, dict[str, int]] = field(default_factory=dict)
    dates: dict[str, list[date]] = field(default_factory=dict)  # [earliest, latest]
    notes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    texts: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # id → (unit, text)


def write_docx(data: ExportData, out: BinaryIO | Path, progress: Progress | None = None) -> None:
    """Write the consolidated report: the reports that come to the scope's level make its
    figures; each block from further down follows as an annex with its own table, its
    figures already inside the first and never added to it."""
    main = data.main
    figures = _gather(main, progress, len(data.units))
    doc = Document()
    _setup(doc)
    _heading(doc, data)
    _title(doc, data, figures, main)

    questions = list(main.questions)
    text_parts = [q for q in questions if is_section_text(q)]
    table_questions = [q for q in questions if not is_section_text(q)]

    numeral = 0
    remaining = list(text_parts)
    if remaining and remaining[0].id == "I":
        numeral += 1
        _text_part(
            doc, f"{_roman(numeral)}. {remaining[0].section_title_vi}", remaining[0], figures
        )
        remaining.pop(0)
    numeral += 1
    results_numeral = numeral
    _part_heading(doc, f"{_roman(numeral)}. Kết quả cụ thể")
    _sub_heading(doc, "1. Các kết quả theo từng hoạt động đã thực hiện")
    _results_table(doc, table_questions, main, figures)
    for question in remaining:
        sub = _SUB_ITEM.match(question.id)
        if sub and results_numeral == 2:
            _text_part(
                doc,
                f"{sub.group(1)}. {question.section_title_vi}",
                question,
                figures,
                sub_item=True,
            )
        else:
            numeral += 1
            _text_part(doc, f"{_roman(numeral)}. {question.section_title_vi}", question, figures)
    for number, block in enumerate((b for b in data.blocks if b is not main), start=1):
        block_figures = _gather(block, None, 0)
        heading = f"Phụ lục {number}. Số liệu {block.title}"
        if block.covered_by:
            heading += f" (báo cáo gửi {block.covered_by})"
        _part_heading(doc, heading)
        _paragraph(doc, f"Đã báo cáo: {block_figures.submitted}/{len(block.units)} đơn vị. "
                   + (block.note or "Không cộng vào số liệu ở trên (mẫu báo cáo khác)."),
                   italic=True)
        _results_table(doc, [q for q in block.questions if not is_section_text(q)], block,
                       block_figures)
    _signature(doc)

    if isinstance(out, Path | str):
        doc.save(str(out))
    else:
        doc.save(out)
    if progress is not None:
        progress(len(data.units), len(data.units))


# --- gathering ------------------------------------------------------------------------------


def _gather(block: ReportBlock, progress: Progress | None, total: int) -> _Figures:
    figures = _Figures()
    questions = list(block.questions)
    for done, unit in enumerate(block.units, start=1):
        if progress is not None and done % PROGRESS_STEP == 0:
            progress(done, total)
        if unit.status not in SUBMITTED_STATUSES:
            continue
        figures.submitted += 1
        name = clean_text(unit.name)
        for question in questions:
            qid = question.id
            value = unit.answers.get(qid)
            note = unit.notes.get(qid)
            if note and str(note).strip():
                figures.notes.setdefault(qid, []).append((name, clean_text(note).strip()))
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            figures.answered[qid] = figures.answered.get(qid, 0) + 1
            if question.type == "text":
                figures.texts.setdefault(qid, []).append((name, clean_text(value).strip()))
            elif question.type == "yes_no" and value is True:
                figures.yes[qid] = figures.yes.get(qid, 0) + 1
            elif question.type == "choice":
                counts = figures.choices.setdefault(qid, {})
                counts[str(value)] = counts.get(str(value), 0) + 1
            elif question.type == "date":
                day = typed_value(question, value)
                if isinstance(day, date):
                    span = figures.dates.setdefault(qid, [day, day])
                    span[0], span[1] = min(span[0], day), max(span[1], day)
    return figures


def vi_number(value: Any) -> str:
    number = to_decimal(value)
    if number is None:
        return ""
    whole = number == number.to_integral_value()
    return format_number(Decimal(int(number)) if whole else number.normalize(), "vi")


def _with_unit(number: str, unit: str) -> str:
    return f"{number} {unit}".strip()


def _result(question: QuestionColumn, block: ReportBlock, figures: _Figures) -> str:
    qid = question.id
    submitted = figures.submitted
    if question.numeric:
        return _with_unit(vi_number(block.totals.get(qid, Decimal(0))), question.unit_vi)
    if question.type == "yes_no":
        return f"{figures.yes.get(qid, 0)}/{submitted} đơn vị"
    if question.type == "choice":
        counts = figures.choices.get(qid, {})
        parts = [
            f"{clean_text(question.choices_vi.get(choice, choice))}: {count}"
            for choice, count in counts.items()
        ]
        return "; ".join(parts) + (" đơn vị" if parts else "")
    if question.type == "date":
        span = figures.dates.get(qid)
        if not span:
            return ""
        first, last = (format_date(day, "vi") for day in span)
        return first if first == last else f"{first} - {last}"
    # a text row inside the table (e.g. the plan's number and date): how many gave it
    return f"{figures.answered.get(qid, 0)}/{submitted} đơn vị"


def _remark(question: QuestionColumn, figures: _Figures) -> str:
    parts = []
    answered = figures.answered.get(question.id, 0)
    if question.numeric and answered < figures.submitted:
        parts.append(f"Số liệu của {answered}/{figures.submitted} đơn vị")
    notes = figures.notes.get(question.id, [])
    if len(notes) > MAX_NOTES_SHOWN:
        parts.append(f"{len(notes)} đơn vị có ghi chú (xem tệp Excel)")
    else:
        parts.extend(f"{name}: {note}" for name, note in notes)
    return "; ".join(parts)


# --- layout ---------------------------------------------------------------------------------


def _setup(doc: Any) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin = section.bottom_margin = Cm(2)
    section.right_margin = Cm(2)
    section.left_margin = Cm(3)

    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    _set_fonts(normal.element.get_or_add_rPr())
    paragraph = normal.paragraph_format
    paragraph.space_before = Pt(0)
    paragraph.space_after = Pt(6)
    paragraph.line_spacing = 1.15

    # Styles that do not inherit from Normal (tables) read the document defaults.
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        r_pr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
        if r_pr is not None:
            _set_fonts(r_pr)


def _set_fonts(r_pr: Any) -> None:
    fonts = r_pr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        r_pr.insert(0, fonts)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        if fonts.get(qn(theme)) is not None:
            del fonts.attrib[qn(theme)]
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)


def _paragraph(
    container: Any,
    text: str = "",
    *,
    bold: bool = False,
    italic: bool = False,
    underline: bool = False,
    size: float | None = None,
    align: Any = None,
    after: float | None = None,
    before: float | None = None,
) -> Any:
    paragraph = _new_paragraph(container)
    if text:
        _run(paragraph, text, bold=bold, italic=italic, underline=underline, size=size)
    if align is not None:
        paragraph.alignment = align
    if after is not None:
        paragraph.paragraph_format.space_after = Pt(after)
    if before is not None:
        paragraph.paragraph_format.space_before = Pt(before)
    return paragraph


def _new_paragraph(container: Any) -> Any:
    """A paragraph at the end of ``container``.

    python-docx finds the body's closing sectPr by scanning every child, which makes 20,000
    answers quadratic; for the document body the new paragraph goes straight before it.
    """
    body = getattr(container, "element", None)
    body = getattr(body, "body", None)
    if body is None:
        return container.add_paragraph()
    element = OxmlElement("w:p")
    try:
        last = body[-1]  # from the end: len() of an lxml element counts every child
    except IndexError:
        last = None
    if last is not None and last.tag == qn("w:sectPr"):
        last.addprevious(element)
    else:
        body.append(element)
    return Paragraph(element, container._body)


def _run(
    paragraph: Any,
    text: str,
    *,
    bold: bool = False,
    italic: bool = False,
    underline: bool = False,
    size: float | None = None,
) -> Any:
    run = paragraph.add_run()
    for number, line in enumerate(clean_text(text).split("\n")):
        if number:
            run.add_break()
        # a w:t of its own: python-docx's text setter walks the text a character at a time
        element = OxmlElement("w:t")
        element.text = line
        element.set(qn("xml:space"), "preserve")
        run._r.append(element)
    if bold:
        run.bold = True
    if italic:
        run.italic = True
    if underline:
        run.underline = True
    if size is not None:
        run.font.size = Pt(size)
    return run


def _borderless(table: Any) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    tbl_pr.append(borders)


def _two_columns(doc: Any, left_cm: float, right_cm: float) -> tuple[Any, Any]:
    table = doc.add_table(rows=1, cols=2)
    table.autofit = False
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _borderless(table)
    left, right = table.rows[0].cells
    for column, cell, width in ((0, left, left_cm), (1, right, right_cm)):
        table.columns[column].width = Cm(width)
        cell.width = Cm(width)
    return left, right


def _fill(cell: Any, lines: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Put ``lines`` (text, run options) into ``cell``, one centred paragraph each."""
    first = True
    for text, options in lines:
        paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
        first = False
        paragraph.alignment = options.pop("align", WD_ALIGN_PARAGRAPH.CENTER)
        paragraph.paragraph_format.space_after = Pt(options.pop("after", 0))
        if text:
            _run(paragraph, text, **options)


def _heading(doc: Any, data: ExportData) -> None:
    left, right = _two_columns(doc, 6.0, 10.0)
    _fill(
        left,
        [
            (clean_text(data.scope_name).upper(), {"bold": True, "size": 12}),
            ("───────", {"size": 8, "after": 6}),
            ("Số: ..../BC-...", {}),
        ],
    )
    when = local_naive(data.generated_at, zone_of(data)) or datetime.now()
    _fill(
        right,
        [
            ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", {"bold": True, "size": 12}),
            ("Độc lập - Tự do - Hạnh phúc", {"bold": True, "underline": True, "after": 6}),
            (f"....., ngày {when:%d} tháng {when:%m} năm {when:%Y}", {"italic": True}),
        ],
    )


def _title(doc: Any, data: ExportData, figures: _Figures, main: ReportBlock) -> None:
    center = WD_ALIGN_PARAGRAPH.CENTER
    _paragraph(doc, "BÁO CÁO", bold=True, size=14, align=center, before=18, after=0)
    _paragraph(doc, data.campaign_title, bold=True, align=center, after=0)
    if data.period_label:
        _paragraph(doc, f"Kỳ báo cáo: {data.period_label}", italic=True, align=center, after=0)
    if data.source_document:
        _paragraph(doc, f"(Thực hiện {data.source_document})", italic=True, align=center, after=0)
    _paragraph(
        doc,
        f"(Tổng hợp từ {figures.submitted} đơn vị đã nộp / {len(main.units)} đơn vị)",
        italic=True,
        align=center,
        after=12,
    )


def _part_heading(doc: Any, text: str) -> None:
    _paragraph(doc, text, bold=True, before=6, align=WD_ALIGN_PARAGRAPH.JUSTIFY)


def _sub_heading(doc: Any, text: str) -> None:
    _paragraph(doc, text, bold=True, italic=True, before=6, align=WD_ALIGN_PARAGRAPH.JUSTIFY)


def _text_part(
    doc: Any, heading: str, question: QuestionColumn, figures: _Figures, sub_item: bool = False
) -> None:
    (_sub_heading if sub_item else _part_heading)(doc, heading)
    answers = figures.texts.get(question.id, [])
    if not answers:
        _paragraph(doc, "(Chưa có đơn vị nào báo cáo nội dung này.)", italic=True)
        return
    for name, text in answers:
        # one paragraph per line: a justified line ending in a break would be stretched
        first, *more = [line.strip() for line in text.split("\n") if line.strip()] or [""]
        paragraph = _paragraph(doc, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
        paragraph.paragraph_format.first_line_indent = Cm(1)
        _run(paragraph, "- ")
        _run(paragraph, name, bold=True)
        _run(paragraph, f": {first}")
        for line in more:
            paragraph = _paragraph(doc, line, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
            paragraph.paragraph_format.first_line_indent = Cm(1)


def _results_table(
    doc: Any, questions: Sequence[QuestionColumn], block: ReportBlock, figures: _Figures
) -> None:
    widths = (Cm(9.0), Cm(4.0), Cm(3.0))
    table = doc.add_table(rows=1, cols=3)
    table.style = doc.styles["Table Grid"]
    table.autofit = False
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width

    def row(texts: Sequence[str], bold: bool = False, header: bool = False) -> None:
        cells = table.rows[0].cells if header else table.add_row().cells
        for index, (cell, text, width) in enumerate(zip(cells, texts, widths, strict=True)):
            cell.width = width
            paragraph = cell.paragraphs[0]
            paragraph.paragraph_format.space_after = Pt(2)
            if header or index == 1:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            if text:
                _run(paragraph, text, bold=bold, size=TABLE_PT)

    row(("Nội dung hoạt động", "Kết quả, số lượng", "Ghi chú"), bold=True, header=True)
    _repeat_header(table.rows[0])
    section = None
    for question in questions:
        if question.section_id != section:
            section = question.section_id
            row((f"{section}. {question.section_title_vi}", "", ""), bold=True)
        row(
            (f"- {question.label_vi}", _result(question, block, figures),
             _remark(question, figures))
        )


def _repeat_header(row: Any) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    element = OxmlElement("w:tblHeader")
    element.set(qn("w:val"), "true")
    tr_pr.append(element)


def _signature(doc: Any) -> None:
    _paragraph(doc, after=0)
    left, right = _two_columns(doc, 7.0, 9.0)
    left_align = WD_ALIGN_PARAGRAPH.LEFT
    _fill(
        left,
        [
            ("Nơi nhận:", {"bold": True, "italic": True, "size": 12, "align": left_align}),
            ("- ......;", {"size": 11, "align": left_align}),
            ("- Lưu: VT.", {"size": 11, "align": left_align}),
        ],
    )
    _fill(
        right,
        [
            ("NGƯỜI LẬP BÁO CÁO", {"bold": True}),
            ("(Ký, ghi rõ họ tên)", {"italic": True}),
        ],
    )


def _roman(number: int) -> str:
    return _ROMAN[number - 1] if number <= len(_ROMAN) else str(number)
