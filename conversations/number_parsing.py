"""Parse numbers the way Vietnamese users type them into a chat, and format them back.

Users write "1.234" or "1,234" for one thousand two hundred and thirty-four, "2,5" for two
and a half, "2tr5" for 2,500,000 and "không" for zero, and they add units ("12 người",
"500.000đ"). This module turns all of that into a ``Decimal`` or refuses it with a
``NumberError`` whose ``code`` tells the caller which hint to show. Sign and range checks
are left to the callers, which know what the number counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, DecimalException, localcontext

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal

from conversations.text_normalise import clean, fold
from conversations.unit_words import (
    COUNT_UNITS,
    MONEY_UNITS,
    MULTIPLIER_WORDS,
    count_unit_at,
    near_word,
)

__all__ = ["ERROR_CODES", "NumberError", "Reading", "format_number", "is_whole", "parse_number",
           "read_number"]

# Spellings accepted as multipliers, exactly as typed (lower-cased, composed). Only these
# spellings count: "cụ" (elderly people) must stay a unit, unlike "củ" (slang for million).
_MULTIPLIERS: dict[str, int] = {
    "k": 1_000,
    "nghìn": 1_000,
    "nghin": 1_000,
    "ngàn": 1_000,
    "ngan": 1_000,
    "tr": 1_000_000,
    "triệu": 1_000_000,
    "trieu": 1_000_000,
    "củ": 1_000_000,
    "cu": 1_000_000,
    "tỷ": 1_000_000_000,
    "ty": 1_000_000_000,
    "tỉ": 1_000_000_000,
    "ti": 1_000_000_000,
}
_FOLDED_MULTIPLIERS = {fold(word) for word in _MULTIPLIERS}
# Words that fold like a multiplier but are ordinary units in reports.
_UNITS_LIKE_MULTIPLIERS = {"cụ", "ngăn"}

# Words that, right after a number, would change its value ("5 trăm" is 500, "2 chục" is 20).
# They are not supported, so they are refused rather than silently ignored as a unit.
_NUMBER_WORDS = {
    "trăm",
    "tram",
    "chục",
    "chuc",
    "mươi",
    "mười",
    "muoi",
    "rưỡi",
    "ruoi",
    "kk",
    "m",
    "hundred",
    "thousand",
    "million",
    "billion",
}

_ZERO_WORDS = {"khong", "ko", "k", "kg", "khong co", "ko co", "k co", "kg co", "kh co",
               "chua co", "chua lam", "khong lam", "chua to chuc", "khong to chuc",
               "khong co gi", "chua co gi"}
_NEGATIVE_WORDS = {"am"}
_HALF_WORDS = {"rưỡi", "ruoi"}
# Multipliers that are money slang: "12tr" or "500k" typed for a count is a sum of money.
MONEY_SHORTHAND = frozenset({"k", "tr", "củ", "cu"})

# An estimate ("khoảng 30") is kept, with a flag, so the answer can say it is one.
_APPROXIMATE = re.compile(
    r"^(?:khoảng chừng|khoang chung|ước khoảng|uoc khoang|ước tính|uoc tinh|ước chừng"
    r"|uoc chung|xấp xỉ|xap xi|khoảng|khoang|tầm|tam|gần|gan|chừng|chung|cỡ|độ|ước|uoc"
    r"|approximately|approx\.?|about|around|roughly|~|≈)(?: |(?=\d))")
# "dạ 12", "vâng, 12 ạ": polite particles around an answer carry no meaning.
_POLITE_PREFIX = re.compile(r"^(?:dạ|da|vâng|vang|thưa|thua|có|co)"
                            r"(?: (?:vâng|vang|thưa|thua|có|co))?[ ,.:]*(?=\S)")
_POLITE_SUFFIX = re.compile(r"[ ,]+(?:ạ|a)$")
# Not one figure: a range, "more than", "less than". Each gets its own explanation.
_RANGE = re.compile(r"\d[\d.,]*(?: ?[^\W\d_]+)? ?(?:-|–|—|~|->|→|\.\.\.?|…|đến|tới|den|toi"
                    r"|to|hoặc|hoac|or|hay) ?[+\-−]?\d")
_MORE_THAN = re.compile(
    r"^(?:hơn|hon|trên|tren|ngoài|ngoai|quá|qua|ít nhất|it nhat|tối thiểu|toi thieu"
    r"|more than|over|at least|above|>=?|≥) ?(?=\d)|\d(?: ?[^\W\d_]+)? ?(?:\+|trở lên|tro len"
    r"|có lẻ|co le|hơn|hon|or more)(?: |$)")
_LESS_THAN = re.compile(
    r"^(?:dưới|duoi|chưa đến|chua den|chưa tới|chua toi|không quá|khong qua|tối đa|toi da"
    r"|less than|under|below|<=?|≤) ?(?=\d)|\d(?: ?[^\W\d_]+)? ?(?:trở xuống|tro xuong)(?: |$)")
# A rate ("100k/người", "12 lần/tuần", "5tr mỗi lớp") is not the total asked for.
_RATE = re.compile(r"/ ?(?:1 )?[^\W\d_]|^ ?(?:mỗi|moi|một|mot|per|each)(?: |$)")
_FOREIGN_CURRENCY = {"usd", "$", "đô", "do", "đôla", "dola", "đô la", "do la", "dollar",
                     "dollars", "euro", "eur", "€", "yên", "yen", "tệ", "nhân dân tệ", "ndt"}
_VND = {"đ", "₫", "đồng", "dong", "vnđ", "vnd", "d"}
# More digits than any real figure: refused before any arithmetic (a 5,000-digit paste).
ABSURD_DIGITS = 20
_LONG_DIGIT_RUN = re.compile(rf"\d{{{ABSURD_DIGITS + 1},}}")

# Maximum digits written into a unit: "1tr25" and "1ty250" yes, "5k5000" no.
_MAX_UNIT_DIGITS = 3

_TRAILING_PUNCTUATION = ".,;:!?…"

# A number token: digit groups joined by "." or "," or by a single space before more digits.
_NUMBER = re.compile(r"[0-9]+(?:(?:[.,]| (?=[0-9]))[0-9]+)*")
_MULTIPLIER = re.compile(
    r" ?("
    + "|".join(re.escape(word) for word in sorted(_MULTIPLIERS, key=len, reverse=True))
    + r")(?![^\W\d_])"
)
_HALF = re.compile(r" ?(" + "|".join(sorted(_HALF_WORDS)) + r")(?![^\W\d_])")
_LEADING_WORD = re.compile(r"([^\W\d_]+) ?")
_SIGN = re.compile(r"([+\-−]) ?")
_SPACE = re.compile(r" ?")
_WORD = re.compile(r"[^\W\d_]+")
# "3 trăm triệu": hundreds of a multiplier (never "5 trăm" alone, refused as words).
_HUNDRED = re.compile(
    r" ?(?:trăm|tram)(?= ?(?:"
    + "|".join(re.escape(word) for word in sorted(_MULTIPLIERS, key=len, reverse=True))
    + r")(?![^\W\d_]))")
# What a clerk reads past in front of a figure: "tổng cộng 150", "được 150", "= 150".
_LEAD_WORDS = re.compile(r"^(?:tổng cộng|tong cong|tổng số|tong so|tổng|tong|được|duoc|là"
                         r"|bằng|bang)(?: ?[:=])? ?(?=\S)|^[=:] ?(?=\S)")
# A figure in quotes or brackets: "(12)", "“12”".
_WRAPPED = re.compile(r"^([\"“”'‘’«(\[]) ?(.*?) ?([\"“”'‘’»)\]])$")
_PAIRS = {"(": ")", "[": "]", "«": "»", "“": "”", "‘": "’", "\"": "\"", "'": "'", "”": "”"}
# The currency written first: "VNĐ 5.000.000", "₫5.000.000".
_CURRENCY_FIRST = re.compile(r"^(?:vnđ|vnd|₫|đ) ?(?=\d)")
# "nửa triệu" is half a million.
_HALF_OF = re.compile(r"^(?:nửa|nua) (?=(?:nghìn|nghin|ngàn|ngan|triệu|trieu|tỷ|ty|tỉ)"
                      r"(?![^\W\d_]))")
_PERCENT = {"%", "phan tram"}
# Marks a figure whose digits were written into its multiplier ("2tr5", "2 tỷ 3"): money slang.
_DIGITS_IN_UNIT = "digits-in-unit"


ERROR_CODES = frozenset({"empty", "not_a_number", "bad_grouping", "range", "more_than",
                         "less_than", "rate", "foreign_currency", "lookalike", "words",
                         "too_big", "unit"})


class NumberError(ValueError):
    """Raised when a text is not a number; ``code`` selects the message shown to the user.

    Codes: "empty" (nothing typed), "not_a_number", "bad_grouping" (e.g. "12.34.567"),
    "range" ("10-12"), "more_than" ("hơn 100"), "less_than" ("dưới 50"), "rate"
    ("100k/người", "12 lần/tuần"), "foreign_currency" ("100 USD"), "lookalike" ("2O"),
    "words" ("mười hai": a number written in words), "too_big" (more than ABSURD_DIGITS digits),
    "unit" ("10 lít" for money, "12 kg" for a count: a word the question does not take).
    """

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code}: {text!r}")
        self.code = code
        self.text = text


def _grouped(groups: list[str], separators: list[str], text: str) -> str:
    """Join digit groups written with a thousands separator, checking the grouping."""
    if len(set(separators)) > 1:
        raise NumberError("bad_grouping", text)
    first, rest = groups[0], groups[1:]
    bad_first = not 1 <= len(first) <= 3 or Decimal(first) == 0
    if bad_first or any(len(group) != 3 for group in rest):
        # "12 3" reads as two numbers rather than a mistyped grouping.
        code = "not_a_number" if separators[0] == " " else "bad_grouping"
        raise NumberError(code, text)
    return "".join(groups)


def _interpret(token: str, text: str) -> Decimal:
    """Value of one number token such as "1.234", "2,5", "1.234,5" or "1 234 567"."""
    groups = re.split(r"[ .,]", token)
    separators = re.findall(r"[ .,]", token)
    if not separators:
        return Decimal(token)
    last, last_group = separators[-1], groups[-1]
    earlier = separators[:-1]
    if last == " ":
        is_decimal = False
    elif len(last_group) != 3:
        is_decimal = True
    elif earlier:
        # "1.234.567" groups; in "1,234.567" the differing last separator is the decimal one.
        is_decimal = any(separator != last for separator in earlier)
    else:
        # A single separator before three digits groups thousands ("1.234"), unless the
        # integer part cannot be a leading group ("0.500", "1234.567").
        integer = groups[0]
        is_decimal = not 1 <= len(integer) <= 3 or Decimal(integer) == 0
    if not is_decimal:
        return Decimal(_grouped(groups, separators, text))
    if not earlier:
        return Decimal(f"{groups[0]}.{last_group}")
    if last in earlier:
        raise NumberError("bad_grouping", text)  # "1.234.5", "1,2,3"
    integer = _grouped(groups[:-1], earlier, text)
    return Decimal(f"{integer}.{last_group}")


class _Scanner:
    """Walks over the cleaned, lower-cased text, remembering the current position."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def match(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        """Match ``pattern`` at the current position and advance past it on success."""
        found = pattern.match(self.text, self.pos)
        if found:
            self.pos = found.end()
        return found

    def peek(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        """Match ``pattern`` at the current position without advancing."""
        return pattern.match(self.text, self.pos)

    def rest(self) -> str:
        """The text not consumed yet."""
        return self.text[self.pos :]


def _parse_amount(scanner: _Scanner, original: str, used: list[str] | None = None) -> Decimal:
    """Parse a number with optional multipliers: "12", "2,5tr", "2tr5", "1 triệu 200 nghìn".

    The multiplier words met are appended to ``used`` (a count refuses money slang)."""
    total = Decimal(0)
    previous_multiplier: int | None = None
    while True:
        token = scanner.match(_NUMBER)
        if token is None:
            raise NumberError("not_a_number", original)
        value = _interpret(token.group(), original)
        if scanner.match(_HUNDRED):  # "3 trăm triệu"
            if value != value.to_integral_value() or not 1 <= value <= 9:
                raise NumberError("not_a_number", original)
            value *= 100
        multiplier_match = scanner.match(_MULTIPLIER)
        if multiplier_match is None:
            # Only the first part can lack a multiplier: later parts were checked to have one.
            return value
        if used is not None:
            used.append(multiplier_match.group(1))
        multiplier = _MULTIPLIERS[multiplier_match.group(1)]
        if previous_multiplier is not None and (
            multiplier >= previous_multiplier or value * multiplier >= previous_multiplier
        ):
            raise NumberError("not_a_number", original)  # "1tr 2tỷ", "1 tỷ 1500 triệu"
        previous_multiplier = multiplier
        is_fraction = value != value.to_integral_value()
        if scanner.match(_HALF):  # "2 triệu rưỡi"
            if is_fraction:
                raise NumberError("not_a_number", original)
            return total + value * multiplier + Decimal(multiplier) / 2
        if not _continues_with_part(scanner):
            return total + _last_part(scanner, value, multiplier, original, used)
        if is_fraction:
            raise NumberError("not_a_number", original)  # "1,5tr 200k": only the last part
        total += value * multiplier
        scanner.match(_SPACE)


def _last_part(scanner: _Scanner, value: Decimal, multiplier: int, original: str,
               used: list[str] | None = None) -> Decimal:
    """Value of the last "number + multiplier" part and of any digits written after it."""
    start = scanner.pos
    scanner.match(_SPACE)
    digits = scanner.match(_NUMBER)
    if digits is None:
        scanner.pos = start
        return value * multiplier
    is_fraction = value != value.to_integral_value()
    written = digits.group()
    if written.isdigit() and len(written) <= _MAX_UNIT_DIGITS:
        # Digits written into the unit are the following decimals: "2tr5", "1tr25", "5k5".
        if is_fraction:
            raise NumberError("not_a_number", original)  # "2,5tr5"
        if used is not None:
            used.append(_DIGITS_IN_UNIT)
        return Decimal(f"{value}.{written}") * multiplier
    # A longer plain amount adds up: "1 triệu 200.000" is 1,200,000.
    extra = _interpret(written, original)
    if is_fraction or extra != extra.to_integral_value() or extra >= multiplier:
        raise NumberError("not_a_number", original)
    return value * multiplier + extra


def _continues_with_part(scanner: _Scanner) -> bool:
    """True if a further "number + multiplier" part follows ("1tr200k", "2 tỷ 300 triệu")."""
    start = scanner.pos
    try:
        scanner.match(_SPACE)
        if not scanner.match(_NUMBER):
            return False
        scanner.match(_HUNDRED)
        return bool(scanner.match(_MULTIPLIER))
    finally:
        scanner.pos = start


def _check_trailing(rest: str, original: str, units: tuple[str, ...] = ()) -> str:
    """Allow trailing unit words ("người", "đ", "VNĐ") but nothing that changes the value.

    Returns "vnd" when the unit is the đồng (so a count can refuse a sum of money)."""
    unit_text = rest.strip(" " + _TRAILING_PUNCTUATION)
    allowed = {fold(u) for u in units if u}
    if "/" in unit_text and fold(unit_text) in allowed:
        return ""  # the row's own unit, such as "tờ/bài"
    if _RATE.search(rest):
        raise NumberError("rate", original)
    if unit_text in _FOREIGN_CURRENCY or unit_text.split(" ")[0] in _FOREIGN_CURRENCY:
        raise NumberError("foreign_currency", original)
    if any(char.isnumeric() for char in rest):
        raise NumberError("not_a_number", original)  # "12abc3"
    word = _WORD.search(rest)
    if word is None:
        return "vnd" if unit_text in _VND else ""
    unit = word.group()
    if unit in _NUMBER_WORDS:
        raise NumberError("words", original)
    if fold(unit) in _FOLDED_MULTIPLIERS and unit not in _UNITS_LIKE_MULTIPLIERS:
        raise NumberError("not_a_number", original)  # a misspelt or misplaced multiplier
    return "vnd" if unit_text in _VND else ""


@dataclass(frozen=True)
class Reading:
    """A number as typed: its value and what the caller may refuse or note about it."""

    value: Decimal
    approximate: bool = False  # "khoảng 30": stored with an "ước tính" note
    shorthand: bool = False  # "12tr", "500k": money slang, refused for a count
    currency: str = ""  # "vnd" when written with đ / đồng / VNĐ
    near_miss: bool = False  # a unit word nearly right ("5 triệuu"): the reading is asked back


# Vietnamese number words, refused with a hint to type digits ("mười hai", "năm trăm").
_SPELT_NUMBERS = {"mot", "hai", "ba", "bon", "nam", "sau", "bay", "tam", "chin", "muoi",
                  "tram", "chuc", "linh", "le", "nghin", "ngan", "trieu", "ty", "one", "two",
                  "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve",
                  "hundred", "thousand", "mười", "một", "năm", "bốn", "sáu", "bảy", "tám",
                  "chín"}


def _spelt_out(lowered: str) -> bool:
    """True for "mười hai", "năm trăm": no digit at all, and number words."""
    words = fold(lowered).split()
    return bool(words) and not any(c.isdigit() for c in lowered) and all(
        w in _SPELT_NUMBERS for w in words[:2]) and words[0] not in ("nam", "ba", "tam")


def _unwrap(lowered: str) -> tuple[str, str]:
    """The figure without what a clerk reads past around it: quotes or brackets, "tổng",
    "được", "=", the currency written first. Returns it and "vnd" for a currency first."""
    for _ in range(3):
        wrapped = _WRAPPED.match(lowered)
        if wrapped and _PAIRS.get(wrapped.group(1)) == wrapped.group(3) and wrapped.group(2):
            lowered = wrapped.group(2).strip()
        lead = _LEAD_WORDS.match(lowered)
        if lead:
            lowered = lowered[lead.end():]
    currency = ""
    first = _CURRENCY_FIRST.match(lowered)
    if first:
        currency, lowered = "vnd", lowered[first.end():]
    return _HALF_OF.sub("0,5 ", lowered), currency


def _parse(text: str, units: tuple[str, ...] = (), kind: str = "") -> Reading:
    """Parse ``text``; see ``parse_number`` for the accepted forms."""
    cleaned = clean(text)
    if not cleaned:
        raise NumberError("empty", text)
    lowered = cleaned.lower().rstrip(_TRAILING_PUNCTUATION + " \n")
    lowered = _POLITE_SUFFIX.sub("", lowered)
    lowered = _POLITE_PREFIX.sub("", lowered, count=1)
    lowered, currency_first = _unwrap(lowered) if kind else (lowered, "")
    if fold(lowered) in _ZERO_WORDS:
        return Reading(Decimal(0))
    approximate = False
    found = _APPROXIMATE.match(lowered)
    if found:
        approximate = True
        lowered = lowered[found.end():].lstrip()
    if _RANGE.search(lowered):
        raise NumberError("range", text)
    if _MORE_THAN.search(lowered):
        raise NumberError("more_than", text)
    if _LESS_THAN.search(lowered):
        raise NumberError("less_than", text)
    if lowered.startswith("$"):
        raise NumberError("foreign_currency", text)
    if _spelt_out(lowered) or fold(lowered) in ("muoi", "mot", "hai", "bon", "sau", "bay",
                                                 "chin"):
        raise NumberError("words", text)
    negative = False
    sign = _SIGN.match(lowered)
    if sign:
        negative = sign.group(1) != "+"
        lowered = lowered[sign.end():]
    else:
        word = _LEADING_WORD.match(lowered)
        if word and fold(word.group(1)) in _NEGATIVE_WORDS:
            lowered = lowered[word.end():]
            negative = True
    used: list[str] = []
    scanner = _Scanner(lowered)
    value = _parse_amount(scanner, text, used)
    near_miss = False
    if not kind:
        currency = _check_trailing(scanner.rest(), text, units)
    else:
        spelt = _near_multiplier(scanner.rest(), kind, used)
        if spelt:  # "5 triệuu": read again as "5 triệu", and asked back
            near_miss, used = True, []
            scanner = _Scanner(lowered[:scanner.pos] + " " + spelt)
            value = _parse_amount(scanner, text, used)
        currency, near = _check_words(scanner.rest(), text, units, kind, bool(used))
        near_miss = near_miss or near
    currency = currency or currency_first
    if value.adjusted() >= ABSURD_DIGITS:
        raise NumberError("too_big", text)
    # "1.500" and "2.5tr" give 1500 and 2500000 with exponent 0; "0.500" gives 0.5.
    value = value.quantize(Decimal(1)) if is_whole(value) else value.normalize()
    value = -value if negative and value != 0 else value
    shorthand = any(word in MONEY_SHORTHAND or word == _DIGITS_IN_UNIT for word in used)
    return Reading(value, approximate, shorthand, currency, near_miss)


def _near_multiplier(rest: str, kind: str, used: list[str]) -> str:
    """For money, the rest of the text with a near-miss multiplier right after the bare
    number spelt as meant ("triệuu 5" -> "triệu 5"); "" when there is none."""
    word = _WORD.match(rest.lstrip())
    if kind != "money" or used or word is None or word.group() in _UNITS_LIKE_MULTIPLIERS:
        return ""
    meant = near_word(word.group(), MULTIPLIER_WORDS)
    if not meant or word.group() in _MULTIPLIERS:
        return ""
    return MULTIPLIER_WORDS[meant] + rest.lstrip()[word.end():]


def _check_words(rest: str, original: str, units: tuple[str, ...], kind: str,
                 multiplied: bool) -> tuple[str, bool]:
    """The words after a figure of a ``kind`` of question ("count", "money", "number"):
    a unit it takes, or a near miss of one (then True: asked back), or refused ("unit").

    Returns "vnd" when the unit is the đồng, and whether the word was a near miss."""
    unit_text = rest.strip(" " + _TRAILING_PUNCTUATION)
    own = {fold(part).strip() for u in units if u for part in (u, *u.split("/"))} - {""}
    if "/" in unit_text and fold(unit_text) in own:
        return "", False  # the row's own unit, such as "tờ/bài"
    if _RATE.search(rest):
        raise NumberError("rate", original)
    if unit_text in _FOREIGN_CURRENCY or unit_text.split(" ")[0] in _FOREIGN_CURRENCY:
        raise NumberError("foreign_currency", original)
    if any(char.isnumeric() for char in rest):
        raise NumberError("not_a_number", original)  # "12abc3"
    if not unit_text:
        return "", False
    if unit_text in _VND or unit_text.startswith("₫"):
        return "vnd", False
    first = _WORD.match(unit_text)
    if first is None:
        if kind == "number" and fold(unit_text) in own | _PERCENT:
            return "", False
        raise NumberError("unit", original)  # "12 %" for a count, "5 *"
    word = first.group()
    if word in _NUMBER_WORDS:
        raise NumberError("words", original)
    words = fold(unit_text).split()
    if kind == "money":
        return _money_word(word, words, original, multiplied)
    if count_unit_at(words, frozenset(own | (_PERCENT if kind == "number" else set()))):
        return "", False
    if words[0] in MONEY_UNITS:
        return "vnd", False  # "200 đồng" for a count: refused as money by the caller
    if fold(word) in _FOLDED_MULTIPLIERS and word not in _UNITS_LIKE_MULTIPLIERS \
            or near_word(word, MULTIPLIER_WORDS):
        raise NumberError("unit", original)  # "12 trieeuj" people: never a million
    if near_word(word, COUNT_UNITS | own):
        return "", True
    raise NumberError("unit", original)


def _money_word(word: str, words: list[str], original: str, multiplied: bool
                ) -> tuple[str, bool]:
    """After an amount: the đồng or, past a multiplier, any words ("5 triệu tiền mặt")."""
    if fold(word) in _FOLDED_MULTIPLIERS and word not in _UNITS_LIKE_MULTIPLIERS:
        raise NumberError("not_a_number", original)  # "1tr2 tr": a multiplier twice
    if count_unit_at(words) >= 2:
        raise NumberError("unit", original)  # "5 đồng chí" is no sum of money
    if words[0] in MONEY_UNITS:
        return "vnd", False
    if multiplied:
        return "", False
    if near_word(word, MONEY_UNITS):
        return "vnd", True  # "5 dongf"
    raise NumberError("unit", original)


# "2O" or "l5": a letter O, l or I typed for a digit; guessing would store a wrong figure.
_LOOKALIKE = re.compile(r"(?<=\d)[oOlI](?![^\W\d_])|(?<![^\W\d_])[oOlI](?=\d)")


def read_number(text: str, units: tuple[str, ...] = (), kind: str = "") -> Reading:
    """Parse a number as Vietnamese users type it, or raise ``NumberError``; ``units`` are the
    row's own unit words, allowed after the number even with a slash ("12 tờ/bài"). With the
    question's ``kind`` ("count", "money", "number"), a word after the number must be a unit
    that kind takes, or nearly one (``near_miss``); then "tổng 150", "(12)", "VNĐ 5.000.000"
    and "nửa triệu" are read too.

    Accepts thousands grouping with "." "," or spaces, a decimal comma or dot, multipliers
    (k, nghìn, tr, triệu, củ, tỷ...) including "2tr5" and "1 triệu 200 nghìn", zero words
    ("không", "ko có", "chưa có", "chưa làm"), polite particles ("dạ 12", "12 ạ"), an
    estimate ("khoảng 30", "tầm 50": flagged), a sign or "âm", and trailing unit words
    ("12 người", "500.000đ"). Never raises anything but ``NumberError``.
    """
    if _LONG_DIGIT_RUN.search(text):
        raise NumberError("too_big", text)  # before any arithmetic on thousands of digits
    if _LOOKALIKE.search(text):
        raise NumberError("lookalike", text)
    with localcontext() as context:
        # Enough precision that no sum or product of the typed digits is ever rounded.
        context.prec = max(28, 2 * len(text) + 30)
        try:
            return _parse(text, units, kind)
        except DecimalException as error:
            raise NumberError("not_a_number", text) from error


def parse_number(text: str) -> Decimal:
    """The value of ``read_number(text)``; an estimate gives its figure."""
    return read_number(text).value


def _locale(language: str) -> Locale:
    """Babel locale for a language code such as "vi", "en" or "vi-VN"; Vietnamese if unknown."""
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse("vi")


def format_number(value: Decimal | int, language: str = "vi") -> str:
    """Format ``value`` with the language's grouping and decimal marks, keeping every digit.

    "vi" gives "1.234.567" and "1.234,5"; "en" gives "1,234,567" and "1,234.5". The output
    parses back to the same value with ``parse_number`` (except three-decimal fractions
    such as "1,567", which Vietnamese readers take as thousands).
    """
    number = Decimal(value)
    exponent = number.as_tuple().exponent
    with localcontext() as context:
        # Babel quantizes (to at least the pattern's three decimals) within the context
        # precision; make that large enough for every digit.
        if isinstance(exponent, int):
            context.prec = max(28, len(number.as_tuple().digits) + abs(exponent) + 10)
        return format_decimal(number, locale=_locale(language), decimal_quantization=False)


def is_whole(value: Decimal) -> bool:
    """True if ``value`` is a finite whole number (counts of people or classes must be)."""
    return value.is_finite() and value == value.to_integral_value()
