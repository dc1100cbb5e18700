"""Issue 22, 4 on Zalo, which has no buttons: the question `/huy` asks in a correction is
answered by typing its number; discarded, the report is not offered for resubmission."""

from __future__ import annotations

import pytest

from bot.runtime import Running

from .fake_zalo import FakeZalo
from .test_answer_safety import section_lines
from .test_report_conversation import COMMUNE_FORM, stored_report
from .test_zalo_e2e import bot, clock, settings, sign_in, zl  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow


async def test_cancel_in_a_correction_is_asked_and_answered_by_typing(
        bot: Running, zl: FakeZalo):  # noqa: F811
    thu = zl.user("00000000000000000d22", "Thu")
    await sign_in(bot, thu)
    await thu.send("/baocao")
    await thu.wait_for("1.1. ")
    for line in section_lines(COMMUNE_FORM):
        await thu.send(line)
        await thu.wait_for("Đã lưu")
    await thu.send("nộp")
    await thu.wait_for("đúng hạn")
    before = await stored_report(bot.app, "X-ANLAO")

    await thu.send("/baocao")
    await thu.wait_for("đã được nộp")
    await thu.send("4.2 250")
    await thu.wait_for("4.2 = 250 người")
    await thu.send("/huy")
    asked = await thu.wait_for("Giữ để gửi sau")
    assert "1. Giữ để gửi sau\n2. Bỏ các sửa đổi\nTrả lời 1 hoặc 2." in asked.text
    await thu.send("/trangthai")  # asking what is due first keeps the corrections
    status = await thu.wait_for("Đã nộp lúc")
    assert "Nội dung sửa chưa gửi: 4.2" in status.text
    await thu.send("/baocao")
    await thu.wait_for("4.2  250 người")
    await thu.send("/huy")
    await thu.wait_for("Giữ để gửi sau")
    await thu.send("2")
    await thu.wait_for("Đã bỏ các sửa đổi")
    await thu.send("/baocao")
    review = await thu.wait_for("đã được nộp")
    assert "Nộp lại báo cáo" not in review.text and "250" not in review.text
    assert (await stored_report(bot.app, "X-ANLAO")).answers == before.answers
