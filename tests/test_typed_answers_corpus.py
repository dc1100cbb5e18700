"""A corpus of answers as Vietnamese reporters type them on phones (issue 14): counts, money,
yes/no and dates, with and without diacritics, with the odd characters phones insert. Each is
either stored as exactly the value meant, or refused with the reason: zero wrong values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from conversations.answer_parsing import AnswerError, error_text, parse_answer
from conversations.forms import Question, Text
from conversations.i18n import Catalog

COUNT = Question("4.2", "count", Text("Số người tham gia", "Participants"), "4",
                 min=Decimal(0), unit=Text("người", "people"))
MONEY = Question("8.3", "money", Text("Tổng kinh phí khen thưởng", "Reward money"), "8",
                 min=Decimal(0), unit=Text("đồng", "VND"))
RATE = Question("9.1", "number", Text("Tỷ lệ gia đình học tập", "Learning families"), "9",
                min=Decimal(0), max=Decimal(100), unit=Text("%", "%"))
YES_NO = Question("1.1", "yes_no", Text("Đã ban hành kế hoạch chưa?", "Plan issued?"), "1")
DATE = Question("1.3", "date", Text("Ngày khai mạc", "Opening day"), "1")
EST = "ước tính"


@dataclass(frozen=True)
class Stored:
    value: Any
    note: str = ""
    asked: bool = False  # a near-miss unit ("5 triệuu"): asked back once with its reading


@dataclass(frozen=True)
class Refused:
    code: str = ""  # "" when any reason will do


def ok(value: Any, note: str = "") -> Stored:
    return Stored(value, note)


def asked(value: Any) -> Stored:
    """Stored only once the person confirms the reading of a near-miss unit word."""
    return Stored(value, asked=True)


def no(code: str = "") -> Refused:
    return Refused(code)


COUNTS: list[tuple[str, Stored | Refused]] = [
    ("12", ok(12)), ("12 người", ok(12)), ("12 nguoi", ok(12)), ("12người", ok(12)),
    ("12 Người", ok(12)), ("150 lượt", ok(150)), ("3 lớp", ok(3)), ("5 trường", ok(5)),
    ("5 cụ", ok(5)), ("12 đồng chí", ok(12)), ("12 người mới", ok(12)),
    ("1.234", ok(1234)), ("1,234", ok(1234)), ("1 234", ok(1234)), ("1.234.567", ok(1234567)),
    ("20.000", ok(20000)), ("0", ok(0)), ("007", ok(7)), ("+12", ok(12)),
    ("12.", ok(12)), ("12!", ok(12)), ("12 người.", ok(12)), ("12 người tham gia", ok(12)),
    ("5 nghìn", ok(5000)), ("5 nghin", ok(5000)), ("2 ngàn", ok(2000)), ("1,5 nghìn", ok(1500)),
    ("1 triệu", ok(1_000_000)),
    ("không", ok(0)), ("Không", ok(0)), ("KHÔNG", ok(0)), ("khong", ok(0)), ("ko", ok(0)),
    ("k", ok(0)), ("kg", ok(0)), ("Không có", ok(0)), ("khong co", ok(0)), ("ko co", ok(0)),
    ("k co", ok(0)), ("chưa có", ok(0)), ("chua co", ok(0)), ("chưa làm", ok(0)),
    ("chua lam", ok(0)), ("không tổ chức", ok(0)), ("chưa tổ chức", ok(0)),
    ("dạ 12", ok(12)), ("da 12", ok(12)), ("Dạ, 12 ạ", ok(12)), ("Dạ 12 người ạ", ok(12)),
    ("vâng, 12", ok(12)), ("dạ không", ok(0)), ("dạ không có ạ", ok(0)), ("có 30", ok(30)),
    ("co 30 nguoi", ok(30)), ("thưa 45", ok(45)),
    ("12 người ghi chú: 3 người dự trực tuyến", ok(12, "3 người dự trực tuyến")),
    ("12 (3 online)", ok(12, "3 online")),
    ("12 gc: tính cả giáo viên", ok(12, "tính cả giáo viên")),
    ("12 ghi chú: 2 tờ báo tường, 10 bài viết", ok(12, "2 tờ báo tường, 10 bài viết")),
    ("khoảng 30", ok(30, EST)), ("khoang 30", ok(30, EST)), ("Khoảng 30 người", ok(30, EST)),
    ("tầm 50", ok(50, EST)), ("tam 50", ok(50, EST)), ("gần 100", ok(100, EST)),
    ("gan 100", ok(100, EST)), ("khoảng chừng 40", ok(40, EST)), ("ước tính 200", ok(200, EST)),
    ("uoc tinh 200", ok(200, EST)), ("xấp xỉ 80", ok(80, EST)), ("~30", ok(30, EST)),
    ("Khoảng 1.500 lượt", ok(1500, EST)), ("dạ khoảng 30 ạ", ok(30, EST)),
    ("khoảng 30 ghi chú: chưa đủ danh sách", ok(30, "ước tính; chưa đủ danh sách")),
    ("2,5", no("not_whole")), ("2.5", no("not_whole")), ("0,5", no("not_whole")),
    ("12tr", no("money_for_count")), ("5k", no("money_for_count")),
    ("500k", no("money_for_count")), ("1.500.000đ", no("money_for_count")),
    ("200 đồng", no("money_for_count")), ("2 củ", no("money_for_count")),
    ("100 USD", no("foreign_currency")), ("100 đô", no("foreign_currency")),
    ("10-12", no("range")), ("10 - 12", no("range")), ("10 – 12", no("range")),
    ("10 đến 12", no("range")), ("10 den 12", no("range")), ("từ 10 đến 12", no("range")),
    ("10~12", no("range")), ("12 hoặc 13", no("range")), ("12 hay 13", no("range")),
    ("khoảng 30-40", no("range")), ("30 tới 40 người", no("range")),
    ("hơn 100", no("more_than")), ("hon 100", no("more_than")), ("trên 100", no("more_than")),
    ("tren 100 nguoi", no("more_than")), ("100+", no("more_than")),
    ("100 trở lên", no("more_than")), ("ít nhất 50", no("more_than")),
    ("ngoài 200 người", no("more_than")), ("100 có lẻ", no("more_than")),
    ("dưới 50", no("less_than")), ("duoi 50", no("less_than")),
    ("không quá 20", no("less_than")), ("chưa đến 30", no("less_than")),
    ("12 lần/tuần", no("rate")), ("3 người/lớp", no("rate")), ("15 lượt/người", no("rate")),
    ("5 mỗi lớp", no("rate")), ("20 người / buổi", no("rate")),
    ("-5", no("negative")), ("âm 5", no("negative")),
    ("mười hai", no("words")), ("muoi hai", no("words")), ("hai mươi", no("words")),
    ("5 trăm", no("words")), ("2 chục", no("words")), ("một trăm", no("words")),
    ("2O", no("lookalike")), ("l5", no("lookalike")), ("1O0", no("lookalike")),
    ("9" * 30, no("too_large")), ("9" * 5000, no("too_large")),
    ("12.34.567", no("bad_grouping")), ("1,2,3", no("bad_grouping")),
    # Words that are not a number must never become 0 or anything else.
    ("chưa", no()), ("không biết", no()), ("khong biet", no()), ("không rõ", no()),
    ("chưa thống kê", no()), ("ko nhớ", no()), ("chua co so lieu", no()), ("nhiều", no()),
    ("abc", no()), ("???", no()), ("", no("empty")), ("👍", no("empty")), ("12 3", no()),
    ("12/15", no()), ("1e5", no()), ("năm trăm", no()), ("đang tổng hợp", no()),
    ("xem file đính kèm", no()), ("như năm ngoái", no()),
    # Issue 22 (1): a word after the number is a unit of this question, or refused.
    ("12 kg", no("unit")), ("12 trieeuj", no("unit")), ("12 xyz", no("unit")),
    ("12 chai", no("unit")), ("5 lít", no("unit")), ("12 nguwowif", asked(12)),
    ("2 tỷ 3", no("money_for_count")), ("2tr5", no("money_for_count")),
    # Issue 22 (7): a figure wrapped in words a clerk reads past.
    ("tổng 150", ok(150)), ("tổng cộng 150 người", ok(150)), ("được 150 người", ok(150)),
    ("= 150", ok(150)), ("(12)", ok(12)), ('"12"', ok(12)), ("“12”", ok(12)),
    ("tổng số 150", ok(150)), ("12 ng", ok(12)), ("tổng: 150", ok(150)),
    ("tong cong 150 nguoi", ok(150)), ("là 150", ok(150)),
]

MONEY_ROWS: list[tuple[str, Stored | Refused]] = [
    ("5tr", ok(5_000_000)), ("5 tr", ok(5_000_000)), ("5 triệu", ok(5_000_000)),
    ("5 trieu", ok(5_000_000)), ("5TR", ok(5_000_000)), ("2tr5", ok(2_500_000)),
    ("2,5tr", ok(2_500_000)), ("2.5tr", ok(2_500_000)), ("2 triệu rưỡi", ok(2_500_000)),
    ("1tr 200k", ok(1_200_000)), ("1 triệu 200 nghìn", ok(1_200_000)),
    ("1 triệu 200.000", ok(1_200_000)), ("500k", ok(500_000)), ("500 nghìn", ok(500_000)),
    ("500 ngàn", ok(500_000)), ("500 ngan", ok(500_000)), ("1.500.000", ok(1_500_000)),
    ("1.500.000đ", ok(1_500_000)), ("1.500.000 đ", ok(1_500_000)),
    ("1.500.000 đồng", ok(1_500_000)), ("1.500.000 VNĐ", ok(1_500_000)),
    ("1.500.000 vnd", ok(1_500_000)), ("1.500.000₫", ok(1_500_000)), ("1500000", ok(1_500_000)),
    ("1 500 000", ok(1_500_000)), ("1,500,000", ok(1_500_000)), ("1 tỷ", ok(1_000_000_000)),
    ("1,2 tỷ", ok(1_200_000_000)), ("1ty2", ok(1_200_000_000)), ("2 củ", ok(2_000_000)),
    ("không", ok(0)), ("khong co", ok(0)), ("0đ", ok(0)), ("dạ 5tr", ok(5_000_000)),
    ("khoảng 5tr", ok(5_000_000, EST)), ("tầm 3 triệu", ok(3_000_000, EST)),
    ("5tr ghi chú: nguồn xã hội hóa", ok(5_000_000, "nguồn xã hội hóa")),
    ("3.000.000 (tiền mặt)", ok(3_000_000, "tiền mặt")), ("１.５００.０００", ok(1_500_000)),
    ("100 USD", no("foreign_currency")), ("100 đô", no("foreign_currency")),
    ("100 do", no("foreign_currency")), ("$100", no("foreign_currency")),
    ("100$", no("foreign_currency")), ("50 euro", no("foreign_currency")),
    ("100k/người", no("rate")), ("5 triệu/lớp", no("rate")), ("200k mỗi người", no("rate")),
    ("1.500.000đ/người", no("rate")), ("50k/suất", no("rate")),
    ("5-6 triệu", no("range")), ("5tr-6tr", no("range")), ("5 đến 6 triệu", no("range")),
    ("hơn 5 triệu", no("more_than")), ("trên 10tr", no("more_than")),
    ("2,5", no("not_whole")), ("năm triệu", no()),
    ("nhiều tiền", no()), ("1tr 2tỷ", no()), ("chưa quyết toán", no()),
    # Issue 22 (1): near misses of a unit are asked back with their reading; other words refused.
    ("5 triệuu", asked(5_000_000)), ("5 trieuj", asked(5_000_000)),
    ("5 trieeuj", asked(5_000_000)), ("5 triêu", asked(5_000_000)),
    ("5 TRIỆUU", asked(5_000_000)), ("2 trieuj 5", asked(2_500_000)),
    ("5 nghinf", asked(5_000)), ("10 lít", no("unit")), ("5 xyz", no("unit")),
    ("5 chai", no("unit")), ("5 cụ", no("unit")), ("5 người", no("unit")),
    ("5 triệu tiền mặt", ok(5_000_000)), ("5 triệu đồng", ok(5_000_000)),
    # Issue 22 (7): currency in front, half a million, hundreds of millions.
    ("VNĐ 5.000.000", ok(5_000_000)), ("₫5.000.000", ok(5_000_000)),
    ("vnd 5.000.000", ok(5_000_000)), ("nửa triệu", ok(500_000)), ("nua trieu", ok(500_000)),
    ("2 tỷ 3 trăm triệu", ok(2_300_000_000)), ("5 trăm nghìn", ok(500_000)),
    ("3 trăm triệu", ok(300_000_000)), ("tổng 5.000.000", ok(5_000_000)),
    ("tổng cộng 5 triệu", ok(5_000_000)),
]

RATES: list[tuple[str, Stored | Refused]] = [
    ("12,5", ok("12.5")), ("12.5", ok("12.5")), ("40", ok(40)), ("0,25", ok("0.25")),
    ("97%", ok(97)), ("khoảng 90", ok(90, EST)), ("150", no("above_max")), ("-3", no()),
    ("97 %", ok(97)), ("97 phần trăm", ok(97)), ("97 lít", no("unit")),
]

YES: list[str] = [
    "có", "co", "Có", "CÓ", "c", "C", "vâng", "vang", "rồi", "roi", "đã xong", "xong", "ok",
    "oke", "yes", "y", "dạ có", "Dạ, có ạ", "có ạ", "co a", "có rồi", "đã ban hành",
    "da ban hanh", "có.", "Có!", "có 👍", "\u200bcó", "đúng", "dung", "ừ", "đã có", "da co",
    "dạ vâng", "đã tổ chức", "có tổ chức",
    # Issue 22 (7)
    "đã ban hành kế hoạch", "đã có kế hoạch", "có nhé", "co nhe", "1. Có", "1) có",
    "cos", "cos nhes", "có kế hoạch", "đã có kh",
    "đã ban hành kế hoạch tổ chức tuần lễ", "có rồi nhé", "dạ có nha", "co1", "đã ban hành rồi ạ",
]
NO: list[str] = [
    "không", "khong", "Không", "KHÔNG", "k", "ko", "kg", "ko co", "không có", "khong co",
    "chưa", "chua", "chưa có", "chưa làm", "chua lam", "chưa ban hành", "chua ban hanh",
    "không ạ", "dạ không", "dạ chưa", "no", "n", "sai", "chưa xong", "khong lam", "ko lam",
    "hong", "hok", "Chưa.", "chưa tổ chức",
    # Issue 22 (7)
    "không nhé", "khoong", "khoong co", "chuwa cos", "chuwa", "2. Không", "chưa có kế hoạch",
    "chưa nhé", "kho6ng",
]
NEITHER: list[str] = ["👍", "có lẽ", "chắc vậy", "chac vay", "không biết", "khong biet",
                      "có và không", "???", "maybe", "để hỏi lại", "chưa rõ", "12",
                      "2. Có", "1. Không", "có không", "không có kế hoạch gì à?"]
# Issue 22 (7): a yes or no followed by its details keeps them as the note.
YES_NO_WITH_DETAILS: list[tuple[str, Stored | Refused]] = [
    ("có, số 12/KH-UBND ngày 15/9", ok(True, "số 12/KH-UBND ngày 15/9")),
    ("Có: 12/KH-UBND", ok(True, "12/KH-UBND")),
    ("đã ban hành kế hoạch số 12/KH-UBND", ok(True, "số 12/KH-UBND")),
    ("có kế hoạch số 12/KH-UBND ngày 15/9", ok(True, "số 12/KH-UBND ngày 15/9")),
    ("chưa, dự kiến tuần sau", ok(False, "dự kiến tuần sau")),
    ("chưa - dự kiến tuần sau", ok(False, "dự kiến tuần sau")),
    ("không, vì chưa có kinh phí", ok(False, "vì chưa có kinh phí")),
    ("Đã ban hành KH số 12/KH-UBND", ok(True, "số 12/KH-UBND")),
    ("đã ban hành ngày 15/9", ok(True, "ngày 15/9")),
    ("có lẽ, chưa rõ", no("not_yes_no")), ("không biết, để hỏi lại", no("not_yes_no")),
    ("không, có", no("not_yes_no")), ("có, à không", no("not_yes_no")),
]

DATES: list[tuple[str, Stored | Refused]] = [
    ("13/10", ok("2023-10-13")), ("13/10/2023", ok("2023-10-13")),
    ("13-10-2023", ok("2023-10-13")), ("13.10.2023", ok("2023-10-13")),
    ("13.10.23", ok("2023-10-13")), ("2023-10-13", ok("2023-10-13")),
    ("ngày 13/10", ok("2023-10-13")), ("ngay 13 thang 10", ok("2023-10-13")),
    ("13 tháng 10 năm 2023", ok("2023-10-13")), ("2/10", ok("2023-10-02")),
    ("02/10/2023", ok("2023-10-02")), ("2-10", ok("2023-10-02")), ("１３/１０", ok("2023-10-13")),
    ("13/10 👍", ok("2023-10-13")), ("13/10.", ok("2023-10-13")),
    ("31/02/2023", no("invalid_date")), ("32/10", no("invalid_date")),
    ("10/13/2023", no("invalid_date")), ("hôm qua", no("not_a_date")),
    ("thứ hai", no("not_a_date")), ("13", no("not_a_date")), ("abc", no("not_a_date")),
    # Issue 22 (7): the day as it is said, and the weekday in front (checked against the date).
    ("mùng 5 tháng 9", ok("2023-09-05")), ("mung 5 thang 9", ok("2023-09-05")),
    ("mồng 5/9", ok("2023-09-05")), ("mùng 5/9/2023", ok("2023-09-05")),
    ("thứ 6, 15/9", ok("2023-09-15")), ("thứ sáu 15/9", ok("2023-09-15")),
    ("T6 15/9", ok("2023-09-15")), ("chủ nhật, 17/9", ok("2023-09-17")),
    ("thứ 6 ngày 15/9/2023", ok("2023-09-15")), ("thứ 5, 15/9", no("weekday")),
    ("CN 15/9", no("weekday")), ("Thứ 6 (15/9)", ok("2023-09-15")),
]

# What phones do to what is typed: invisible characters, odd spaces, emoji, full-width digits.
ARTEFACTS = {
    "zero-width space": lambda t: "\u200b" + t,
    "no-break space": lambda t: t.replace(" ", "\u00a0"),
    "emoji after": lambda t: t + " 🙏",
    "full-width digits": lambda t: t.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"}),
    "trailing full stop": lambda t: t + ".",
    "word joiner": lambda t: t.replace(" ", " \u2060"),
}


def _with_artefacts(rows: list[tuple[str, Stored | Refused]]) -> list[tuple[str, Any]]:
    """Every accepted answer again with each artefact, where the artefact applies."""
    out = []
    for typed, expected in rows:
        if not isinstance(expected, Stored) or not typed or "(" in typed:
            continue
        for name, change in ARTEFACTS.items():
            changed = change(typed)
            stop = name == "trailing full stop" and (typed.endswith(".") or expected.note)
            if changed != typed and not stop:  # a full stop after a note is the note's
                out.append((changed, expected))
    return out


CORPUS: list[tuple[Question, str, Stored | Refused]] = [
    *((COUNT, t, e) for t, e in COUNTS),
    *((MONEY, t, e) for t, e in MONEY_ROWS),
    *((RATE, t, e) for t, e in RATES),
    *((YES_NO, t, ok(True)) for t in YES),
    *((YES_NO, t, ok(False)) for t in NO),
    *((YES_NO, t, no()) for t in NEITHER),
    *((YES_NO, t, e) for t, e in YES_NO_WITH_DETAILS),
    *((DATE, t, e) for t, e in DATES),
]
CORPUS += [(COUNT, t, e) for t, e in _with_artefacts(COUNTS[:60])]
CORPUS += [(MONEY, t, e) for t, e in _with_artefacts(MONEY_ROWS[:30])]
CORPUS += [(YES_NO, t, ok(True)) for t in ("\u200bco", "có\u00a0ạ", "co 🙏", "Có.")]


def test_the_corpus_is_large_enough():
    typed = {(q.id, t) for q, t, _e in CORPUS}
    assert len(typed) >= 300
    assert sum(isinstance(e, Refused) for _q, _t, e in CORPUS) >= 100


@pytest.mark.parametrize(("question", "typed", "expected"), CORPUS,
                         ids=[f"{q.type}:{t[:30]!r}" for q, t, _e in CORPUS])
def test_a_typed_answer_is_stored_as_meant_or_refused(question: Question, typed: str,
                                                      expected: Stored | Refused):
    try:
        parsed = parse_answer(question, typed, default_year=2023)
    except AnswerError as error:
        assert isinstance(expected, Refused), f"{typed!r} was refused ({error.code})"
        if expected.code:
            assert error.code == expected.code
        # Every refusal can be explained, and never quotes more than a short excerpt.
        explanation = error_text(question, error, Catalog().tr("vi"))
        assert explanation and len(explanation) < 400
        return
    assert isinstance(expected, Stored), f"{typed!r} was stored as {parsed.value!r}"
    assert parsed.value == expected.value and type(parsed.value) is type(expected.value)
    assert parsed.note == expected.note
    assert bool(parsed.near_miss) is expected.asked, f"{typed!r}: asked back {parsed.near_miss!r}"


def test_a_date_answer_is_stored_as_an_iso_date():
    assert date.fromisoformat(parse_answer(DATE, "13/10", 2023).value) == date(2023, 10, 13)
