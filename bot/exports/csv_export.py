"""One table for any program: a row per unit, a column per question (free text included),
and beside each question that takes a note, its note.

UTF-8 with a byte-order mark (so Excel reads the diacritics), and times as ISO
"2023-10-05 09:30" in the campaign's time zone, which every Excel locale reads as dates.
Two dialects: `comma` (comma-separated, numbers written plainly: 1500000, 12.5) for programs,
and `excel-vi` (";"-separated, decimal comma: 12,5) for Excel with Vietnamese regional
settings, which splits on ";" and reads "12.5" as text.

Excel takes a field starting with = + - @ for a formula ("- Tổ chức lễ…" shows #NAME?, and a
crafted one runs). Such a text starts with an invisible word joiner (U+2060) instead of the
apostrophe OWASP suggests, which Excel shows when it opens a CSV: the text reads as written and
nothing runs; a program that needs the exact text strips a leading U+2060.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from bot.exports.model import ExportData, ReportBlock
from bot.exports.xlsx_export import (
    NOTE_SUFFIX,
    PROGRESS_STEP,
    UNIT_HEADERS,
    clean_text,
    local_naive,
    question_header,
    status_vi,
    timing_vi,
    typed_value,
    zone_of,
)

Progress = Callable[[int, int], None]

_CHUNK_ROWS = 500  # rows buffered before each write
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
WORD_JOINER = "\u2060"
DIALECTS = ("comma", "excel-vi")


def _cell(value: Any, decimal_comma: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # a number, never a formula
    if isinstance(value, float):
        text = repr(value)
        return text.replace(".", ",") if decimal_comma else text
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return _text(str(value))


def _text(value: str) -> str:
    """The text as written; one that Excel would run as a formula starts with U+2060."""
    return WORD_JOINER + value if value.startswith(_FORMULA_START) else value


LINE_HEADER = "Tuyến báo cáo"


def line_of(block: ReportBlock) -> str:
    """Which block of the reporting line a row is in, so a sum by this column never adds a
    commune's figures to its schools'."""
    if block.direct:
        return f"{block.title}: báo cáo gửi lên cấp tổng hợp"
    return f"{block.title}: báo cáo gửi {block.covered_by}, không cộng thêm"


def write_csv(data: ExportData, out: BinaryIO | Path, progress: Progress | None = None,
              dialect: str = "comma") -> None:
    """Write the header and one row per unit; no totals row. A column names the block of the
    reporting line each unit is in (filter on it before adding a column up)."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown CSV dialect {dialect!r}; use one of {', '.join(DIALECTS)}")
    if isinstance(out, Path | str):
        with open(out, "wb") as handle:
            _write(data, handle, progress, dialect)
    else:
        _write(data, out, progress, dialect)


def _write(data: ExportData, out: BinaryIO, progress: Progress | None, dialect: str) -> None:
    zone = zone_of(data)
    questions = list(data.questions)
    excel_vi = dialect == "excel-vi"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if excel_vi else ",", lineterminator="\r\n")
    out.write(codecs.BOM_UTF8)
    header = [LINE_HEADER, *UNIT_HEADERS]
    for q in questions:
        header.append(question_header(q))
        if q.has_note:
            header.append(question_header(q) + NOTE_SUFFIX)
    writer.writerow(header)

    def flush() -> None:
        out.write(buffer.getvalue().encode("utf-8"))
        buffer.seek(0)
        buffer.truncate()

    total = len(data.units)
    rows = ((block, unit) for block in data.blocks for unit in block.units)
    for done, (block, unit) in enumerate(rows, start=1):
        answers = unit.answers
        notes = unit.notes
        row = [
            _text(line_of(block)),
            _text(unit.code),
            _text(unit.name),
            _text(unit.parent_name),
            status_vi(unit, data.deadline),
            _cell(local_naive(unit.first_submission, zone)),
            timing_vi(unit, data.deadline),
            _cell(local_naive(unit.resubmission, zone)),
            _text(unit.submitted_by),
        ]
        for q in questions:
            row.append(_cell(typed_value(q, answers.get(q.id)), excel_vi))
            if q.has_note:
                note = notes.get(q.id)
                row.append(_text(clean_text(note).strip()) if note else "")
        writer.writerow(row)
        if done % _CHUNK_ROWS == 0:
            flush()
        if progress is not None and done % PROGRESS_STEP == 0:
            progress(done, total)
    flush()
    if progress is not None:
        progress(total, total)
