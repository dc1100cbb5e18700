"""Fast entry alone (no database): section lines, id pairs, text parts and template rows, as
example tables and properties over every bundled form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversations.fast_entry import parse_append, parse_entry
from conversations.forms import bundled_form_files, load_form_file
from conversations.number_parsing import format_number

FORMS = {p.stem: load_form_file(p) for p in bundled_form_files()}
COMMUNE, SCHOOL = FORMS["tuan-le-htsd"], FORMS["tuan-le-htsd-truong"]
NUMERIC_SECTIONS = [(form, s) for form in FORMS.values() for s in form.sections
                    if len(s.questions) >= 2 and all(q.numeric for q in s.questions)]


@pytest.mark.parametrize(("form", "text", "pairs", "problems"), [
    (SCHOOL, "mục 4: 2, 150, 1, 300, 3", [], ["count_mismatch"]),
    (SCHOOL, "mục 4: 2, 150, 3", [("4.1", "2"), ("4.2", "150"), ("4.5", "3")], []),
    (SCHOOL, "Mục 2: 3,10,17", [("2.1", "3"), ("2.3", "10"), ("2.4", "17")], []),
    (COMMUNE, "muc 3: 1,500,20", [], ["ambiguous_commas"]),
    (COMMUNE, "mục 3: 1.500, 20, 12", [("3.1", "1.500"), ("3.2", "20"), ("3.3", "12")], []),
    (COMMUNE, "mục 1: có", [("1.1", "có")], []),  # the optional text row may be left out
    (COMMUNE, "mục 1: có, Số 12/KH-UBND, ngày 25/9", [("1.1", "có"),
                                                       ("1.2", "Số 12/KH-UBND, ngày 25/9")], []),
    (COMMUNE, "mục 8: 3; 12; 2tr5 ghi chú: tiền mặt, hiện vật",
     [("8.1", "3"), ("8.2", "12"), ("8.3", "2tr5 ghi chú: tiền mặt, hiện vật")], []),
    (COMMUNE, "mục 2: 3 (2 báo in, 1 báo điện tử), 1, 12, 4",
     [("2.1", "3 (2 báo in, 1 báo điện tử)"), ("2.2", "1"), ("2.3", "12"), ("2.4", "4")], []),
    (COMMUNE, "mục 2: 3, -, 12, 4", [("2.1", "3"), ("2.3", "12"), ("2.4", "4")], []),
    (COMMUNE, "mục 9: 1, 2", [], ["unknown_section"]),
    (COMMUNE, "4.2 150\n4.2 170", [], ["duplicate"]),
    (COMMUNE, "4.2 150\n4.2=150", [("4.2", "150")], []),
    (COMMUNE, "4.2 150 ghi chú: gấp 4.1 lần năm trước",
     [("4.2", "150 ghi chú: gấp 4.1 lần năm trước")], []),
    (COMMUNE, "4.1=2 ghi chú: trực tuyến 4.2=150", [("4.1", "2 ghi chú: trực tuyến"),
                                                   ("4.2", "150")], []),
    (COMMUNE, "Tổng hợp như sau:\nmục 7: 1, 1, 1, 1, 1", [(f"7.{i}", "1") for i in range(1, 6)],
     ["unplaced"]),
    (COMMUNE, "iv: Đề nghị hỗ trợ, thêm sách\ncho thư viện",
     [("IV", "Đề nghị hỗ trợ, thêm sách\ncho thư viện")], []),
    (COMMUNE, "III. Kế hoạch tiếp theo\nDuy trì lớp học.",
     [("III", "Kế hoạch tiếp theo\nDuy trì lớp học.")], []),
    (COMMUNE, "4.2 Số người tham gia hội thảo, tọa đàm = 150\n4.1 Số lần = ",
     [("4.2", "150")], []),
])
def test_entries(form, text: str, pairs: list, problems: list[str]):  # noqa: ANN001
    entry = parse_entry(form, text)
    assert entry is not None
    assert entry.pairs == pairs
    assert [p.code for p in entry.problems] == problems


@pytest.mark.parametrize("text", ["12", "khoảng 30", "12 ghi chú: 2 tờ, 3 bài", "có",
                                  "Công tác chỉ đạo tốt.\n2.1 5 bài trên báo", "4.5",
                                  "Số 125/KH-UBND ngày 25/9/2023", "I love it"])
def test_plain_answers_are_not_entries(text: str):
    assert parse_entry(COMMUNE, text) is None


def test_thêm_appends():
    assert parse_append("thêm: phần còn lại") == "phần còn lại"
    assert parse_append("Them : dòng 1\ndòng 2") == "dòng 1\ndòng 2"
    assert parse_append("thêm lớp học mới") is None


@given(st.sampled_from(NUMERIC_SECTIONS), st.data())
def test_a_section_line_stores_its_values_only_with_the_right_count(case, data):  # noqa: ANN001
    form, section = case
    rows = len(section.questions)
    count = data.draw(st.integers(min_value=1, max_value=rows + 3))
    values = data.draw(st.lists(st.integers(min_value=0, max_value=10**7), min_size=count,
                                max_size=count))
    separator = data.draw(st.sampled_from([", ", "; ", "\n", " ; "]))
    typed = [format_number(v, "vi") for v in values]
    entry = parse_entry(form, f"mục {section.id}: " + separator.join(typed))
    assert entry is not None
    if count == rows:
        assert entry.pairs == [(q.id, t) for q, t in zip(section.questions, typed, strict=True)]
    else:
        assert entry.pairs == [] and entry.problems[0].code == "count_mismatch"


@given(st.text(max_size=200))
def test_any_text_gives_an_entry_or_none(text: str):
    entry = parse_entry(COMMUNE, text)
    assert entry is None or isinstance(entry.pairs, list)


# --- rows this unit's form lacks (issue 22, 3) and one-character text parts (issue 22, 6) ---

def _problems(entry) -> list[tuple[str, str]]:  # noqa: ANN001
    return [(p.code, p.text) for p in entry.problems]


@pytest.mark.parametrize(("text", "pairs", "missing"), [
    ("4.1=2 4.3=1", [("4.1", "2")], ["4.3"]),
    ("4.2=300 4.4=250", [("4.2", "300")], ["4.4"]),
    ("2.1 = 3\n2.2 = 5\n2.3 = 4", [("2.1", "3"), ("2.3", "4")], ["2.2"]),
    ("4.9 5", [], ["4.9"]),
    ("4.1: 2; 4.3: 1; 4.4: 250; 4.5: 3", [("4.1", "2"), ("4.5", "3")], ["4.3", "4.4"]),
    ("mục 4: 4.1=2, 4.3=1", [("4.1", "2")], ["4.3"]),
    ("7.1=1 7.2=1", [], ["7.1", "7.2"]),
    ("4.3 1\n4.1 2", [("4.1", "2")], ["4.3"]),
    ("II.1: Thuận lợi: có phòng học\nII.2: Khó khăn: thiếu máy", [("II.2", "Khó khăn: thiếu máy")],
     ["II.1"]),
    ("4.3 Số cuộc triển lãm = 1\n4.1 Số lần hội thảo = 2", [("4.1", "2")], ["4.3"]),
])
def test_rows_the_school_form_lacks_are_named_and_the_others_kept(text: str, pairs: list,
                                                                    missing: list[str]):
    entry = parse_entry(SCHOOL, text)
    assert entry is not None
    assert entry.pairs == pairs
    assert _problems(entry) == [("not_in_form", qid) for qid in missing]
    # The commune form has 4.3, 4.4 and 2.2: there the same message stores every value.
    commune = parse_entry(COMMUNE, text)
    assert commune is not None
    assert not [p for p in commune.problems if p.text in ("2.2", "4.3", "4.4")]


@pytest.mark.parametrize("text", ["3.1 Tiếp tục duy trì các lớp", "1.5", "4.2=150 gấp 2.5 lần",
                                  "Năm 2.023 người"])
def test_an_unknown_id_shape_inside_words_is_no_pair(text: str):
    entry = parse_entry(SCHOOL, text)
    assert entry is None or not [p for p in entry.problems if p.code == "not_in_form"]


@pytest.mark.parametrize(("text", "short"), [
    ("II.2: x", [("short_text", "II.2")]),
    ("III: -", [("short_text", "III")]),
    ("II.2=x", [("short_text", "II.2")]),
    ("mục III: -", [("short_text", "III")]),
    ("III Kế hoạch thời gian tới = -", [("short_text", "III")]),
    ("4.1=2\nIV: —", [("short_text", "IV")]),
])
def test_a_one_character_text_part_is_never_dropped_silently(text: str, short: list):
    entry = parse_entry(COMMUNE, text)
    assert entry is not None
    assert _problems(entry) == short
    assert all(q not in ("II.2", "III", "IV") for q, _v in entry.pairs)


@pytest.mark.parametrize(("text", "pairs", "problems", "blanks"), [
    # A dash in a template row leaves it empty, as a blank row does: it is listed as such.
    ("4.2 Số người tham gia = -\n4.1 Số lần = 2", [("4.1", "2")], [], ["4.2"]),
    # In a section line a dash for a number skips it; for a text part it is named.
    ("mục 1: có, -", [("1.1", "có")], [("short_text", "1.2")], []),
    ("mục 4: 4.3=1, 4.4=2", [("4.3", "1"), ("4.4", "2")], [], []),
])
def test_dashes_and_inner_pairs_on_the_commune_form(text: str, pairs: list, problems: list,
                                                    blanks: list):
    entry = parse_entry(COMMUNE, text)
    assert entry is not None
    assert entry.pairs == pairs and _problems(entry) == problems and entry.blanks == blanks


def test_times_in_a_text_part_are_no_ids():
    text = "I: Lịch ngày 02/10\n7.30: đón khách\n8.00: khai mạc"
    entry = parse_entry(SCHOOL, text)
    assert entry is not None and not entry.problems
    assert entry.pairs == [("I", "Lịch ngày 02/10\n7.30: đón khách\n8.00: khai mạc")]


def test_a_section_line_of_rows_the_school_lacks_names_them_all():
    entry = parse_entry(SCHOOL, "mục 4: 4.3=1, 4.4=2")
    assert entry is not None and entry.pairs == []
    assert _problems(entry) == [("not_in_form", "4.3"), ("not_in_form", "4.4")]
