"""The "Ý kiến" sheet of a coordinator's table (the XLSX export's layout: Mã / Đơn vị / Mục /
Nội dung / Ý kiến): the text parts and notes of units entered from paper.

A coordinator types these rows by hand, so a text lands in the wrong column, an item is left
out or misspelt. Every row is either read or named in the reply with why ("dòng 5: cột Ý kiến
trống, nội dung ở cột D"); an empty row is the only one passed over in silence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from conversations.context import Assignment
from conversations.forms import Form
from conversations.i18n import Tr
from conversations.text_normalise import fold
from conversations.uploaded_workbook import SheetRows, UploadedWorkbook, column_letter

# Folded header words: "Mã", "Mục" and "Ý kiến" are read; "Đơn vị" and "Nội dung" are there
# for the person reading the sheet.
CODE, ITEM, TEXT, NAME = "ma", "muc", "y kien", "don vi"
_NOTE = re.compile(r"^(?P<id>\S+?)\s*\(\s*ghi chu\s*\)$")


@dataclass(frozen=True)
class OpinionRow:
    """One filled row: a text part ("I") or a note ("4.2 (ghi chú)") of a unit."""

    sheet: str
    row: int
    code: str
    item: str      # as typed
    text: Any
    ref: str       # the cell of the text, "Ý kiến!E5"
    note_of: str = ""  # the question a note belongs to ("4.2"), "" for a text part


Problem = tuple[str, int, str]  # sheet, row, the line of the reply


def in_order(problems: list[Problem]) -> list[str]:
    """The reply's lines, sheet by sheet, row by row."""
    return [line for _, _, line in sorted(problems, key=lambda p: (p[0], p[1]))]


@dataclass
class Opinions:
    rows: list[OpinionRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # rows not read, and why


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def where(tr: Tr, sheet: str, row: int, *parts: str) -> str:
    """“Ý kiến”, dòng 5 (X-ANTHANG, I): how the reply names a row of the sheet."""
    head = tr("“{sheet}”, row {row}", sheet=sheet, row=row)
    shown = ", ".join(p for p in parts if p)
    return f"{head} ({shown})" if shown else head


def _sheets(upload: UploadedWorkbook) -> list[tuple[SheetRows, int, list[int], int]]:
    """Every visible sheet headed Mã / … / Mục / … / Ý kiến: its header row, the columns of
    the code, the item and the text, and of the unit's name (0 if none)."""
    found = []
    for sheet in upload.sheets:
        if sheet.hidden:
            continue
        for row, values in sheet.rows[:10]:
            folded = [fold(str(v)).strip() if isinstance(v, str) else "" for v in values]
            if CODE in folded and ITEM in folded and TEXT in folded:
                columns = [folded.index(h) + 1 for h in (CODE, ITEM, TEXT)]
                name = folded.index(NAME) + 1 if NAME in folded else 0
                found.append((sheet, row, columns, name))
                break
    return found


def codes(upload: UploadedWorkbook) -> list[str]:
    """The unit codes the sheet names, for the shell to load with the table's."""
    seen: dict[str, None] = {}
    for sheet, header, (code_col, _, _), _ in _sheets(upload):
        for row, cells in sheet.rows:
            code = _text(cells[code_col - 1]) if row > header and len(cells) >= code_col else ""
            if code:
                seen[code] = None
    return list(seen)


def read(upload: UploadedWorkbook, tr: Tr) -> Opinions:
    """The filled rows of the sheet, and why each row that cannot be read is not."""
    found = Opinions()
    for sheet, header, columns, name in _sheets(upload):
        _read_sheet(sheet, header, columns, name, found, tr)
    return found


def _read_sheet(sheet: SheetRows, header: int, columns: list[int], name_col: int,
                found: Opinions, tr: Tr) -> None:
    code_col, item_col, text_col = columns
    for row, cells in sheet.rows:
        if row <= header:
            continue
        values = {i: cells[i - 1] for i in range(1, len(cells) + 1) if _text(cells[i - 1])}
        if not values:
            continue
        code, item = _text(values.get(code_col)), _text(values.get(item_col))
        text = values.get(text_col)
        at = where(tr, sheet.name, row, code, item)
        if not code:
            found.problems.append(_at(sheet.name, row, tr(
                "{where}: no unit code (“Mã”, column {column}); not entered.", where=at,
                column=column_letter(code_col))))
        elif not item:
            found.problems.append(_at(sheet.name, row, tr(
                "{where}: no item (“Mục”, column {column}), for example I or 4.2 (ghi chú); "
                "not entered.", where=at, column=column_letter(item_col))))
        elif text is None:
            others = [column_letter(i) for i in values
                      if i not in (code_col, item_col, name_col)]
            if others:
                problem = tr("{where}: the “Ý kiến” column ({column}) is empty and the text "
                             "is in column {other}; not entered.", where=at,
                             column=column_letter(text_col), other=", ".join(others))
            else:
                problem = tr("{where}: the “Ý kiến” column ({column}) is empty; not entered.",
                             where=at, column=column_letter(text_col))
            found.problems.append(_at(sheet.name, row, problem))
        else:
            note = _NOTE.match(fold(item))
            found.rows.append(OpinionRow(sheet.name, row, code, item, text,
                                         f"{sheet.name}!{column_letter(text_col)}{row}",
                                         note.group("id") if note else ""))


def _at(sheet: str, row: int, text: str) -> Problem:
    return (sheet, row, "• " + text)


def check(rows: Sequence[OpinionRow], reports: Mapping[str, Assignment],
          forms: Mapping[str, Form], tr: Tr) -> tuple[list[OpinionRow], list[Problem]]:
    """The rows that fit a unit's report (a text part, or a note on a question that takes
    one), and a line for each of the others. `forms`: unit code → the form it answers."""
    fitting: list[OpinionRow] = []
    problems: list[Problem] = []
    for r in rows:
        at = where(tr, r.sheet, r.row, r.code, r.item)
        a, form = reports.get(r.code), forms.get(r.code)
        if a is None or form is None:
            problem = tr("{where}: not among the units you coordinate (or an unknown code); "
                         "nothing entered for it.", where=where(tr, r.sheet, r.row, r.code))
        elif (q := form.question(r.note_of or r.item)) is None:
            problem = tr("{where}: the report of {unit} has no item {item}; not entered.",
                         where=at, unit=a.unit.name, item=r.item)
        elif r.note_of and q.type == "text":
            problem = tr("{where}: {qid} is a text part: put the text itself on a row with item "
                         "{qid}; not entered.", where=at, qid=q.id)
        elif not r.note_of and q.type != "text":
            problem = tr("{where}: {qid} is a figure: enter it in the sheet “Báo cáo”; a note on "
                         "it goes on a row with item “{qid} (ghi chú)”; not entered.", where=at,
                         qid=q.id)
        else:
            fitting.append(r)
            continue
        problems.append(_at(r.sheet, r.row, problem))
    return fitting, problems


def lone_note(r: OpinionRow, tr: Tr) -> Problem:
    """A note whose figure is not in the unit's row of the sheet "Báo cáo"."""
    return _at(r.sheet, r.row, tr(
        "{where}: a note is entered with its figure: fill in {qid} in the unit's row of the "
        "sheet “Báo cáo” too; not entered.", where=where(tr, r.sheet, r.row, r.code, r.item),
        qid=r.note_of))
