"""Parse dates typed by Vietnamese users (always day first) and format them as dd/MM/yyyy."""

from __future__ import annotations

import functools
import re
from datetime import date

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date

from conversations.text_normalise import fold

__all__ = ["DateError", "format_date", "parse_date"]

_PUNCTUATION = ".,;:!?… "
_CLOSING = _PUNCTUATION + ")"

# All patterns run on fold(text): lower case, no diacritics ("ngày" -> "ngay").
_ISO = re.compile(r"([0-9]{4}) ?([-/.]) ?([0-9]{1,2}) ?\2 ?([0-9]{1,2})")
_NUMERIC = re.compile(r"([0-9]{1,2}) ?([-/.]) ?([0-9]{1,2})(?: ?\2 ?([0-9]{4}|[0-9]{2}))?")
_WORDS = re.compile(r"([0-9]{1,2}) ?thang ?([0-9]{1,2})(?:,? ?nam ?([0-9]{4}|[0-9]{2}))?")
_DAY_PREFIX = re.compile(r"^(?:ngay ?)?(?:mung|mong)? ?")
# The weekday said before the date ("thứ 6, 15/9", "T6 15/9", "chủ nhật 17/9"), checked
# against it: a weekday that does not fit means one of the two is mistyped.
_WEEKDAY = re.compile(r"^(?:thu ?([2-7]|hai|ba|tu|nam|sau|bay)|t ?([2-7])|(chu nhat|cn))"
                      r"[ ,.:\-(]+(?=\S)")
_WEEKDAY_WORDS = {"hai": 2, "ba": 3, "tu": 4, "nam": 5, "sau": 6, "bay": 7}


class DateError(ValueError):
    """Raised for text that is not a date ("not_a_date"), an impossible one ("invalid_date")
    or one whose weekday does not fit ("weekday")."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code}: {text!r}")
        self.code = code
        self.text = text


def _year(written: str | None, default_year: int) -> int:
    """Full year from what was typed: none -> default, two digits -> 20yy."""
    if written is None:
        return default_year
    return 2000 + int(written) if len(written) == 2 else int(written)


def parse_date(text: str, default_year: int) -> date:
    """Parse "13/10", "13-10-2023", "13.10.23", "ngày 13 tháng 10 năm 2023" or "2023-10-13",
    also "mùng 5 tháng 9" and with the weekday first ("thứ 6, 15/9"; code "weekday" when it
    does not fit the date).

    The day always comes first (Vietnamese order); a missing year is ``default_year`` and a
    two-digit year means 20yy.
    """
    folded = fold(text).strip(_PUNCTUATION)
    said = _WEEKDAY.match(folded)
    if said:
        folded = folded[said.end():]
    folded = _DAY_PREFIX.sub("", folded).strip(_CLOSING if said else _PUNCTUATION)
    if iso := _ISO.fullmatch(folded):
        year, month, day = int(iso.group(1)), int(iso.group(3)), int(iso.group(4))
    elif numeric := _NUMERIC.fullmatch(folded):
        day, month = int(numeric.group(1)), int(numeric.group(3))
        year = _year(numeric.group(4), default_year)
    elif words := _WORDS.fullmatch(folded):
        day, month = int(words.group(1)), int(words.group(2))
        year = _year(words.group(3), default_year)
    else:
        raise DateError("not_a_date", text)
    try:
        found = date(year, month, day)
    except ValueError as error:
        raise DateError("invalid_date", text) from error
    if said and _weekday(said) != found.isoweekday() % 7 + 1:
        raise DateError("weekday", text)
    return found


def _weekday(said: re.Match[str]) -> int:
    """The weekday as Vietnamese number it: Monday is thứ 2, Saturday thứ 7, Sunday 1."""
    if said.group(3):
        return 1
    day = said.group(1) or said.group(2)
    return int(day) if day.isdigit() else _WEEKDAY_WORDS[day]


def format_date(d: date, language: str = "vi") -> str:
    """Format ``d`` as dd/MM/yyyy, the order Vietnamese users read, in every language."""
    return babel_format_date(d, format="dd/MM/yyyy", locale=_locale(language))


@functools.lru_cache(maxsize=32)  # parsing a Locale costs more than formatting the date
def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse("vi")
