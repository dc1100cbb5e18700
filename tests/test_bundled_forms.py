"""The forms and campaigns in conversations/data load and say what the documents say."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import yaml

from conversations.forms import (
    DATA_DIR,
    FORMS_DIR,
    Form,
    bundled_form_files,
    load_form_file,
)
from conversations.unit_kinds import KINDS

CAMPAIGNS_DIR = DATA_DIR / "campaigns"
UNIT_KINDS = {kind.id for kind in KINDS}  # the kinds an import accepts
VI_LETTERS = set("ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ")

# The commune report form of seed 004, table II.1, one question per printed row item.
COMMUNE_ROWS = {
    "1": ["1.1", "1.2"],
    "2": ["2.1", "2.2", "2.3", "2.4"],
    "3": ["3.1", "3.2", "3.3"],
    "4": ["4.1", "4.2", "4.3", "4.4", "4.5"],
    "5": ["5.1", "5.2", "5.3", "5.4", "5.5", "5.6", "5.7", "5.8", "5.9", "5.10"],
    "6": ["6.1", "6.2", "6.3", "6.4"],
    "7": ["7.1", "7.2", "7.3", "7.4", "7.5"],
    "8": ["8.1", "8.2", "8.3"],
}
WEEK_TEXT_PARTS = ["I", "II.2", "III", "IV"]
SCHOOL_ROWS = {
    "1": ["1.1", "1.2"],
    "2": ["2.1", "2.3", "2.4"],
    "3": ["3.3"],
    "4": ["4.1", "4.2", "4.5"],
    "5": ["5.1", "5.2", "5.3", "5.4", "5.7", "5.8", "5.9", "5.10"],
    "6": ["6.2", "6.3", "6.4"],
    "8": ["8.1", "8.2", "8.3"],
}
MONTH_ROWS = {
    "1": ["1.1", "1.2", "1.3", "1.4", "1.5"],
    "2": ["2.1", "2.2", "2.3"],
    "3": ["3.1", "3.2", "3.3"],
    "4": ["4.1"],
    "5": ["5.1", "5.2", "5.3", "5.4"],
    "6": ["6.1", "6.2", "6.3"],
}
MONTH_TEXT_PARTS = ["I", "II", "III"]


@pytest.fixture(scope="module")
def forms() -> dict[str, Form]:
    loaded = {}
    for path in bundled_form_files():
        form = load_form_file(path)
        assert form.id == path.stem, f"{path.name}: id {form.id} differs from the file name"
        assert form.id not in loaded
        loaded[form.id] = form
    return loaded


@pytest.fixture(scope="module")
def commune(forms: dict[str, Form]) -> Form:
    return forms["tuan-le-htsd"]


@pytest.fixture(scope="module")
def school(forms: dict[str, Form]) -> Form:
    return forms["tuan-le-htsd-truong"]


@pytest.fixture(scope="module")
def month(forms: dict[str, Form]) -> Form:
    return forms["thang-khuyen-hoc"]


def _has_diacritics(text: str) -> bool:
    return any(ch in VI_LETTERS for ch in text.lower())


def test_every_bundled_form_loads(forms: dict[str, Form]) -> None:
    assert sorted(p.name for p in FORMS_DIR.glob("*.yaml")) == [
        "thang-khuyen-hoc.yaml",
        "tuan-le-htsd-truong.yaml",
        "tuan-le-htsd.yaml",
    ]
    assert set(forms) == {"tuan-le-htsd", "tuan-le-htsd-truong", "thang-khuyen-hoc"}
    # The school form is at version 2: its labels took the wording by unit kind (issue 22), so
    # a database holding version 1 loads it as a new version instead of refusing it.
    assert {key: form.version for key, form in forms.items()} == {
        "tuan-le-htsd": 1, "tuan-le-htsd-truong": 2, "thang-khuyen-hoc": 1}
    for form in forms.values():
        assert form.source
        assert form.title.vi and form.title.en and form.title.vi != form.title.en
        assert form.description.vi and form.description.en


def _rows(form: Form, section_ids) -> dict[str, list[str]]:
    return {sid: [q.id for q in form.section(sid).questions] for sid in section_ids}


def test_commune_form_has_the_rows_of_seed_004(commune: Form) -> None:
    assert [s.id for s in commune.sections] == list(COMMUNE_ROWS) + WEEK_TEXT_PARTS
    assert _rows(commune, COMMUNE_ROWS) == COMMUNE_ROWS
    assert len(commune.questions) == 36 + 4


def test_commune_form_rows(commune: Form) -> None:
    assert commune.question("1.1").type == "yes_no"
    assert commune.question("1.1").label.vi == "Đã ban hành kế hoạch tổ chức Tuần lễ HTSĐ chưa?"
    assert commune.question("1.2").type == "text"
    assert not commune.question("1.2").required
    assert commune.question("2.1").label.vi == "Số bài viết trên các báo"
    assert "05/9/2023" in commune.question("6.1").label.vi
    assert commune.question("8.3").type == "money"
    assert commune.question("8.3").unit.vi == "đồng"
    numeric = [q for q in commune.questions if q.numeric]
    assert {q.id for q in commune.questions if not q.numeric} == {"1.1", "1.2", *WEEK_TEXT_PARTS}
    assert all(q.type == "count" for q in numeric if q.id != "8.3")
    # classes, then attendances, for each of the five kinds of class
    for n in range(1, 11, 2):
        assert commune.question(f"5.{n}").unit.vi == "lớp"
        assert commune.question(f"5.{n + 1}").unit.vi == "lượt"
        assert commune.question(f"5.{n + 1}").main
    # the rural vocational row is printed twice in the original: kept once
    assert sum("lao động nông thôn" in q.label.vi for q in commune.questions) == 2


@pytest.mark.parametrize("form_id", ["tuan-le-htsd", "tuan-le-htsd-truong"])
def test_week_free_text_parts(forms: dict[str, Form], form_id: str) -> None:
    form = forms[form_id]
    for sid in WEEK_TEXT_PARTS:
        section = form.section(sid)
        assert section is not None, sid
        assert [(q.id, q.type) for q in section.questions] == [(sid, "text")]
        assert section.questions[0].required == (sid == "I")
    assert [s.id for s in form.sections][-4:] == WEEK_TEXT_PARTS


def test_main_figures(forms: dict[str, Form]) -> None:
    commune_main = {q.id for q in forms["tuan-le-htsd"].questions if q.main}
    assert commune_main == {"4.1", "4.2", "5.2", "5.4", "5.6", "5.8", "5.10", "8.1", "8.2", "8.3"}
    for form in forms.values():
        main = [q for q in form.questions if q.main]
        assert 8 <= len(main) <= 12, form.id
        assert all(q.numeric for q in main), form.id


def test_labels_and_numeric_rows(forms: dict[str, Form]) -> None:
    for form in forms.values():
        for section in form.sections:
            assert _has_diacritics(section.title.vi), (form.id, section.id)
            assert section.title.en and section.title.en != section.title.vi
        for q in form.questions:
            where = (form.id, q.id)
            assert q.label.vi and q.label.en, where
            assert q.label.vi != q.label.en, where  # English was written, not defaulted
            assert _has_diacritics(q.label.vi), where
            assert len(q.label.vi) <= 90, where  # readable on a phone
            if q.help.vi:
                assert q.help.en and q.help.en != q.help.vi, where
            if not q.numeric:
                continue
            assert q.note, where
            assert q.min == 0, where
            assert q.soft_max is not None and q.soft_max > 0, where
            if q.type == "count":
                assert q.label.vi.startswith(("Số ", "Tổng số ")), where
            if q.unit.vi:
                assert q.unit.en, where
            if q.type == "money":
                assert q.unit.vi == "đồng" and q.unit.en == "VND", where
                assert q.soft_max >= Decimal(100_000_000), where


def test_school_form_shares_rows_with_the_commune_form(commune: Form, school: Form) -> None:
    assert [s.id for s in school.sections] == list(SCHOOL_ROWS) + WEEK_TEXT_PARTS
    assert _rows(school, SCHOOL_ROWS) == SCHOOL_ROWS
    for q in school.questions:
        twin = commune.question(q.id)
        # every school row is a commune row: same id, same type, same section
        assert twin is not None, q.id
        assert twin.type == q.type, q.id
        assert twin.section_id == q.section_id, q.id
        assert twin.main == q.main, q.id
        assert twin.unit.vi == q.unit.vi, q.id
    assert "nhà trường" in school.question("1.1").label.vi.lower()
    assert school.question("8.3").type == "money"


def test_month_form(month: Form) -> None:
    assert [s.id for s in month.sections] == list(MONTH_ROWS) + MONTH_TEXT_PARTS
    assert _rows(month, MONTH_ROWS) == MONTH_ROWS
    fund = month.question("2.1")
    assert fund.type == "money" and fund.main
    assert "Quỹ Khuyến học" in fund.label.vi
    assert month.question("2.3").type == "money"
    assert month.question("6.3").type == "money"
    assert month.question("1.1").type == month.question("1.2").type == "yes_no"
    assert "Công dân học tập" in month.question("4.1").label.vi
    for qid, title in [
        ("5.1", "Gia đình học tập"),
        ("5.2", "Dòng họ học tập"),
        ("5.3", "Cộng đồng học tập"),
        ("5.4", "Đơn vị học tập"),
    ]:
        assert title in month.question(qid).label.vi
        assert month.question(qid).type == "count"
    for sid in MONTH_TEXT_PARTS:
        assert [(q.id, q.type) for q in month.section(sid).questions] == [(sid, "text")]
        assert month.question(sid).required == (sid == "I")


# --- campaigns -------------------------------------------------------------------------


def _campaigns() -> dict[str, dict]:
    out = {}
    for path in sorted(CAMPAIGNS_DIR.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(raw, dict), path.name
        assert raw["id"] == path.stem, path.name
        out[raw["id"]] = raw
    return out


def test_campaign_files_parse_and_reference_forms(forms: dict[str, Form]) -> None:
    campaigns = _campaigns()
    assert set(campaigns) == {"tuan-le-htsd-2023", "thang-khuyen-hoc-2024",
                              "tuan-le-htsd-2022-phuc-dong"}
    for cid, raw in campaigns.items():
        for key in ("title", "description"):
            assert raw[key]["vi"] and raw[key]["en"], (cid, key)
            assert _has_diacritics(raw[key]["vi"]), (cid, key)
        # The report prints "(Thực hiện <source>)": the plan as an office cites it, never
        # the project's own name for the document ("(seed 004)" printed "(seed 004))").
        assert "seed" not in raw["source"].lower() and "(" not in raw["source"], cid
        assert raw["source"].startswith("Kế hoạch") and " của UBND " in raw["source"], cid
        assert raw["timezone"] == "Asia/Ho_Chi_Minh"
        seen_kinds: set[str] = set()
        for entry in raw["forms"]:
            assert entry["form"] in forms, (cid, entry["form"])
            kinds = set(entry["kinds"])
            assert kinds <= UNIT_KINDS, (cid, kinds - UNIT_KINDS)
            assert not kinds & seen_kinds, (cid, "a unit kind answers two forms")
            seen_kinds |= kinds
        assert raw["periods"]
        for period in raw["periods"]:
            assert isinstance(period["key"], str)
            assert period["label"]["vi"] and period["label"]["en"]
            for key in ("start", "end", "due_before"):
                assert isinstance(period[key], dt.date), (cid, key)
            assert period["start"] <= period["end"] and period["start"] < period["due_before"]


def test_campaign_dates_follow_the_documents() -> None:
    campaigns = _campaigns()
    week = campaigns["tuan-le-htsd-2023"]
    assert [(f["form"], f["kinds"]) for f in week["forms"]] == [
        ("tuan-le-htsd", ["commune", "ward", "town", "special_zone"]),  # đặc khu since 2025
        ("tuan-le-htsd-truong", ["school", "centre", "learning_centre"]),
    ]
    (p,) = week["periods"]
    assert (p["key"], p["start"], p["end"], p["due_before"]) == (
        "2023",
        dt.date(2023, 10, 2),
        dt.date(2023, 10, 8),
        dt.date(2023, 10, 13),
    )
    month = campaigns["thang-khuyen-hoc-2024"]
    assert [(f["form"], sorted(f["kinds"])) for f in month["forms"]] == [
        ("thang-khuyen-hoc", ["commune", "special_zone", "town", "ward"]),
    ]
    (p,) = month["periods"]
    assert (p["key"], p["start"], p["end"], p["due_before"]) == (
        "2024",
        dt.date(2024, 9, 5),
        dt.date(2024, 10, 5),
        dt.date(2024, 10, 6),
    )
