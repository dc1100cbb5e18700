"""Issue 22, defect 2, end to end: a school's figure above the row's usual maximum, kept with the
*Đúng, giữ nguyên* button on Telegram or by typing on Zalo, is stored with its reason."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.runtime import Running

from .conftest import VN
from .fake_telegram import FakeTelegram
from .fake_zalo import FakeZalo
from .test_checks_and_rules import stored
from .test_confirmed_flags import USUAL_MAX
from .test_telegram_e2e import deep_link_sign_in, seeded_bot
from .test_zalo_e2e import bot, clock, settings, sign_in, zl  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow


async def test_telegram_the_keep_button_stores_the_usual_maximum_flag(
        tg: FakeTelegram, db_url: str, tmp_path: Path):
    async with seeded_bot(tg, db_url, tmp_path, datetime(2023, 10, 5, 9, 0, tzinfo=VN)) \
            as running:
        lan = tg.user(5001, "Cô Lan")
        await deep_link_sign_in(running, lan, "TH-ANLAO")
        await lan.press("Bắt đầu báo cáo")
        await lan.wait_for("1.1. ")
        await lan.send("4.2 9000")
        asked = await lan.wait_for("cao hơn nhiều so với thông thường")
        assert "9.000 người" in asked.text
        assert [b.get("text") for b in asked.buttons][:2] == ["Đúng, giữ nguyên", "Nhập lại"]
        assert "4.2" not in await stored(running.app, "TH-ANLAO")
        await lan.press("Đúng, giữ nguyên")
        kept = await lan.wait_for("cần kiểm tra")
        assert "4.2 = 9.000 người" in kept.text
        assert (await stored(running.app, "TH-ANLAO"))["4.2"] == (9000, USUAL_MAX)


async def test_zalo_a_typed_yes_stores_the_usual_maximum_flag(
        bot: Running, zl: FakeZalo):  # noqa: F811
    lan = zl.user("0000000000000000ccc3", "Cô Lan")
    await sign_in(bot, lan, "TH-ANLAO")
    await lan.send("/baocao")
    await lan.wait_for("1.1. ")
    await lan.send("4.2 9000")
    asked = await lan.wait_for("cao hơn nhiều so với thông thường")
    assert "9.000 người" in asked.text and "Đúng, giữ nguyên" in asked.text
    assert "4.2" not in await stored(bot.app, "TH-ANLAO")
    await lan.send("đúng")
    kept = await lan.wait_for("cần kiểm tra")
    assert "4.2 = 9.000 người" in kept.text
    assert (await stored(bot.app, "TH-ANLAO"))["4.2"] == (9000, USUAL_MAX)
