"""Builds the shipped Word templates of the consolidated report (`bot/exports/templates/`).

The templates are ordinary .docx files with Jinja tags (docxtpl): an office opens one in Word,
changes the heading, the wording or the signature block, and keeps the tags. They are made
here, from code, so the layout of Nghị định 30/2020/NĐ-CP is written down once: A4, margins
20/20/30/15 mm, Times New Roman 14 (tables 13), the national heading, the number and date line,
the title in bold capitals, page numbers at the top from page 2, Vietnamese as the document
language, table rows that never split across pages, headings kept with what follows.

    .venv/bin/python -m bot.exports.report_template_builder      # rewrites the shipped ones
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from bot.exports.report_templates import TEMPLATES_DIR

FONT = "Times New Roman"
LANGUAGE = "vi-VN"
BODY_PT = 14
TABLE_PT = 13
HEADING_PT = 13
SMALL_PT = 12
TEXT_WIDTH_CM = 16.5  # A4 21 cm less margins 3 + 1.5
CENTER = WD_ALIGN_PARAGRAPH.CENTER
LEFT = WD_ALIGN_PARAGRAPH.LEFT
JUSTIFY = WD_ALIGN_PARAGRAPH.JUSTIFY


@dataclass(frozen=True)
class Variant:
    name: str            # the file: <name>.docx
    subject: str         # the report's subject line (trích yếu), Jinja allowed
    results: str         # item 1 of the results part
    description: str     # the template's own comment (core properties)


VARIANTS = (
    Variant("tuan-le-htsd", "Kết quả tổ chức {{ campaign_title }}",
            "1. Các kết quả theo từng hoạt động đã thực hiện nhằm hưởng ứng Tuần lễ",
            "Mẫu báo cáo tổng hợp Tuần lễ hưởng ứng học tập suốt đời (theo mẫu báo cáo kèm "
            "Kế hoạch của UBND huyện An Lão, 2023)"),
    Variant("thang-khuyen-hoc", "Kết quả tổ chức các hoạt động {{ campaign_title }}",
            "1. Kết quả các hoạt động trong Tháng Khuyến học",
            "Mẫu báo cáo tổng hợp Tháng Khuyến học (Kế hoạch của UBND huyện Vĩnh Bảo, 2024)"),
    Variant("bao-cao", "Kết quả thực hiện {{ campaign_title }}",
            "1. Các kết quả theo từng nội dung", "Mẫu báo cáo tổng hợp"),
)


# --- low-level helpers ----------------------------------------------------------------------


def _element(tag: str, **attrs: str) -> Any:
    element = OxmlElement(tag)
    for key, value in attrs.items():
        element.set(qn(f"w:{key}"), value)
    return element


def _run_defaults(r_pr: Any, size_pt: float | None = None) -> None:
    """Times New Roman for every script, Vietnamese as the language (no red underlines)."""
    for old in r_pr.findall(qn("w:rFonts")) + r_pr.findall(qn("w:lang")):
        r_pr.remove(old)
    r_pr.insert(0, _element("w:rFonts", ascii=FONT, hAnsi=FONT, eastAsia=FONT, cs=FONT))
    if size_pt is not None:
        for tag in ("w:sz", "w:szCs"):
            for old in r_pr.findall(qn(tag)):
                r_pr.remove(old)
            r_pr.append(_element(tag, val=str(int(size_pt * 2))))
    r_pr.append(_element("w:lang", val=LANGUAGE, eastAsia=LANGUAGE, bidi="ar-SA"))


def _run(paragraph: Any, text: str, *, bold: bool = False, italic: bool = False,
         underline: bool = False, size: float | None = None) -> Any:
    run = paragraph.add_run(text)
    run.bold = bold or None
    run.italic = italic or None
    run.underline = underline or None
    if size is not None:
        run.font.size = Pt(size)
    return run


def _paragraph(container: Any, text: str = "", *, bold: bool = False, italic: bool = False,
               size: float | None = None, align: Any = None, before: float = 0,
               after: float = 0, keep_next: bool = False, indent_cm: float | None = None,
               first_line_cm: float | None = None, page_break: bool = False) -> Any:
    paragraph = container.add_paragraph()
    if text:
        _run(paragraph, text, bold=bold, italic=italic, size=size)
    fmt = paragraph.paragraph_format
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    if align is not None:
        paragraph.alignment = align
    if keep_next:
        fmt.keep_with_next = True
    if indent_cm is not None:
        fmt.left_indent = Cm(indent_cm)
    if first_line_cm is not None:
        fmt.first_line_indent = Cm(first_line_cm)
    if page_break:
        fmt.page_break_before = True
    return paragraph


def _tag(container: Any, tag: str) -> None:
    """A paragraph holding only a `{%p … %}` tag (docxtpl removes the paragraph)."""
    paragraph = container.add_paragraph()
    paragraph.add_run(tag)


def _rule(container: Any, width_cm: float, column_cm: float) -> None:
    """The short line under a heading: a top border on an empty, indented paragraph."""
    paragraph = container.add_paragraph()
    side = max((column_cm - width_cm) / 2, 0)
    fmt = paragraph.paragraph_format
    fmt.left_indent = fmt.right_indent = Cm(side)
    fmt.space_before, fmt.space_after = Pt(2), Pt(0)
    fmt.line_spacing = Pt(4)
    borders = _element("w:pBdr")
    borders.append(_element("w:top", val="single", sz="6", space="1", color="000000"))
    paragraph._p.get_or_add_pPr().append(borders)


def _no_borders(table: Any) -> None:
    borders = _element("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        borders.append(_element(f"w:{edge}", val="nil"))
    table._tbl.tblPr.append(borders)


def _table(doc: Any, widths_cm: Sequence[float], rows: int, *, grid: bool) -> Any:
    table = doc.add_table(rows=rows, cols=len(widths_cm))
    if grid:
        table.style = doc.styles["Table Grid"]
    else:
        _no_borders(table)
    table.autofit = False
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for index, width in enumerate(widths_cm):
        table.columns[index].width = Cm(width)
        for cell in table.columns[index].cells:
            cell.width = Cm(width)
    for row in table.rows:
        _cant_split(row)
    return table


def _cant_split(row: Any) -> None:
    row._tr.get_or_add_trPr().append(_element("w:cantSplit"))


def _repeat_header(row: Any) -> None:
    row._tr.get_or_add_trPr().append(_element("w:tblHeader"))


def _cell(cell: Any, texts: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Fill a cell with paragraphs (text, options); the cell's own first paragraph first."""
    for number, (text, options) in enumerate(texts):
        options = dict(options)
        align = options.pop("align", CENTER)
        after = options.pop("after", 0)
        keep = options.pop("keep_next", False)
        indent = options.pop("indent_cm", None)
        paragraph = cell.paragraphs[0] if number == 0 else cell.add_paragraph()
        paragraph.alignment = align
        fmt = paragraph.paragraph_format
        fmt.space_before, fmt.space_after = Pt(0), Pt(after)
        fmt.line_spacing = 1.0
        if keep:
            fmt.keep_with_next = True
        if indent is not None:
            fmt.left_indent = Cm(indent)
        if text:
            _run(paragraph, text, **options)


def _page_number_header(section: Any) -> None:
    """Page numbers at the top centre from page 2 (the first page's header stays empty)."""
    section.different_first_page_header_footer = True
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = CENTER
    run = paragraph.add_run()
    run.font.size = Pt(HEADING_PT)
    begin = _element("w:fldChar", fldCharType="begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    separate = _element("w:fldChar", fldCharType="separate")
    shown = OxmlElement("w:t")
    shown.text = "2"
    end = _element("w:fldChar", fldCharType="end")
    for part in (begin, instr, separate, shown, end):
        run._r.append(part)
    section.first_page_header.paragraphs[0].text = ""


def _setup(doc: Any, variant: Variant) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)
    section.header_distance = section.footer_distance = Cm(1)
    _page_number_header(section)

    styles = doc.styles
    defaults = styles.element.find(qn("w:docDefaults"))
    r_pr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
    _run_defaults(r_pr, BODY_PT)
    for name in ("Normal", "Table Grid", "Header", "Footer"):
        try:
            style = styles[name]
        except KeyError:
            continue
        _run_defaults(style.element.get_or_add_rPr(),
                      BODY_PT if name == "Normal" else TABLE_PT if name == "Table Grid"
                      else HEADING_PT)
    normal = styles["Normal"].paragraph_format
    normal.space_before, normal.space_after = Pt(0), Pt(6)
    normal.line_spacing = 1.15
    normal.widow_control = True

    settings = doc.settings.element
    for old in settings.findall(qn("w:themeFontLang")):
        settings.remove(old)
    settings.append(_element("w:themeFontLang", val=LANGUAGE))

    props = doc.core_properties
    props.author = props.last_modified_by = "baocao"
    props.title = "Báo cáo tổng hợp"
    props.subject = variant.subject
    props.comments = variant.description
    props.keywords = "báo cáo; học tập suốt đời; khuyến học"
    props.category = "Báo cáo"
    props.language = LANGUAGE
    props.revision = 1
    props.created = props.modified = datetime(2025, 1, 1)


# --- the document ---------------------------------------------------------------------------


def _heading(doc: Any) -> None:
    left_cm, right_cm = 6.5, 10.0
    table = _table(doc, (left_cm, right_cm), 2, grid=False)
    top_left, top_right = table.rows[0].cells
    bottom_left, bottom_right = table.rows[1].cells
    _cell(top_left, [("{%p if issuer_above %}", {})])  # docxtpl removes tag paragraphs
    _cell_paragraph(top_left, "{{ issuer_above }}", size=SMALL_PT)
    _cell_paragraph(top_left, "{%p endif %}")
    _cell_paragraph(top_left, "{{ issuer }}", bold=True, size=SMALL_PT)
    _rule(top_left, 2.2, left_cm)
    _cell(top_right, [("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", {"bold": True, "size": SMALL_PT}),
                      ("Độc lập - Tự do - Hạnh phúc", {"bold": True, "size": HEADING_PT})])
    _rule(top_right, 6.0, right_cm)
    _cell(bottom_left, [("{{ number_line }}", {"size": HEADING_PT, "after": 6})])
    _cell(bottom_right, [("{{ place_date }}", {"italic": True, "size": BODY_PT, "after": 6})])


def _cell_paragraph(cell: Any, text: str, **options: Any) -> None:
    paragraph = cell.add_paragraph()
    paragraph.alignment = CENTER
    fmt = paragraph.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing = 1.0
    _run(paragraph, text, **options)


def _title(doc: Any, variant: Variant) -> None:
    _paragraph(doc, "BÁO CÁO", bold=True, size=BODY_PT, align=CENTER, before=18,
               keep_next=True)
    _paragraph(doc, variant.subject, bold=True, size=BODY_PT, align=CENTER, keep_next=True)
    _tag(doc, "{%p if source_line %}")
    _paragraph(doc, "({{ source_line }})", italic=True, align=CENTER, keep_next=True)
    _tag(doc, "{%p endif %}")
    _rule(doc, 3.0, TEXT_WIDTH_CM)
    _paragraph(doc, "{{ coverage }}", italic=True, size=HEADING_PT, align=CENTER, before=6,
               after=12)


def _text_parts(doc: Any, name: str) -> None:
    """The free-text parts in `name` (parts_before, parts_after): a heading, then one
    paragraph per unit (bold name), each further line its own paragraph."""
    _tag(doc, f"{{%p for part in {name} %}}")
    _tag(doc, "{%p if part.sub %}")
    _paragraph(doc, "{{ part.heading }}", bold=True, italic=True, align=JUSTIFY, before=6,
               keep_next=True, first_line_cm=1)
    _tag(doc, "{%p else %}")
    _paragraph(doc, "{{ part.heading }}", bold=True, align=JUSTIFY, before=6, keep_next=True,
               first_line_cm=1)
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p for entry in part.entries %}")
    paragraph = _paragraph(doc, align=JUSTIFY, after=6, first_line_cm=1)
    _run(paragraph, "- ")
    _run(paragraph, "{{ entry.unit }}", bold=True)
    _run(paragraph, ": {{ entry.first }}")
    _tag(doc, "{%p for line in entry.more %}")
    _paragraph(doc, "{{ line }}", align=JUSTIFY, after=6, first_line_cm=1)
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p else %}")
    _paragraph(doc, "(Chưa có đơn vị nào báo cáo nội dung này.)", italic=True, after=6,
               first_line_cm=1)
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p endfor %}")


TABLE_WIDTHS = (8.5, 3.6, 4.4)


def _tag_row(table: Any, tag: str) -> None:
    """A row holding only a `{%tr … %}` tag (docxtpl replaces the row by the tag)."""
    row = table.add_row()
    _cell(row.cells[0], [(tag, {})])


def _template_row(table: Any, cells: Sequence[tuple[str, dict[str, Any]]]) -> None:
    row = table.add_row()
    _cant_split(row)
    for cell, (text, options) in zip(row.cells, cells, strict=True):
        _cell(cell, [(text, options)])


def _results_table(doc: Any, rows_name: str) -> None:
    """The results table: a header repeated on every page, then a row per section, question
    and unit (a text row's answer per unit), each kind formatted in its own template row."""
    table = _table(doc, TABLE_WIDTHS, 1, grid=True)
    header = table.rows[0]
    _repeat_header(header)
    for cell, text in zip(header.cells, ("Nội dung hoạt động", "Kết quả, số lượng", "Ghi chú"),
                          strict=True):
        _cell(cell, [(text, {"bold": True, "size": TABLE_PT, "keep_next": True})])
    size = {"size": TABLE_PT}
    _tag_row(table, f"{{%tr for row in {rows_name} %}}")
    _tag_row(table, "{%tr if row.kind == 'section' %}")
    _template_row(table, [("{{ row.label }}", {**size, "bold": True, "align": LEFT,
                                                "keep_next": True}),
                          ("{{ row.result }}", {**size, "keep_next": True}),
                          ("{{ row.remark }}", {**size, "align": LEFT, "keep_next": True})])
    _tag_row(table, "{%tr elif row.kind == 'unit' %}")
    _template_row(table, [("{{ row.label }}", {**size, "italic": True, "align": LEFT,
                                                "indent_cm": 0.5}),
                          ("{{ row.result }}", {**size, "align": LEFT}),
                          ("{{ row.remark }}", {**size, "align": LEFT})])
    _tag_row(table, "{%tr else %}")
    _template_row(table, [("{{ row.label }}", {**size, "align": LEFT}),
                          ("{{ row.result }}", size),
                          ("{{ row.remark }}", {**size, "align": LEFT})])
    _tag_row(table, "{%tr endif %}")
    _tag_row(table, "{%tr endfor %}")


def _signature(doc: Any) -> None:
    _paragraph(doc, keep_next=True)
    left_cm, right_cm = 7.0, 9.5
    table = _table(doc, (left_cm, right_cm), 1, grid=False)
    left, right = table.rows[0].cells
    _cell(left, [("Nơi nhận:", {"bold": True, "italic": True, "size": SMALL_PT,
                                "align": LEFT})])
    _cell_tag(left, "{%p for recipient in recipients %}")
    _cell_line(left, "- {{ recipient }}", size=11)
    _cell_tag(left, "{%p endfor %}")
    _cell(right, [("{%p for line in signer %}", {})])
    _cell_line(right, "{{ line }}", bold=True, size=HEADING_PT, align=CENTER)
    _cell_tag(right, "{%p endfor %}")
    _cell_line(right, "{{ sign_hint }}", italic=True, size=HEADING_PT, align=CENTER)
    for _ in range(4):
        _cell_line(right, "", align=CENTER)
    _cell_line(right, "{{ signer_name }}", bold=True, size=BODY_PT, align=CENTER)


def _cell_tag(cell: Any, tag: str) -> None:
    cell.add_paragraph().add_run(tag)


def _cell_line(cell: Any, text: str, *, align: Any = LEFT, **options: Any) -> None:
    paragraph = cell.add_paragraph()
    paragraph.alignment = align
    fmt = paragraph.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing = 1.0
    if text:
        _run(paragraph, text, **options)


def _annexes(doc: Any) -> None:
    """Blocks from further down, each on a new page with its own table; then the units that
    have not submitted, with their reporters."""
    _tag(doc, "{%p for annex in annexes %}")
    _paragraph(doc, "PHỤ LỤC {{ annex.number }}", bold=True, align=CENTER, keep_next=True,
               page_break=True)
    _paragraph(doc, "{{ annex.title }}", bold=True, align=CENTER, keep_next=True)
    _paragraph(doc, "{{ annex.note }}", italic=True, size=HEADING_PT, align=JUSTIFY,
               keep_next=True, after=6)
    _results_table(doc, "annex.rows")
    _tag(doc, "{%p endfor %}")

    _tag(doc, "{%p if missing %}")
    _paragraph(doc, "PHỤ LỤC {{ missing_number }}", bold=True, align=CENTER, keep_next=True,
               page_break=True)
    _paragraph(doc, "DANH SÁCH ĐƠN VỊ CHƯA NỘP BÁO CÁO", bold=True, align=CENTER,
               keep_next=True)
    _paragraph(doc, "({{ missing_as_of }})", italic=True, size=HEADING_PT, align=CENTER,
               keep_next=True, after=6)
    # STT, a phone (0225 3861 234), a date and a name (Nguyễn Thị Hoa) each on one line at 12 pt
    widths = (1.3, 3.3, 2.6, 3.4, 3.1, 2.8)
    table = _table(doc, widths, 1, grid=True)
    header = table.rows[0]
    _repeat_header(header)
    titles = ("STT", "Đơn vị", "Tình trạng", "Người báo cáo", "Điện thoại", "Nhắc lần cuối")
    for cell, text in zip(header.cells, titles, strict=True):
        _cell(cell, [(text, {"bold": True, "size": SMALL_PT, "keep_next": True})])
    small = {"size": SMALL_PT, "align": LEFT}
    _tag_row(table, "{%tr for m in missing %}")
    _tag_row(table, "{%tr if m.group %}")
    _template_row(table, [("", small), ("{{ m.group }}", {**small, "bold": True,
                                                         "keep_next": True}),
                          ("", small), ("", small), ("", small), ("", small)])
    _tag_row(table, "{%tr else %}")
    _template_row(table, [("{{ m.number }}", {"size": SMALL_PT}), ("{{ m.unit }}", small),
                          ("{{ m.status }}", small), ("{{ m.reporters }}", small),
                          ("{{ m.phones }}", small), ("{{ m.reminded }}", small)])
    _tag_row(table, "{%tr endif %}")
    _tag_row(table, "{%tr endfor %}")
    _tag(doc, "{%p endif %}")


def build(variant: Variant, out: Path) -> None:
    doc = Document()
    _setup(doc, variant)
    body = doc.element.body
    for child in list(body):  # the default document's empty paragraph
        if child.tag == qn("w:p"):
            body.remove(child)
    _heading(doc)
    _title(doc, variant)
    _text_parts(doc, "parts_before")
    _paragraph(doc, "{{ results_heading }}", bold=True, align=JUSTIFY, before=6,
               keep_next=True, first_line_cm=1)
    _paragraph(doc, variant.results, bold=True, italic=True, align=JUSTIFY, before=6,
               keep_next=True, first_line_cm=1)
    _results_table(doc, "rows")
    _text_parts(doc, "parts_after")
    _signature(doc)
    _annexes(doc)
    doc.save(str(out))


def build_all(folder: Path = TEMPLATES_DIR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for variant in VARIANTS:
        path = folder / f"{variant.name}.docx"
        build(variant, path)
        made.append(path)
    return made


if __name__ == "__main__":
    for path in build_all():
        print(path)
