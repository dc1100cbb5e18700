"""Filling in a report: choose it, answer question by question, by sections or with a
template of the whole form, review, submit."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from conversations import corrections, row_comments
from conversations.answer_parsing import (
    ESTIMATE_NOTE,
    MAX_TEXT,
    AnswerError,
    Parsed,
    button_answer,
    error_text,
    excerpt,
    expected_answer,
    parse_answer,
    show_value,
)
from conversations.checks import numeric_answers
from conversations.context import Assignment
from conversations.deadlines import deadline_text
from conversations.entry_problems import SET_ASIDE, set_aside
from conversations.events import Button, SaveAnswers, SendWorkbook, Submit
from conversations.fast_entry import (
    EntryProblem,
    FastEntry,
    example_line,
    example_section,
    example_values,
    parse_append,
    parse_entry,
    short_label,
)
from conversations.forms import Form, Question
from conversations.report_titles import report_title
from conversations.session import Turn
from conversations.text_normalise import fold
from conversations.vetting import (
    ASKED_EVERY_TIME,
    Candidate,
    confirm_text,
    flag_text,
    same_answer,
    vet,
)
from conversations.web_app import form_button
from conversations.yes_no import parse_yes_no
from conversations.yes_no_details import spread_details

REVIEW_TEXT_WIDTH = 80
# Acknowledgements quote a text answer this long at most; a list this long shows ids only.
ACK_TEXT_WIDTH = 40
ACK_LIST_VALUES = 8
# A text this long may have been cut by the messenger: say how to add the rest.
LONG_TEXT_HINT = 3500
# One message gets one reply of a readable size, however long the message.
PROBLEMS_SHOWN = 10
QUOTED_WIDTH = 40
SHORTCUT_WORDS: dict[str, str] = {
    "bo qua": "skip",
    "boqua": "skip",
    "skip": "skip",
    "quay lai": "back",
    "back": "back",
    "0 cho ca muc nay": "zero",
    "0 ca muc": "zero",
    "0 ca muc nay": "zero",
    "0 for this section": "zero",
    "0 for the whole section": "zero",
    "nop": "submit",
    "nop bao cao": "submit",
    "nop lai": "submit",
    "nop lai bao cao": "submit",
    "gui bao cao": "submit",
    "gui lai": "submit",
    "submit": "submit",
    "resubmit": "submit",
    "xem lai": "review",
    "review": "review",
    "tra loi tiep": "continue",
    "tiep tuc": "continue",
    "continue": "continue",
    "nhap lai": "retype",
    "retype": "retype",
    "lay so lieu": "consolidate",
    "lay so lieu tong hop": "consolidate",
    "tong hop so lieu": "consolidate",
    "giu nguyen": "keep",
    "giu": "keep",
    "van the": "keep",
    "nhu cu": "keep",
    "keep": "keep",
    "tiep": "keep",
    "next": "keep",
    "mau": "template",
    "mau dien nhanh": "template",
    "template": "template",
    "excel": "excel",
    "tep excel": "excel",
    "file excel": "excel",
}
OPEN_STATUSES = ("none", "draft", "returned")  # a report that can still take answers
# After "Quay lại", these keep the answer shown and move on ("ok" only where one is shown:
# at a yes/no question without an answer it still means yes).
KEEP_WORDS = frozenset({"ok", "oke", "okay", "dung roi", "dung"})


# ----------------------------------------------------------------------------- helpers

def offered_token(turn: Turn) -> str | None:
    """The button a press or a typed number/label selects, if any."""
    event = turn.event
    if event.kind == "button":
        return event.payload
    if event.kind != "text":
        return None
    folded = fold(event.text).strip(" .!?")
    offered = turn.state.get("offered") or []
    answers = [token for token, _label, shortcut in offered if not shortcut]
    # A choice has a few digits; a 10,000-digit paste is an answer to read, never an int().
    if folded.isdecimal() and len(folded) <= len(str(len(answers))) and answers:
        index = int(folded)
        if 1 <= index <= len(answers):
            return answers[index - 1]
    for token, label, _shortcut in offered:
        if folded == fold(label).strip(" .!?"):
            return token
    return SHORTCUT_WORDS.get(folded)


def expects_free_text(turn: Turn) -> bool:
    """At a free-text question a lone word like 'huy' may be the answer itself."""
    if turn.state.get("step") != "answering":
        return False
    a = turn.ctx.assignment(turn.state.get("assignment"))
    q = _form(turn, a).question(turn.state.get("question", "")) if a else None
    return q is not None and q.type == "text"


def _form(turn: Turn, a: Assignment) -> Form:
    return turn.ctx.form_for(a)


def _answers(turn: Turn, a: Assignment) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {k: dict(v) for k, v in a.answers.items()}
    merged.update(turn.state.get("edits") or {})
    merged.update(turn.saved)
    return merged


def _unanswered(turn: Turn, a: Assignment) -> list[Question]:
    answers = _answers(turn, a)
    return [q for q in _form(turn, a).questions if q.id not in answers]


def _missing_required(turn: Turn, a: Assignment) -> list[Question]:
    answers = _answers(turn, a)
    return [q for q in _form(turn, a).questions
            if q.required and (answers.get(q.id) or {}).get("value") is None]


def _open(turn: Turn) -> list[Assignment]:
    return [a for a in turn.ctx.assignments
            if a.starts_at <= turn.now and not a.locked(turn.received_at)]


def _clip(raw: str) -> str:
    """A value the person sent, quoted back no longer than QUOTED_WIDTH."""
    return raw if len(raw) <= QUOTED_WIDTH else raw[: QUOTED_WIDTH - 1].rstrip() + "…"


def _title(turn: Turn, a: Assignment) -> str:
    return report_title(turn.ctx, turn.tr, a)


def _several_units(turn: Turn) -> bool:
    """Whether replies must say which unit they are about."""
    units = {u.code for u in turn.ctx.contact.units} if turn.ctx.contact else set()
    units |= {a.unit.code for a in turn.ctx.assignments}
    return len(units) > 1


def _pending(turn: Turn, a: Assignment) -> dict[str, dict[str, Any]]:
    """Corrections of a submitted report that differ from what the coordinator sees."""
    return corrections.changed(a, turn.state.get("edits"))


def _save(turn: Turn, a: Assignment, answers: dict[str, dict[str, Any]]) -> None:
    if not answers or a.status == "accepted":
        return
    if a.status == "submitted":
        edits = dict(turn.state.get("edits") or {})
        edits.update(answers)
        turn.state["edits"] = edits
        return
    turn.saved.update(answers)
    turn.effect(SaveAnswers(a.period_id, a.unit.code, a.form_key, dict(answers)))


def _clear(turn: Turn) -> None:
    """A fresh state: the language and the corrections kept for later survive it."""
    language = turn.state.get("language")
    kept = corrections.kept_only(turn.state)
    turn.state.clear()
    turn.state.update(kept)
    if language:
        turn.state["language"] = language


def _reset(turn: Turn) -> None:
    _clear(turn)
    turn.state["step"] = "idle"


def _current(turn: Turn) -> Assignment | None:
    a = turn.ctx.assignment(turn.state.get("assignment"))
    if a is None:
        _reset(turn)
        turn.say(turn.tr("This report is no longer open. Send /baocao to see what is due."))
        return None
    if a.locked(turn.received_at):
        _reset(turn)
        turn.say(turn.tr("This report was closed on {time}; no more answers are accepted. "
                         "Please contact your coordinator if something must still change.",
                         time=turn.tr.datetime(a.closes_at(), a.timezone)))  # type: ignore[arg-type]
        return None
    if a.status == "accepted":
        _reset(turn)
        turn.say(_accepted_text(turn, a))
        return None
    return a


def _accepted_text(turn: Turn, a: Assignment) -> str:
    return turn.tr("The report {campaign} of {unit} has been accepted by your coordinator, so it "
                   "can no longer be changed here. If something must still change, please ask "
                   "them to return it for correction.",
                   campaign=a.campaign_title.get(turn.tr.language), unit=a.unit.name)


def _shown(turn: Turn, q: Question, stored: dict[str, Any]) -> str:
    """`4.2 = 150 người`, a text as its first words, a note after a dash."""
    tr = turn.tr
    shown = show_value(q, stored.get("value"), tr)
    if q.type == "text":
        shown = excerpt(shown, ACK_TEXT_WIDTH)
    if stored.get("note"):
        shown += " (" + tr("note: {note}", note=excerpt(stored["note"], ACK_TEXT_WIDTH)) + ")"
    return f"{q.id} = {shown}"


# ----------------------------------------------------------------------------- entry points

def start(turn: Turn, arg: str = "", purpose: str = "") -> None:
    tr = turn.tr
    step = turn.state.get("step", "idle")
    if step in ("answering", "confirming", "reviewing"):
        a = _current(turn)
        if a is None:
            return
        if purpose == "template":
            send_template(turn, a)
        elif purpose == "excel":
            send_workbook(turn, a)
        elif step == "reviewing":
            turn.state.pop("consolidated", None)  # asked again: schools may have sent since
            review(turn, a, prefix=_received_offer(turn, a) if _may_consolidate(turn, a) else "")
        elif step == "confirming":
            _confirm_next(turn, a)
        else:
            turn.state.pop("consolidated", None)
            offer = _received_offer(turn, a) if _may_consolidate(turn, a) else ""
            ask(turn, a, turn.state["question"],
                prefix=tr("Let's continue: {title}.", title=_title(turn, a))
                + ("\n" + offer if offer else ""), extra=form_button(turn))
        return
    assignments = _open(turn)
    held = turn.state.get("held", "") if step == "choosing" else ""  # kept through /baocao
    if not assignments:
        _reset(turn)
        turn.say(tr("There is no report to file right now. Send /trangthai to see deadlines."))
        return
    if len(assignments) == 1:
        if held:
            _apply_held(turn, assignments[0], held)
        elif purpose == "template":
            _open_for_template(turn, assignments[0])
        elif purpose == "excel":
            _open_for_workbook(turn, assignments[0])
        else:
            begin(turn, assignments[0])
        return
    _choose(turn, assignments, tr("Which report would you like to file?"), purpose=purpose,
            held=held)


def _choose(turn: Turn, assignments: list[Assignment], question: str, purpose: str = "",
            held: str = "") -> None:
    tr = turn.tr
    lines = [question]
    buttons = []
    distinct_units = len({a.unit.code for a in assignments}) == len(assignments)
    for i, a in enumerate(assignments, start=1):
        lines.append(f"• {_title(turn, a)} ({_status_word(turn, a)}; "
                     + tr("due {deadline}", deadline=deadline_text(a, tr)) + ")")
        label = a.unit.name if distinct_units else _title(turn, a)
        buttons.append(Button(f"pick:{i}", label))
    # Button data stays short (Telegram allows 64 bytes); the keys live in the state.
    _clear(turn)
    turn.state.update({"step": "choosing", "choices": [a.key for a in assignments]})
    if purpose:
        turn.state["purpose"] = purpose
    if held:
        turn.state["held"] = held
    turn.say("\n".join(lines), buttons=tuple(buttons), prompt=True)


def _status_word(turn: Turn, a: Assignment) -> str:
    tr = turn.tr
    if a.status == "accepted":
        return tr("accepted")
    if a.status == "submitted":
        return tr("submitted")
    if a.status == "returned":
        return tr("returned for correction")
    if a.answers:
        return tr("draft")
    return tr("not started")


def _enter(turn: Turn, a: Assignment) -> None:
    """Make `a` the report this conversation is about (with its corrections kept earlier)."""
    _clear(turn)
    turn.state.update({"step": "answering", "assignment": a.key, "trail": []})
    turn.address_for(a.unit.kind)
    corrections.restore(turn, a)


def begin(turn: Turn, a: Assignment) -> None:
    _enter(turn, a)
    tr = turn.tr
    form = _form(turn, a)
    total = len(form.questions)
    header = tr("Report: {title}. Due {deadline}.", title=_title(turn, a),
                deadline=deadline_text(a, tr))
    if a.status == "submitted":
        intro = header + "\n" + tr(
            "This report was submitted on {time}. You can still correct it: send the question "
            "number and the new value (for example 4.2 150), then submit again.",
            time=tr.datetime(a.submitted_at, a.timezone) if a.submitted_at else "")
        review(turn, a, prefix=intro)
        return
    if a.status == "accepted":
        _reset(turn)
        turn.say(header + "\n" + _accepted_text(turn, a))
        return
    if a.status == "returned" and a.return_comment:
        header += "\n" + tr("Returned for correction: {comment}", comment=a.return_comment)
        if a.correct_by is not None:
            header += "\n" + tr("Please submit it again before {time}.",
                                 time=tr.datetime(a.correct_by, a.timezone))
    offer = _received_offer(turn, a)
    if offer:
        header += "\n" + offer
    first = row_comments.start(turn, a)
    if first:  # a return with comments on rows: those rows first, each with its comment
        ask(turn, a, first, prefix=header)
        return
    unanswered = _unanswered(turn, a)
    if not unanswered:
        review(turn, a, prefix=header)
        return
    done = total - len(unanswered)
    if a.answers:
        prefix = header + "\n" + tr("{done} of {total} questions are already answered.",
                                     done=done, total=total)
        extra = form_button(turn)
    else:
        example = example_line(example_section(form), tr.language)
        how = tr.plural(
            "{n} question; each answer is saved at once. You may also send a whole section "
            "in one message, for example: {example}; or the whole report at once with "
            "/mau.",
            "{n} questions; each answer is saved at once. You may also send a whole section "
            "in one message, for example: {example}; or the whole report at once with "
            "/mau.", total, example=example)
        prefix = header + "\n" + how
        extra = (Button("template", tr("Template for the whole report"), shortcut=True),
                 Button("excel", tr("Excel file"), shortcut=True), *form_button(turn))
    ask(turn, a, unanswered[0].id, prefix=prefix, extra=extra)


def cancel(turn: Turn) -> None:
    tr = turn.tr
    step = turn.state.get("step", "idle")
    if step == "idle":
        if not corrections.ask_about_kept(turn):  # /huy again: a way to discard them later
            turn.say(tr("Nothing is in progress. Send /baocao to file a report."))
        return
    a = turn.ctx.assignment(turn.state.get("assignment"))
    edits = corrections.changed(a, turn.state.get("edits")) if a is not None else {}
    asked = list(turn.state.get("pending") or []) if step == "confirming" else []
    _reset(turn)
    if a is not None and edits:
        corrections.keep_on_cancel(turn, a, edits)
    else:
        turn.say(tr("Stopped. Your answers are saved; send /baocao to continue."))
    if a is not None and asked:  # values asked back and not confirmed are not stored
        form = _form(turn, a)
        turn.note(tr.plural(
            "{n} value asked about was not saved: {answers}.",
            "{n} values asked about were not saved: {answers}.", len(asked),
            answers="; ".join(_shown(turn, form.question(p["qid"]), p)  # type: ignore[arg-type]
                              for p in asked)))


def handle(turn: Turn) -> None:
    step = turn.state.get("step", "idle")
    if step == "choosing":
        _choosing(turn)
    elif step in ("answering", "confirming", "reviewing"):
        a = _current(turn)
        if a is None:
            return
        if step == "answering":
            _answering(turn, a)
        elif step == "confirming":
            _confirming(turn, a)
        else:
            _reviewing(turn, a)
    else:
        _idle(turn)


def expected_here(turn: Turn, prefix: str) -> None:
    """After a message that is not an answer (a sticker, a refused caption): `prefix`, then
    what the person is expected to send where they are, with the same buttons as before."""
    tr = turn.tr
    step = turn.state.get("step", "idle")
    if step in ("answering", "confirming", "reviewing"):
        a = _current(turn)
        if a is None:
            return
        if step == "confirming":
            _confirm_next(turn, a, prefix=prefix)
            return
        if step == "reviewing":
            _after_review_edit(turn, a, prefix)
            return
        q = _form(turn, a).question(turn.state.get("question", ""))
        if q is not None:
            ask(turn, a, q.id, prefix=prefix + "\n" + tr(
                "Question {qid} needs {expected}.", qid=q.id,
                expected=expected_answer(q, tr)))
            return
    turn.state["step"] = "idle"
    turn.say(prefix + "\n" + tr("Send /baocao to fill in a report, /trangthai to see what is "
                                "due, /trogiup for help."))


# ----------------------------------------------------------------------------- steps

def _idle(turn: Turn) -> None:
    tr = turn.tr
    if corrections.answer_cancel_question(turn, offered_token(turn)):
        return
    if turn.event.kind == "text":
        assignments = [a for a in _open(turn) if a.status != "accepted"]
        fitting = [a for a in assignments if parse_entry(_form(turn, a), turn.event.text)]
        if len(assignments) == 1 and fitting and not _several_units(turn):
            _apply_held(turn, assignments[0], turn.event.text)
            return
        if fitting:
            _hold_and_choose(turn, assignments, turn.event.text)
            return
    turn.say(tr("Send /baocao to fill in a report, /trangthai to see what is due, "
                "/trogiup for help."))


def _hold_and_choose(turn: Turn, assignments: list[Assignment], text: str,
                     held: str = "") -> None:
    """Which report an answer is for is not clear: nothing is stored until the person says;
    the answer (with any held before) is kept and applied to the report chosen."""
    tr = turn.tr
    typed = excerpt(text)
    units = len({a.unit.code for a in assignments})
    if units > 1:
        question = tr.plural(
            "You report for {n} unit, so this answer (“{typed}”) was not saved yet. "
            "Which report is it for?",
            "You report for {n} units, so this answer (“{typed}”) was not saved yet. "
            "Which report is it for?", units, typed=typed)
    else:
        question = tr.plural(
            "{n} report is open, so this answer (“{typed}”) was not saved yet. Which "
            "report is it for?",
            "{n} reports are open, so this answer (“{typed}”) was not saved yet. "
            "Which report is it for?", len(assignments), typed=typed)
    _choose(turn, assignments, question, held="\n".join(x for x in (held, text) if x))


def _apply_held(turn: Turn, a: Assignment, held: str) -> None:
    """Store a message typed before the report was chosen, now that it is."""
    _enter(turn, a)
    entry = parse_entry(_form(turn, a), held)
    if not entry:
        begin(turn, a)
        return
    if a.status == "submitted":
        turn.state["step"] = "reviewing"
    else:
        unanswered = _unanswered(turn, a)
        if unanswered:
            turn.state["question"] = unanswered[0].id
    _apply_entry(turn, a, entry)


def _choosing(turn: Turn) -> None:
    token = offered_token(turn)
    choices = turn.state.get("choices") or []
    held = turn.state.get("held") or ""
    purpose = turn.state.get("purpose") or ""
    if token and token.startswith("pick:") and token[5:].isdigit():
        index = int(token[5:]) - 1
        a = turn.ctx.assignment(choices[index]) if 0 <= index < len(choices) else None
        if a is not None and a in _open(turn):
            if held:
                _apply_held(turn, a, held)
            elif purpose == "template":
                _open_for_template(turn, a)
            elif purpose == "excel":
                _open_for_workbook(turn, a)
            else:
                begin(turn, a)
            return
    if turn.event.kind == "text":
        offered = [turn.ctx.assignment(key) for key in choices]
        still = [a for a in _open(turn) if a in offered and a.status != "accepted"]
        if any(parse_entry(_form(turn, a), turn.event.text) for a in still):
            _hold_and_choose(turn, still, turn.event.text, held=held)  # kept, not dropped
            return
    turn.state["step"] = "idle"
    if held:
        turn.state.pop("held", None)
        turn.note(turn.tr("The answer typed before was not saved."))
    start(turn, purpose=purpose)


def ask(turn: Turn, a: Assignment, qid: str, prefix: str = "",
        extra: tuple[Button, ...] = (), ack: str = "") -> None:
    """`ack` (what the last answer stored, "2.1 = 12 bài ✓") comes first, in the same
    message: a person always sees under which id a figure landed before the next question."""
    tr = turn.tr
    form = _form(turn, a)
    q = form.question(qid)
    assert q is not None
    section = form.section_of(qid)
    lines = [ack] if ack else []
    lines += [prefix, ""] if prefix else []
    lead = _joined(ack, prefix)
    if _several_units(turn):
        lines.append(tr("Section {section} · question {n}/{total} · {unit}", section=section.id,
                        n=form.position(qid), total=len(form.questions), unit=a.unit.name))
    else:
        lines.append(tr("Section {section} · question {n}/{total}", section=section.id,
                        n=form.position(qid), total=len(form.questions)))
    if turn.state.get("section") != section.id or prefix:
        lines.append(section.title.get(tr.language))
    lines.append(f"{q.id}. {q.label.get(tr.language)}")
    if q.help.get(tr.language):
        lines.append(q.help.get(tr.language))
    if row_comments.beside(turn, a, qid):
        lines.append(row_comments.beside(turn, a, qid))
    current = _answers(turn, a).get(qid)
    if current is not None:
        shown = show_value(q, current.get("value"), tr)
        if q.type == "text":
            shown = excerpt(shown, REVIEW_TEXT_WIDTH)
        lines.append(tr("Current answer: {value}", value=shown))
    buttons: list[Button] = []
    if q.type == "yes_no":
        buttons += [Button(f"ans:{qid}:yes", tr("Yes")), Button(f"ans:{qid}:no", tr("No"))]
    elif q.type == "choice":
        buttons += [Button(f"ans:{qid}:{c.id}", c.label.get(tr.language)) for c in q.choices]
    if current is not None:
        buttons.append(Button("keep", tr("Keep"), shortcut=True))
    if q.numeric and _zeroable(turn, a, q):
        buttons.append(Button("zero", tr("0 for this whole section"), shortcut=True))
    if not q.required:
        buttons.append(Button("skip", tr("Skip"), shortcut=True))
    if turn.state.get("trail") or form.position(qid) > 1:
        buttons.append(Button("back", tr("Back"), shortcut=True))
    buttons.extend(extra)
    if _may_consolidate(turn, a):
        buttons.append(Button("consolidate", _consolidate_label(turn, a), shortcut=True))
    turn.state.update({"step": "answering", "question": qid, "section": section.id})
    turn.say("\n".join(lines), buttons=tuple(buttons), lead=lead, prompt=True)


def _zeroable(turn: Turn, a: Assignment, q: Question) -> list[Question]:
    """The numeric questions of q's section still unanswered from q on (q included)."""
    answers = _answers(turn, a)
    section = _form(turn, a).section_of(q.id)
    ids = [x.id for x in section.questions]
    rest = section.questions[ids.index(q.id):]
    found = [x for x in rest if x.numeric and (x.id == q.id or x.id not in answers)]
    return found if len(found) >= 2 else []


def _next(turn: Turn, a: Assignment, after: str, prefix: str = "", ack: str = "") -> None:
    """Ask the next unanswered question after `after`, or the first one left, or review."""
    if turn.state.pop("back_to_review", False):
        review(turn, a, prefix=_joined(ack, prefix))
        return
    commented = row_comments.next_asked(turn)
    if commented is not None:  # the rows the coordinator commented on, then the review
        if commented:
            ask(turn, a, commented, prefix=prefix)
        else:
            review(turn, a, prefix=prefix)
        return
    answers = _answers(turn, a)
    form = _form(turn, a)
    following = [q for q in form.iter_after(after) if q.id not in answers]
    remaining = following or [q for q in form.questions if q.id not in answers]
    if remaining:
        ask(turn, a, remaining[0].id, prefix=prefix, ack=ack)
    else:
        review(turn, a, prefix=_joined(ack, prefix))


def _joined(*lines: str) -> str:
    return "\n".join(line for line in lines if line)


def _answering(turn: Turn, a: Assignment) -> None:
    tr = turn.tr
    form = _form(turn, a)
    qid = turn.state["question"]
    q = form.question(qid)
    if q is None:
        _next(turn, a, after="")
        return
    from conversations.replied_answer import answer_replied, replied_question

    replied = replied_question(turn, a)
    if replied is not None:  # a reply to an earlier question's message answers that one
        answer_replied(turn, a, replied)
        return
    token = offered_token(turn)
    trail: list[str] = list(turn.state.get("trail") or [])
    current = _answers(turn, a).get(qid)
    if token is None and turn.event.kind == "text" and current is not None \
            and fold(turn.event.text).strip(" .!?") in KEEP_WORDS:
        token = "keep"
    if token in ("keep", "continue"):
        if current is None:
            ask(turn, a, qid, prefix=tr("This question has no answer yet; please answer it."))
            return
        turn.state["trail"] = [*trail, qid]
        _next(turn, a, qid)
        return
    if token == "template":
        send_template(turn, a)
        return
    if token == "excel":
        send_workbook(turn, a)
        return
    if token == "back":
        ids = [x.id for x in form.questions]
        position = ids.index(qid)
        previous = trail.pop() if trail else ids[position - 1] if position else qid
        turn.state["trail"] = trail
        ask(turn, a, previous)
        return
    if token == "skip":
        if q.required:
            ask(turn, a, qid, prefix=tr("This question is required and cannot be skipped."))
            return
        skipped = {"value": None, "note": ""}
        _save(turn, a, {qid: skipped})
        turn.state["trail"] = [*trail, qid]
        _next(turn, a, qid, ack=_pending_line(turn, a, [_shown(turn, q, skipped)])
              if a.status == "submitted" else stored_ack(turn, q, skipped))
        return
    if token in ("submit", "review"):
        review(turn, a)
        return
    if token == "consolidate":
        consolidate(turn, a, after=qid)
        return
    if token == "zero" and q.numeric:
        _zero_section(turn, a, q, trail)
        return
    pressed = token is not None and token.startswith("ans:")
    if pressed:
        button_qid, _, raw = token[4:].rpartition(":")  # type: ignore[index]
        if button_qid != qid:
            ask(turn, a, qid, prefix=tr("That button belongs to an earlier question."))
            return
    elif turn.event.kind != "text":
        ask(turn, a, qid)
        return
    else:
        if _append(turn, a):
            return
        entry = parse_entry(form, turn.event.text)
        if entry and _ambiguous_id(turn, a, q, entry):
            return
        if entry:
            _apply_entry(turn, a, entry)
            return
    try:
        parsed = button_answer(q, raw, a.year) if pressed \
            else parse_answer(q, turn.event.text, a.year)
    except AnswerError as error:
        ask(turn, a, qid, prefix=error_text(q, error, tr))
        return
    candidates = spread_details(form, [Candidate(qid, parsed)], a.year)
    vetted = vet(turn, a, form, candidates, _answers(turn, a))
    if vetted.refused:
        ask(turn, a, qid, prefix=_refused_text(turn, vetted.refused[0][1]))
        return
    if vetted.pending:
        turn.state["pending"] = vetted.pending
        turn.state["after_confirm"] = "next"
        _confirm_next(turn, a)
        return
    _save(turn, a, vetted.accepted)
    turn.state["trail"] = [*trail, qid]
    # Acknowledged with its id before the next question ("4.2 = 150 người ✓"); a yes with the
    # plan's number ("có, số 12/KH-UBND") says where each part went.
    ack = _single_ack(turn, a, q, parsed, plain=not vetted.flagged and len(candidates) == 1)
    if len(candidates) > 1:
        ack = _joined(_saved_line(turn, a, vetted.accepted), ack)
    if vetted.flagged:
        ack = _joined(ack, _flagged_line(turn, a, vetted.accepted))
    _next(turn, a, qid, ack=ack)


def _zero_section(turn: Turn, a: Assignment, q: Question, trail: list[str]) -> None:
    """"0 cho cả mục này": the zeros vetted as typed ones, so none is stored that breaks a
    hard rule (5.2 = 0 with 5.1 = 4 answered): that one is refused with the rule's message and
    asked again; the others are stored, or asked back as a typed 0 would be."""
    zeroed = _zeroable(turn, a, q) or [q]
    vetted = vet(turn, a, _form(turn, a), [Candidate(x.id, Parsed(0)) for x in zeroed],
                 _answers(turn, a))
    _save(turn, a, vetted.accepted)
    if q.id in vetted.accepted:
        turn.state["trail"] = [*trail, q.id]
    saved = [x.id for x in zeroed if x.id in vetted.accepted]
    lines = [turn.tr("Saved 0 for {ids}.", ids=", ".join(saved))] if saved else []
    if len(vetted.refused) == 1:
        lines.append(_refused_text(turn, vetted.refused[0][1]))
    elif vetted.refused:
        lines.append(turn.tr("Not saved (please send these again):"))
        lines.extend(refusal_lines(vetted.refused))
    prefix = "\n".join(lines)
    if vetted.pending:
        turn.state.update({"pending": vetted.pending, "after_confirm": "next"})
        _confirm_next(turn, a, prefix=prefix)
    elif vetted.refused:
        ask(turn, a, vetted.refused[0][0].qid, prefix=prefix)
    else:
        _next(turn, a, zeroed[-1].id, prefix=prefix)


def broken_hard_rules(turn: Turn, form: Form, answers: dict[str, dict[str, Any]]) -> list[str]:
    """The messages of the form's hard rules the answers break (answers stored before a rule
    existed, or entered by other means)."""
    from conversations.vetting import rule_message

    out = []
    for rule in form.rules:
        if rule.level != "hard":
            continue
        values = numeric_answers({q: answers[q] for q in rule.questions if q in answers},
                                 {q: form.question(q).type for q in rule.questions  # type: ignore[union-attr]
                                  if form.question(q) is not None})
        if rule.broken(values):
            out.append(rule_message(turn.tr, form, rule, answers))
    return out


def _refused_text(turn: Turn, message: str) -> str:
    return turn.tr("Not saved: {reason}. Please check the figures and enter this one again.",
                   reason=message.rstrip(". "))


def _flagged_line(turn: Turn, a: Assignment, answers: dict[str, dict[str, Any]]) -> str:
    """Values kept after being asked back once: stored with their reason for the coordinator."""
    form = _form(turn, a)
    shown = [_shown(turn, form.question(qid), v)  # type: ignore[arg-type]
             for qid, v in answers.items() if v.get("flag")]
    if not shown:
        return ""
    return turn.tr("Saved as given, marked “cần kiểm tra” (to check) for the coordinator: "
                   "{answers}.", answers="; ".join(shown))


def _ambiguous_id(turn: Turn, a: Assignment, q: Question, entry: FastEntry) -> bool:
    """`4.5 triệu` at the money question 8.3: question 4.5, or 4,5 million? Neither is
    stored when only the second reading makes sense; the person says which."""
    if not entry.bare or len(entry.pairs) != 1 or q.type == "text":
        return False
    form = _form(turn, a)
    qid, raw = entry.pairs[0]
    try:
        parse_answer(form.question(qid), raw, a.year)  # type: ignore[arg-type]
        return False
    except AnswerError:
        pass
    try:
        parse_answer(q, turn.event.text, a.year)
    except AnswerError:
        return False
    ask(turn, a, q.id, prefix=turn.tr(
        "“{typed}” may be question {other}, or the answer to {qid}. Nothing was saved: for "
        "{qid}, write the number with a comma (for example 4,5 triệu); for {other}, write "
        "“{other} = …”.", typed=excerpt(turn.event.text), other=qid, qid=q.id))
    return True


def _single_ack(turn: Turn, a: Assignment, q: Question, parsed: Parsed,
                plain: bool = True) -> str:
    """Every answer stored is acknowledged with its id and value as stored ("4.2 = 150 người
    ✓"), so a reply to an old prompt can never land unseen under another question; an
    estimate and a pending correction say so. `plain`: False when another line names it."""
    tr = turn.tr
    lines = []
    if a.status == "submitted":
        lines.append(_pending_line(turn, a, [_shown(turn, q, parsed.stored())]))
    elif parsed.note and parsed.note.startswith(ESTIMATE_NOTE):
        shown = {"value": parsed.value, "note": parsed.note.removeprefix(ESTIMATE_NOTE)
                 .lstrip("; ")}
        lines.append(tr("Saved as an estimate: {answer}.", answer=_shown(turn, q, shown)))
    elif plain:
        lines.append(stored_ack(turn, q, parsed.stored()))
    if q.type == "text" and len(str(parsed.value)) >= LONG_TEXT_HINT:
        lines.append(_long_text_hint(turn, q, str(parsed.value)))
    return "\n".join(lines)


def stored_ack(turn: Turn, q: Question, stored: dict[str, Any]) -> str:
    """One stored answer, by its id: `2.1 = 12 bài ✓`."""
    return turn.tr("{answer} ✓", answer=_shown(turn, q, stored))


def _long_text_hint(turn: Turn, q: Question, text: str) -> str:
    return turn.tr("Part {qid} has {length} characters. If it was longer and the messenger cut "
                   "it, send the rest starting with “thêm:”.", qid=q.id,
                   length=turn.tr.number(len(text)))


def _append(turn: Turn, a: Assignment) -> bool:
    """`thêm: …` adds to the text answered last (or being asked); True if it was one."""
    tr = turn.tr
    extra = parse_append(turn.event.text)
    if extra is None:
        return False
    form = _form(turn, a)
    answers = _answers(turn, a)
    candidates = [turn.state.get("question"), *reversed(turn.state.get("trail") or [])]
    target = next((form.question(c) for c in candidates if c and form.question(c)
                   and form.question(c).type == "text"  # type: ignore[union-attr]
                   and (answers.get(c) or {}).get("value")), None)
    step = turn.state.get("step")
    current = turn.state.get("question")
    if target is None:
        text = tr("There is no text answer to add to yet. Please answer the part first.")
    else:
        combined = f"{answers[target.id]['value']}\n{extra}"
        if len(combined) > MAX_TEXT:
            text = tr("Part {qid} would then have {length} characters; a part may have up to "
                      "{limit}. Please shorten it.", qid=target.id,
                      length=tr.number(len(combined)), limit=tr.number(MAX_TEXT))
        else:
            _save(turn, a, {target.id: {"value": combined, "note": ""}})
            text = tr("Added to part {qid} ({length} characters now).", qid=target.id,
                      length=tr.number(len(combined)))
            if a.status == "submitted":
                text += "\n" + _pending_line(turn, a, [])
    if step == "reviewing":
        _after_review_edit(turn, a, text)
    elif current and form.question(current):
        ask(turn, a, current, prefix=text)
    else:
        _next(turn, a, "", prefix=text)
    return True


def _problem_lines(turn: Turn, a: Assignment, problem: EntryProblem) -> list[str]:
    tr = turn.tr
    form = _form(turn, a)
    if problem.code == "unknown_section":
        sections = ", ".join(s.id for s in form.sections)
        return ["• " + tr("This form has no section {section}. Its sections are: {sections}.",
                          section=excerpt(problem.section_id, 12), sections=sections)]
    if problem.code == "duplicate":
        return ["• " + tr("{qid} was given two different values in this message, so neither "
                          "was saved.", qid=problem.text)]
    if problem.code == "unplaced":
        return ["• " + tr("“{text}” does not say which question it answers (start the line "
                          "with the question number, for example 4.2 150), so it was not "
                          "saved.", text=excerpt(problem.text))]
    section = form.section(problem.section_id)
    assert section is not None
    rows = [f"   {q.id} {short_label(q, tr.language)}" for q in section.questions]
    example = example_line(section, tr.language)
    pairs = " ".join(f"{q.id}={v}" for q, v in zip(
        section.questions[:2], example_values(section, tr.language)[:2], strict=True))
    if problem.code == "ambiguous_commas":
        head = tr("Section {section}: in “{typed}” a comma may separate thousands or values, "
                  "so nothing of section {section} was saved. Please separate the values "
                  "with “, ” (comma and space) or “;”.", section=section.id,
                  typed=excerpt(problem.text, 40))
    else:
        head = tr.plural(
            "Section {section} of this report has {rows} rows ({ids}) but the message has "
            "{n} value, so nothing of section {section} was saved. Its rows:",
            "Section {section} of this report has {rows} rows ({ids}) but the message has "
            "{n} values, so nothing of section {section} was saved. Its rows:",
            problem.count, section=section.id, rows=len(section.questions),
            ids=", ".join(q.id for q in section.questions))
    return ["• " + head, *rows,
            "   " + tr("For example: {example} — or row by row: {pairs}", example=example,
                       pairs=pairs)]


def _pending_line(turn: Turn, a: Assignment, shown: list[str]) -> str:
    tr = turn.tr
    answers = "; ".join(shown)
    if shown:
        text = tr("Correction of {unit} noted, not sent yet: {answers}.", unit=a.unit.name,
                  answers=answers)
    else:
        text = ""
    return (text + " " if text else "") + tr(
        "The coordinator still sees the submitted report until you submit it again.")


def _apply_entry(turn: Turn, a: Assignment, entry: FastEntry) -> None:
    form = _form(turn, a)
    candidates: list[Candidate] = []
    problems: list[str] = []
    refused: list[str] = []
    for qid, raw in entry.pairs:
        q = form.question(qid)
        assert q is not None
        try:
            candidates.append(Candidate(qid, parse_answer(q, raw, a.year),
                                        typed=raw))
        except AnswerError as error:
            problems.append(f"• {qid}: “{excerpt(raw)}” — {error_text(q, error, turn.tr)}")
            refused.append(qid)
    aside = set_aside(turn.tr, form, a.unit.kind, _answers(turn, a), entry.problems)
    problems.extend(aside.problems)
    refused.extend(aside.ask)
    for problem in entry.problems:
        if problem.code not in SET_ASIDE:
            problems.extend(_problem_lines(turn, a, problem))
    candidates = spread_details(form, candidates, a.year)
    store_values(turn, a, candidates, problems, refused, blanks=entry.blanks,
                 template=entry.template, whole_report=entry.whole_report,
                 last=entry.pairs[-1][0] if entry.pairs else "", remarks=aside.remarks)


def store_values(turn: Turn, a: Assignment, candidates: list[Candidate], problems: list[str],
                 refused: list[str], blanks: Sequence[str] = (), template: bool = False,
                 whole_report: bool = False, last: str = "", then_review: bool = False,
                 head: str = "", problems_head: str = "", by_cell: bool = False,
                 remarks: Sequence[str] = ()) -> None:
    """Vet and store many values at once (a section line, a pasted report, a spreadsheet):
    say what was stored and, item by item, what was not and why; values to confirm are asked
    about one by one, then the flow goes on. `remarks` (rows this form lacks) follow what was
    stored: they are not to be sent again."""
    tr = turn.tr
    form = _form(turn, a)
    before = _answers(turn, a)
    unchanged = 0
    fresh = []
    for c in candidates:
        if template and same_answer(before.get(c.qid), c.parsed):
            unchanged += 1  # a template sent back with the values it showed
        else:
            fresh.append(c)
    vetted = vet(turn, a, form, fresh, before)
    problems.extend(refusal_lines(vetted.refused))
    refused.extend(c.qid for c, _message in vetted.refused)
    if by_cell:  # a spreadsheet: the cells in the order of their rows
        problems.sort(key=_cell_row)
    accepted = vetted.accepted
    _save(turn, a, accepted)
    if accepted:  # "Quay lại" then goes back through them, as after answering one by one
        turn.state["trail"] = [*(turn.state.get("trail") or []),
                               *sorted(accepted, key=form.position)]
    lines = [head] if head else []
    if accepted:
        lines.append(_saved_line(turn, a, accepted))
    if vetted.flagged:
        lines.append(_flagged_line(turn, a, {q: accepted[q] for q in vetted.flagged}))
    long_texts = [qid for qid, v in accepted.items()
                  if form.question(qid).type == "text"  # type: ignore[union-attr]
                  and len(str(v["value"])) >= LONG_TEXT_HINT]
    lines.extend(_long_text_hint(turn, form.question(qid), accepted[qid]["value"])  # type: ignore[arg-type]
                 for qid in long_texts)
    empty = [qid for qid in blanks if qid not in before]  # answered ones are kept
    if empty:
        lines.append(tr("Left empty in the template, not saved: {ids}.", ids=", ".join(empty)))
    lines.extend(remarks)
    if unchanged:
        lines.append(tr.plural("{n} answer sent as it was: unchanged.",
                               "{n} answers sent as they were: unchanged.", unchanged))
    if problems:
        lines.append(problems_head or tr("Not saved (please send these again):"))
        lines.extend(problems[:PROBLEMS_SHOWN])
        if len(problems) > PROBLEMS_SHOWN:
            lines.append(tr("… and {count} more.", count=len(problems) - PROBLEMS_SHOWN))
    prefix = "\n".join(lines)
    step = turn.state.get("step")
    if vetted.pending:
        turn.state["pending"] = vetted.pending
        turn.state["after_confirm"] = "full_review" if then_review else \
            "review" if step == "reviewing" else "next"
        _confirm_next(turn, a, prefix=prefix)
        return
    if then_review:
        review(turn, a, prefix=prefix)
        return
    if step == "reviewing":
        _after_review_edit(turn, a, prefix)
        return
    current = turn.state.get("question")
    answered = _answers(turn, a)
    if refused:
        ask(turn, a, refused[0], prefix=prefix)
    elif whole_report and not _missing_required(turn, a):
        review(turn, a, prefix=prefix)
    elif current and current not in answered:
        ask(turn, a, current, prefix=prefix)
    else:
        _next(turn, a, last or (current or ""), prefix=prefix)


_CELL = re.compile(r"^• [A-Z]+(\d+)")


def _cell_row(line: str) -> int:
    found = _CELL.match(line)
    return int(found.group(1)) if found else 0


def refusal_lines(refused: list[tuple[Candidate, str]]) -> list[str]:
    """Values a hard rule refused, one line per rule: "• 5.1: “4”, 5.2: “2” — message"."""
    by_message: dict[str, list[Candidate]] = {}
    for c, message in refused:
        by_message.setdefault(message, []).append(c)
    order = [c.origin for c, _ in refused]
    return ["• " + ", ".join(f"{c.origin}: “{excerpt(c.typed or str(c.parsed.value))}”"
                             for c in sorted(group, key=lambda c: order.index(c.origin)))
            + f" — {message}" for message, group in by_message.items()]


def _saved_line(turn: Turn, a: Assignment, accepted: dict[str, dict[str, Any]]) -> str:
    """What was stored: values when few, ids when many; for a submitted report, pending."""
    tr = turn.tr
    form = _form(turn, a)
    ordered = sorted(accepted, key=form.position)
    if len(ordered) <= ACK_LIST_VALUES:
        shown = [_shown(turn, form.question(qid), accepted[qid])  # type: ignore[arg-type]
                 for qid in ordered]
    else:
        shown = [", ".join(ordered)]
    if a.status == "submitted":
        return _pending_line(turn, a, shown)
    answers = "; ".join(shown)
    if _several_units(turn):
        return tr.plural("Saved {n} answer for {unit}: {answers}.",
                         "Saved {n} answers for {unit}: {answers}.", len(ordered),
                         unit=a.unit.name, answers=answers)
    return tr.plural("Saved {n} answer: {answers}.", "Saved {n} answers: {answers}.",
                     len(ordered), answers=answers)


def _confirm_next(turn: Turn, a: Assignment, prefix: str = "") -> None:
    tr = turn.tr
    pending = turn.state.get("pending") or []
    if not pending:
        turn.state.pop("pending", None)
        after = turn.state.pop("after_confirm", "next")
        current = turn.state.get("question")
        if after == "full_review":  # a spreadsheet read: the whole review to submit
            review(turn, a, prefix=prefix)
        elif after == "review":
            _after_review_edit(turn, a, prefix)
        elif current and current not in _answers(turn, a):
            ask(turn, a, current, prefix=prefix)
        else:
            _next(turn, a, current or "", prefix=prefix)
        return
    item = pending[0]
    text = confirm_text(turn, a, _form(turn, a), item, _answers(turn, a))
    if any(c.get("kind") not in ASKED_EVERY_TIME for c in item.get("checks") or []):
        # Asked back once: kept as given (with its reason) if given again after "Nhập lại".
        turn.state["checked"] = sorted({*(turn.state.get("checked") or []), item["qid"]})
    if _several_units(turn):
        text = f"{a.unit.name}: {text}"
    turn.state["step"] = "confirming"
    turn.say((prefix + "\n\n" if prefix else "") + text,
             buttons=(Button("confirm", tr("Yes, keep it")), Button("retype", tr("Re-enter"))),
             lead=prefix, prompt=True)


def _confirming(turn: Turn, a: Assignment) -> None:
    tr = turn.tr
    pending = list(turn.state.get("pending") or [])
    if not pending:
        _next(turn, a, turn.state.get("question") or "")
        return
    item = pending[0]
    token = offered_token(turn)
    if token == "keep":
        token = "confirm"
    if token is None and turn.event.kind == "text":
        yes = parse_yes_no(turn.event.text)
        token = "confirm" if yes else "retype" if yes is False else None
    if token == "confirm":
        form = _form(turn, a)
        kept = {"value": item["value"], "note": item["note"]}
        flag = flag_text(turn, a, form, item, _answers(turn, a))
        if flag:
            kept["flag"] = flag
        _save(turn, a, {item["qid"]: kept})
        turn.state["pending"] = pending[1:]
        prefix = ""
        q = form.question(item["qid"])
        if a.status == "submitted":
            prefix = _pending_line(turn, a, [_shown(turn, q, item)])  # type: ignore[arg-type]
        elif flag:
            prefix = _flagged_line(turn, a, {item["qid"]: kept})
        elif turn.state.get("after_confirm") in ("review", "full_review") or any(
                c.get("kind") == "reading" for c in item.get("checks") or []):
            prefix = _saved_line(turn, a, {item["qid"]: kept})  # no next question says it
        else:
            prefix = stored_ack(turn, q, kept)  # type: ignore[arg-type]
        _confirm_next(turn, a, prefix=prefix)
        return
    if token == "retype" or (turn.event.kind == "text" and token is None):
        turn.state.pop("pending", None)
        if turn.state.pop("after_confirm", "next") in ("review", "full_review"):
            turn.state["back_to_review"] = True
        turn.state["step"] = "answering"
        turn.state["question"] = item["qid"]
        if token == "retype":
            ask(turn, a, item["qid"], prefix=tr("Please enter the value again."))
            return
        # Another message: it is handled; the values it does not give again stay to confirm.
        entry = parse_entry(_form(turn, a), turn.event.text)
        given = {qid for qid, _raw in entry.pairs} if entry else {item["qid"]}
        waiting = [p for p in pending if p["qid"] not in given]
        _answering(turn, a)
        if waiting:
            _ask_again(turn, a, waiting)
        return
    _confirm_next(turn, a)


def _ask_again(turn: Turn, a: Assignment, waiting: list[dict[str, Any]]) -> None:
    """Values asked back that a later message left unanswered: never dropped without a word;
    they are asked again once that message is handled."""
    tr = turn.tr
    form = _form(turn, a)
    shown = "; ".join(_shown(turn, form.question(p["qid"]), p)  # type: ignore[arg-type]
                      for p in waiting)
    said = tr.plural("{n} value asked about was not saved yet; it waits for your answer: "
                     "{answers}.",
                     "{n} values asked about were not saved yet; they wait for your answer: "
                     "{answers}.", len(waiting), answers=shown)
    if turn.state.get("step") == "confirming":  # the new message has values to confirm too
        queued = turn.state.get("pending") or []
        known = {p["qid"] for p in queued}
        turn.state["pending"] = [*queued, *(p for p in waiting if p["qid"] not in known)]
        turn.note(said)
        return
    turn.state["pending"] = waiting
    turn.state["after_confirm"] = "review" if turn.state.get("step") == "reviewing" else "next"
    _confirm_next(turn, a, prefix=said)


# ----------------------------------------------------------------------------- template

def send_template(turn: Turn, a: Assignment) -> None:
    """The whole form as lines `4.2 <label> = ` to copy, fill in and send back in one go."""
    tr = turn.tr
    form = _form(turn, a)
    answers = _answers(turn, a)
    rows = []
    for q in form.questions:
        hint = _template_hint(turn, q)
        stored = answers.get(q.id) or {}
        value = "" if q.type == "text" else _typed_form(turn, q, stored.get("value"))
        if q.type == "text" and stored.get("value"):
            hint = tr("already written; leave empty to keep it")
        label = short_label(q, tr.language) + (f" ({hint})" if hint else "")
        rows.append(f"{q.id} {label} = {value}".rstrip() + (" " if not value else ""))
    turn.note(tr("Template for {title}: copy the next message, write each figure after its "
                 "“=”, and send it back. Empty lines are not saved; a text part may run over "
                 "several lines.", title=_title(turn, a)))
    step = turn.state.get("step")
    if step not in ("answering", "reviewing"):
        turn.state["step"] = "answering"
    if turn.state.get("step") == "answering" and not turn.state.get("question"):
        unanswered = _unanswered(turn, a)
        turn.state["question"] = (unanswered or form.questions)[0].id
    turn.say("\n".join(rows))


def _template_hint(turn: Turn, q: Question) -> str:
    tr = turn.tr
    if q.type == "yes_no":
        return tr("yes/no")
    if q.type == "money":
        return q.unit.get(tr.language) or tr("đồng")
    if q.type == "date":
        return tr("day/month")
    if q.type == "choice":
        return " / ".join(f"{i}. {c.label.get(tr.language)}"
                          for i, c in enumerate(q.choices, start=1))
    return ""


def _typed_form(turn: Turn, q: Question, value: Any) -> str:
    """A stored value written the way it would be typed, so the template parses back."""
    if value is None:
        return ""
    tr = turn.tr
    if q.type == "yes_no":
        return ("có" if value else "không") if tr.language == "vi" else ("yes" if value else "no")
    if q.numeric:
        from decimal import Decimal

        return tr.number(Decimal(str(value)))
    if q.type == "date":
        from datetime import date

        return tr.date(date.fromisoformat(value))
    if q.type == "choice":
        return str(next((i for i, c in enumerate(q.choices, start=1) if c.id == value), ""))
    return ""


def send_workbook(turn: Turn, a: Assignment) -> None:
    """The unit's own Excel file of this report, the answers so far filled in; it comes back
    as a document (or through an upload link) and is read like a pasted report."""
    tr = turn.tr
    turn.effect(SendWorkbook(a.period_id, a.unit.code, a.form_key,
                             {k: dict(v) for k, v in _answers(turn, a).items()}))
    how = tr("Fill in column C (“Kết quả, số lượng”) and, if needed, the notes in column E; "
             "leave the other columns as they are.")
    if turn.ctx.can_receive_files:
        back = tr("Then send the file back here, as a file.")
    else:
        back = tr("Then upload it through the link that comes with it.")
    turn.note(tr("The Excel file of {title} is on its way.", title=_title(turn, a)) + "\n"
              + how + " " + back)


def _open_for_workbook(turn: Turn, a: Assignment) -> None:
    """The file only: no question is open until the file comes back (or /baocao), so a
    number typed meanwhile never lands in a row the person has not seen."""
    _reset(turn)
    turn.address_for(a.unit.kind)
    send_workbook(turn, a)


def _open_for_template(turn: Turn, a: Assignment) -> None:
    _enter(turn, a)
    if a.status == "submitted":
        turn.state["step"] = "reviewing"
    send_template(turn, a)


# ----------------------------------------------------------------------------- review

def review(turn: Turn, a: Assignment, prefix: str = "") -> None:
    tr = turn.tr
    form = _form(turn, a)
    answers = _answers(turn, a)
    lines = [prefix, ""] if prefix else []
    lines.append(tr("Review: {title}", title=_title(turn, a)))
    for section in form.sections:
        lines.append("")
        lines.append(f"{section.title.get(tr.language)}")
        for q in section.questions:
            stored = answers.get(q.id)
            if stored is None:
                shown = tr("(not answered)")
            else:
                shown = show_value(q, stored.get("value"), tr)
                if len(shown) > REVIEW_TEXT_WIDTH:
                    shown = shown[: REVIEW_TEXT_WIDTH - 1].rstrip() + "…"
                if stored.get("note"):
                    shown += " — " + tr("note: {note}", note=excerpt(stored["note"],
                                                                     REVIEW_TEXT_WIDTH))
                if stored.get("flag"):
                    shown += " — " + tr("to check (cần kiểm tra): {reason}",
                                        reason=excerpt(stored["flag"], REVIEW_TEXT_WIDTH))
            lines.append(f"{q.id}  {shown}" + row_comments.mark(turn, a, q.id, answers))
    missing = _missing_required(turn, a)
    lines.append("")
    if row_comments.review_line(turn, a, answers):
        lines.append(row_comments.review_line(turn, a, answers))
    if missing:
        lines.append(tr("Still required: {ids}.", ids=", ".join(q.id for q in missing)))
    pending = _pending(turn, a)
    if pending:
        lines.append(tr("Corrections not sent yet: {ids}. The coordinator still sees the "
                        "submitted report until you press “Submit again”.",
                        ids=", ".join(sorted(pending, key=form.position))))
        lines.append(tr("To change an answer, send its number and the new value, for example "
                        "“4.2 150”."))
    elif a.status == "submitted":
        lines.append(tr("This is the report as submitted. To correct an answer, send its number "
                        "and the new value, for example “4.2 150”; then submit it again."))
    else:
        lines.append(tr("To change an answer, send its number and the new value, for example "
                        "“4.2 150”. When everything is right, press “Submit”."))
    turn.state["step"] = "reviewing"
    buttons = [*_submit_button(turn, a)]
    if missing:
        buttons.append(Button("continue", tr("Answer the rest")))
    if _may_consolidate(turn, a):  # a draft answered in full may still take the sums
        buttons.append(Button("consolidate", _consolidate_label(turn, a), shortcut=True))
    turn.say("\n".join(lines), buttons=tuple(buttons), lead=prefix, prompt=True)


def _submit_button(turn: Turn, a: Assignment) -> tuple[Button, ...]:
    """A submitted report is offered for resubmission only once something in it changed."""
    if a.status == "submitted":
        return (Button("submit", turn.tr("Submit again")),) if _pending(turn, a) else ()
    return (Button("submit", turn.tr("Submit")),)


def _after_review_edit(turn: Turn, a: Assignment, prefix: str) -> None:
    tr = turn.tr
    turn.state["step"] = "reviewing"
    buttons = [*_submit_button(turn, a), Button("review", tr("Review all"))]
    turn.say(prefix or tr("Nothing changed."), buttons=tuple(buttons), lead=prefix,
             prompt=True)


def _reviewing(turn: Turn, a: Assignment) -> None:
    tr = turn.tr
    token = offered_token(turn)
    if token == "submit":
        _submit(turn, a)
        return
    if token == "review":
        review(turn, a)
        return
    if token == "consolidate":
        turn.state["back_to_review"] = True
        consolidate(turn, a, after="")
        return
    if token == "template":
        send_template(turn, a)
        return
    if token == "excel":
        send_workbook(turn, a)
        return
    if token == "continue":
        missing = _missing_required(turn, a) or _unanswered(turn, a)
        if missing:
            turn.state["back_to_review"] = False
            ask(turn, a, missing[0].id)
        else:
            review(turn, a)
        return
    if turn.event.kind == "text":
        form = _form(turn, a)
        text = turn.event.text.strip()
        q = form.question(text.upper()) or form.question(text)
        if q is not None:
            turn.state["back_to_review"] = True
            ask(turn, a, q.id)
            return
        if _append(turn, a):
            return
        entry = parse_entry(form, turn.event.text)
        if entry:
            _apply_entry(turn, a, entry)
            return
    turn.say(tr("To change an answer, send its number and the new value, for example “4.2 150”; "
                "to change a text part, send its number first, for example “IV”. "
                "Press “Submit” when everything is right."),
             buttons=(*_submit_button(turn, a), Button("review", tr("Review all"))))


def _submit(turn: Turn, a: Assignment) -> None:
    tr = turn.tr
    missing = _missing_required(turn, a)
    if missing:
        turn.say(tr("The report cannot be submitted yet; these required questions have no "
                    "answer: {ids}.", ids=", ".join(q.id for q in missing)),
                 buttons=(Button("continue", tr("Answer the rest")),))
        return
    broken = broken_hard_rules(turn, _form(turn, a), _answers(turn, a))
    if broken:
        turn.say(tr("The report cannot be submitted yet; these figures do not fit together:")
                 + "\n" + "\n".join(f"• {m}" for m in broken) + "\n"
                 + tr("Send the question number and the right value, for example “4.2 150”."),
                 buttons=(Button("review", tr("Review all")),))
        return
    received = turn.received_at
    when = tr.datetime(received, a.timezone)
    if a.status == "submitted":
        edits = turn.state.get("edits") or {}
        changes = {k: v for k, v in edits.items() if dict(a.answers.get(k) or {}) != v}
        if not changes:
            _reset(turn)
            turn.say(tr("Nothing was changed; the submitted report stays as it was."))
            return
        turn.effect(Submit(a.period_id, a.unit.code, a.form_key, changes, at=received))
        _reset(turn)
        turn.say(tr("The corrected report of {unit} was submitted at {time} ({count} answers "
                    "changed). Thank you!", unit=a.unit.name, time=when, count=len(changes)))
        return
    turn.effect(Submit(a.period_id, a.unit.code, a.form_key, at=received))
    _reset(turn)
    campaign = a.campaign_title.get(tr.language)
    # On time or late is the first submission's, whoever asked for a later correction.
    on_time = a.on_time if a.on_time is not None else received < a.deadline
    if a.status == "returned":
        text = tr("The corrected report {campaign} of {unit} was submitted again at {time}. "
                  "It keeps the status of its first submission: {timing}. Thank you!",
                  campaign=campaign, unit=a.unit.name, time=when,
                  timing=tr("on time") if on_time else tr("late"))
    elif on_time:
        text = tr("The report {campaign} of {unit} was submitted at {time}, on time. Thank you! "
                  "You can still correct it with /baocao.",
                  campaign=campaign, unit=a.unit.name, time=when)
    else:
        text = tr("The report {campaign} of {unit} was submitted at {time}. The deadline was "
                  "{deadline}, so it is recorded as late. Thank you!",
                  campaign=campaign, unit=a.unit.name, time=when,
                  deadline=deadline_text(a, tr))
    turn.say(text)


# ----------------------------------------------------------------------------- consolidation

def _received_offer(turn: Turn, a: Assignment) -> str:
    """For a unit other units report to (a commune): who has sent in, who is missing."""
    r = a.received
    if r is None or not r.expected or a.status not in OPEN_STATUSES:
        return ""
    tr = turn.tr
    kinds = r.kinds.get(tr.language)
    lines = [tr("{submitted}/{expected} {kinds} have sent their reports to {unit}.",
                submitted=r.submitted, expected=r.expected, kinds=kinds, unit=a.unit.name)]
    if r.missing:
        shown = ", ".join(r.missing[:MISSING_SHOWN])
        if len(r.missing) > MISSING_SHOWN:
            shown += " " + tr("and {count} more", count=len(r.missing) - MISSING_SHOWN)
        lines.append(tr("Not yet: {names}.", names=shown))
    if r.submitted:
        lines.append(tr("You may start from the sum of their figures, then add your unit's own "
                        "activities: “{label}”.", label=_consolidate_label(turn, a)))
        if a.answers:
            lines.append(tr("Answers already given are kept; only the questions still "
                            "unanswered are filled."))
    return "\n".join(lines)


def _may_consolidate(turn: Turn, a: Assignment) -> bool:
    """The report is open and units that report to it have submitted figures to take."""
    r = a.received
    return (r is not None and r.submitted > 0 and a.status in OPEN_STATUSES
            and not turn.state.get("consolidated"))


MISSING_SHOWN = 10


def _consolidate_label(turn: Turn, a: Assignment) -> str:
    r = a.received
    assert r is not None
    return turn.tr("Use the figures summed from the {count} {kinds} that submitted",
                   count=r.submitted, kinds=r.kinds.get(turn.tr.language))


def consolidate(turn: Turn, a: Assignment, after: str) -> None:
    """Fill the unanswered figures with the sums of the reports received; answers already
    given are kept. The person then adds their own unit's activities and reviews."""
    tr = turn.tr
    r = a.received
    if r is None or not r.submitted:
        turn.state["consolidated"] = True
        kinds = r.kinds.get(tr.language) if r else ""
        _next(turn, a, after, prefix=tr("No report has been received from the {kinds} yet.",
                                        kinds=kinds))
        return
    form = _form(turn, a)
    answers = _answers(turn, a)
    filled: dict[str, dict[str, Any]] = {}
    kept: list[str] = []
    for q in form.questions:
        if not q.numeric or q.id not in r.sums:
            continue
        if q.id in answers and (answers[q.id] or {}).get("value") is not None:
            kept.append(q.id)
            continue
        filled[q.id] = {"value": _stored_number(r.sums[q.id]), "note": ""}
    _save(turn, a, filled)
    turn.state["consolidated"] = True
    shown = "; ".join(f"{qid} = {show_value(form.question(qid), v['value'], tr)}"  # type: ignore[arg-type]
                      for qid, v in filled.items())
    lines = [tr("Filled {count} figures with the sums of the {n} {kinds} that submitted: "
                "{answers}.", count=len(filled), n=r.submitted,
                kinds=r.kinds.get(tr.language), answers=shown or "—")]
    if kept:
        lines.append(tr("Kept the answers already given for {ids}.", ids=", ".join(kept)))
    lines.append(tr("Add {unit}'s own activities to these figures: send the question number "
                    "and the new value, for example 4.2 300.", unit=a.unit.name))
    current = turn.state.get("question")
    if turn.state.get("step") == "answering" and current and current not in _answers(turn, a):
        ask(turn, a, current, prefix="\n".join(lines))  # the question asked is still open
        return
    _next(turn, a, after, prefix="\n".join(lines))


def _stored_number(value: Any) -> Any:
    """A summed figure as answers are stored: an int when whole, else its decimal text."""
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return int(number)
    return str(number.normalize())
