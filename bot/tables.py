"""Reading the admin's spreadsheets (.csv or .xlsx) into rows with their line numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


class TableError(ValueError):
    """A file that cannot be imported; `errors` are 'line N: why' lines, all of them."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]

    def get(self, key: str) -> str:
        return self.values.get(key, "").strip()


def _normalise_header(name: str, aliases: dict[str, str]) -> str:
    key = name.strip().lower().replace(" ", "_")
    return aliases.get(key, key)


def read_table(path: Path, required: Iterable[str], aliases: dict[str, str] | None = None,
               ) -> list[Row]:
    aliases = aliases or {}
    if not path.exists():
        raise TableError([f"{path}: no such file"])
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw_rows = _csv_rows(path)
    elif suffix in (".xlsx", ".xlsm"):
        raw_rows = _xlsx_rows(path)
    else:
        raise TableError([f"{path}: expected a .csv or .xlsx file"])
    if not raw_rows:
        raise TableError([f"{path}: the file is empty"])
    header = [_normalise_header(h, aliases) for h in raw_rows[0]]
    missing = [c for c in required if c not in header]
    if missing:
        raise TableError([f"line 1: missing column(s): {', '.join(missing)} "
                          f"(found: {', '.join(h for h in header if h)})"])
    rows = []
    for number, values in enumerate(raw_rows[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        rows.append(Row(number, {h: v for h, v in zip(header, values, strict=False) if h}))
    return rows


def _csv_rows(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1258", errors="replace")  # Excel on Vietnamese Windows
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [list(r) for r in csv.reader(io.StringIO(text), dialect)]


def _xlsx_rows(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        return [["" if v is None else _cell(v) for v in row]
                for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _cell(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
