"""Reading the admin's spreadsheets (.csv or .xlsx) into rows with their line numbers.

Headers are matched however they are written ("Mã đơn vị cấp trên", "ma don vi cap tren",
"parent_code"); every cell is NFC-normalised, because Excel on Vietnamese Windows saves
cp1258 with the tone marks as separate characters, and decomposed text breaks search, sorting
and column widths."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from conversations.text_normalise import fold


class TableError(ValueError):
    """A file that cannot be imported; `errors` are 'line N: why' lines, all of them."""

    def __init__(self, errors: list[str], missing: list[str] | None = None,
                 found: str = "", unreadable: bool = False) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors
        # For a reader that words it in the person's language: the columns missing (their
        # labels), the headers found, or a file that cannot be read at all.
        self.missing = missing or []
        self.found = found
        self.unreadable = unreadable


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]

    def get(self, key: str) -> str:
        return self.values.get(key, "").strip()


_NOT_WORD = re.compile(r"[^a-z0-9]+")


def header_key(name: str) -> str:
    """'Mã đơn vị cấp trên' → 'ma_don_vi_cap_tren'; 'parent code' → 'parent_code'."""
    return _NOT_WORD.sub("_", fold(name)).strip("_")


def _normalise_header(name: str, aliases: dict[str, str]) -> str:
    key = header_key(name)
    return aliases.get(key, key)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def read_table(path: Path, required: Iterable[str], aliases: dict[str, str] | None = None,
               labels: dict[str, str] | None = None) -> list[Row]:
    """Rows of the first sheet; `labels` name the required columns in the error message
    (the Vietnamese header an office would write)."""
    aliases = aliases or {}
    labels = labels or {}
    if not path.exists():
        raise TableError([f"{path}: no such file"])
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw_rows = _csv_rows(path)
    elif suffix in (".xlsx", ".xlsm"):
        raw_rows = _xlsx_rows(path)
    else:
        raise TableError([f"{path}: expected a .csv or .xlsx file"])
    return table_rows(list(enumerate(raw_rows, start=1)), required, aliases, labels, str(path))


def table_rows(numbered: list[tuple[int, list[str]]], required: Iterable[str],
               aliases: dict[str, str] | None = None, labels: dict[str, str] | None = None,
               name: str = "") -> list[Row]:
    """Rows with their sheet row numbers (the first is the header), as read_table reads a
    file; for a workbook read elsewhere (the console's, in a child process)."""
    aliases = aliases or {}
    labels = labels or {}
    if not numbered:
        raise TableError([f"{name}: the file is empty"])
    header_cells = numbered[0][1]
    header = [_normalise_header(h, aliases) for h in header_cells]
    missing = [c for c in required if c not in header]
    if missing:
        wanted = ", ".join(f"{labels[c]} ({c})" if c in labels else c for c in missing)
        found = ", ".join(h.strip() for h in header_cells if h.strip()) or "nothing"
        raise TableError([f"line 1: missing column(s): {wanted}; found: {found}"],
                         [labels.get(c, c) for c in missing], found)
    rows = []
    for number, values in numbered[1:]:
        if not any(v.strip() for v in values):
            continue
        rows.append(Row(number, {h: v for h, v in zip(header, values, strict=False) if h}))
    return rows


def cell_text(value: object) -> str:
    """A cell as the office sees it: 12.0 is 12, every text composed (NFC)."""
    return "" if value is None else nfc(_cell(value))


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
    return [[nfc(cell) for cell in r] for r in csv.reader(io.StringIO(text), dialect)]


def _xlsx_rows(path: Path) -> list[list[str]]:
    """Checked for what it unpacks to before openpyxl holds any of it (a zip bomb, an entity
    bomb are refused)."""
    from openpyxl import load_workbook

    from bot.spreadsheets.xlsx_checks import WorkbookRefused, check_xlsx

    try:
        check_xlsx(path)
    except WorkbookRefused as refused:
        raise TableError([f"{path.name}: the file cannot be read ({refused.code}); please "
                          f"save it again from Excel as .xlsx"], unreadable=True) from refused
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        return [["" if v is None else nfc(_cell(v)) for v in row]
                for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _cell(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
