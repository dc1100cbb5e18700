"""A spreadsheet a person sent back, as the shell read it: plain cell values, no library."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The hidden sheet of the bot's own files: what a file is for (kind, unit, period, form).
META_SHEET = "baocao"
TEMPLATE_KIND = "unit-template"
EXPORT_KIND = "export"
# The bot downloads files of at most this size (Telegram's getFile limit too).
MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class SheetRows:
    """One sheet: its non-empty rows, each (row number, values from column A on)."""

    name: str
    rows: tuple[tuple[int, tuple[Any, ...]], ...]
    hidden: bool = False


@dataclass(frozen=True)
class UploadedWorkbook:
    """`problem` says why the file could not be read: too_big, not_xlsx, unreadable,
    download_failed, lost (the bot restarted while reading it), or what the checks on its
    contents found: too_large_inside (it unpacks to too much), too_many_cells, long_text (a
    cell past Excel's 32,767 characters), damaged (its XML is broken), xml_dtd (XML
    declarations Excel never writes: entities, DTD), too_heavy (reading it took too long or
    too much memory). `formulas` names cells whose formulas have no value Excel computed,
    which are read as empty."""

    file_name: str
    problem: str = ""
    meta: Mapping[str, str] = field(default_factory=dict)
    sheets: tuple[SheetRows, ...] = ()
    formulas: tuple[str, ...] = ()
    formulas_unread: int = 0

    @property
    def kind(self) -> str:
        return self.meta.get("kind", "")

    def sheet(self, name: str) -> SheetRows | None:
        return next((s for s in self.sheets if s.name == name), None)


def column_letter(index: int) -> str:
    """1 → A, 27 → AA: how a cell is named to the person who filled it."""
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
