"""Issue 22, 4 on Telegram: `/huy` in a correction of a submitted report asks, with buttons,
whether to keep the corrections for later or discard them; kept, `/trangthai` shows them and
“Nộp lại báo cáo” sends them."""

from __future__ import annotations

import pytest

from bot.runtime import Running

from .fake_telegram import FakeTelegram
from .test_answer_safety import section_lines
from .test_report_conversation import COMMUNE_FORM, stored_report
from .test_telegram_e2e import (  # noqa: F401  (fixtures)
    bot,
    deep_link_sign_in,
    flowing_clock,
    seeded,
    settings,
)

pytestmark = pytest.mark.slow


async def test_cancel_in_a_correction_asks_with_buttons_and_keeps_it(bot: Running,  # noqa: F811
                                                                    tg: FakeTelegram):
    thu = tg.user(1301, "Thu")
    await deep_link_sign_in(bot, thu)
    await thu.send("/baocao")
    await thu.wait_for("1.1. ")
    for line in section_lines(COMMUNE_FORM):
        await thu.send(line)
        await thu.wait_for("Đã lưu")
    await thu.send("/baocao")
    await thu.wait_for("Xem lại báo cáo")
    await thu.press("Nộp báo cáo")
    await thu.wait_for("đúng hạn")
    before = await stored_report(bot.app, "X-ANLAO")

    await thu.send("/baocao")
    opened = await thu.wait_for("đã được nộp")
    assert "Nộp lại báo cáo" not in [b["text"] for b in opened.buttons]  # nothing changed yet
    await thu.send("4.2 250")
    await thu.wait_for("4.2 = 250 người")
    await thu.send("/huy")
    asked = await thu.wait_for("Đã dừng")
    assert [b["text"] for b in asked.buttons] == ["Giữ để gửi sau", "Bỏ các sửa đổi"]
    assert "4.2" in asked.text
    await thu.press("Giữ để gửi sau")
    kept = await thu.wait_for("được giữ lại")
    assert "Nộp lại báo cáo" in kept.text
    assert (await stored_report(bot.app, "X-ANLAO")).answers == before.answers

    await thu.send("/trangthai")
    status = await thu.wait_for("Đã nộp lúc")
    assert "Nội dung sửa chưa gửi: 4.2" in status.text
    await thu.send("/baocao")
    await thu.wait_for("4.2  250 người")
    await thu.press("Nộp lại báo cáo")
    await thu.wait_for("thay đổi 1 câu trả lời")
    after = await stored_report(bot.app, "X-ANLAO")
    assert after.answers["4.2"] == 250 and after.revision == before.revision + 1
