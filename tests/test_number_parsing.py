"""Numbers typed the Vietnamese way parse to the right Decimal, or are refused with a code."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from conversations.number_parsing import (
    ERROR_CODES,
    NumberError,
    format_number,
    is_whole,
    parse_number,
    read_number,
)

# --- accepted forms -------------------------------------------------------------------------

PLAIN_AND_GROUPED = [
    ("12", "12"),
    ("0", "0"),
    ("007", "7"),
    ("1.234", "1234"),
    ("1,234", "1234"),
    ("1 234", "1234"),
    ("1\u00a0234", "1234"),  # no-break space, as pasted from spreadsheets
    ("1\u202f234", "1234"),  # narrow no-break space
    ("1.234.567", "1234567"),
    ("1,234,567", "1234567"),
    ("1 234 567", "1234567"),
    ("100.000", "100000"),
    ("12,345", "12345"),
    ("999.999.999.999", "999999999999"),
]

DECIMALS = [
    ("2,5", "2.5"),
    ("1.5", "1.5"),
    ("0.500", "0.5"),
    ("0,5", "0.5"),
    ("0,25", "0.25"),
    ("1234.567", "1234.567"),  # four digits before: not a thousands group
    ("1234,5", "1234.5"),
    ("1.234,5", "1234.5"),
    ("1,234.5", "1234.5"),
    ("1.234.567,89", "1234567.89"),
    ("1,234,567.89", "1234567.89"),
    ("1.234,567", "1234.567"),  # last separator differs from the grouping one
    ("1,234.567", "1234.567"),
    ("1 234,5", "1234.5"),
    ("12.50", "12.5"),
]

MULTIPLIERS = [
    ("5k", "5000"),
    ("5K", "5000"),
    ("5 k", "5000"),
    ("5 nghìn", "5000"),
    ("5 nghin", "5000"),
    ("5 ngàn", "5000"),
    ("5ngan", "5000"),
    ("3tr", "3000000"),
    ("3 TR", "3000000"),
    ("3 triệu", "3000000"),
    ("3 Triệu", "3000000"),
    ("3trieu", "3000000"),
    ("3 củ", "3000000"),
    ("3 cu", "3000000"),
    ("2 tỷ", "2000000000"),
    ("2 ty", "2000000000"),
    ("2 tỉ", "2000000000"),
    ("2ti", "2000000000"),
    ("2,5tr", "2500000"),
    ("2.5 triệu", "2500000"),
    ("1,25 tỷ", "1250000000"),
    ("0,5k", "500"),
    ("12.000k", "12000000"),
    ("2tr5", "2500000"),
    ("1tr25", "1250000"),
    ("1ty2", "1200000000"),
    ("5k5", "5500"),
    ("1 triệu 2", "1200000"),
    ("1tr250", "1250000"),
    ("1 triệu 200 nghìn", "1200000"),
    ("1tr200k", "1200000"),
    ("1tr 200k", "1200000"),
    ("2 tỷ 300 triệu", "2300000000"),
    ("2 tỷ 300 triệu 50 nghìn", "2300050000"),
    ("1 triệu 200.000", "1200000"),
    ("2 triệu rưỡi", "2500000"),
    ("1 nghìn ruoi", "1500"),
    ("2tr5 đồng", "2500000"),
    ("1 triệu 200 nghìn đồng", "1200000"),
]

ZERO_WORDS = [
    "không",
    "Không",
    "KHÔNG",
    "khong",
    "ko",
    "k",
    "K",
    "không có",
    "Không có.",
    "khong co",
    "chưa có",
    "chua co",
    "0",
    "0 người",
]

UNITS_AND_WORDS = [
    ("12 người", "12"),
    ("12 nguoi", "12"),
    ("12người", "12"),
    ("3 lớp", "3"),
    ("15 lượt", "15"),
    ("1.500.000đ", "1500000"),
    ("1.500.000 đ", "1500000"),
    ("1.500.000₫", "1500000"),
    ("1.500.000 VNĐ", "1500000"),
    ("500.000 vnd", "500000"),
    ("200 đồng", "200"),
    ("5kg", "5"),  # "k" followed by a letter is not the multiplier
    ("5 tiết", "5"),  # neither is "ti" in "tiết"
    ("5 trường", "5"),  # nor "tr" in "trường"
    ("5 cụ", "5"),  # "cụ" (elderly people) is a unit, "củ" a million
    ("3 trạm", "3"),
    ("khoảng 12", "12"),
    ("Khoảng 12 người", "12"),
    ("khoang 12", "12"),
    ("tầm 5tr", "5000000"),
    ("tam 30", "30"),
    ("gần 100", "100"),
    ("gan 100", "100"),
    ("12.", "12"),
    ("12!", "12"),
    ("12 người.", "12"),
]

SIGNS = [
    ("-5", "-5"),
    ("- 5", "-5"),
    ("\u22125", "-5"),  # MINUS SIGN
    ("âm 5", "-5"),
    ("am 5", "-5"),
    ("-2,5", "-2.5"),
    ("-1.234", "-1234"),
    ("+5", "5"),
    ("-0", "0"),
]

NORMALISED_INPUT = [
    ("１２", "12"),  # full-width digits
    ("１．２３４", "1234"),
    ("12 👍", "12"),
    ("👍12", "12"),
    ("12\u200b", "12"),  # zero-width space
    ("\ufeff12", "12"),  # byte-order mark
    ("  12  ", "12"),
    ("12\n", "12"),
    ("1\u00ad234", "1234"),  # soft hyphen
]


@pytest.mark.parametrize(
    ("text", "expected"),
    PLAIN_AND_GROUPED + DECIMALS + MULTIPLIERS + UNITS_AND_WORDS + SIGNS + NORMALISED_INPUT,
)
def test_parses(text: str, expected: str) -> None:
    assert parse_number(text) == Decimal(expected)


@pytest.mark.parametrize("text", ZERO_WORDS)
def test_zero_words(text: str) -> None:
    assert parse_number(text) == 0


def test_whole_results_have_no_exponent() -> None:
    # "2.5tr" must give 2500000, not 2.5E+6 or 2500000.0, so it prints as typed.
    assert str(parse_number("2,5tr")) == "2500000"
    assert str(parse_number("1.500")) == "1500"
    assert str(parse_number("0.500")) == "0.5"
    assert str(parse_number("-0")) == "0"


# --- refused forms --------------------------------------------------------------------------

REFUSED = [
    ("", "empty"),
    ("   ", "empty"),
    ("👍", "empty"),
    ("\u200b", "empty"),
    ("abc", "not_a_number"),
    ("mười hai", "words"),
    ("12abc3", "not_a_number"),
    ("12 hoặc 13", "range"),
    ("12 3", "not_a_number"),
    ("12-15", "range"),
    ("12/15", "not_a_number"),
    ("1 2345", "not_a_number"),
    ("...", "not_a_number"),
    ("khoảng", "not_a_number"),
    ("người", "not_a_number"),
    (".5", "not_a_number"),
    ("1e5", "not_a_number"),
    ("--5", "not_a_number"),
    ("+-5", "not_a_number"),
    ("là 12", "not_a_number"),
    ("12.34.567", "bad_grouping"),
    ("1.23.456", "bad_grouping"),
    ("1,2,3", "bad_grouping"),
    ("1.234.5", "bad_grouping"),
    ("0.234.567", "bad_grouping"),
    ("1234.567.890", "bad_grouping"),
    ("1.234,567.890", "bad_grouping"),
    # Number words that would change the value are refused, never ignored as a unit.
    ("5 trăm", "words"),
    ("5 tram", "words"),
    ("2 chục", "words"),
    ("5 thousand", "words"),
    ("5m", "words"),
    ("5 triêu", "not_a_number"),  # misspelt multiplier
    ("1tr2 tr", "not_a_number"),
    ("5 k k", "not_a_number"),
    ("2 rưỡi", "words"),
    # Compounds must go down in size and only the last part may have decimals.
    ("1tr 2tỷ", "not_a_number"),
    ("1k 1k", "not_a_number"),
    ("1 tỷ 1500 triệu", "not_a_number"),
    ("1,5tr 200k", "not_a_number"),
    ("2,5tr5", "not_a_number"),
    ("1 triệu 2.000.000", "not_a_number"),
    ("1 triệu 2,5", "not_a_number"),
    ("5k5000", "not_a_number"),
    ("1\n234", "not_a_number"),
    ("١٢", "not_a_number"),  # Arabic-Indic digits are not what users of this bot type
]


@pytest.mark.parametrize(("text", "code"), REFUSED)
def test_refuses(text: str, code: str) -> None:
    with pytest.raises(NumberError) as caught:
        parse_number(text)
    assert caught.value.code == code
    assert caught.value.text == text


def test_number_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not_a_number"):
        parse_number("abc")


# --- formatting -----------------------------------------------------------------------------

FORMATTED = [
    (0, "vi", "0"),
    (12, "vi", "12"),
    (1234567, "vi", "1.234.567"),
    (1234567, "en", "1,234,567"),
    (Decimal("1234.5"), "vi", "1.234,5"),
    (Decimal("1234.5"), "en", "1,234.5"),
    (Decimal("0.125"), "vi", "0,125"),
    (Decimal("1.50"), "vi", "1,5"),
    (Decimal("-1234.56"), "vi", "-1.234,56"),
    (Decimal("1E+3"), "vi", "1.000"),
    (10**15, "vi", "1.000.000.000.000.000"),
    (
        Decimal("123456789012345678901234567890.123456789"),
        "en",
        "123,456,789,012,345,678,901,234,567,890.123456789",
    ),
    (1234, "vi-VN", "1.234"),
    (1234, "en_US", "1,234"),
    (1234, "unknown", "1.234"),  # falls back to Vietnamese
]


@pytest.mark.parametrize(("value", "language", "expected"), FORMATTED)
def test_format_number(value: Decimal | int, language: str, expected: str) -> None:
    assert format_number(value, language) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("12"), True),
        (Decimal("12.0"), True),
        (Decimal("1E+3"), True),
        (Decimal("-4"), True),
        (Decimal("12.5"), False),
        (Decimal("0.001"), False),
        (Decimal("NaN"), False),
        (Decimal("Infinity"), False),
    ],
)
def test_is_whole(value: Decimal, expected: bool) -> None:
    assert is_whole(value) is expected


# --- properties -----------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=10**15), st.sampled_from(["vi", "en"]))
def test_formatted_integers_parse_back(number: int, language: str) -> None:
    assert parse_number(format_number(number, language)) == number


@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.sampled_from([1, 2]),
)
def test_formatted_decimals_parse_back_in_vietnamese(units: int, places: int) -> None:
    value = Decimal(units).scaleb(-places)
    assume(not is_whole(value))
    assert parse_number(format_number(value, "vi")) == value


@given(st.text())
def test_any_text_gives_a_decimal_or_number_error(text: str) -> None:
    try:
        result = parse_number(text)
    except NumberError as error:
        assert error.code in ERROR_CODES
    else:
        assert isinstance(result, Decimal)


# Text made of the pieces the parser reacts to, so that its branches get explored.
_PARSER_ALPHABET = "0123456789.,  -+−ktrcuyinghàìêệđủỷỉoôăâmrưỡvn\n👍\u200b\u00a0"


@given(st.text(alphabet=_PARSER_ALPHABET, max_size=30))
def test_parser_shaped_text_gives_a_decimal_or_number_error(text: str) -> None:
    try:
        result = parse_number(text)
    except NumberError as error:
        assert error.code in ERROR_CODES
    else:
        assert isinstance(result, Decimal)
        assert result.is_finite()


@given(st.integers(min_value=-(10**18), max_value=10**18))
def test_trailing_unit_word_is_ignored(number: int) -> None:
    assert parse_number(str(number) + " người") == number


# --- issue 22: the words after a number, by kind of question --------------------------------

KIND_READINGS = [
    # (kind, text, value or error code, asked back)
    ("money", "5 triệuu", "5000000", True),
    ("money", "5trieuj", "5000000", True),
    ("money", "5 nghinf đồng", "5000", True),
    ("money", "2 trieuj 5", "2500000", True),
    ("money", "5 dongf", "5", True),
    ("money", "5 triệu tiền mặt", "5000000", False),
    ("money", "VNĐ 1.500.000", "1500000", False),
    ("money", "nửa tỷ", "500000000", False),
    ("money", "1 tỷ 2 trăm triệu", "1200000000", False),
    ("money", "10 lít", "unit", False),
    ("money", "5 đồng chí", "unit", False),
    ("money", "5 ngàn ngàn", "not_a_number", False),
    ("money", "12 trăm triệu", "not_a_number", False),
    ("count", "12 trieeuj", "unit", False),
    ("count", "12 triêu", "unit", False),
    ("count", "12 kg", "unit", False),
    ("count", "12 %", "unit", False),
    ("count", "12 nguoiwf", "12", True),
    ("count", "12 tờ/bài", "12", False),
    ("count", "(12)", "12", False),
    ("number", "12,5 %", "12.5", False),
]


@pytest.mark.parametrize(("kind", "text", "expected", "asked"), KIND_READINGS)
def test_words_after_a_number_by_kind(kind: str, text: str, expected: str, asked: bool) -> None:
    try:
        reading = read_number(text, units=("tờ/bài",) if "/" in text else (), kind=kind)
    except NumberError as error:
        assert error.code == expected
        return
    assert reading.value == Decimal(expected) and reading.near_miss is asked


@given(st.text(alphabet=_PARSER_ALPHABET + "lítkgxyzsfrjw%()=\"", max_size=30),
       st.sampled_from(["count", "money", "number"]))
def test_kind_aware_reading_gives_a_reading_or_number_error(text: str, kind: str) -> None:
    try:
        reading = read_number(text, kind=kind)
    except NumberError as error:
        assert error.code in ERROR_CODES
    else:
        assert reading.value.is_finite()
