"""One table for any program: a row per unit, a column per question (free text included).

UTF-8 with a byte-order mark (so Excel reads the diacritics), comma-separated, numbers
written plainly (1500000, 12.5) and times as ISO "2023-10-05 09:30" in the campaign's time
zone, which every Excel locale reads as numbers and dates.
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
    PROGRESS_STEP,
    UNIT_HEADERS,
    local_naive,
    question_header,
    status_vi,
    typed_value,
    zone_of,
)

Progress = Callable[[int, int], None]

_CHUNK_ROWS = 500  # rows buffered before each write
# Excel takes a field starting with these as a formula ("- Tổ chức lễ…" shows #NAME?);
# such text gets a leading apostrophe, as OWASP advises for CSV files opened in spreadsheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return _text(str(value))


def _text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


LINE_HEADER = "Tuyến báo cáo"


def line_of(block: ReportBlock) -> str:
    """Which block of the reporting line a row is in, so a sum by this column never adds a
    commune's figures to its schools'."""
    if block.direct:
        return f"{block.title}: báo cáo gửi lên cấp tổng hợp"
    return f"{block.title}: báo cáo gửi {block.covered_by}, không cộng thêm"


def write_csv(data: ExportData, out: BinaryIO | Path, progress: Progress | None = None) -> None:
    """Write the header and one row per unit; no totals row. A column names the block of the
    reporting line each unit is in (filter on it before adding a column up)."""
    if isinstance(out, Path | str):
        with open(out, "wb") as handle:
            _write(data, handle, progress)
    else:
        _write(data, out, progress)


def _write(data: ExportData, out: BinaryIO, progress: Progress | None) -> None:
    zone = zone_of(data)
    questions = list(data.questions)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    out.write(codecs.BOM_UTF8)
    writer.writerow([LINE_HEADER, *UNIT_HEADERS] + [question_header(q) for q in questions])

    def flush() -> None:
        out.write(buffer.getvalue().encode("utf-8"))
        buffer.seek(0)
        buffer.truncate()

    total = len(data.units)
    rows = ((block, unit) for block in data.blocks for unit in block.units)
    for done, (block, unit) in enumerate(rows, start=1):
        answers = unit.answers
        writer.writerow(
            [
                _text(line_of(block)),
                _text(unit.code),
                _text(unit.name),
                _text(unit.parent_name),
                status_vi(unit, data.deadline),
                _cell(local_naive(unit.submitted_at, zone)),
                _text(unit.submitted_by),
            ]
            + [_cell(typed_value(q, answers.get(q.id))) for q in questions]
        )
        if done % _CHUNK_ROWS == 0:
            flush()
        if progress is not None and done % PROGRESS_STEP == 0:
            progress(done, total)
    flush()
    if progress is not None:
        progress(total, total)
