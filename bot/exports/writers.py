"""One entry point for every export format."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.exports.model import ExportData, Skipped, checked

FORMATS = ("xlsx", "csv", "docx", "png")


def write(fmt: str, data: ExportData, out: Path,
          progress: Callable[[int, int], None] | None = None, *,
          dialect: str = "comma") -> list[Skipped]:
    """Write `data` as `fmt` to `out` (a path or a binary stream; `dialect` is the CSV's).
    Values no file can hold are left out and returned, so one bad value never costs the
    whole file."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    data, skipped = checked(data)
    if fmt == "xlsx":
        from bot.exports.xlsx_export import write_xlsx

        write_xlsx(data, out, progress)
    elif fmt == "csv":
        from bot.exports.csv_export import write_csv

        write_csv(data, out, progress, dialect=dialect)
    elif fmt == "docx":
        from bot.exports.docx_report import write_docx

        write_docx(data, out, progress)
    elif fmt == "png":
        from bot.exports.chart import write_chart_png

        write_chart_png(data, out, progress)
    return skipped
