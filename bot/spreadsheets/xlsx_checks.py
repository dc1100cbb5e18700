"""Checks on an .xlsx a person sent, made while streaming it and before openpyxl holds anything
in memory: a 1.5 MB file can unpack to gigabytes (one huge string, millions of cells in a row),
and its XML may declare entities (an entity bomb, XXE) or be cut short.

Every zip part is unpacked in chunks with its bytes counted (a part's header may lie about its
size), and every XML part is parsed by defusedxml's expat reader (no DTD, no entities) with
handlers that count cells and characters as they stream by; nothing of the text is kept. A
file that passes is then read by openpyxl (bot/spreadsheets/workbooks.py), itself on defusedxml.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from xml.sax import SAXException
from xml.sax.handler import ContentHandler

from defusedxml import DefusedXmlException
from defusedxml.expatreader import DefusedExpatParser

# What a workbook may unpack to. Excel itself writes at most 16,384 columns and 32,767
# characters in a cell; a province's table of units is far below the other limits.
MAX_PARTS = 2_000
MAX_SHEET_PART_BYTES = 64 * 1024 * 1024     # one sheet, or the shared strings
MAX_OTHER_PART_BYTES = 16 * 1024 * 1024     # styles, workbook, relationships, media
MAX_TOTAL_BYTES = 160 * 1024 * 1024
MAX_CELLS = 1_000_000
MAX_CELLS_PER_ROW = 16_384
MAX_CELL_CHARS = 32_767
MAX_FORMULA_CHARS = 8_192
FORMULAS_LISTED = 5
_CHUNK = 64 * 1024


class WorkbookRefused(Exception):
    """Why a file is not read: too_large_inside, too_many_cells, long_text, damaged, xml_dtd."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


@dataclass
class XlsxFacts:
    """What the checks saw: formulas without a value Excel computed ("Sheet1!C14")."""

    formulas_without_values: list[str] = field(default_factory=list)
    formulas_unread: int = 0
    cells: int = 0
    strings: int = 0


def check_xlsx(path: Path) -> XlsxFacts:
    """Refuse (WorkbookRefused) a file that would take more than the limits to read."""
    facts = XlsxFacts()
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_PARTS:
                raise WorkbookRefused("too_large_inside", f"{len(infos)} parts")
            if sum(i.file_size for i in infos) > MAX_TOTAL_BYTES:
                raise WorkbookRefused("too_large_inside", "declared sizes")
            sheet_names = _sheet_parts(archive)
            total = 0
            for info in infos:
                if info.is_dir():
                    continue
                limit = _limit(info.filename)
                if info.file_size > limit:
                    raise WorkbookRefused("too_large_inside", info.filename)
                with archive.open(info) as part:
                    if _is_xml(info.filename):
                        total += _scan_xml(part, info.filename, limit,
                                           sheet_names.get(info.filename), facts)
                    else:
                        total += _count(part, info.filename, limit)
                if total > MAX_TOTAL_BYTES:
                    raise WorkbookRefused("too_large_inside", "total")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError,
            RuntimeError) as exc:  # RuntimeError: an encrypted part
        raise WorkbookRefused("unreadable", str(exc)) from exc
    return facts


def _limit(name: str) -> int:
    lowered = name.lower()
    if lowered.startswith("xl/worksheets/") or lowered.endswith("sharedstrings.xml"):
        return MAX_SHEET_PART_BYTES
    return MAX_OTHER_PART_BYTES


def _is_xml(name: str) -> bool:
    return name.lower().endswith((".xml", ".rels", ".vml"))


def _count(part: IO[bytes], name: str, limit: int) -> int:
    size = 0
    while chunk := part.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise WorkbookRefused("too_large_inside", name)
    return size


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet part → sheet name, for naming a formula's cell; best effort (the workbook part
    itself is checked like any other part below)."""
    try:
        names: dict[str, str] = {}
        order = []
        with archive.open("xl/workbook.xml") as part:
            handler = _Names()
            _parse(part, "xl/workbook.xml", MAX_OTHER_PART_BYTES, handler)
            order = handler.sheets
        targets: dict[str, str] = {}
        with archive.open("xl/_rels/workbook.xml.rels") as part:
            rels = _Rels()
            _parse(part, "xl/_rels/workbook.xml.rels", MAX_OTHER_PART_BYTES, rels)
            targets = rels.targets
        for name, rid in order:
            target = targets.get(rid, "")
            if target:
                target = target.lstrip("/")
                names[target if target.startswith("xl/") else f"xl/{target}"] = name
        return names
    except (KeyError, WorkbookRefused):
        return {}


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


class _Names(ContentHandler):
    def __init__(self) -> None:
        super().__init__()
        self.sheets: list[tuple[str, str]] = []

    def startElement(self, name: str, attrs: dict[str, str]) -> None:  # noqa: N802
        if _local(name) == "sheet":
            rid = next((v for k, v in attrs.items() if _local(k) == "id"), "")
            self.sheets.append((attrs.get("name", ""), rid))


class _Rels(ContentHandler):
    def __init__(self) -> None:
        super().__init__()
        self.targets: dict[str, str] = {}

    def startElement(self, name: str, attrs: dict[str, str]) -> None:  # noqa: N802
        if _local(name) == "Relationship":
            self.targets[attrs.get("Id", "")] = attrs.get("Target", "")


class _Counter(ContentHandler):
    """Counts cells, characters per cell and formulas without values, keeping no text."""

    def __init__(self, part: str, sheet: str | None, facts: XlsxFacts) -> None:
        super().__init__()
        self.part, self.sheet, self.facts = part, sheet, facts
        self.in_sheet = part.lower().startswith("xl/worksheets/")
        self.counts = self.in_sheet or part.lower().endswith("sharedstrings.xml")
        self.row_cells = 0
        self.chars = 0        # of the current text element
        self.cell_chars = 0   # of the current cell or shared string
        self.text_of = ""     # "v", "t", "f" or ""
        self.ref = ""
        self.formula = False
        self.value = False

    def startElement(self, name: str, attrs: dict[str, str]) -> None:  # noqa: N802
        local = _local(name)
        if local == "row":
            self.row_cells = 0
        elif local == "c" and self.in_sheet:
            self.row_cells += 1
            self.facts.cells += 1
            if self.row_cells > MAX_CELLS_PER_ROW:
                raise WorkbookRefused("too_many_cells", f"{self.part}: a row")
            if self.facts.cells > MAX_CELLS:
                raise WorkbookRefused("too_many_cells", self.part)
            self.ref, self.formula, self.value, self.cell_chars = attrs.get("r", ""), False, \
                False, 0
        elif local == "si":
            self.facts.strings += 1  # every shared string is held in memory
            if self.facts.strings > MAX_CELLS:
                raise WorkbookRefused("too_many_cells", self.part)
            self.cell_chars = 0
        elif local in ("v", "t", "f") and self.counts:
            self.text_of, self.chars = local, 0
            if local == "f":
                self.formula = True

    def characters(self, content: str) -> None:
        if not self.text_of:
            return
        self.chars += len(content)
        if self.text_of == "f":
            if self.chars > MAX_FORMULA_CHARS:
                raise WorkbookRefused("long_text", self.part)
            return
        self.cell_chars += len(content)
        if self.cell_chars > MAX_CELL_CHARS:
            raise WorkbookRefused("long_text", self.part)

    def endElement(self, name: str) -> None:  # noqa: N802
        local = _local(name)
        if local in ("v", "t", "f"):
            if local == "v" and self.chars:
                self.value = True
            self.text_of = ""
        elif local == "c" and self.in_sheet and self.formula and not self.value:
            self.facts.formulas_unread += 1
            where = f"{self.sheet}!{self.ref}" if self.sheet else self.ref
            if len(self.facts.formulas_without_values) < FORMULAS_LISTED:
                self.facts.formulas_without_values.append(where)


def _scan_xml(part: IO[bytes], name: str, limit: int, sheet: str | None,
              facts: XlsxFacts) -> int:
    return _parse(part, name, limit, _Counter(name, sheet, facts))


def _parse(part: IO[bytes], name: str, limit: int, handler: ContentHandler) -> int:
    """Feed the part in chunks to a parser that refuses any DTD, entity or external
    reference; count its bytes as they come."""
    parser = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.setContentHandler(handler)
    size = 0
    try:
        while chunk := part.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise WorkbookRefused("too_large_inside", name)
            parser.feed(chunk)
        parser.close()
    except DefusedXmlException as exc:
        raise WorkbookRefused("xml_dtd", f"{name}: {type(exc).__name__}") from exc
    except SAXException as exc:
        raise WorkbookRefused("damaged", f"{name}: {exc}") from exc
    return size
