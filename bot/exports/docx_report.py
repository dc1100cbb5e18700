"""The consolidated report (.docx), rendered from a Word template with docxtpl.

The coordinator sends it upward as their own report: the issuing body and the national
heading, the number and the place and date, "BÁO CÁO" and its subject, the free-text parts
gathered unit by unit, the results table with every figure summed over the units that
submitted (a text row such as 1.2, the plan's number and date, listed unit by unit under its
row), the signature block, then the annexes: each block from further down with its own table
(never added to the first), and the units that have not submitted with their reporters.

`report_context` turns the data into plain values (pure); the template decides the layout
(see `bot/exports/report_template_builder.py` and `report_templates.py` for which one).
Free-text parts are the form's section-level text questions, in form order; the results table
is part "II. Kết quả cụ thể" after part "I" (if the form has one), and later parts are
numbered on from there ("II.2" stays item 2 of part II).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from docxtpl import DocxTemplate
from jinja2 import Environment

from bot.exports.letterhead import SIGN_HINT, official_date
from bot.exports.model import ExportData, QuestionColumn, ReportBlock, UnitRow
from bot.exports.report_templates import choose_template
from bot.exports.xlsx_export import (
    PROGRESS_STEP,
    clean_text,
    is_section_text,
    local_naive,
    status_vi,
    timing_vi,
    to_decimal,
    typed_value,
    zone_of,
)
from conversations.date_parsing import format_date
from conversations.number_parsing import format_number
from conversations.phone_numbers import office_phone

Progress = Callable[[int, int], None]

MAX_NOTES_SHOWN = 5  # per table row; more are left to the workbook
MAX_UNIT_ROWS = 200  # a text row's answers listed unit by unit; more are left to the workbook
PLACE_BLANK = "......"

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
    """Render the consolidated report from its template (the office's or the shipped one)."""
    template = DocxTemplate(data.report_template or choose_template(data.main.form_key))
    context = report_context(data, progress)
    template.render(context, Environment(autoescape=True), autoescape=True)
    _properties(template, data, context)
    if isinstance(out, Path | str):
        template.save(str(out))
    else:
        template.save(out)
    if progress is not None:
        progress(len(data.units), len(data.units))


def _properties(template: DocxTemplate, data: ExportData, context: dict[str, Any]) -> None:
    """The file's own properties say what it is and who made it (not the library)."""
    props = template.docx.core_properties
    issuer = clean_text(data.scope_name) or "baocao"
    props.author = props.last_modified_by = issuer
    props.title = f"Báo cáo {clean_text(data.campaign_title)}".strip()
    props.subject = clean_text(context["subject"])
    props.comments = f"Tổng hợp bằng baocao. {context['coverage'].strip('()')}"
    props.language = "vi-VN"
    when = data.generated_at
    if when is not None:  # stored in UTC ("…Z")
        when = when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when
        props.created = props.modified = when


# --- the context ----------------------------------------------------------------------------


def report_context(data: ExportData, progress: Progress | None = None) -> dict[str, Any]:
    """Every value the template shows, as plain text (escaped by the template engine)."""
    main = data.main
    figures = _gather(main, progress, len(data.units))
    zone = zone_of(data)
    when = local_naive(data.generated_at, zone) or datetime.now()
    day, month, year = official_date(when.date())
    head = data.letterhead
    place = clean_text(head.place) or PLACE_BLANK
    title = clean_text(data.campaign_title)
    as_of = f"{when:%H:%M} ngày {when:%d/%m/%Y}"

    questions = list(main.questions)
    text_parts = [q for q in questions if is_section_text(q)]
    table_questions = [q for q in questions if not is_section_text(q)]
    parts_before: list[dict[str, Any]] = []
    parts_after: list[dict[str, Any]] = []
    numeral = 0
    remaining = list(text_parts)
    if remaining and remaining[0].id == "I":
        numeral += 1
        parts_before.append(_part(f"{_roman(numeral)}. {remaining[0].section_title_vi}",
                                  remaining.pop(0), figures))
    numeral += 1
    results_numeral = numeral
    results_heading = f"{_roman(numeral)}. Kết quả cụ thể"
    for question in remaining:
        sub = _SUB_ITEM.match(question.id)
        if sub and results_numeral == 2:
            parts_after.append(_part(f"{sub.group(1)}. {question.section_title_vi}", question,
                                     figures, sub=True))
        else:
            numeral += 1
            parts_after.append(_part(f"{_roman(numeral)}. {question.section_title_vi}",
                                     question, figures))

    annexes = []
    for number, block in enumerate((b for b in data.blocks if b is not main), start=1):
        block_figures = _gather(block, None, 0)
        note = block.note or "Mẫu báo cáo khác: không cộng vào số liệu ở trên."
        annexes.append({
            "number": number,
            "title": f"Số liệu của {_lower_first(clean_text(block.title))}",
            "note": f"Đã báo cáo: {block_figures.submitted}/{len(block.units)} đơn vị. {note}",
            "rows": _table_rows([q for q in block.questions if not is_section_text(q)], block,
                                block_figures),
        })
    missing = _missing_rows(data, zone)
    source = clean_text(data.source_document).strip()
    return {
        "issuer_above": clean_text(head.issuer_above).strip(),
        "issuer": clean_text(head.issuer).strip(),
        "number_line": head.number_line,
        "place": place,
        "day": day, "month": month, "year": year,
        "place_date": f"{place}, ngày {day} tháng {month} năm {year}",
        "campaign_title": title,
        "subject": title,
        "period_label": clean_text(data.period_label),
        "source_line": f"Thực hiện {source}" if source else "",
        "coverage": _coverage(data, figures.submitted, len(main.units), as_of),
        "parts_before": parts_before,
        "results_heading": results_heading,
        "rows": _table_rows(table_questions, main, figures),
        "parts_after": parts_after,
        "recipients": _recipients(head.recipients),
        "signer": [clean_text(line) for line in head.signer],
        "sign_hint": SIGN_HINT if head.signer else "",
        "signer_name": clean_text(head.signer_name),
        "annexes": annexes,
        "missing": missing,
        "missing_number": len(annexes) + 1,
        "missing_as_of": (f"Đến {as_of}; hạn nộp: "
                          f"{_format_moment(data.deadline, zone)}"),
    }


def _coverage(data: ExportData, submitted: int, asked: int, as_of: str) -> str:
    period = clean_text(data.period_label).strip()
    lead = f"Kỳ báo cáo: {period}. " if period else ""
    return (f"({lead}Tổng hợp từ báo cáo của {submitted}/{asked} đơn vị đã nộp, số liệu "
            f"đến {as_of})")


def _recipients(lines: Sequence[str]) -> list[str]:
    """ "Nơi nhận" as offices write it: each line ends with ";", the last with "."."""
    cleaned = [clean_text(line).strip().rstrip(";.").strip() for line in lines]
    cleaned = [line for line in cleaned if line]
    return [line + (";" if n < len(cleaned) - 1 else ".") for n, line in enumerate(cleaned)]


def _format_moment(moment: datetime | None, zone: Any) -> str:
    local = local_naive(moment, zone)
    if local is None:
        return ""
    if (local.hour, local.minute) == (0, 0):  # "trước ngày 13/10/2023" (00:00 that day)
        return f"trước ngày {local:%d/%m/%Y}"
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"


def _part(heading: str, question: QuestionColumn, figures: _Figures,
          sub: bool = False) -> dict[str, Any]:
    entries = []
    for name, text in figures.texts.get(question.id, []):
        # one paragraph per line: a justified line ending in a break would be stretched
        lines = [line.strip() for line in text.split("\n") if line.strip()] or [""]
        entries.append({"unit": name, "first": lines[0], "more": lines[1:]})
    return {"id": question.id, "heading": clean_text(heading), "sub": sub, "entries": entries}


def _table_rows(questions: Sequence[QuestionColumn], block: ReportBlock,
                figures: _Figures) -> list[dict[str, str]]:
    """A row per section, per question, and under a text row (the plan's number and date)
    one row per unit that gave it."""
    rows: list[dict[str, str]] = []
    section = None
    for question in questions:
        if question.section_id != section:
            section = question.section_id
            rows.append({"kind": "section", "label": clean_text(
                f"{section}. {question.section_title_vi}"), "result": "", "remark": ""})
        rows.append({"kind": "question", "label": clean_text(f"- {question.label_vi}"),
                     "result": _result(question, block, figures),
                     "remark": _remark(question, figures)})
        if question.type == "text":
            answers = figures.texts.get(question.id, [])
            for name, text in answers[:MAX_UNIT_ROWS]:
                rows.append({"kind": "unit", "label": name, "result": text, "remark": ""})
            if len(answers) > MAX_UNIT_ROWS:
                rest = len(answers) - MAX_UNIT_ROWS
                rows.append({"kind": "unit", "label": f"… và {rest} đơn vị khác",
                             "result": f"Xem tệp Excel, cột {question.id}", "remark": ""})
    return rows


def _missing_rows(data: ExportData, zone: Any) -> list[dict[str, Any]]:
    """The units that have not submitted, block by block, with reporters and phones."""
    rows: list[dict[str, Any]] = []
    blocks = [data.main] + [b for b in data.blocks if b is not data.main]
    number = 0
    for block in blocks:
        waiting = [u for u in block.units if not u.counted]
        if not waiting:
            continue
        if len(blocks) > 1:
            rows.append({"group": clean_text(block.title)})
        for unit in waiting:
            number += 1
            rows.append(_missing_row(unit, number, data, zone))
    return rows


def _missing_row(unit: UnitRow, number: int, data: ExportData, zone: Any) -> dict[str, Any]:
    reminded = local_naive(unit.last_reminded, zone)
    status = ["Chưa bắt đầu" if unit.status == "none" else status_vi(unit, data.deadline)]
    first = local_naive(unit.first_submission, zone)
    if first is not None:  # a returned report: when it first came in decided on time or late
        timing = timing_vi(unit, data.deadline).lower()
        status.append(f"Nộp lần đầu: {first:%H:%M %d/%m/%Y}" + (f", {timing}" if timing else ""))
    again = local_naive(unit.resubmission, zone)
    if again is not None:
        status.append(f"Nộp lại: {again:%H:%M %d/%m/%Y}")
    return {
        "group": "",
        "number": str(number),
        "unit": clean_text(unit.name),
        "status": "\n".join(status),
        "reporters": "\n".join(clean_text(n) for n, _ in unit.reporters) or "(chưa có)",
        "phones": "\n".join(office_phone(clean_text(p)) for _, p in unit.reporters if p),
        "reminded": f"{reminded:%d/%m/%Y %H:%M}" if reminded else "",
    }


# --- gathering ------------------------------------------------------------------------------


def _gather(block: ReportBlock, progress: Progress | None, total: int) -> _Figures:
    figures = _Figures()
    questions = list(block.questions)
    for done, unit in enumerate(block.units, start=1):
        if progress is not None and done % PROGRESS_STEP == 0:
            progress(done, total)
        if not unit.counted:
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
    # a text row inside the table (the plan's number and date): each unit's answer follows
    answered = figures.answered.get(qid, 0)
    return f"{answered}/{submitted} đơn vị có" if answered else "Chưa có đơn vị nào ghi"


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


def _lower_first(text: str) -> str:
    """"Các trường, trung tâm" → "các trường, trung tâm" (a name stays as written)."""
    return text[:1].lower() + text[1:] if text.startswith("Các ") else text


def _roman(number: int) -> str:
    return _ROMAN[number - 1] if number <= len(_ROMAN) else str(number)
