"""What is not a typed answer is not taken for one: stickers, photos and locations mid-form get
a reply saying what is expected; a photo's caption or a forwarded message becomes an answer only
when the person confirms it; one long message gets one short reply."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.runtime import Running

from .conftest import VN
from .fake_telegram import FakeTelegram, FakeUser
from .test_report_conversation import stored_report
from .test_telegram_e2e import deep_link_sign_in, seeded_bot

pytestmark = pytest.mark.slow
TEXT_ONLY = "chỉ đọc được tin nhắn chữ"
NOT_A_NUMBER = "Chưa đọc được số"


@pytest.fixture
async def bot(tg: FakeTelegram, db_url: str, tmp_path: Path) -> AsyncIterator[Running]:
    async with seeded_bot(tg, db_url, tmp_path, datetime(2023, 10, 5, 9, 0, tzinfo=VN)) as running:
        yield running


async def at_question_2_1(bot: Running, user: FakeUser) -> None:
    await deep_link_sign_in(bot, user)
    await user.send("/baocao")
    await user.wait_for("1.1. ")
    await user.press("Có")
    await user.wait_for("1.2. ")
    await user.send("Bỏ qua")
    await user.wait_for("2.1. ")


async def answers(bot: Running) -> dict:
    report = await stored_report(bot.app, "X-ANLAO")
    return report.answers if report else {}


async def test_stickers_photos_and_locations_mid_form_say_what_is_expected(
        bot: Running, tg: FakeTelegram):
    thu = tg.user(1501, "Thu")
    await at_question_2_1(bot, thu)
    for send in (thu.send_sticker, thu.send_photo, thu.send_location):
        await send()
        reply = await thu.wait_for(TEXT_ONLY)
        assert "2.1. " in reply.text and NOT_A_NUMBER not in reply.text
        assert "ví dụ: 12" in reply.text
    assert "2.1" not in await answers(bot)


async def test_a_caption_is_an_answer_only_once_confirmed(bot: Running, tg: FakeTelegram):
    thu = tg.user(1502, "Thu")
    await at_question_2_1(bot, thu)
    await thu.send_photo(caption="12")
    ask = await thu.wait_for("“12”")
    assert "2.1" not in await answers(bot)
    assert [b["text"] for b in ask.buttons] == ["Dùng nội dung này", "Không dùng"]
    await thu.press("Dùng nội dung này")
    await thu.wait_for("2.2. ")
    assert (await answers(bot))["2.1"] == 12


async def test_a_forwarded_message_is_not_the_persons_answer_unless_confirmed(
        bot: Running, tg: FakeTelegram):
    thu = tg.user(1503, "Thu")
    await at_question_2_1(bot, thu)
    await thu.forward("4.1=2 4.2=150")
    await thu.wait_for("chuyển tiếp")
    await thu.press("Không dùng")
    await thu.wait_for("2.1. ")
    assert not {"4.1", "4.2"} & set(await answers(bot))
    await thu.send("7")  # the question goes on as before
    await thu.wait_for("2.2. ")
    assert (await answers(bot))["2.1"] == 7


async def test_a_huge_fast_entry_gets_one_short_reply(bot: Running, tg: FakeTelegram):
    thu = tg.user(1504, "Thu")
    await at_question_2_1(bot, thu)
    before = len(thu.messages())
    await thu.send("mục 5: " + ", ".join(str(i) for i in range(900)))  # ~4 KB
    await thu.wait_for("mục 5")
    await asyncio.sleep(1.0)
    replies = thu.messages()[before:]
    assert len(replies) == 1 and len(replies[0].text) < 2000, [len(m.text) for m in replies]
