"""A yes typed with the plan's number ("có, số 12/KH-UBND ngày 15/9", issue 22): where the
form asks for that number in the row after the yes/no (the commune form's 1.1 and 1.2), the
number goes there; otherwise it stays in the yes's note. Nothing typed is thrown away."""

from __future__ import annotations

import re
from dataclasses import replace

from conversations.answer_parsing import AnswerError, parse_answer
from conversations.forms import Form, Question
from conversations.vetting import Candidate

__all__ = ["details_row", "spread_details"]

_DIGIT = re.compile(r"\d")


def details_row(form: Form, q: Question) -> Question | None:
    """The text row right after the yes/no ``q`` in its section, which takes its details."""
    if q.type != "yes_no":
        return None
    rows = form.section_of(q.id).questions
    ids = [row.id for row in rows]
    following = rows[ids.index(q.id) + 1] if ids.index(q.id) + 1 < len(rows) else None
    return following if following is not None and following.type == "text" else None


def spread_details(form: Form, candidates: list[Candidate], year: int) -> list[Candidate]:
    """The candidates with a yes's number and date moved to the row that asks for them, unless
    that row is answered in the same message. A "no" keeps its details ("chưa, dự kiến tuần
    sau") in its note, as does a yes whose details have no number or date in them."""
    out = list(candidates)
    given = {c.qid for c in candidates}
    for index, c in enumerate(candidates):
        q = form.question(c.qid)
        details = c.parsed.details
        if q is None or c.parsed.value is not True or not _DIGIT.search(details):
            continue
        row = details_row(form, q)
        if row is None or row.id in given:
            continue
        try:
            parsed = parse_answer(row, details, year)
        except AnswerError:
            continue
        note = c.parsed.note.removeprefix(details).removeprefix("; ")
        out[index] = replace(c, parsed=replace(c.parsed, note=note, details=""))
        out.append(Candidate(row.id, parsed, typed=details))
        given.add(row.id)
    return out
