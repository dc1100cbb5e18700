"""The form page's rows, and its posts turned into a chat fast-entry message.

Pure: the page shows a report's form with the values stored so far; what the person changes
in a section becomes the lines "4.2 = 150 ghi chú: …" the chat reads, so the very same parser,
checks and storage handle it (bot/web/form_pages.py runs it as a message of that person)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from conversations.answer_parsing import show_value
from conversations.context import Assignment
from conversations.fast_entry import parse_entry
from conversations.forms import Form, Question
from conversations.i18n import Tr


@dataclass(frozen=True)
class Row:
    """One question as the page shows it."""

    id: str
    label: str
    unit: str
    kind: str            # the question's type
    inputmode: str       # numeric | decimal | text
    value: str           # what the field holds: the stored value, as typed in chat
    note: str
    note_allowed: bool
    previous: str        # the previous report's value, shown as a hint
    flag: str            # why a kept value is marked for checking
    comment: str         # the coordinator's comment when the report was returned
    answered: bool
    required: bool
    multiline: bool = False


@dataclass(frozen=True)
class SectionRows:
    id: str
    title: str
    rows: tuple[Row, ...]


def typed(question: Question, stored: Any, tr: Tr) -> str:
    """A stored value written as a person types it, so that posting it back changes nothing."""
    if stored is None:
        return ""
    if question.numeric:
        try:
            return tr.number(Decimal(str(stored)))
        except (ArithmeticError, ValueError):
            return str(stored)
    if question.type == "yes_no":
        return "có" if stored else "không"
    if question.type in ("date", "choice"):
        return show_value(question, stored, tr)
    return str(stored)


def _inputmode(question: Question) -> str:
    if question.type == "count":
        return "numeric"
    if question.numeric:
        return "decimal"
    return "text"


def sections(form: Form, a: Assignment, tr: Tr) -> tuple[SectionRows, ...]:
    """Every section of the unit's form with its rows, values, hints and comments."""
    language = tr.language
    shown = []
    for section in form.sections:
        rows = []
        for q in section.questions:
            answer = a.answers.get(q.id) or {}
            previous = a.previous.get(q.id)
            comment = (a.row_comments.get(q.id) or {}).get("comment", "") \
                if a.status == "returned" else ""
            rows.append(Row(
                q.id, q.label.get(language), q.unit.get(language), q.type, _inputmode(q),
                typed(q, answer.get("value"), tr) if answer else "", answer.get("note") or "",
                q.note and q.type != "text",
                show_value(q, previous, tr) if previous is not None else "",
                answer.get("flag") or "", comment, q.id in a.answers, q.required,
                multiline=q.type == "text"))
        shown.append(SectionRows(section.id, section.title.get(language), tuple(rows)))
    return tuple(shown)


def _one_line(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class SectionEntry:
    """What a section's post sends the engine: fast-entry lines for figures and choices,
    text parts one by one ("III: …", lines and all), and the rows refused before sending (a
    value, note or text the chat would read as another row)."""

    lines: tuple[str, ...] = ()
    texts: tuple[tuple[str, str], ...] = ()
    refused: tuple[str, ...] = ()

    @property
    def ids(self) -> tuple[str, ...]:
        return (*(line.split(" = ", 1)[0] for line in self.lines),
                *(qid for qid, _text in self.texts), *self.refused)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def entry(form: Form, section: SectionRows, posted: Mapping[str, str]) -> SectionEntry:
    """What changed in a section ("4.2 = 150", "8.3 = 5tr ghi chú: tiền mặt"); an emptied
    field is left as it was. Every line is read back by the chat's own fast entry first: one
    that would give any other row than its own is refused, never sent."""
    lines, texts, refused = [], [], []
    for row in section.rows:
        raw = posted.get(f"v:{row.id}", row.value).strip()
        note = _one_line(posted.get(f"n:{row.id}", row.note)) if row.note_allowed else ""
        if not raw or (_one_line(raw) == _one_line(row.value) and note == row.note):
            continue
        if row.multiline:  # a text part, its lines and all: "III: …", one message each
            text = raw.replace("\r\n", "\n")
            read = parse_entry(form, f"{row.id}: {text}")
            if read is None or read.problems or read.pairs != [(row.id, text)]:
                refused.append(row.id)
            else:
                texts.append((row.id, text))
            continue
        line = f"{row.id} = {_one_line(raw)}" + (f" ghi chú: {note}" if note else "")
        read = parse_entry(form, line)
        if read is None or read.problems or [qid for qid, _v in read.pairs] != [row.id]:
            refused.append(row.id)
        else:
            lines.append(line)
    return SectionEntry(tuple(lines), tuple(texts), tuple(refused))


def said_about(reply: str, qid: str) -> list[str]:
    """The reply's lines that name this row ("• 4.1: “3”, 4.2: “1” — …"), shown beside it."""
    named = re.compile(rf"(?<![\w.]){re.escape(qid)}(?!\w|\.\d)")
    return [line.lstrip("• ").strip() for line in reply.splitlines() if named.search(line)]
