"""Answering a task check-in ("Đã xong" / "Chưa") from a reminder, without leaving the form."""

from __future__ import annotations

from datetime import timedelta

from conversations.events import Button, RecordTaskCheckin
from conversations.session import Turn
from conversations.text_normalise import fold
from conversations.yes_no import parse_yes_no

ANSWER_WINDOW = timedelta(days=7)  # a typed answer is for tasks due within a week
DONE_WORDS = frozenset({"da xong", "xong", "xong roi", "done", "roi"})
NOT_YET_WORDS = frozenset({"chua", "chua xong", "not yet"})
TASK_WORDS = DONE_WORDS | NOT_YET_WORDS | {"co", "khong"}  # words that may answer a check-in


def handle_token(turn: Turn, token: str) -> bool:
    """`task:<task>:<unit>:y|n` from a reminder's button; False if it is no such token."""
    parts = token.split(":")
    if len(parts) != 4 or parts[0] != "task" or not parts[1].isdigit() or not parts[2].isdigit():
        return False
    task = next((t for t in turn.ctx.open_tasks
                 if t.task_id == int(parts[1]) and t.unit_id == int(parts[2])), None)
    if task is None:
        turn.say(turn.tr("This task is no longer open for your unit."))
        return True
    _record(turn, task.task_id, task.unit_id, parts[3] == "y")
    return True


def handle_words(turn: Turn) -> bool:
    """A typed "đã xong" / "chưa" when a task is waiting for an answer (text-only channels)."""
    if turn.event.kind != "text" or turn.state.get("step", "idle") != "idle":
        return False
    waiting = [t for t in turn.ctx.open_tasks
               if t.done is None and t.due_at - ANSWER_WINDOW <= turn.now]
    if not waiting:
        return False
    folded = fold(turn.event.text).strip(" .!?")
    done = True if folded in DONE_WORDS else False if folded in NOT_YET_WORDS else None
    if done is None:
        done = parse_yes_no(turn.event.text) if folded in ("co", "khong") else None
    if done is None:
        return False
    if len(waiting) == 1:
        _record(turn, waiting[0].task_id, waiting[0].unit_id, done)
        return True
    flag = "y" if done else "n"
    turn.say(turn.tr("Which task do you mean?"), buttons=tuple(
        Button(f"task:{t.task_id}:{t.unit_id}:{flag}",
               f"{t.title.get(turn.tr.language)} — {t.unit_name}") for t in waiting))
    return True


def _record(turn: Turn, task_id: int, unit_id: int, done: bool) -> None:
    tr = turn.tr
    task = next(t for t in turn.ctx.open_tasks if t.task_id == task_id and t.unit_id == unit_id)
    turn.effect(RecordTaskCheckin(task_id, unit_id, done))
    title = task.title.get(tr.language)
    text = (tr("Noted: “{task}” is done for {unit}. Thank you!", task=title, unit=task.unit_name)
            if done else
            tr("Noted: “{task}” is not done yet for {unit}. You can answer again once it is.",
               task=title, unit=task.unit_name))
    if turn.state.get("step") in ("answering", "confirming", "reviewing"):
        text += "\n" + tr("Your report is where you left it; send your next answer to go on.")
    turn.note(text)
