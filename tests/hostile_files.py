"""Hostile .xlsx files, made here: a real workbook whose sheet part is replaced by a zip bomb,
a cell bomb (a huge inline string, a row of very many cells), an entity bomb, XXE, truncated
XML, a mismatched tag. Shared by tests/test_hostile_workbooks.py and bench/hostile_files.py."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator

from openpyxl import Workbook

SHEET = "xl/worksheets/sheet1.xml"
_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
         b"<sheetData>")
_TAIL = b"</sheetData></worksheet>"


def plain_workbook() -> bytes:
    book = Workbook()
    book.active["A1"] = "Số lớp"
    book.active["B1"] = 3
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_sheet(chunks: Callable[[], Iterator[bytes]], base: bytes | None = None) -> bytes:
    """`base` (a plain workbook) with its first sheet's XML streamed from `chunks`."""
    source = zipfile.ZipFile(io.BytesIO(base or plain_workbook()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename == SHEET:
                packed = zipfile.ZipInfo(SHEET)
                packed.compress_type = zipfile.ZIP_DEFLATED
                with target.open(packed, "w", force_zip64=True) as part:
                    for chunk in chunks():
                        part.write(chunk)
            else:
                target.writestr(info, source.read(info.filename), zipfile.ZIP_DEFLATED)
    return out.getvalue()


def zip_bomb(megabytes: int = 80) -> bytes:
    """A sheet part of `megabytes` of blanks: a few hundred KB packed."""
    def chunks() -> Iterator[bytes]:
        yield _HEAD
        blank = b" " * (1024 * 1024)
        for _ in range(megabytes):
            yield blank
        yield _TAIL
    return with_sheet(chunks)


def huge_string(characters: int = 2_000_000) -> bytes:
    """One inline string far past Excel's 32,767 characters."""
    def chunks() -> Iterator[bytes]:
        yield _HEAD + b'<row r="1"><c r="A1" t="inlineStr"><is><t>'
        left = characters
        while left > 0:
            step = min(left, 1024 * 1024)
            yield b"A" * step
            left -= step
        yield b"</t></is></c></row>" + _TAIL
    return with_sheet(chunks)


def many_cells(count: int = 50_000) -> bytes:
    """One row of `count` empty cells (Excel has 16,384 columns)."""
    def chunks() -> Iterator[bytes]:
        yield _HEAD + b'<row r="1">'
        batch = b"<c/>" * 10_000
        for _ in range(count // 10_000):
            yield batch
        yield b"</row>" + _TAIL
    return with_sheet(chunks)


def many_rows(rows: int = 4_000, columns: int = 100) -> bytes:
    """A legal but slow sheet: `rows` × `columns` numbers (read in seconds, not refused)."""
    def chunks() -> Iterator[bytes]:
        yield _HEAD
        cells = b"<c><v>1</v></c>" * columns
        for number in range(1, rows + 1):
            yield b'<row r="%d">%s</row>' % (number, cells)
        yield _TAIL
    return with_sheet(chunks)


def xml_sheet(xml: bytes) -> bytes:
    return with_sheet(lambda: iter([xml]))


ENTITY_BOMB = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
               + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1
                                                          else b"&lol;") * 10)
                          for i in range(1, 10))
               + b']>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
               b'main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is>'
               b"</c></row></sheetData></worksheet>")
XXE = (b'<?xml version="1.0"?>\n<!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
       b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
       b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row>'
       b"</sheetData></worksheet>")
TRUNCATED = _HEAD + b'<row r="1"><c r="A1" t="inlineStr"><is><t>S'
MISMATCHED = _HEAD + b'<row r="1"><c r="A1"><v>3</c></v></row>' + _TAIL

HOSTILE: dict[str, Callable[[], bytes]] = {
    "zip_bomb": zip_bomb,
    "huge_string": huge_string,
    "many_cells": many_cells,
    "entity_bomb": lambda: xml_sheet(ENTITY_BOMB),
    "xxe": lambda: xml_sheet(XXE),
    "truncated": lambda: xml_sheet(TRUNCATED),
    "mismatched": lambda: xml_sheet(MISMATCHED),
}
