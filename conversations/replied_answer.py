"""A reply to a question's message answers that question (Telegram's reply_to_message): a
person who scrolls up and replies to 2.1 while 2.3 is asked means 2.1. The value is stored
under 2.1, acknowledged with its id, and the current question is asked again."""

from __future__ import annotations

from conversations import report_flow as flow
from conversations.answer_parsing import AnswerError, error_text, parse_answer
from conversations.context import Assignment
from conversations.fast_entry import parse_append, parse_entry
from conversations.forms import Question
from conversations.session import Turn
from conversations.text_normalise import fold
from conversations.vetting import Candidate, vet


def replied_question(turn: Turn, a: Assignment) -> Question | None:
    """The question of this report the typed message replies to, when it is not the current
    one; None when the message is no such reply, or says itself what it is about (a shortcut
    word, `2.3 = 5`, `thêm: …`)."""
    replied = turn.ctx.replied
    current = turn.state.get("question")
    if replied is None or replied.step != "answering" or replied.assignment != a.key \
            or not replied.question or replied.question == current \
            or turn.event.kind != "text":
        return None
    form = flow._form(turn, a)
    q = form.question(replied.question)
    text = turn.event.text
    folded = fold(text).strip(" .!?")
    if q is None or folded in flow.SHORTCUT_WORDS or folded in flow.KEEP_WORDS \
            or parse_append(text) is not None or parse_entry(form, text):
        return None
    return q


def answer_replied(turn: Turn, a: Assignment, q: Question) -> None:
    """Store the typed value under `q` (vetted as any answer), say so with its id, and ask the
    current question again; nothing is stored when it does not read as an answer to `q`."""
    tr = turn.tr
    current = turn.state["question"]
    form = flow._form(turn, a)
    try:
        parsed = parse_answer(q, turn.event.text, a.starts_at.year)
    except AnswerError as error:
        flow.ask(turn, a, current, prefix=tr(
            "Nothing was saved for {qid} (the question you replied to): {problem}",
            qid=q.id, problem=error_text(q, error, tr)))
        return
    vetted = vet(turn, a, form, [Candidate(q.id, parsed)], flow._answers(turn, a))
    if vetted.refused:
        flow.ask(turn, a, current, prefix=f"{q.id}: "
                 + flow._refused_text(turn, vetted.refused[0][1]))
        return
    if vetted.pending:  # asked back first; then back to the current question
        turn.state["pending"] = vetted.pending
        turn.state["after_confirm"] = "next"
        flow._confirm_next(turn, a)
        return
    flow._save(turn, a, vetted.accepted)
    ack = flow._single_ack(turn, a, q, parsed, plain=not vetted.flagged)
    if vetted.flagged:
        ack = "\n".join(x for x in (ack, flow._flagged_line(turn, a, vetted.accepted)) if x)
    flow.ask(turn, a, current, ack=ack)
