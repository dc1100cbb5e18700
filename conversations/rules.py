"""Rules across the figures of one report, written in the form: `[5.2] >= [5.1]` (attendances
are at least the classes), `when [8.3] > 0` then `[8.1] + [8.2] > 0` (money spent on rewards
means someone was rewarded), `[3.2] <= [3.1]` (a part is not larger than its whole).

A question is written between brackets, so `[5.1]` (the question) and `5.1` (the number) are
never confused. A rule is `hard` (the value is refused with the rule's own message) or `soft`
(the person is asked to confirm; the value is then kept with the reason, for the coordinator).
A rule is checked only when every figure it names has been answered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

LEVELS = ("hard", "soft")
# Spellings accepted for a comparison; the first of each group is the canonical one.
_OPERATORS: dict[str, str] = {">=": ">=", "≥": ">=", "=>": ">=", "<=": "<=", "≤": "<=",
                              "=<": "<=", ">": ">", "<": "<", "==": "=", "=": "=",
                              "!=": "!=", "≠": "!=", "<>": "!="}
_COMPARE: dict[str, Callable[[Decimal, Decimal], bool]] = {
    ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
    "<": lambda a, b: a < b, "=": lambda a, b: a == b, "!=": lambda a, b: a != b,
}
_TOKEN = re.compile(r"\s*(?:(?P<id>\[[^\]]*\])|(?P<number>\d+(?:\.\d+)?)"
                    r"|(?P<op>>=|<=|=>|=<|==|!=|<>|[<>=≥≤≠])|(?P<sign>[+\-])|(?P<times>[*×]))")


class RuleError(ValueError):
    """An expression or rule that does not follow the format; the message says what."""


@dataclass(frozen=True)
class Term:
    sign: int  # +1 or -1
    question: str = ""  # a question id (times `number`), or
    number: Decimal = Decimal(0)  # a constant

    def text(self, first: bool) -> str:
        if self.question:
            word = f"[{self.question}]" if self.number == 1 \
                else f"{_plain(self.number)} * [{self.question}]"
        else:
            word = _plain(self.number)
        if first:
            return word if self.sign > 0 else f"-{word}"
        return f"{'+' if self.sign > 0 else '-'} {word}"


@dataclass(frozen=True)
class Comparison:
    left: tuple[Term, ...]
    op: str
    right: tuple[Term, ...]

    @property
    def questions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.question for t in (*self.left, *self.right)
                                   if t.question))

    def text(self) -> str:
        """The canonical spelling: `[8.1] + [8.2] > 0`."""
        def side(terms: tuple[Term, ...]) -> str:
            return " ".join(t.text(i == 0) for i, t in enumerate(terms))

        return f"{side(self.left)} {self.op} {side(self.right)}"

    def holds(self, values: Mapping[str, Decimal]) -> bool | None:
        """True or False; None when a figure it names has no numeric answer."""
        def total(terms: tuple[Term, ...]) -> Decimal | None:
            result = Decimal(0)
            for t in terms:
                value = values.get(t.question) if t.question else t.number
                if value is None:
                    return None
                result += t.sign * (value * t.number if t.question else value)
            return result

        left, right = total(self.left), total(self.right)
        if left is None or right is None:
            return None
        return _COMPARE[self.op](left, right)


@dataclass(frozen=True)
class Message:
    vi: str
    en: str

    def get(self, language: str) -> str:
        return self.en if language == "en" and self.en else self.vi


@dataclass(frozen=True)
class Rule:
    id: str
    check: Comparison
    level: str = "hard"
    when: Comparison | None = None
    message: Message = Message("", "")

    @property
    def questions(self) -> tuple[str, ...]:
        named = (*(self.when.questions if self.when else ()), *self.check.questions)
        return tuple(dict.fromkeys(named))

    def broken(self, values: Mapping[str, Decimal]) -> bool:
        """The condition holds (or there is none) and the check fails; a rule that names an
        unanswered figure is not broken."""
        if self.when is not None and self.when.holds(values) is not True:
            return False
        return self.check.holds(values) is False

    def as_dict(self) -> dict[str, Any]:
        raw: dict[str, Any] = {"id": self.id}
        if self.when is not None:
            raw["when"] = self.when.text()
        raw["check"] = self.check.text()
        raw["level"] = self.level
        if self.message.vi:
            raw["message"] = {"vi": self.message.vi, "en": self.message.en}
        return raw


def _plain(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return text


def parse_comparison(text: str) -> Comparison:
    """`[5.2] >= [5.1]`, `[8.1] + [8.2] > 0`: sums of questions and numbers, compared."""
    source = str(text or "").strip()
    if not source:
        raise RuleError("an empty expression")
    position, sides, ops = 0, [[]], []
    sign, expect_operand = 1, True
    factor: Decimal | None = None  # "10 *" waiting for its question
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None or match.end() == position:
            rest = source[position:].strip()
            if not rest:
                break
            raise RuleError(f"cannot read “{rest[:20]}” in “{source}” (write a question as "
                            f"[4.2], a number as 12, a multiple as 10 * [4.1], and compare "
                            f"with >=, <=, >, <, = or !=)")
        position = match.end()
        if match.group("id") is not None:
            qid = match.group("id")[1:-1].strip()
            if not qid:
                raise RuleError(f"an empty [] in “{source}”")
            if not expect_operand:
                raise RuleError(f"“{source}”: put + or - between two figures")
            sides[-1].append(Term(sign, question=qid, number=factor or Decimal(1)))
            sign, expect_operand, factor = 1, False, None
        elif match.group("number") is not None:
            if not expect_operand:
                raise RuleError(f"“{source}”: put + or - between two figures (a question is "
                                f"written between brackets, like [5.1])")
            sides[-1].append(Term(sign, number=Decimal(match.group("number"))))
            sign, expect_operand = 1, False
        elif match.group("times") is not None:
            last = sides[-1][-1] if sides[-1] else None
            if expect_operand or last is None or last.question:
                raise RuleError(f"“{source}”: write a multiplication as a number times a "
                                f"question, e.g. 10 * [4.1]")
            sides[-1].pop()
            sign, factor, expect_operand = last.sign, last.number, True
        elif match.group("sign") is not None:
            if factor is not None:
                raise RuleError(f"“{source}”: a multiplication needs a question after “*”")
            if expect_operand:
                if sides[-1] or match.group("sign") == "+":
                    raise RuleError(f"“{source}”: two signs in a row")
                sign = -1
            else:
                sign = 1 if match.group("sign") == "+" else -1
                expect_operand = True
        else:
            if expect_operand or ops or factor is not None:
                raise RuleError(f"“{source}” must compare two sums once, e.g. [5.2] >= [5.1]")
            ops.append(_OPERATORS[match.group("op")])
            sides.append([])
            sign, expect_operand = 1, True
    if not ops or len(sides) != 2 or not sides[1] or expect_operand or factor is not None:
        raise RuleError(f"“{source}” must compare two sums, e.g. [5.2] >= [5.1]")
    return Comparison(tuple(sides[0]), ops[0], tuple(sides[1]))


def parse_rule(raw: Any, where: str, numeric_ids: Mapping[str, str]) -> Rule:
    """A rule from its YAML (or spreadsheet) mapping; `numeric_ids` maps every question a rule
    may name (numbers and yes/no) to its type."""
    if not isinstance(raw, Mapping):
        raise RuleError(f"{where}: a rule must be a mapping with id, check and level")
    rule_id = str(raw.get("id") or "").strip()
    if not rule_id:
        raise RuleError(f"{where}: a rule needs an id")
    where = f"{where} ({rule_id})"
    level = str(raw.get("level") or "hard").strip().lower()
    if level not in LEVELS:
        raise RuleError(f"{where}: level must be hard or soft, not “{level}”")
    try:
        check = parse_comparison(raw.get("check"))
        when = parse_comparison(raw["when"]) if raw.get("when") not in (None, "") else None
    except RuleError as exc:
        raise RuleError(f"{where}: {exc}") from None
    message_raw = raw.get("message")
    if message_raw is None:
        message = Message("", "")
    elif isinstance(message_raw, str):
        message = Message(message_raw.strip(), message_raw.strip())
    elif isinstance(message_raw, Mapping) and isinstance(message_raw.get("vi"), str):
        vi = message_raw["vi"].strip()
        message = Message(vi, str(message_raw.get("en") or vi).strip())
    else:
        raise RuleError(f"{where}: message must be a text, or vi and en texts")
    rule = Rule(rule_id, check, level, when, message)
    for qid in rule.questions:
        if qid not in numeric_ids:
            raise RuleError(f"{where}: [{qid}] is not a question of this form that holds a "
                            f"number or a yes/no answer")
    return rule


def numeric(stored: Any, qtype: str) -> Decimal | None:
    """A stored answer as a number a rule can use: yes is 1, no is 0; None otherwise."""
    if stored is None:
        return None
    if qtype == "yes_no":
        return Decimal(1) if stored is True else Decimal(0) if stored is False else None
    if isinstance(stored, bool):
        return None
    try:
        value = Decimal(str(stored))
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None
