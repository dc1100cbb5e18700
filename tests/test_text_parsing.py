"""Text clean-up, diacritic folding, yes/no answers and dates typed by Vietnamese users."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversations.date_parsing import DateError, format_date, parse_date
from conversations.text_normalise import clean, fold, untelex
from conversations.yes_no import parse_yes_no, read_yes_no

# --- clean ----------------------------------------------------------------------------------

CLEANED = [
    ("  xin chào  ", "xin chào"),
    ("１２３", "123"),  # full-width digits
    ("ＡＢＣ", "ABC"),
    ("a\u200bb", "ab"),  # zero-width space
    ("a\u200cb\u200db", "abb"),  # zero-width non-joiner and joiner
    ("a\u200eb\u200f", "ab"),  # direction marks
    ("a\u2060b", "ab"),  # word joiner
    ("\ufeffabc", "abc"),  # byte-order mark
    ("so\u00adft", "soft"),  # soft hyphen
    ("a\u00a0b", "a b"),  # no-break space
    ("a\u202fb", "a b"),  # narrow no-break space
    ("a\u2009b\u3000c", "a b c"),  # thin and ideographic spaces
    ("a\tb", "a b"),
    ("a    b", "a b"),
    ("12 👍", "12"),
    ("👍👍 ok 🎉", "ok"),
    ("❤️ cảm ơn", "cảm ơn"),  # heart and variation selector
    ("1️⃣", "1"),  # keycap sequence keeps its digit
    ("👨\u200d👩\u200d👧 gia đình", "gia đình"),  # joined family emoji
    ("🇻🇳 Việt Nam", "Việt Nam"),  # flag (regional indicators)
    ("👍🏽 được", "được"),  # skin-tone modifier
    ("dòng 1\ndòng 2", "dòng 1\ndòng 2"),
    ("dòng 1  \n\n  dòng 2", "dòng 1\ndòng 2"),
    ("dòng 1\r\ndòng 2\rdòng 3", "dòng 1\ndòng 2\ndòng 3"),
    ("Người dân đã học chữ", "Người dân đã học chữ"),
    ("", ""),
    ("   \n  ", ""),
]


@pytest.mark.parametrize(("text", "expected"), CLEANED)
def test_clean(text: str, expected: str) -> None:
    assert clean(text) == expected


@pytest.mark.parametrize("word", ["ệ", "ữ", "ầ", "ỷ", "Đ", "ở", "ặ", "người", "Nguyễn", "trường"])
def test_clean_keeps_vietnamese_letters_composed(word: str) -> None:
    assert clean(word) == word
    # Letters typed as base + combining marks (some keyboards) come out composed too.
    assert clean(unicodedata.normalize("NFD", word)) == word


@given(st.text())
def test_clean_is_idempotent(text: str) -> None:
    assert clean(clean(text)) == clean(text)


# --- fold -----------------------------------------------------------------------------------

FOLDED = [
    ("Không có", "khong co"),
    ("KHÔNG", "khong"),
    ("Tỷ", "ty"),
    ("người", "nguoi"),
    ("Đã xong", "da xong"),
    ("đồng", "dong"),
    ("VNĐ", "vnd"),
    ("triệu", "trieu"),
    ("Nguyễn Thị Ánh", "nguyen thi anh"),
    ("ăn ở ưa", "an o ua"),
    ("chưa có 👍", "chua co"),
    ("  Có  ", "co"),
    ("khong co", "khong co"),
    (unicodedata.normalize("NFD", "Trường học"), "truong hoc"),
]


@pytest.mark.parametrize(("text", "expected"), FOLDED)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


# --- yes / no -------------------------------------------------------------------------------

YES = [
    "có",
    "Có",
    "CÓ",
    "co",
    "c",
    "C",
    "vâng",
    "vang",
    "rồi",
    "roi",
    "đã",
    "da",
    "dạ",
    "đã xong",
    "da xong",
    "xong",
    "ok",
    "OK",
    "Ok",
    "có rồi",
    "yes",
    "Yes",
    "y",
    "đúng",
    "dung",
    "có.",
    "Có!",
    "có ạ",
    "dạ có",
    "Dạ, có ạ.",
    "vâng ạ",
    "ok 👍",
    " có ",
]
NO = [
    "không",
    "Không",
    "KHÔNG",
    "khong",
    "k",
    "K",
    "ko",
    "kg",
    "chưa",
    "chua",
    "chưa có",
    "chua co",
    "không có",
    "khong co",
    "no",
    "No",
    "n",
    "sai",
    "Không!",
    "không.",
    "dạ không",
    "Dạ chưa ạ",
    "không ạ",
]
NEITHER = ["", "   ", "1", "0", "có thể", "maybe", "12", "không biết", "ạ", "👍", "c0"]


@pytest.mark.parametrize("text", YES)
def test_yes(text: str) -> None:
    assert parse_yes_no(text) is True


@pytest.mark.parametrize("text", NO)
def test_no(text: str) -> None:
    assert parse_yes_no(text) is False


@pytest.mark.parametrize("text", NEITHER)
def test_neither(text: str) -> None:
    assert parse_yes_no(text) is None


@given(st.text())
def test_yes_no_never_raises(text: str) -> None:
    assert parse_yes_no(text) in (True, False, None)


# --- dates ----------------------------------------------------------------------------------

DATES = [
    ("13/10", date(2024, 10, 13)),
    ("1/2", date(2024, 2, 1)),  # day first: 1 February
    ("13/10/2023", date(2023, 10, 13)),
    ("13-10-2023", date(2023, 10, 13)),
    ("13.10.2023", date(2023, 10, 13)),
    ("13/10/23", date(2023, 10, 13)),
    ("03/04/2023", date(2023, 4, 3)),
    ("13 / 10 / 2023", date(2023, 10, 13)),
    ("ngày 13/10/2023", date(2023, 10, 13)),
    ("Ngày 13/10", date(2024, 10, 13)),
    ("ngay 13 thang 10 nam 2023", date(2023, 10, 13)),
    ("ngày 13 tháng 10 năm 2023", date(2023, 10, 13)),
    ("Ngày 13 tháng 10", date(2024, 10, 13)),
    ("13 tháng 10, năm 2023", date(2023, 10, 13)),
    ("2023-10-13", date(2023, 10, 13)),
    ("2023/10/13", date(2023, 10, 13)),
    ("29/02/2024", date(2024, 2, 29)),
    ("１３/１０/２０２３", date(2023, 10, 13)),  # full-width digits
    ("13/10/2023.", date(2023, 10, 13)),
    (" 13/10/2023 👍", date(2023, 10, 13)),
]


@pytest.mark.parametrize(("text", "expected"), DATES)
def test_parse_date(text: str, expected: date) -> None:
    assert parse_date(text, default_year=2024) == expected


DATE_ERRORS = [
    ("", "not_a_date"),
    ("abc", "not_a_date"),
    ("hôm nay", "not_a_date"),
    ("13", "not_a_date"),
    ("13/10/2023/1", "not_a_date"),
    ("13/10-2023", "not_a_date"),  # mixed separators
    ("13/10/202", "not_a_date"),  # three-digit year
    ("2023-10", "not_a_date"),
    ("31/02/2023", "invalid_date"),
    ("29/02/2023", "invalid_date"),
    ("13/13", "invalid_date"),
    ("0/10/2023", "invalid_date"),
    ("32/1", "invalid_date"),
    ("2023-13-01", "invalid_date"),
    ("ngày 31 tháng 4", "invalid_date"),
]


@pytest.mark.parametrize(("text", "code"), DATE_ERRORS)
def test_parse_date_refuses(text: str, code: str) -> None:
    with pytest.raises(DateError) as caught:
        parse_date(text, default_year=2024)
    assert caught.value.code == code
    assert caught.value.text == text


@given(st.text())
def test_parse_date_raises_only_date_error(text: str) -> None:
    try:
        result = parse_date(text, default_year=2024)
    except DateError as error:
        assert error.code in {"not_a_date", "invalid_date"}
    else:
        assert isinstance(result, date)


@given(st.dates(min_value=date(1000, 1, 1)), st.sampled_from(["vi", "en"]))
def test_formatted_dates_parse_back(day: date, language: str) -> None:
    assert parse_date(format_date(day, language), default_year=2000) == day


@pytest.mark.parametrize(
    ("day", "language", "expected"),
    [
        (date(2023, 10, 13), "vi", "13/10/2023"),
        (date(2023, 10, 13), "en", "13/10/2023"),
        (date(2023, 1, 3), "vi", "03/01/2023"),
        (date(2023, 1, 3), "en", "03/01/2023"),
    ],
)
def test_format_date(day: date, language: str, expected: str) -> None:
    assert format_date(day, language) == expected


# --- issue 22: Telex/VNI leftovers, a yes or no with details, the weekday before a date -----

@pytest.mark.parametrize(("folded", "expected"), [
    ("khoong", "khong"), ("chuwa cos", "chua co"), ("trieeuj", "trieu"), ("nguwowif", "nguoi"),
    ("kho6ng", "khong"), ("co1", "co"), ("12", "12"), ("co", "co"), ("w", "w"),
])
def test_untelex(folded: str, expected: str) -> None:
    assert untelex(folded) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("có, số 12/KH-UBND ngày 15/9", (True, "số 12/KH-UBND ngày 15/9")),
    ("đã có kế hoạch số 5/KH", (True, "số 5/KH")),
    ("có 12/KH-UBND", (True, "12/KH-UBND")),
    ("chưa; dự kiến tuần sau", (False, "dự kiến tuần sau")),
    ("không, chưa có kinh phí", (False, "chưa có kinh phí")),
    ("có nhé", (True, "")),
    ("có 12", None), ("không, có", None), ("có lẽ, chưa rõ", None), ("2. Có", None),
])
def test_read_yes_no(text: str, expected: tuple[bool, str] | None) -> None:
    assert read_yes_no(text) == expected


@given(st.text())
def test_read_yes_no_never_raises(text: str) -> None:
    found = read_yes_no(text)
    assert found is None or (found[0] in (True, False) and isinstance(found[1], str))


@pytest.mark.parametrize(("text", "expected"), [
    ("thứ 2, 2/10/2023", date(2023, 10, 2)), ("thu hai 2/10/2023", date(2023, 10, 2)),
    ("t7 7/10/2023", date(2023, 10, 7)), ("CN, 8/10/2023", date(2023, 10, 8)),
    ("mồng 2 tháng 10 năm 2023", date(2023, 10, 2)),
])
def test_a_weekday_before_the_date(text: str, expected: date) -> None:
    assert parse_date(text, 2024) == expected


@pytest.mark.parametrize("text", ["thứ 3, 2/10/2023", "CN 7/10/2023", "t2 8/10/2023"])
def test_a_weekday_that_does_not_fit_is_refused(text: str) -> None:
    with pytest.raises(DateError) as error:
        parse_date(text, 2024)
    assert error.value.code == "weekday"
