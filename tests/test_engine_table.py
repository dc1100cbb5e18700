"""The engine alone: (state, typed text) → what it says and what it saves, for every question
type of a small form. No database, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from conversations.context import Assignment, ContactView, Context, UnitView
from conversations.engine import advance
from conversations.events import InboundEvent, SaveAnswers, Submit
from conversations.forms import Text, load_form_text
from conversations.i18n import Catalog

NOW = datetime(2023, 10, 5, 2, 0, tzinfo=UTC)
FORM = load_form_text("""
id: mini
version: 1
title: {vi: Mẫu nhỏ, en: Small form}
sections:
  - id: "1"
    title: {vi: Mục một, en: Section one}
    questions:
      - {id: "1.1", type: count, label: {vi: Số lớp, en: Classes}, soft_max: 100}
      - {id: "1.2", type: money, label: {vi: Kinh phí, en: Funds}, unit: {vi: đồng, en: VND}}
      - {id: "1.3", type: number, label: {vi: Tỷ lệ, en: Rate}, min: 0, max: 100}
      - {id: "1.4", type: yes_no, label: {vi: "Có thư viện?", en: "Library?"}}
      - id: "1.5"
        type: choice
        label: {vi: Hình thức, en: Format}
        choices:
          - {id: direct, label: {vi: Trực tiếp, en: In person}}
          - {id: online, label: {vi: Trực tuyến, en: Online}}
      - {id: "1.6", type: date, label: {vi: Ngày khai mạc, en: Opening day}}
      - {id: "1.7", type: text, label: {vi: Ghi nhận, en: Remarks}, required: false}
""")
UNIT = UnitView("X1", "Xã Một", "commune")
ASSIGNMENT = Assignment(
    period_id=1, period_label=Text("2023", "2023"), campaign_key="c",
    campaign_title=Text("Tuần lễ 2023", "Week 2023"), timezone="Asia/Ho_Chi_Minh",
    starts_at=NOW - timedelta(days=3), deadline=datetime(2023, 10, 12, 17, 0, tzinfo=UTC),
    lock_at=None, unit=UNIT, form_key="mini@1")
CONTEXT = Context(catalog=Catalog(), forms={"mini@1": FORM},
                  contact=ContactView(1, "Thu", "reporter", "vi", (UNIT,)),
                  assignments=(ASSIGNMENT,))


def at(qid: str) -> dict[str, Any]:
    return {"step": "answering", "assignment": ASSIGNMENT.key, "question": qid, "trail": []}


def typed(body: str) -> InboundEvent:
    return InboundEvent("local", "c", "u", "m", "text", NOW, text=body)


@pytest.mark.parametrize(("qid", "body", "stored"), [
    ("1.1", "12", 12),
    ("1.1", "45 lớp", 45),
    ("1.2", "1 234 000 đồng", 1_234_000),
    ("1.1", "１２", 12),
    ("1.1", "khong", 0),
    ("1.2", "5tr", 5_000_000),
    ("1.2", "2tr5", 2_500_000),
    ("1.2", "1.500.000đ", 1_500_000),
    ("1.2", "500 nghìn", 500_000),
    ("1.3", "12,5", "12.5"),
    ("1.3", "40", 40),
    ("1.4", "co", True),
    ("1.4", "Không", False),
    ("1.4", "rồi", True),
    ("1.5", "2", "online"),
    ("1.5", "truc tiep", "direct"),
    ("1.6", "2/10", "2023-10-02"),
    ("1.6", "02-10-2023", "2023-10-02"),
    ("1.7", "Tổ chức tốt", "Tổ chức tốt"),
])
def test_an_accepted_answer_is_saved_and_the_next_question_asked(qid: str, body: str,
                                                                 stored: Any):
    result = advance(at(qid), typed(body), CONTEXT, NOW)
    saves = [e for e in result.effects if isinstance(e, SaveAnswers)]
    assert saves and saves[0].answers[qid]["value"] == stored
    assert result.state["step"] in ("answering", "reviewing")


@pytest.mark.parametrize(("qid", "body", "explanation"), [
    ("1.1", "-3", "âm"),
    ("1.1", "2,5", "số nguyên"),
    ("1.1", "abc", "Chưa đọc được số"),
    ("1.2", "nhiều tiền", "số tiền"),
    ("1.3", "150", "100"),
    ("1.4", "có lẽ", "“có”"),
    ("1.5", "7", "1 đến 2"),
    ("1.6", "31/02/2023", "ngày/tháng/năm"),
    ("1.6", "hôm qua", "ngày/tháng/năm"),
])
def test_a_refused_answer_says_what_is_expected_and_asks_again(qid: str, body: str,
                                                              explanation: str):
    result = advance(at(qid), typed(body), CONTEXT, NOW)
    assert result.effects == ()
    text = result.messages[0].text
    assert explanation in text
    assert f"{qid}. " in text and result.state["question"] == qid


def test_an_implausible_count_waits_for_confirmation_and_saves_nothing_yet():
    result = advance(at("1.1"), typed("500"), CONTEXT, NOW)
    assert result.effects == () and result.state["step"] == "confirming"
    confirmed = advance(result.state, typed("có"), CONTEXT, NOW)
    assert confirmed.effects[0].answers == {"1.1": {
        "value": 500, "note": "", "flag": "cao hơn nhiều so với thường lệ (trên 100)"}}


def test_a_required_question_cannot_be_skipped():
    result = advance(at("1.1"), typed("bỏ qua"), CONTEXT, NOW)
    assert result.effects == ()
    assert "bắt buộc" in result.messages[0].text


def test_submitting_with_missing_answers_lists_them_and_submits_nothing():
    state = {"step": "reviewing", "assignment": ASSIGNMENT.key}
    result = advance(state, typed("nộp"), CONTEXT, NOW)
    assert not [e for e in result.effects if isinstance(e, Submit)]
    assert "1.1, 1.2, 1.3, 1.4, 1.5, 1.6" in result.messages[0].text


def test_a_locked_period_accepts_nothing():
    locked = Context(catalog=CONTEXT.catalog, forms=CONTEXT.forms, contact=CONTEXT.contact,
                     assignments=(Assignment(**{**ASSIGNMENT.__dict__,
                                                "lock_at": NOW - timedelta(hours=1)}),))
    result = advance(at("1.1"), typed("12"), locked, NOW)
    assert result.effects == () and result.state["step"] == "idle"
    assert "khóa sổ" in result.messages[0].text


def test_english_speakers_get_english():
    english = Context(catalog=CONTEXT.catalog, forms=CONTEXT.forms,
                      contact=ContactView(1, "Ann", "reporter", "en", (UNIT,)),
                      assignments=CONTEXT.assignments)
    result = advance(at("1.1"), typed("abc"), english, NOW)
    assert "I could not read this number" in result.messages[0].text
    assert "1.1. Classes" in result.messages[0].text
