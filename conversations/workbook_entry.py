"""Spreadsheets sent back to the bot: a unit's own template (`/excel`), read like a pasted
report, and a coordinator's table of units (the XLSX export layout) entering the reports of
units that sent paper, on their behalf.

Every cell is named in the reply as the person sees it ("C14 (4.2)"). A value lands in the
row it was meant for or nowhere: a template is matched to its unit, period and form version by
the identifiers the bot hid in it, a table's rows by the unit code and its columns by the
"4.2. label" headers, never by position.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any

from conversations import paper_opinions, report_flow
from conversations.answer_parsing import AnswerError, Parsed, error_text, excerpt, parse_cell
from conversations.context import Assignment
from conversations.coordinator_commands import is_coordinator
from conversations.events import FetchFile, SaveAnswers, Submit
from conversations.forms import Form
from conversations.session import Turn
from conversations.text_normalise import fold
from conversations.uploaded_workbook import (
    EXPORT_KIND,
    MAX_FILE_BYTES,
    META_SHEET,
    TEMPLATE_KIND,
    SheetRows,
    UploadedWorkbook,
    column_letter,
)
from conversations.vetting import Candidate, same_answer, vet
from conversations.workbook_problems import formulas_text, problem_text

# The template's columns (1-based): the question id, the value, the note.
ID_COLUMN, VALUE_COLUMN, NOTE_COLUMN = 1, 3, 5
UNIT_CODE_HEADER = "ma don vi"  # "Mã đơn vị", folded: the export's first header
_QUESTION_HEADER = re.compile(r"^\s*(?P<id>\S+?)\.\s+\S")
ON_BEHALF_NOTE = "Nhập thay đơn vị (báo cáo giấy)"


# ----------------------------------------------------------------------------- receiving

def document(turn: Turn) -> None:
    """A file sent in the chat: an .xlsx of at most 20 MB is fetched and read; anything else
    is refused with what is expected."""
    tr, event = turn.tr, turn.event
    suffix = PurePosixPath(event.file_name.lower()).suffix
    if suffix == ".xls":
        turn.note(tr("“{name}” is in the old Excel format (.xls). Please open it in Excel and "
                     "save it as “Excel Workbook (.xlsx)”, then send it again.",
                     name=excerpt(event.file_name, 40)))
        return
    if suffix != ".xlsx":
        turn.note(tr("I can only read Excel files (.xlsx): the report template (send /excel "
                     "to get it) filled in and sent back."))
        return
    if event.file_size > MAX_FILE_BYTES:
        turn.note(_too_big(turn, event.file_size))
        return
    turn.effect(FetchFile(event.payload, event.file_name, event.file_size))


def _too_big(turn: Turn, size: int) -> str:
    mb = max(1, round(size / (1024 * 1024)))
    return turn.tr("The file is {size} MB; the bot can receive at most 20 MB. The report "
                   "template is much smaller: please send only that file.", size=mb)


def received(turn: Turn) -> None:
    """The file, read by the shell: a unit's template, or a coordinator's table of units."""
    tr = turn.tr
    upload = turn.ctx.upload
    if upload is None or upload.problem:
        turn.note(problem_text(tr, upload or UploadedWorkbook("", "lost")))
        return
    if upload.formulas:
        turn.note(formulas_text(tr, upload))
    if upload.kind == TEMPLATE_KIND:
        _template(turn, upload)
        return
    if tables(upload) and upload.kind in ("", EXPORT_KIND):
        if is_coordinator(turn):
            _on_behalf(turn, upload)
        else:
            turn.note(tr("This file lists several units (a coordinator's export). Only "
                         "coordinators can enter reports for other units. Send /excel to get "
                         "the template of your own report."))
        return
    turn.note(tr("This file is not a report template made by the bot, so I cannot tell which "
                 "report it belongs to. Nothing was saved. Send /excel to get the template of "
                 "your report, fill it in and send it back."))


# ----------------------------------------------------------------------------- a unit's template

def _template(turn: Turn, upload: UploadedWorkbook) -> None:
    tr, meta = turn.tr, upload.meta
    code = meta.get("unit", "")
    mine = [a for a in turn.ctx.assignments if a.unit.code == code]
    if not mine:
        unit_name = meta.get("unit_name", "")  # the shell's: the unit's name in the database
        if unit_name:
            turn.note(tr("This file is the template of {unit} ({code}), which is not a unit "
                         "you report for. Nothing was saved. Send /excel to get the template "
                         "of your own report.", unit=unit_name, code=code))
        else:
            turn.note(tr("This file is the template of a unit you do not report for. Nothing "
                         "was saved. Send /excel to get the template of your own report."))
        return
    unit_name = mine[0].unit.name
    period_id = meta.get("period_id", "")
    a = next((x for x in mine if str(x.period_id) == period_id), None)
    if a is None:
        turn.note(tr("This file is for the report “{period}” of {unit}, which is not open "
                     "now. Nothing was saved. Send /excel to get the template of the current "
                     "report.", period=meta.get("period", "") or period_id, unit=unit_name))
        return
    made_with = f"{meta.get('form', '')}@{meta.get('form_version', '')}"
    if made_with != a.form_key:
        form = turn.ctx.form_for(a)
        turn.note(tr("This file was made from another version of the report form (version "
                     "{old}); the report of {unit} now uses version {new}, whose rows may "
                     "differ. Nothing was saved: send /excel to get the new template and copy "
                     "your figures into it.", old=meta.get("form_version", "?"),
                     unit=a.unit.name, new=form.version))
        return
    if turn.state.get("assignment") != a.key or turn.state.get("step") not in (
            "answering", "reviewing", "confirming"):
        report_flow._enter(turn, a)  # noqa: SLF001 - the same flow, entered from a file
    current = report_flow._current(turn)  # noqa: SLF001 - closed or accepted: it says so
    if current is None:
        return
    if a.status == "submitted":
        turn.state["step"] = "reviewing"
    elif turn.state.get("step") == "confirming":
        turn.state.pop("pending", None)
        turn.state["step"] = "answering"
    form = turn.ctx.form_for(a)
    sheet = upload.sheet(meta.get("sheet", "")) or next(
        (s for s in upload.sheets if not s.hidden and s.name != META_SHEET), None)
    header_row = _int(meta.get("header_row"), 0)
    candidates: list[Candidate] = []
    problems: list[str] = []
    refused: list[str] = []
    seen: dict[str, int] = {}
    for row, values in (sheet.rows if sheet else ()):
        if row <= header_row:
            continue
        qid = _text(_cell(values, ID_COLUMN))
        value, note = _cell(values, VALUE_COLUMN), _cell(values, NOTE_COLUMN)
        value_ref = f"{column_letter(VALUE_COLUMN)}{row}"
        q = form.question(qid) or form.question(qid.upper()) if qid else None
        if q is None:
            if _filled(value) or _filled(note):
                ref = value_ref if _filled(value) else f"{column_letter(NOTE_COLUMN)}{row}"
                if qid:
                    problems.append("• " + tr("{cell} ({qid}): this report has no question "
                                              "{qid}; not saved.", cell=ref, qid=qid))
                else:
                    problems.append("• " + tr("{cell}: this row is not a question of the "
                                              "report; not saved.", cell=ref))
            continue
        origin = f"{value_ref} ({q.id})"
        if q.id in seen:
            problems.append("• " + tr("{cell}: question {qid} appears twice in the file "
                                      "(rows {first} and {row}); only row {first} was read.",
                                      cell=origin, qid=q.id, first=seen[q.id], row=row))
            continue
        seen[q.id] = row
        if not _filled(value):
            if _filled(note):
                problems.append("• " + tr("{cell}: a note without a figure; not saved.",
                                          cell=f"{column_letter(NOTE_COLUMN)}{row} ({q.id})"))
            continue
        try:
            parsed = parse_cell(q, value, a.year, _text(note))
        except AnswerError as error:
            problems.append(f"• {origin}: “{excerpt(_shown_cell(value))}” — "
                            f"{error_text(q, error, tr)}")
            refused.append(q.id)
            continue
        candidates.append(Candidate(q.id, parsed, origin, _shown_cell(value)))
    lines = [tr("From the file “{name}” ({unit}):", name=excerpt(upload.file_name, 40),
                unit=a.unit.name)]
    ignored = [s.name for s in upload.sheets
               if s is not sheet and not s.hidden and s.name != META_SHEET and s.rows]
    if ignored:
        lines.append(tr("Only the sheet “{sheet}” is read; not read: {others}.",
                        sheet=sheet.name if sheet else "", others=", ".join(
                            f"“{n}”" for n in ignored)))
    if not candidates and not problems:
        lines.append(tr("No figure was filled in."))
    report_flow.store_values(
        turn, a, candidates, problems, refused, template=True, by_cell=True,
        then_review=True, head="\n".join(lines),
        problems_head=tr("Not saved (correct these cells and send the file again, or type "
                         "the answers here):"))


# ------------------------------------------------------------------------ a coordinator's table

@dataclass
class Table:
    """The units table of one sheet: where the unit codes and the question columns are."""

    sheet: SheetRows
    header_row: int
    code_column: int                                         # 1-based
    questions: dict[int, str] = field(default_factory=dict)  # column → question id


def tables(upload: UploadedWorkbook) -> list[Table]:
    """Every sheet with a "Mã đơn vị" header: its header row, code and question columns."""
    found = []
    for sheet in upload.sheets:
        if sheet.hidden:
            continue
        for row, values in sheet.rows[:30]:
            folded = [fold(str(v)).strip() if isinstance(v, str) else "" for v in values]
            if UNIT_CODE_HEADER not in folded:
                continue
            table = Table(sheet, row, folded.index(UNIT_CODE_HEADER) + 1)
            for index, value in enumerate(values, start=1):
                match = _QUESTION_HEADER.match(value) if isinstance(value, str) else None
                if match:
                    table.questions[index] = match.group("id")
            found.append(table)
            break
    return found


def table_codes(upload: UploadedWorkbook) -> list[str]:
    """The unit codes a coordinator's table names, for the shell to load (within scope)."""
    codes: dict[str, None] = {}
    for table in tables(upload):
        for row, values in table.sheet.rows:
            if row > table.header_row:
                code = _text(_cell(values, table.code_column))
                if code:
                    codes[code] = None
    codes.update(dict.fromkeys(paper_opinions.codes(upload)))
    return list(codes)


@dataclass
class _UnitEntry:
    report: Assignment
    candidates: list[Candidate] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _on_behalf(turn: Turn, upload: UploadedWorkbook) -> None:
    """Enter the reports of the units a coordinator's table fills in: only units in their
    scope, only values that differ from what is stored, refused per cell where wrong; each
    unit's report stored as entered by the coordinator on its behalf, and submitted when
    complete."""
    tr = turn.tr
    target = turn.ctx.on_behalf
    if target is None or target.problem or not target.reports:
        if target is not None and target.problem == "several_periods":
            turn.note(tr("Several reports are open for the units in this file, and the file "
                         "does not say which one it is for. Nothing was entered: please fill "
                         "in the file that /xuat sends for that report."))
        else:
            turn.note(tr("None of the units in this file has a report open in your area. "
                         "Nothing was entered."))
        return
    reports = {a.unit.code: a for a in target.reports}
    opinions = paper_opinions.read(upload, tr)
    entries: dict[str, _UnitEntry] = {}
    outside: dict[str, str] = {}
    for table in tables(upload):
        for row, values in table.sheet.rows:
            if row <= table.header_row:
                continue
            code = _text(_cell(values, table.code_column))
            if not code:
                continue
            a = reports.get(code)
            if a is None:
                outside.setdefault(code, f"{column_letter(table.code_column)}{row}")
                continue
            entry = entries.setdefault(code, _UnitEntry(a))
            form = turn.ctx.form_for(a)
            for column, qid in table.questions.items():
                value = _cell(values, column)
                if not _filled(value):
                    continue
                ref = f"{column_letter(column)}{row} ({code}, {qid})"
                q = form.question(qid)
                if q is None:
                    entry.problems.append("• " + tr("{cell}: the report of {unit} has no "
                                                    "question {qid}; not entered.", cell=ref,
                                                    unit=a.unit.name, qid=qid))
                    continue
                entry.candidates.append(_candidate(turn, a, q.id, value, ref, entry, "",
                                                   form))
    forms = {code: turn.ctx.form_for(a) for code, a in reports.items()}
    fitting, sheet_problems = paper_opinions.check(opinions.rows, reports, forms, tr)
    notes: dict[tuple[str, str], paper_opinions.OpinionRow] = {}
    for r in fitting:
        entry = entries.setdefault(r.code, _UnitEntry(reports[r.code]))
        if r.note_of:
            notes[(r.code, r.note_of)] = r
            continue
        q = forms[r.code].question(r.item)
        assert q is not None
        entry.candidates.append(_candidate(turn, entry.report, q.id, r.text,
                                           f"{r.ref} ({r.code}, {q.id})", entry, "",
                                           forms[r.code]))
    for (code, qid), r in notes.items():  # notes ("4.2 (ghi chú)") join their figures
        entry = entries[code]
        figure = next((c for c in entry.candidates if c.qid == qid), None)
        if figure is None:
            sheet_problems.append(paper_opinions.lone_note(r, tr))
        elif figure.parsed is not None and not figure.parsed.note:
            figure.parsed = replace(figure.parsed, note=excerpt(_text(r.text), 2000))
    _enter_reports(turn, upload, entries, outside,
                   paper_opinions.in_order(opinions.problems + sheet_problems))


def _candidate(turn: Turn, a: Assignment, qid: str, value: Any, ref: str, entry: _UnitEntry,
               note: str, form: Form) -> Candidate:
    q = form.question(qid)
    assert q is not None
    try:
        parsed: Parsed | None = parse_cell(q, value, a.year, note)
    except AnswerError as error:
        entry.problems.append(f"• {ref}: “{excerpt(_shown_cell(value))}” — "
                              f"{error_text(q, error, turn.tr)}")
        parsed = None
    return Candidate(qid, parsed, ref, _shown_cell(value))  # type: ignore[arg-type]


def _enter_reports(turn: Turn, upload: UploadedWorkbook, entries: dict[str, _UnitEntry],
                   outside: dict[str, str], sheet_problems: Sequence[str] = ()) -> None:
    tr = turn.tr
    done: list[str] = []
    problems: list[str] = []
    unchanged = 0
    for code, entry in entries.items():
        a = entry.report
        form = turn.ctx.form_for(a)
        before = {k: dict(v) for k, v in a.answers.items()}
        fresh = [c for c in entry.candidates
                 if c.parsed is not None and not same_answer(before.get(c.qid), c.parsed)]
        if not fresh and not entry.problems:
            unchanged += 1
            continue
        if a.status in ("submitted", "accepted") and fresh:
            problems.append("• " + tr("{unit} ({code}): its report was already submitted by "
                                      "the unit itself, so its row was not entered. To change "
                                      "it, return it first with /tralai.", unit=a.unit.name,
                                      code=code))
            continue
        problems.extend(entry.problems)
        vetted = vet(turn, a, form, fresh, before, ask=False)
        problems.extend(report_flow.refusal_lines(vetted.refused))
        if not vetted.accepted:
            continue
        turn.effect(SaveAnswers(a.period_id, a.unit.code, a.form_key, vetted.accepted))
        merged = {**before, **vetted.accepted}
        missing = [q.id for q in form.questions
                   if q.required and (merged.get(q.id) or {}).get("value") is None]
        broken = report_flow.broken_hard_rules(turn, form, merged)
        line = tr.plural("{unit} ({code}): {n} answer entered", "{unit} ({code}): {n} answers "
                         "entered", len(vetted.accepted), unit=a.unit.name, code=code)
        if vetted.flagged:
            line += "; " + tr("marked “cần kiểm tra”: {ids}", ids=", ".join(vetted.flagged))
        if missing or broken or a.locked(turn.received_at):
            reason = (tr("no answer yet for {ids}", ids=", ".join(missing)) if missing
                      else "; ".join(broken) if broken
                      else tr("the report is closed"))
            line += "; " + tr("kept as a draft ({reason}).", reason=reason)
        else:
            turn.effect(Submit(a.period_id, a.unit.code, a.form_key, at=turn.received_at,
                               on_behalf=True))
            on_time = a.on_time if a.on_time is not None else turn.received_at < a.deadline
            line += "; " + (tr("submitted on its behalf, on time.") if on_time
                            else tr("submitted on its behalf, late."))
        done.append("• " + line)
    lines = [tr("From the file “{name}”:", name=excerpt(upload.file_name, 40))]
    if done:
        lines.append(tr("Reports entered on behalf of the units (recorded as entered by you):"))
        lines.extend(done)
    else:
        lines.append(tr("No report was entered."))
    if unchanged:
        lines.append(tr.plural("{n} unit's row is as stored: unchanged.",
                               "{n} units' rows are as stored: unchanged.", unchanged))
    for code, ref in outside.items():
        problems.append("• " + tr("{cell} ({code}): not among the units you coordinate (or an "
                                  "unknown code); nothing entered for it.", cell=ref,
                                  code=code))
    problems.extend(sheet_problems)
    if problems:
        lines.append(tr("Not entered:"))
        lines.extend(problems)
    turn.note("\n".join(lines))


# ----------------------------------------------------------------------------- cells

def _cell(values: Sequence[Any], column: int) -> Any:
    return values[column - 1] if 0 < column <= len(values) else None


def _filled(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _int(value: Any, default: int) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


def _shown_cell(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
