"""Parse numbers the way Vietnamese users type them into a chat, and format them back.

Users write "1.234" or "1,234" for one thousand two hundred and thirty-four, "2,5" for two
and a half, "2tr5" for 2,500,000 and "không" for zero, and they add units ("12 người",
"500.000đ"). This module turns all of that into a ``Decimal`` or refuses it with a
``NumberError`` whose ``code`` tells the caller which hint to show. Sign and range checks
are left to the callers, which know what the number counts.
"""

from __future__ import annotations

import re
from decimal import Decimal, DecimalException, localcontext

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal

from conversations.text_normalise import clean, fold

__all__ = ["NumberError", "format_number", "is_whole", "parse_number"]

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

_ZERO_WORDS = {"khong", "ko", "k", "khong co", "chua co"}
_APPROXIMATE_WORDS = {"khoang", "tam", "gan"}
_NEGATIVE_WORDS = {"am"}
_HALF_WORDS = {"rưỡi", "ruoi"}

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


class NumberError(ValueError):
    """Raised when a text is not a number; ``code`` selects the message shown to the user.

    Codes: "empty" (nothing typed), "not_a_number", "bad_grouping" (e.g. "12.34.567").
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


def _parse_amount(scanner: _Scanner, original: str) -> Decimal:
    """Parse a number with optional multipliers: "12", "2,5tr", "2tr5", "1 triệu 200 nghìn"."""
    total = Decimal(0)
    previous_multiplier: int | None = None
    while True:
        token = scanner.match(_NUMBER)
        if token is None:
            raise NumberError("not_a_number", original)
        value = _interpret(token.group(), original)
        multiplier_match = scanner.match(_MULTIPLIER)
        if multiplier_match is None:
            # Only the first part can lack a multiplier: later parts were checked to have one.
            return value
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
            return total + _last_part(scanner, value, multiplier, original)
        if is_fraction:
            raise NumberError("not_a_number", original)  # "1,5tr 200k": only the last part
        total += value * multiplier
        scanner.match(_SPACE)


def _last_part(scanner: _Scanner, value: Decimal, multiplier: int, original: str) -> Decimal:
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
        return bool(scanner.match(_NUMBER) and scanner.match(_MULTIPLIER))
    finally:
        scanner.pos = start


def _check_trailing(rest: str, original: str) -> None:
    """Allow trailing unit words ("người", "đ", "VNĐ") but nothing that changes the value."""
    if any(char.isnumeric() for char in rest):
        raise NumberError("not_a_number", original)  # "12 hoặc 13", "12abc3"
    word = _WORD.search(rest)
    if word is None:
        return
    unit = word.group()
    if unit in _NUMBER_WORDS:
        raise NumberError("not_a_number", original)
    if fold(unit) in _FOLDED_MULTIPLIERS and unit not in _UNITS_LIKE_MULTIPLIERS:
        raise NumberError("not_a_number", original)  # a misspelt or misplaced multiplier


def _parse(text: str) -> Decimal:
    """Parse ``text``; see ``parse_number`` for the accepted forms."""
    cleaned = clean(text)
    if not cleaned:
        raise NumberError("empty", text)
    lowered = cleaned.lower().rstrip(_TRAILING_PUNCTUATION + " \n")
    if fold(lowered) in _ZERO_WORDS:
        return Decimal(0)
    scanner = _Scanner(lowered)
    leading = scanner.peek(_LEADING_WORD)
    if leading and fold(leading.group(1)) in _APPROXIMATE_WORDS:
        scanner.match(_LEADING_WORD)
    negative = False
    sign = scanner.match(_SIGN)
    if sign:
        negative = sign.group(1) != "+"
    else:
        word = scanner.peek(_LEADING_WORD)
        if word and fold(word.group(1)) in _NEGATIVE_WORDS:
            scanner.match(_LEADING_WORD)
            negative = True
    value = _parse_amount(scanner, text)
    _check_trailing(scanner.rest(), text)
    # "1.500" and "2.5tr" give 1500 and 2500000 with exponent 0; "0.500" gives 0.5.
    value = value.quantize(Decimal(1)) if is_whole(value) else value.normalize()
    return -value if negative and value != 0 else value


# "2O" or "l5": a letter O, l or I typed for a digit; guessing would store a wrong figure.
_LOOKALIKE = re.compile(r"(?<=\d)[oOlI](?![^\W\d_])|(?<![^\W\d_])[oOlI](?=\d)")


def parse_number(text: str) -> Decimal:
    """Parse a number as Vietnamese users type it, or raise ``NumberError``.

    Accepts thousands grouping with "." "," or spaces, a decimal comma or dot, multipliers
    (k, nghìn, tr, triệu, củ, tỷ...) including "2tr5" and "1 triệu 200 nghìn", zero words
    ("không", "chưa có"), a leading "khoảng"/"tầm"/"gần", a sign or "âm", and trailing unit
    words ("12 người", "500.000đ"). Never raises anything but ``NumberError``.
    """
    # Enough precision that no sum or product of the typed digits is ever rounded.
    if _LOOKALIKE.search(text):
        raise NumberError("not_a_number", text)
    with localcontext() as context:
        context.prec = max(28, 2 * len(text) + 30)
        try:
            return _parse(text)
        except DecimalException as error:
            raise NumberError("not_a_number", text) from error


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
