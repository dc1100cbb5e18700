"""A correction of a submitted report is pending until it is submitted again (issue 22, 4):
`/trangthai` shows it and how to send it, `/huy` never drops it without asking, and an unchanged
report is never offered for resubmission. Conversations in the local chat, real SQLite."""

from __future__ import annotations

import pytest

from bot.app import App

from .test_answer_safety import submit_whole_report
from .test_report_conversation import signed_in, stored_report

pytestmark = pytest.mark.slow


async def corrected(app: App, person) -> tuple:  # noqa: ANN001
    """A commune's report submitted, then 4.2 corrected to 999 and not sent yet."""
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    await submit_whole_report(thu)
    before = await stored_report(app, "X-ANLAO")
    await thu.say("/baocao")
    reply = await thu.say("4.2 999")
    assert "4.2 = 999 người" in reply
    return thu, before


async def test_status_shows_a_pending_correction_and_how_to_send_it(app: App, person):
    thu, before = await corrected(app, person)
    reply = await thu.say("/trangthai")
    assert "Đã nộp lúc" in reply  # the coordinator still sees the submitted report
    assert "chưa gửi" in reply and "4.2" in reply
    assert "Nộp lại báo cáo" in reply  # and how to send it
    assert (await stored_report(app, "X-ANLAO")).answers == before.answers


async def test_status_of_a_submitted_report_without_corrections_says_nothing_pending(
        app: App, person):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    await submit_whole_report(thu)
    reply = await thu.say("/trangthai")
    assert "Đã nộp lúc" in reply and "chưa gửi" not in reply


async def test_cancel_in_a_correction_asks_and_keeping_leaves_it_pending(app: App, person):
    thu, before = await corrected(app, person)
    reply = await thu.say("/huy")
    assert "Giữ để gửi sau" in reply and "Bỏ các sửa đổi" in reply
    assert "4.2" in reply
    assert "đã được hủy" not in reply  # nothing was thrown away
    reply = await thu.say("Giữ để gửi sau")
    assert "4.2" in reply and "Nộp lại báo cáo" in reply
    assert (await stored_report(app, "X-ANLAO")).answers == before.answers
    reply = await thu.say("/trangthai")
    assert "chưa gửi" in reply and "4.2" in reply
    reply = await thu.say("/baocao")
    assert "4.2  999 người" in reply and "Nộp lại báo cáo" in reply
    reply = await thu.say("Nộp lại báo cáo")
    assert "thay đổi 1 câu trả lời" in reply
    after = await stored_report(app, "X-ANLAO")
    assert after.answers["4.2"] == 999 and after.revision == before.revision + 1


async def test_a_message_after_the_cancel_question_keeps_the_correction(app: App, person):
    thu, before = await corrected(app, person)
    await thu.say("/huy")
    reply = await thu.say("/baocao")  # neither button: nothing is discarded
    assert "4.2  999 người" in reply and "Nộp lại báo cáo" in reply
    await thu.say("Nộp lại báo cáo")
    assert (await stored_report(app, "X-ANLAO")).answers["4.2"] == 999


async def test_cancel_then_discarding_drops_the_correction_and_offers_no_resubmission(
        app: App, person):
    thu, before = await corrected(app, person)
    await thu.say("/huy")
    reply = await thu.say("Bỏ các sửa đổi")
    assert "báo cáo đã nộp vẫn giữ nguyên" in reply
    reply = await thu.say("/trangthai")
    assert "chưa gửi" not in reply
    reply = await thu.say("/baocao")
    assert "Xem lại báo cáo" in reply and "4.2  " in reply and "999" not in reply
    assert "Nộp lại báo cáo" not in reply  # nothing changed, nothing to resubmit
    assert (await stored_report(app, "X-ANLAO")).answers == before.answers


async def test_the_cancel_question_typed_by_number(app: App, person):
    thu, before = await corrected(app, person)
    reply = await thu.say("/huy")
    assert "1. Giữ để gửi sau" in reply and "2. Bỏ các sửa đổi" in reply
    await thu.say("2")
    reply = await thu.say("/baocao")
    assert "999" not in reply and "Nộp lại báo cáo" not in reply


async def test_a_submitted_report_opened_again_offers_no_resubmission_until_changed(
        app: App, person):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    await submit_whole_report(thu)
    reply = await thu.say("/baocao")
    assert "đã được nộp" in reply and "Nộp lại báo cáo" not in reply
    reply = await thu.say("4.2 999")
    assert "Nộp lại báo cáo" in reply
    reply = await thu.say("/huy")
    assert "Giữ để gửi sau" in reply


async def test_cancel_in_a_draft_still_keeps_answers_without_asking(app: App, person):
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    await thu.say("có")
    reply = await thu.say("/huy")
    assert "Đã dừng" in reply and "Giữ để gửi sau" not in reply
    assert (await stored_report(app, "X-ANLAO")).answers["1.1"] is True


async def test_kept_corrections_go_into_a_report_returned_meanwhile(app: App, person):
    from .filing import sign_in

    thu, before = await corrected(app, person)
    await thu.say("/huy")
    await thu.say("Giữ để gửi sau")
    boss = await sign_in(app, "HP", role="coordinator")
    await boss.say("/tralai X-ANLAO Mục 4 chưa khớp")
    reply = await thu.say("/baocao")
    assert "4.2" in reply and "báo cáo được trả lại" in reply  # said, not silently applied
    assert (await stored_report(app, "X-ANLAO")).answers["4.2"] == 999
    assert "4.2  999 người" in await thu.say("Xem lại")


async def test_kept_corrections_of_a_report_accepted_meanwhile_are_said_not_sent(
        app: App, person):
    from .filing import sign_in

    thu, before = await corrected(app, person)
    await thu.say("/huy")
    boss = await sign_in(app, "HP", role="coordinator")
    await boss.say("/duyet X-ANLAO")
    reply = await thu.say("/baocao")
    assert "4.2" in reply and "chưa được gửi" in reply
    assert (await stored_report(app, "X-ANLAO")).answers == before.answers
    assert "chưa gửi" not in await thu.say("/trangthai")


async def test_cancel_again_later_offers_to_discard_the_kept_correction(app: App, person):
    thu, before = await corrected(app, person)
    await thu.say("/huy")
    await thu.say("Giữ để gửi sau")
    reply = await thu.say("/huy")
    assert "Giữ để gửi sau" in reply and "4.2" in reply
    reply = await thu.say("Bỏ các sửa đổi")
    assert "Đã bỏ các sửa đổi" in reply
    assert "chưa gửi" not in await thu.say("/trangthai")
