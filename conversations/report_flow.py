"""Filling in a report: choose it, answer question by question or by sections, review, submit."""

from __future__ import annotations

from typing import Any

from conversations.answer_parsing import (
    AnswerError,
    Parsed,
    button_answer,
    error_text,
    expected_answer,
    parse_answer,
    show_value,
)
from conversations.context import Assignment
from conversations.deadlines import deadline_text
from conversations.events import Button, SaveAnswers, Submit
from conversations.fast_entry import FastEntry, parse_pairs, parse_section
from conversations.forms import Form, Question
from conversations.session import Turn
from conversations.text_normalise import fold
from conversations.yes_no import parse_yes_no

REVIEW_TEXT_WIDTH = 80
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
    "gui bao cao": "submit",
    "submit": "submit",
    "xem lai": "review",
    "review": "review",
    "tra loi tiep": "continue",
    "tiep tuc": "continue",
    "continue": "continue",
    "nhap lai": "retype",
    "retype": "retype",
}


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
    if folded.isdigit() and answers:
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
    return turn.ctx.forms[a.form_key]


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
            if a.starts_at <= turn.now and not a.locked(turn.now)]


def _clip(raw: str) -> str:
    """A value the person sent, quoted back no longer than QUOTED_WIDTH."""
    return raw if len(raw) <= QUOTED_WIDTH else raw[: QUOTED_WIDTH - 1].rstrip() + "…"


def _title(turn: Turn, a: Assignment) -> str:
    lang = turn.tr.language
    return f"{a.campaign_title.get(lang)} — {a.unit.name}"


def _save(turn: Turn, a: Assignment, answers: dict[str, dict[str, Any]]) -> None:
    if not answers:
        return
    if a.status == "submitted":
        edits = dict(turn.state.get("edits") or {})
        edits.update(answers)
        turn.state["edits"] = edits
        return
    turn.saved.update(answers)
    turn.effect(SaveAnswers(a.period_id, a.unit.code, a.form_key, dict(answers)))


def _reset(turn: Turn) -> None:
    language = turn.state.get("language")
    turn.state.clear()
    turn.state["step"] = "idle"
    if language:
        turn.state["language"] = language


def _current(turn: Turn) -> Assignment | None:
    a = turn.ctx.assignment(turn.state.get("assignment"))
    if a is None:
        _reset(turn)
        turn.say(turn.tr("This report is no longer open. Send /baocao to see what is due."))
        return None
    if a.locked(turn.now):
        _reset(turn)
        turn.say(turn.tr("This report was closed on {time}; no more answers are accepted. "
                         "Please contact your coordinator if something must still change.",
                         time=turn.tr.datetime(a.lock_at, a.timezone)))  # type: ignore[arg-type]
        return None
    return a


# ----------------------------------------------------------------------------- entry points

def start(turn: Turn, arg: str = "") -> None:
    tr = turn.tr
    step = turn.state.get("step", "idle")
    if step in ("answering", "confirming", "reviewing"):
        a = _current(turn)
        if a is None:
            return
        if step == "reviewing":
            review(turn, a)
        elif step == "confirming":
            _confirm_next(turn, a)
        else:
            ask(turn, a, turn.state["question"],
                prefix=tr("Let's continue: {title}.", title=_title(turn, a)))
        return
    assignments = _open(turn)
    if not assignments:
        _reset(turn)
        turn.say(tr("There is no report to file right now. Send /trangthai to see deadlines."))
        return
    if len(assignments) == 1:
        begin(turn, assignments[0])
        return
    lines = [tr("Which report would you like to file?")]
    buttons = []
    distinct_units = len({a.unit.code for a in assignments}) == len(assignments)
    for i, a in enumerate(assignments, start=1):
        lines.append(f"• {_title(turn, a)} ({_status_word(turn, a)}; "
                     + tr("due {deadline}", deadline=deadline_text(a, tr)) + ")")
        label = a.unit.name if distinct_units else _title(turn, a)
        buttons.append(Button(f"pick:{i}", label))
    # Button data stays short (Telegram allows 64 bytes); the keys live in the state.
    turn.state.update({"step": "choosing", "choices": [a.key for a in assignments]})
    turn.say("\n".join(lines), buttons=tuple(buttons))


def _status_word(turn: Turn, a: Assignment) -> str:
    tr = turn.tr
    if a.status == "submitted":
        return tr("submitted")
    if a.status == "returned":
        return tr("returned for correction")
    if a.answers:
        return tr("draft")
    return tr("not started")


def begin(turn: Turn, a: Assignment) -> None:
    tr = turn.tr
    language = turn.state.get("language")
    turn.state.clear()
    if language:
        turn.state["language"] = language
    turn.state.update({"step": "answering", "assignment": a.key, "trail": []})
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
    if a.status == "returned" and a.return_comment:
        header += "\n" + tr("Returned for correction: {comment}", comment=a.return_comment)
    unanswered = _unanswered(turn, a)
    if not unanswered:
        review(turn, a, prefix=header)
        return
    if a.answers:
        prefix = header + "\n" + tr("{done} of {total} questions are already answered.",
                                     done=total - len(unanswered), total=total)
    else:
        prefix = header + "\n" + tr(
            "{total} questions; each answer is saved at once. You may also send a whole "
            "section in one message, for example: mục 4: 2, 150, 1, 300, 3.", total=total)
    ask(turn, a, unanswered[0].id, prefix=prefix)


def cancel(turn: Turn) -> None:
    tr = turn.tr
    step = turn.state.get("step", "idle")
    if step == "idle":
        turn.say(tr("Nothing is in progress. Send /baocao to file a report."))
        return
    had_edits = bool(turn.state.get("edits"))
    _reset(turn)
    if had_edits:
        turn.say(tr("Stopped. The corrections you had not submitted were dropped; the submitted "
                    "report is unchanged."))
    else:
        turn.say(tr("Stopped. Your answers are saved; send /baocao to continue."))


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
    if turn.event.kind == "text":
        drafts = [a for a in _open(turn) if a.status != "submitted"]
        if len(drafts) == 1:
            a = drafts[0]
            entry = _fast_entry(turn, a, loose=True)
            if entry:
                turn.state.update({"step": "answering", "assignment": a.key, "trail": []})
                _apply_entry(turn, a, entry)
                return
    turn.say(tr("Send /baocao to fill in a report, /trangthai to see what is due, "
                "/trogiup for help."))


def _choosing(turn: Turn) -> None:
    token = offered_token(turn)
    choices = turn.state.get("choices") or []
    if token and token.startswith("pick:") and token[5:].isdigit():
        index = int(token[5:]) - 1
        a = turn.ctx.assignment(choices[index]) if 0 <= index < len(choices) else None
        if a is not None and a in _open(turn):
            begin(turn, a)
            return
    turn.state["step"] = "idle"
    start(turn)


def ask(turn: Turn, a: Assignment, qid: str, prefix: str = "") -> None:
    tr = turn.tr
    form = _form(turn, a)
    q = form.question(qid)
    assert q is not None
    section = form.section_of(qid)
    lines = [prefix, ""] if prefix else []
    lines.append(tr("Section {section} · question {n}/{total}", section=section.id,
                    n=form.position(qid), total=len(form.questions)))
    if turn.state.get("section") != section.id or prefix:
        lines.append(section.title.get(tr.language))
    lines.append(f"{q.id}. {q.label.get(tr.language)}")
    if q.help.get(tr.language):
        lines.append(q.help.get(tr.language))
    current = _answers(turn, a).get(qid)
    if current is not None:
        lines.append(tr("Current answer: {value}", value=show_value(q, current.get("value"), tr)))
    buttons: list[Button] = []
    if q.type == "yes_no":
        buttons += [Button(f"ans:{qid}:yes", tr("Yes")), Button(f"ans:{qid}:no", tr("No"))]
    elif q.type == "choice":
        buttons += [Button(f"ans:{qid}:{c.id}", c.label.get(tr.language)) for c in q.choices]
    if q.numeric and _zeroable(turn, a, q):
        buttons.append(Button("zero", tr("0 for this whole section"), shortcut=True))
    if not q.required:
        buttons.append(Button("skip", tr("Skip"), shortcut=True))
    if turn.state.get("trail") or form.position(qid) > 1:
        buttons.append(Button("back", tr("Back"), shortcut=True))
    turn.state.update({"step": "answering", "question": qid, "section": section.id})
    turn.say("\n".join(lines), buttons=tuple(buttons))


def _zeroable(turn: Turn, a: Assignment, q: Question) -> list[Question]:
    """The numeric questions of q's section still unanswered from q on (q included)."""
    answers = _answers(turn, a)
    section = _form(turn, a).section_of(q.id)
    ids = [x.id for x in section.questions]
    rest = section.questions[ids.index(q.id):]
    found = [x for x in rest if x.numeric and (x.id == q.id or x.id not in answers)]
    return found if len(found) >= 2 else []


def _next(turn: Turn, a: Assignment, after: str, prefix: str = "") -> None:
    """Ask the next unanswered question after `after`, or the first one left, or review."""
    if turn.state.pop("back_to_review", False):
        review(turn, a, prefix=prefix)
        return
    answers = _answers(turn, a)
    form = _form(turn, a)
    following = [q for q in form.iter_after(after) if q.id not in answers]
    remaining = following or [q for q in form.questions if q.id not in answers]
    if remaining:
        ask(turn, a, remaining[0].id, prefix=prefix)
    else:
        review(turn, a, prefix=prefix)


def _answering(turn: Turn, a: Assignment) -> None:
    tr = turn.tr
    form = _form(turn, a)
    qid = turn.state["question"]
    q = form.question(qid)
    if q is None:
        _next(turn, a, after="")
        return
    token = offered_token(turn)
    trail: list[str] = list(turn.state.get("trail") or [])
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
        _save(turn, a, {qid: {"value": None, "note": ""}})
        turn.state["trail"] = [*trail, qid]
        _next(turn, a, qid)
        return
    if token in ("submit", "review"):
        review(turn, a)
        return
    if token == "zero" and q.numeric:
        zeroed = _zeroable(turn, a, q) or [q]
        _save(turn, a, {x.id: {"value": 0, "note": ""} for x in zeroed})
        turn.state["trail"] = [*trail, qid]
        ids = ", ".join(x.id for x in zeroed)
        _next(turn, a, zeroed[-1].id if zeroed else qid,
              prefix=tr("Saved 0 for {ids}.", ids=ids) if zeroed else "")
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
        entry = _fast_entry(turn, a, loose=q.type != "text")
        if entry:
            _apply_entry(turn, a, entry)
            return
    try:
        parsed = button_answer(q, raw, a.starts_at.year) if pressed \
            else parse_answer(q, turn.event.text, a.starts_at.year)
    except AnswerError as error:
        ask(turn, a, qid, prefix=error_text(q, error, tr))
        return
    if parsed.implausible:
        turn.state["pending"] = [{"qid": qid, "value": parsed.value, "note": parsed.note}]
        turn.state["after_confirm"] = "next"
        _confirm_next(turn, a)
        return
    _save(turn, a, {qid: parsed.stored()})
    turn.state["trail"] = [*trail, qid]
    _next(turn, a, qid)


def _fast_entry(turn: Turn, a: Assignment, loose: bool) -> FastEntry | None:
    form = _form(turn, a)
    text = turn.event.text
    entry = parse_section(form, text)
    if entry is not None:
        return entry
    return parse_pairs(form, text, need_separator=not loose)


def _apply_entry(turn: Turn, a: Assignment, entry: FastEntry) -> None:
    tr = turn.tr
    form = _form(turn, a)
    if entry.section_id and form.section(entry.section_id) is None:
        sections = ", ".join(s.id for s in form.sections)
        turn.say(tr("This form has no section {section}. Its sections are: {sections}.",
                    section=entry.section_id, sections=sections))
        return
    accepted: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    pending: list[dict[str, Any]] = []
    for qid, raw in entry.pairs:
        q = form.question(qid)
        assert q is not None
        try:
            parsed: Parsed = parse_answer(q, raw, a.starts_at.year)
        except AnswerError as error:
            problems.append(f"• {qid}: “{_clip(raw)}” — {error_text(q, error, tr)}")
            continue
        if parsed.implausible:
            pending.append({"qid": qid, "value": parsed.value, "note": parsed.note})
        else:
            accepted[qid] = parsed.stored()
    if entry.too_many:  # one line for all of them, however many were sent
        extra = ", ".join(entry.too_many[:3]) + (", …" if len(entry.too_many) > 3 else "")
        problems.append("• " + tr("“{value}”: section {section} has only {count} questions.",
                                  value=_clip(extra), section=entry.section_id,
                                  count=len(form.section(entry.section_id).questions)))  # type: ignore[union-attr]
    _save(turn, a, accepted)
    if accepted:  # "Quay lại" then goes back through them, as after answering one by one
        turn.state["trail"] = [*(turn.state.get("trail") or []),
                               *sorted(accepted, key=form.position)]
    lines = []
    if accepted:
        shown = "; ".join(f"{qid} = {show_value(form.question(qid), v['value'], tr)}"  # type: ignore[arg-type]
                          for qid, v in accepted.items())
        lines.append(tr("Saved {count}: {answers}.", count=len(accepted), answers=shown))
    if problems:
        lines.append(tr("Not accepted (please send these again):"))
        lines.extend(problems[:PROBLEMS_SHOWN])
        if len(problems) > PROBLEMS_SHOWN:
            lines.append(tr("… and {count} more.", count=len(problems) - PROBLEMS_SHOWN))
    prefix = "\n".join(lines)
    step = turn.state.get("step")
    if pending:
        turn.state["pending"] = pending
        turn.state["after_confirm"] = "review" if step == "reviewing" else "next"
        _confirm_next(turn, a, prefix=prefix)
        return
    if step == "reviewing":
        _after_review_edit(turn, a, prefix)
        return
    current = turn.state.get("question")
    answered = _answers(turn, a)
    refused = [qid for qid, _raw in entry.pairs if qid not in answered]
    if refused:
        ask(turn, a, refused[0], prefix=prefix)
    elif current and current not in answered:
        ask(turn, a, current, prefix=prefix)
    else:
        last = entry.pairs[-1][0] if entry.pairs else (current or "")
        _next(turn, a, last, prefix=prefix)


def _confirm_next(turn: Turn, a: Assignment, prefix: str = "") -> None:
    tr = turn.tr
    pending = turn.state.get("pending") or []
    if not pending:
        turn.state.pop("pending", None)
        after = turn.state.pop("after_confirm", "next")
        current = turn.state.get("question")
        if after == "review":
            _after_review_edit(turn, a, prefix)
        elif current and current not in _answers(turn, a):
            ask(turn, a, current, prefix=prefix)
        else:
            _next(turn, a, current or "", prefix=prefix)
        return
    item = pending[0]
    q = _form(turn, a).question(item["qid"])
    assert q is not None
    text = tr("{qid}. {label}: {value} is much higher than usual. Is this correct?",
              qid=q.id, label=q.label.get(tr.language), value=show_value(q, item["value"], tr))
    turn.state["step"] = "confirming"
    turn.say((prefix + "\n\n" if prefix else "") + text,
             buttons=(Button("confirm", tr("Yes, keep it")), Button("retype", tr("Re-enter"))))


def _confirming(turn: Turn, a: Assignment) -> None:
    tr = turn.tr
    pending = list(turn.state.get("pending") or [])
    if not pending:
        _next(turn, a, turn.state.get("question") or "")
        return
    item = pending[0]
    token = offered_token(turn)
    if token is None and turn.event.kind == "text":
        yes = parse_yes_no(turn.event.text)
        token = "confirm" if yes else "retype" if yes is False else None
    if token == "confirm":
        _save(turn, a, {item["qid"]: {"value": item["value"], "note": item["note"]}})
        turn.state["pending"] = pending[1:]
        _confirm_next(turn, a)
        return
    if token == "retype" or (turn.event.kind == "text" and token is None):
        turn.state.pop("pending", None)
        if turn.state.pop("after_confirm", "next") == "review":
            turn.state["back_to_review"] = True
        turn.state["step"] = "answering"
        turn.state["question"] = item["qid"]
        if token == "retype":
            ask(turn, a, item["qid"], prefix=tr("Please enter the value again."))
        else:
            _answering(turn, a)
        return
    _confirm_next(turn, a)


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
                    shown += " — " + tr("note: {note}", note=stored["note"])
            lines.append(f"{q.id}  {shown}")
    missing = _missing_required(turn, a)
    lines.append("")
    if missing:
        lines.append(tr("Still required: {ids}.", ids=", ".join(q.id for q in missing)))
    lines.append(tr("To change an answer, send its number and the new value, for example "
                    "“4.2 150”. When everything is right, press “Submit”."))
    turn.state["step"] = "reviewing"
    buttons = [Button("submit", tr("Submit"))]
    if missing:
        buttons.append(Button("continue", tr("Answer the rest")))
    turn.say("\n".join(lines), buttons=tuple(buttons))


def _after_review_edit(turn: Turn, a: Assignment, prefix: str) -> None:
    tr = turn.tr
    turn.state["step"] = "reviewing"
    buttons = [Button("submit", tr("Submit")), Button("review", tr("Review all"))]
    turn.say(prefix or tr("Nothing changed."), buttons=tuple(buttons))


def _reviewing(turn: Turn, a: Assignment) -> None:
    tr = turn.tr
    token = offered_token(turn)
    if token == "submit":
        _submit(turn, a)
        return
    if token == "review":
        review(turn, a)
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
        entry = _fast_entry(turn, a, loose=True)
        if entry:
            _apply_entry(turn, a, entry)
            return
    turn.say(tr("To change an answer, send its number and the new value, for example “4.2 150”; "
                "to change a text part, send its number first, for example “IV”. "
                "Press “Submit” when everything is right."),
             buttons=(Button("submit", tr("Submit")), Button("review", tr("Review all"))))


def _submit(turn: Turn, a: Assignment) -> None:
    tr = turn.tr
    missing = _missing_required(turn, a)
    if missing:
        turn.say(tr("The report cannot be submitted yet; these required questions have no "
                    "answer: {ids}.", ids=", ".join(q.id for q in missing)),
                 buttons=(Button("continue", tr("Answer the rest")),))
        return
    on_time = turn.now < a.deadline
    when = tr.datetime(turn.now, a.timezone)
    if a.status == "submitted":
        edits = turn.state.get("edits") or {}
        changes = {k: v for k, v in edits.items() if dict(a.answers.get(k) or {}) != v}
        if not changes:
            _reset(turn)
            turn.say(tr("Nothing was changed; the submitted report stays as it was."))
            return
        turn.effect(Submit(a.period_id, a.unit.code, a.form_key, changes))
        _reset(turn)
        turn.say(tr("The corrected report of {unit} was submitted at {time} ({count} answers "
                    "changed). Thank you!", unit=a.unit.name, time=when, count=len(changes)))
        return
    turn.effect(Submit(a.period_id, a.unit.code, a.form_key))
    _reset(turn)
    if on_time:
        text = tr("The report {campaign} of {unit} was submitted at {time}, on time. Thank you! "
                  "You can still correct it with /baocao.",
                  campaign=a.campaign_title.get(tr.language), unit=a.unit.name, time=when)
    else:
        text = tr("The report {campaign} of {unit} was submitted at {time}. The deadline was "
                  "{deadline}, so it is recorded as late. Thank you!",
                  campaign=a.campaign_title.get(tr.language), unit=a.unit.name, time=when,
                  deadline=deadline_text(a, tr))
    turn.say(text)
