"""Corrections of a submitted report that are not sent yet ("pending"): they live in the
conversation state, not in the report, until "Nộp lại báo cáo". Kept here so `/huy`, `/trangthai`
and reopening the report all see the same ones, and none is ever dropped without the person
saying so."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conversations.context import Assignment
from conversations.events import Button
from conversations.session import Turn

KEPT = "kept_edits"  # assignment key -> {question id: stored answer}, while no report is open
KEEP_TOKEN = "edits:keep"
DROP_TOKEN = "edits:drop"


def changed(a: Assignment, edits: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The edits that differ from what the coordinator sees (a submitted report only)."""
    if a.status != "submitted" or not edits:
        return {}
    return {k: dict(v) for k, v in edits.items() if dict(a.answers.get(k) or {}) != dict(v)}


def pending_by_report(state: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every report's corrections not sent yet: the open report's and those kept after /huy."""
    found = {key: dict(edits) for key, edits in (state.get(KEPT) or {}).items()}
    if state.get("assignment") and state.get("edits"):
        found[state["assignment"]] = dict(state["edits"])
    return found


def kept_only(state: Mapping[str, Any]) -> dict[str, Any]:
    """What a state reset must carry over: the corrections kept for later."""
    kept = state.get(KEPT)
    return {KEPT: dict(kept)} if kept else {}


def ids_text(turn: Turn, a: Assignment, edits: Mapping[str, Any]) -> str:
    form = turn.ctx.forms[a.form_key]
    return ", ".join(sorted(edits, key=form.position))


def keep_on_cancel(turn: Turn, a: Assignment, edits: dict[str, dict[str, Any]]) -> None:
    """`/huy` in a correction: the corrections are kept (never silently dropped) and the person
    is asked whether to keep them for later or discard them; any other message keeps them."""
    tr = turn.tr
    kept = dict(turn.state.get(KEPT) or {})
    kept[a.key] = edits
    turn.state[KEPT] = kept
    turn.state["kept_asked"] = a.key
    turn.say(tr("Stopped. The corrections of {unit} not submitted yet ({ids}) are still kept; "
                "the coordinator sees the submitted report. Keep them to submit later, or "
                "discard them?", unit=a.unit.name, ids=ids_text(turn, a, edits)),
             buttons=(Button(KEEP_TOKEN, tr("Keep to submit later")),
                      Button(DROP_TOKEN, tr("Discard the corrections"))))


def ask_about_kept(turn: Turn) -> bool:
    """`/huy` with no report open but corrections kept: the same question again."""
    for key, edits in (turn.state.get(KEPT) or {}).items():
        a = turn.ctx.assignment(key)
        kept = changed(a, edits) if a is not None else {}
        if a is not None and kept:
            keep_on_cancel(turn, a, kept)
            return True
    return False


def answer_cancel_question(turn: Turn, token: str | None) -> bool:
    """The reply to the question `/huy` asked; True if it was one."""
    key = turn.state.get("kept_asked")
    if not key or token not in (KEEP_TOKEN, DROP_TOKEN):
        return False
    tr = turn.tr
    turn.state.pop("kept_asked", None)
    kept = dict(turn.state.get(KEPT) or {})
    a = turn.ctx.assignment(key)
    if token == DROP_TOKEN:
        kept.pop(key, None)
        _store(turn, kept)
        turn.say(tr("The corrections were discarded; the submitted report is unchanged."))
        return True
    edits = changed(a, kept.get(key)) if a is not None else {}
    if a is None or not edits:
        turn.say(tr("There is no correction left to keep. Send /baocao to see what is due."))
        return True
    turn.say(tr("The corrections of {unit} ({ids}) are kept, not sent yet. To send them, send "
                "/baocao and press “Submit again”.", unit=a.unit.name,
                ids=ids_text(turn, a, edits)))
    return True


def restore(turn: Turn, a: Assignment) -> None:
    """Reopening a report: its kept corrections come back as the pending ones. A report
    returned meanwhile takes them as its answers (it is open again); an accepted one cannot."""
    kept = dict(turn.state.get(KEPT) or {})
    edits = kept.pop(a.key, None)
    _store(turn, kept)
    if not edits:
        return
    if a.status == "submitted":
        turn.state["edits"] = edits
        return
    tr = turn.tr
    ids = ids_text(turn, a, edits)
    if a.status == "returned":
        from conversations.events import SaveAnswers

        turn.saved.update(edits)
        turn.effect(SaveAnswers(a.period_id, a.unit.code, a.form_key, dict(edits)))
        turn.note(tr("The corrections kept earlier ({ids}) were saved in the report returned "
                     "to you; check them before submitting it again.", ids=ids))
    else:
        turn.note(tr("The corrections kept earlier ({ids}) were not sent: the report can no "
                     "longer be changed here.", ids=ids))


def _store(turn: Turn, kept: dict[str, Any]) -> None:
    if kept:
        turn.state[KEPT] = kept
    else:
        turn.state.pop(KEPT, None)
