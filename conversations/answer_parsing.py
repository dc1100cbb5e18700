"""One typed answer to one question: parse, validate, and show it back."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from conversations.date_parsing import DateError, parse_date
from conversations.forms import Question
from conversations.i18n import Tr
from conversations.number_parsing import NumberError, is_whole, parse_number
from conversations.text_normalise import clean, fold
from conversations.yes_no import parse_yes_no

MAX_TEXT = 3000
# Hard ceilings (exclusive) of every figure, whatever the form says: the database column
# (Numeric(24, 6)), Decimal's context and every export hold them, and a sum over a thousand
# units, with room. A count of people or classes never nears 10^12; money stays below 10^15 đồng.
MAX_BY_TYPE: dict[str, int] = {"count": 10**12, "money": 10**15, "number": 10**12}


def within_bounds(question_type: str, value: Decimal) -> bool:
    """True if `value` is a finite figure below the ceiling of its type (and above minus it)."""
    limit = MAX_BY_TYPE.get(question_type)
    if limit is None:
        return True
    return value.is_finite() and -limit < value < limit
_NOTE = re.compile(r"(?i)(?:\bghi\s*ch[uú]\b|\bgc\b|\bnote\b)\s*[:\-]?\s*")
_PAREN_NOTE = re.compile(r"^(?P<value>[^()]*?)\s*\((?P<note>[^()]*)\)\s*$")


@dataclass(frozen=True)
class Parsed:
    value: Any
    note: str = ""
    implausible: bool = False

    def stored(self) -> dict[str, Any]:
        return {"value": self.value, "note": self.note}


class AnswerError(ValueError):
    """Why an answer was not accepted; `code` picks the polite explanation."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def split_note(text: str) -> tuple[str, str]:
    """'12 người ghi chú: 3 lớp trực tuyến' → ('12 người', '3 lớp trực tuyến')."""
    match = _NOTE.search(text)
    if match and match.start() > 0:
        return text[: match.start()].strip(" ,;-"), text[match.end() :].strip()
    paren = _PAREN_NOTE.match(text)
    if paren and paren.group("value").strip():
        return paren.group("value").strip(), paren.group("note").strip()
    return text, ""


def parse_answer(question: Question, raw: str, default_year: int) -> Parsed:
    text = clean(raw)
    if question.type == "text":
        if not text:
            raise AnswerError("empty")
        if len(text) > MAX_TEXT:
            raise AnswerError("too_long", limit=MAX_TEXT)
        return Parsed(text)
    value_text, note = split_note(text) if question.note else (text, "")
    if not value_text:
        raise AnswerError("empty")
    if question.numeric:
        return _number(question, value_text, note)
    if question.type == "yes_no":
        answer = parse_yes_no(value_text)
        if answer is None:
            raise AnswerError("not_yes_no")
        return Parsed(answer, note)
    if question.type == "date":
        try:
            return Parsed(parse_date(value_text, default_year).isoformat(), note)
        except DateError as exc:
            raise AnswerError(getattr(exc, "code", "not_a_date")) from exc
    return Parsed(_choice(question, value_text), note)


def _number(question: Question, text: str, note: str) -> Parsed:
    try:
        value = parse_number(text)
    except NumberError as exc:
        raise AnswerError("not_a_number") from exc
    if not within_bounds(question.type, value):
        raise AnswerError("too_large", max=MAX_BY_TYPE[question.type] - 1)
    if question.type in ("count", "money") and not is_whole(value):
        raise AnswerError("not_whole")
    if value < 0 and (question.min is None or question.min >= 0):
        raise AnswerError("negative")
    if question.min is not None and value < question.min:
        raise AnswerError("below_min", min=question.min)
    if question.max is not None and value > question.max:
        raise AnswerError("above_max", max=question.max)
    implausible = question.soft_max is not None and value > question.soft_max
    stored: Any = int(value) if question.type in ("count", "money") else _decimal_str(value)
    return Parsed(stored, note, implausible)


def button_answer(question: Question, raw: str, default_year: int) -> Parsed:
    """The value a button press carries (`ans:<question>:<value>`). Its data comes from the
    person's client and may be forged: yes/no and choices take only their own values, any
    other value is read exactly as if it had been typed."""
    if question.type == "yes_no":
        if raw not in ("yes", "no"):
            raise AnswerError("not_yes_no")
        return Parsed(raw == "yes")
    if question.type == "choice":
        if raw not in {c.id for c in question.choices}:
            raise AnswerError("not_a_choice", count=len(question.choices))
        return Parsed(raw)
    return parse_answer(question, raw, default_year)


def _decimal_str(value: Decimal) -> str | int:
    return int(value) if is_whole(value) else format(value.normalize(), "f")


def _choice(question: Question, text: str) -> str:
    folded = fold(text)
    for index, choice in enumerate(question.choices, start=1):
        if folded in (str(index), fold(choice.id), fold(choice.label.vi), fold(choice.label.en)):
            return choice.id
    raise AnswerError("not_a_choice", count=len(question.choices))


def show_value(question: Question, stored: Any, tr: Tr) -> str:
    """An answer the way the review and the coordinator read it: '150 người', '1.500.000 đồng'."""
    if stored is None:
        return tr("(skipped)")
    if question.numeric:
        try:
            number = Decimal(str(stored)) if not isinstance(stored, bool) else None
        except (ArithmeticError, ValueError):  # stored before values were checked
            number = None
        if number is None or not within_bounds(question.type, number):
            return tr("(unreadable value)")
        unit = question.unit.get(tr.language)
        return f"{tr.number(number)} {unit}".strip()
    if question.type == "yes_no":
        return tr("Yes") if stored else tr("No")
    if question.type == "date":
        return tr.date(date.fromisoformat(stored))
    if question.type == "choice":
        match = next((c for c in question.choices if c.id == stored), None)
        return match.label.get(tr.language) if match else str(stored)
    return str(stored)


def error_text(question: Question, error: AnswerError, tr: Tr) -> str:
    """A polite sentence saying what is expected, never blaming the person."""
    code = error.code
    example = tr("for example: {example}", example=_example(question, tr))
    if code == "not_whole":
        return tr("This should be a whole number, without a decimal part ({example}).",
                  example=example)
    if code == "negative":
        return tr("This number cannot be negative. Please enter 0 or more.")
    if code == "below_min":
        return tr("The smallest accepted value is {min}.", min=tr.number(error.params["min"]))
    if code == "above_max":
        return tr("The largest accepted value is {max}.", max=tr.number(error.params["max"]))
    if code == "too_large":
        return tr("This number is larger than any real figure for this question (at most "
                  "{max}). Please check it and send it again.",
                  max=tr.number(error.params["max"]))
    if code == "not_yes_no":
        return tr("Please answer “có” (yes) or “không” (no).")
    if code in ("not_a_date", "invalid_date"):
        return tr("Please enter a date as day/month/year, {example}.", example=example)
    if code == "not_a_choice":
        return tr("Please choose one of the options by its number (1 to {count}).",
                  count=error.params["count"])
    if code == "too_long":
        return tr("This text is too long; please keep it under {limit} characters.",
                  limit=tr.number(error.params["limit"]))
    if code == "empty" and question.type == "text":
        return tr("Please write a few words for this part.")
    if question.type == "money":
        return tr("I could not read this amount. Please enter a sum in đồng, {example}.",
                  example=example)
    return tr("I could not read this number. Please enter a number, {example}.", example=example)


def expected_answer(question: Question, tr: Tr) -> str:
    """What a question takes, in a few words: 'a number, for example: 12'."""
    example = _example(question, tr)
    if question.type == "money":
        return tr("an amount in đồng, for example: {example}", example=example)
    if question.numeric:
        return tr("a number, for example: {example}", example=example)
    if question.type == "yes_no":
        return tr("“có” (yes) or “không” (no)")
    if question.type == "date":
        return tr("a date as day/month/year, for example: {example}", example=example)
    if question.type == "choice":
        return tr("one of the options, by its number (1 to {count})",
                  count=len(question.choices))
    return tr("a few words of text")


def _example(question: Question, tr: Tr) -> str:
    if question.type == "money":
        return tr("1.500.000 or 1,5tr")
    if question.type == "date":
        return "13/10/2023"
    if question.type == "number":
        return "12,5"
    return "12"
