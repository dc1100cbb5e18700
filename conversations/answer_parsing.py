"""One typed answer to one question: parse, validate, and show it back."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from conversations.date_parsing import DateError, parse_date
from conversations.forms import Question
from conversations.i18n import Tr
from conversations.number_parsing import NumberError, is_whole, read_number
from conversations.text_normalise import clean, fold
from conversations.yes_no import read_yes_no

# Office texts pasted from Word run long; longer ones come in parts with "thêm: …".
MAX_TEXT = 10_000
# The note stored with an estimate ("khoảng 30"): data for the coordinator, in Vietnamese.
ESTIMATE_NOTE = "ước tính"
EXCERPT = 60
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
    near_miss: str = ""  # the words typed when a unit was nearly right ("5 triệuu"): asked back
    details: str = ""  # what followed a yes or no ("có, số 12/KH-UBND"), kept in the note

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


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """The start of what someone typed, on one line, for a reply that quotes it."""
    flat = " ".join(clean(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def with_note(note: str, extra: str) -> str:
    """A stored note with a remark in front of it ("ước tính; 3 lớp trực tuyến")."""
    return f"{extra}; {note}" if note else extra


def parse_answer(question: Question, raw: str, default_year: int) -> Parsed:
    text = clean(raw)
    if question.type == "text":
        if not text:
            raise AnswerError("empty")
        if len(text) > MAX_TEXT:
            raise AnswerError("too_long", limit=MAX_TEXT, length=len(text))
        return Parsed(text)
    value_text, note = split_note(text) if question.note else (text, "")
    if not value_text:
        raise AnswerError("empty")
    if question.numeric:
        return _number(question, value_text, note)
    if question.type == "yes_no":
        found = read_yes_no(value_text)
        if found is None:
            raise AnswerError("not_yes_no")
        answer, details = found
        return Parsed(answer, "; ".join(x for x in (details, note) if x), details=details)
    if question.type == "date":
        try:
            return Parsed(parse_date(value_text, default_year).isoformat(), note)
        except DateError as exc:
            if note and value_text != text:  # "thứ 6 (15/9)": the brackets hold the date
                with contextlib.suppress(DateError):
                    return Parsed(parse_date(text, default_year).isoformat())
            raise AnswerError(getattr(exc, "code", "not_a_date")) from exc
    return Parsed(_choice(question, value_text), note)


def _number(question: Question, text: str, note: str) -> Parsed:
    try:
        reading = read_number(text, units=(question.unit.vi, question.unit.en),
                              kind=question.type)
    except NumberError as exc:
        if exc.code == "too_big":  # dozens of digits: past any ceiling, said the same way
            raise AnswerError("too_large", max=MAX_BY_TYPE[question.type] - 1) from exc
        code = "not_a_number" if exc.code in ("empty", "not_a_number") else exc.code
        raise AnswerError(code, typed=text) from exc
    if question.type == "count" and (reading.shorthand or reading.currency == "vnd"):
        raise AnswerError("money_for_count", typed=text)
    if reading.approximate:
        note = with_note(note, ESTIMATE_NOTE)
    checked = _checked_number(question, reading.value, note)
    if reading.near_miss:
        return replace(checked, near_miss=excerpt(text))
    return checked


def _checked_number(question: Question, value: Decimal, note: str) -> Parsed:
    """A number read from a message or a spreadsheet cell, checked against the question."""
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


# A spreadsheet number this large is no real figure (it may be a phone number or an id).
MAX_CELL_NUMBER = Decimal(10) ** 15


def parse_cell(question: Question, value: Any, default_year: int, note: str = "") -> Parsed:
    """A spreadsheet cell as an answer. Text goes through the same parser as a chat message;
    a number typed as a number is taken as it is (never re-read as text, where "1.234"
    would mean one thousand), then checked as a typed one is. `note` is the note column."""
    if isinstance(value, str):
        parsed = parse_answer(question, value, default_year)
        if note.strip() and question.type != "text":
            parsed = replace(parsed, note=with_note(note.strip(), parsed.note)
                             if parsed.note else note.strip())
        return parsed
    note = clean(note).strip() if question.note else ""
    if isinstance(value, bool):
        if question.type == "yes_no":
            return Parsed(value, note)
        if question.type == "text":
            return Parsed("Có" if value else "Không")
        raise AnswerError("not_yes_no" if question.type == "yes_no" else "not_a_number")
    if isinstance(value, datetime | date):
        day = value.date() if isinstance(value, datetime) else value
        if question.type == "date":
            return Parsed(day.isoformat(), note)
        if question.type == "text":
            return Parsed(day.strftime("%d/%m/%Y"))
        raise AnswerError("not_a_number" if question.numeric else "not_a_choice"
                          if question.type == "choice" else "not_yes_no", count=len(
                              question.choices))
    if isinstance(value, int | float | Decimal):
        number = _cell_number(value)
        if number is None:
            raise AnswerError("not_a_number", typed=str(value))
        if abs(number) >= MAX_CELL_NUMBER:
            raise AnswerError("too_large", max=MAX_CELL_NUMBER - 1)
        if question.numeric:
            return _checked_number(question, number, note)
        if question.type == "yes_no" and number in (0, 1):
            return Parsed(bool(number), note)
        if question.type in ("choice", "yes_no", "text"):
            return parse_answer(question, _decimal_str_text(number), default_year) \
                if question.type != "text" else Parsed(_decimal_str_text(number))
        raise AnswerError("not_a_date")
    raise AnswerError("not_a_number", typed=str(value))


def _cell_number(value: int | float | Decimal) -> Decimal | None:
    """Floats from a spreadsheet carry binary noise (0.1 * 3): 15 significant digits are
    what Excel itself keeps."""
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return Decimal(format(value, ".15g"))
    number = Decimal(value)
    return number if number.is_finite() else None


def _decimal_str_text(value: Decimal) -> str:
    return str(int(value)) if is_whole(value) else format(value.normalize(), "f")


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
        if tr.language == "en" and number == 1:
            unit = english_singular(unit)
        return f"{tr.number(number)} {unit}".strip()
    if question.type == "yes_no":
        return tr("Yes") if stored else tr("No")
    if question.type == "date":
        return tr.date(date.fromisoformat(stored))
    if question.type == "choice":
        match = next((c for c in question.choices if c.id == stored), None)
        return match.label.get(tr.language) if match else str(stored)
    return str(stored)


def english_singular(unit: str) -> str:
    """'exhibitions' → 'exhibition' for a count of one; units forms give in the plural."""
    irregular = {"people": "person", "children": "child", "men": "man", "women": "woman"}
    if unit in irregular:
        return irregular[unit]
    if " " in unit or "/" in unit or not unit.islower() or not unit.endswith("s"):
        return unit  # "VND", "m2", phrases: left as written
    if unit.endswith("ies") and len(unit) > 4:
        return unit[:-3] + "y"
    if unit.endswith(("sses", "shes", "ches", "xes")):
        return unit[:-2]
    if unit.endswith("ss"):
        return unit
    return unit[:-1]


def _counted(question: Question, tr: Tr) -> str:
    """What a count counts, in the question's own words: 'lớp', 'người', or its label."""
    unit = question.unit.get(tr.language)
    return unit or question.label.get(tr.language).lower()


def error_text(question: Question, error: AnswerError, tr: Tr) -> str:
    """A polite sentence saying what was wrong and what is expected, never blaming the person."""
    code = error.code
    example = tr("for example: {example}", example=_example(question, tr))
    typed = excerpt(str(error.params.get("typed", "")), 40)
    if code == "not_whole":
        if question.type == "money":
            return tr("An amount in đồng is a whole number, without a decimal part "
                      "({example}).", example=example)
        return tr("This counts {what}, so it should be a whole number, without a decimal "
                  "part ({example}).", what=_counted(question, tr), example=example)
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
    if code in ("not_yes_no",) or (question.type == "yes_no" and code == "empty"):
        return tr("Please answer “có” (yes) or “không” (no); you may also type 1 or 2, or "
                  "“co”, “k”, “chưa”.")
    if code == "weekday":
        return tr("The weekday and the date do not match. Please enter the date again, "
                  "{example}.", example=example)
    if code == "unit":
        return unit_refusal(question, typed, tr)
    if code in ("not_a_date", "invalid_date"):
        return tr("Please enter a date as day/month/year, {example}.", example=example)
    if code == "not_a_choice":
        return tr("Please choose one of the options by its number (1 to {count}).",
                  count=error.params["count"])
    if code == "too_long":
        return tr("This text has {length} characters; a part may have up to {limit}. Please "
                  "shorten it, or send it in two messages: the second one starting with "
                  "“thêm:”.", length=tr.number(error.params.get("length", 0)),
                  limit=tr.number(error.params["limit"]))
    if code == "empty" and question.type == "text":
        return tr("Please write a few words for this part.")
    if code == "range":
        return tr("“{typed}” is a range; this needs one number ({example}). If it is an "
                  "estimate, write it as “khoảng 12”.", typed=typed, example=example)
    if code in ("more_than", "less_than"):
        return tr("“{typed}” is not an exact figure. Please enter the exact number, or an "
                  "estimate as “khoảng 100”.", typed=typed)
    if code == "rate":
        return tr("“{typed}” is a rate (per person, per class or per week); this question "
                  "asks for the total {what}. Please enter the total, {example}.",
                  typed=typed, what=_counted(question, tr), example=example)
    if code == "foreign_currency":
        return tr("Amounts are in đồng; a foreign currency (“{typed}”) is not accepted. "
                  "Please convert it to đồng, for example: 1.500.000 or 1,5tr.", typed=typed)
    if code == "money_for_count":
        return tr("“{typed}” looks like an amount of money; this question counts {what}. "
                  "Please enter the number, {example}.", typed=typed,
                  what=_counted(question, tr), example=example)
    if code == "lookalike":
        return tr("“{typed}” has a letter O, I or l among the digits. Please type it again "
                  "with digits only, {example}.", typed=typed, example=example)
    if code == "words":
        return tr("Please write the number with digits, not in words, {example}.",
                  example=example)
    if code == "bad_grouping":
        return tr("The thousands in “{typed}” are not grouped by three. Please enter it "
                  "again, for example: 1.234.567 or 1234567.", typed=typed)
    if question.type == "money":
        return tr("I could not read this amount. Please enter a sum in đồng, {example}.",
                  example=example)
    return tr("I could not read this number. Please enter a number, {example}.", example=example)


def unit_refusal(question: Question, typed: str, tr: Tr) -> str:
    """Why "10 lít" or "12 kg" is not stored, with the words this question understands."""
    if question.type == "money":
        return tr("“{typed}”: the word after the number is not understood here. Amounts are "
                  "in đồng, written with “đồng”, “nghìn”, “triệu” or “tỷ” if needed, for "
                  "example: 1.500.000 or 1,5tr.", typed=typed)
    unit = question.unit.get(tr.language)
    if unit and "/" not in unit and question.type == "count":
        return tr("“{typed}”: the word after the number is not understood here. Please enter "
                  "the number alone or with “{unit}”, for example: 12 {unit}.",
                  typed=typed, unit=unit)
    return tr("“{typed}”: the word after the number is not understood here. Please enter the "
              "number alone, {example}.", typed=typed,
              example=tr("for example: {example}", example=_example(question, tr)))


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
    unit = question.unit.get(tr.language)
    return f"12 {unit}" if unit and "/" not in unit else "12"
