"""A report returned with a comment on each row that needs a change.

The coordinator writes `/tralai TH-HALONG 4.2: chưa khớp với danh sách; 8.3: thiếu chứng từ`
(or fills a comment beside each row in the web console, which sends the same text). The
reporter sees each comment beside its row, is asked those rows first, and the review says
which comments are answered: a row is answered once its value or note differs from what it
was when the report was returned."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from conversations.context import Assignment
from conversations.forms import Form
from conversations.i18n import Tr
from conversations.session import Turn
from conversations.text_normalise import clean

# "4.2: …", "8.3 : …", "IV: …"; a part without such a head is the general reason.
_HEAD = re.compile(r"^\s*(?:(?:câu|cau|mục|muc|row)\s+)?([0-9IVXivx]+(?:\.[0-9]+)*)"
                   r"\s*[:：]\s*(.*)$", re.DOTALL)
_ROW_LIKE = re.compile(r"^\d+\.\d+$")  # an id that can only mean a row of the form
STATE_KEY = "asking_rows"


def parse_reason(reason: str, form: Form | None) -> tuple[str, dict[str, str], list[str]]:
    """(the general reason, comments by row id in form order, row ids the form lacks).

    Parts are separated by `;` or by lines; a part headed by a question id of the form and a
    colon is that row's comment, anything else is part of the general reason."""
    general: list[str] = []
    rows: dict[str, str] = {}
    unknown: list[str] = []
    for part in re.split(r"[;\n]", clean(reason)):
        part = part.strip()
        if not part:
            continue
        match = _HEAD.match(part)
        qid = match.group(1).upper() if match else ""
        comment = match.group(2).strip() if match else ""
        if match and form is not None and form.question(qid) is not None and comment:
            rows[qid] = f"{rows[qid]}; {comment}" if qid in rows else comment
        elif match and _ROW_LIKE.match(qid):
            unknown.append(qid)
        else:
            general.append(part)
    if form is not None:
        rows = dict(sorted(rows.items(), key=lambda item: form.position(item[0])))
    return "; ".join(general), rows, unknown


def comments(a: Assignment) -> Mapping[str, Mapping[str, Any]]:
    """The comments in force: only while the report is returned."""
    return a.row_comments if a.status == "returned" else {}


def answered(a: Assignment, qid: str, answers: Mapping[str, Mapping[str, Any]]) -> bool:
    """Changed since the return (its value or its note)."""
    return is_answered(comments(a).get(qid) or {}, answers.get(qid) or {})


def is_answered(at_return: Mapping[str, Any], now: Mapping[str, Any]) -> bool:
    return (now.get("value"), now.get("note") or "") != (at_return.get("value"),
                                                          at_return.get("note") or "")


def start(turn: Turn, a: Assignment) -> str | None:
    """Opening a returned report: the first commented row to ask (the others kept in the
    state, asked next, in form order); None when the return has no row comments."""
    ids = [qid for qid in comments(a) if turn.ctx.form_for(a).question(qid) is not None]
    if not ids:
        return None
    turn.state[STATE_KEY] = ids[1:]
    return ids[0]


def next_asked(turn: Turn) -> str | None:
    """After a commented row: the next one ("" once they are all asked: the review comes);
    None when no commented rows are being asked."""
    if STATE_KEY not in turn.state:
        return None
    rest = list(turn.state.get(STATE_KEY) or [])
    if not rest:
        turn.state.pop(STATE_KEY, None)
        return ""
    turn.state[STATE_KEY] = rest[1:]
    return rest[0]


def beside(turn: Turn, a: Assignment, qid: str) -> str:
    """The comment shown under the row's question."""
    row = comments(a).get(qid)
    if not row:
        return ""
    return "💬 " + turn.tr("Coordinator's comment: {comment}", comment=row.get("comment", ""))


def mark(turn: Turn, a: Assignment, qid: str,
         answers: Mapping[str, Mapping[str, Any]]) -> str:
    """A review line's end: the comment, and whether it is answered."""
    row = comments(a).get(qid)
    if not row:
        return ""
    tr = turn.tr
    state = tr("answered") if answered(a, qid, answers) else tr("not answered yet")
    return " — 💬 " + tr("comment: “{comment}” ({state})", comment=row.get("comment", ""),
                         state=state)


def review_line(turn: Turn, a: Assignment, answers: Mapping[str, Mapping[str, Any]]) -> str:
    """Under the review: how many comments are answered, and which are not yet."""
    return summary(turn.tr, comments(a), answers)


def summary(tr: Tr, rows: Mapping[str, Mapping[str, Any]],
            answers: Mapping[str, Mapping[str, Any]]) -> str:
    """How many of a return's row comments are answered, and which not yet (the review; the
    coordinator's notice when the report comes back)."""
    if not rows:
        return ""
    left = [qid for qid, row in rows.items() if not is_answered(row, answers.get(qid) or {})]
    if not left:
        return tr("Every comment of the coordinator is answered ({n}).", n=len(rows))
    return tr("Comments of the coordinator answered: {done} of {total}; not yet: {ids}.",
              done=len(rows) - len(left), total=len(rows), ids=", ".join(left))


def with_values(rows: Mapping[str, str], answers: Mapping[str, Mapping[str, Any]]
                ) -> dict[str, dict[str, Any]]:
    """What is stored for a return: each comment with the row's answer at that moment."""
    stored: dict[str, dict[str, Any]] = {}
    for qid, comment in rows.items():
        answer = answers.get(qid) or {}
        stored[qid] = {"comment": comment, "value": answer.get("value"),
                       "note": answer.get("note") or ""}
    return stored
