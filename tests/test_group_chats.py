"""Groups and channels: reports and coordinator answers live in private chats only. In a group
the bot says once how to reach it privately; nobody's notifications move there, and the shared
ids of anonymous admins and "send as channel" messages never become anyone's identity."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.runtime import Running
from bot.storage.models import Identity

from .conftest import VN, invite
from .fake_telegram import FakeTelegram
from .test_telegram_e2e import deep_link_sign_in, seeded_bot

pytestmark = pytest.mark.slow
PRIVATELY = "nhắn riêng"


@pytest.fixture
async def bot(tg: FakeTelegram, db_url: str, tmp_path: Path) -> AsyncIterator[Running]:
    async with seeded_bot(tg, db_url, tmp_path, datetime(2023, 10, 9, 9, 0, tzinfo=VN)) as running:
        yield running


async def settle(tg: FakeTelegram) -> None:
    """Let every update be handled and every reply be sent."""
    await asyncio.sleep(1.0)


async def test_a_message_in_a_group_never_moves_anyones_notifications(bot: Running,
                                                                      tg: FakeTelegram):
    lan = tg.user(1401, "Lan")
    await deep_link_sign_in(bot, lan, "TH-ANLAO")
    boss = tg.user(1402, "Chủ tịch xã")
    code = await invite(bot.app, "X-ANLAO", role="coordinator")
    await boss.send(f"/start {code}")
    await boss.wait_for("cán bộ tổng hợp")
    group = tg.group()
    await group.send(lan, "xin chào")
    await settle(tg)
    hint = [m.text for m in group.messages()]
    assert len(hint) == 1 and PRIVATELY in hint[0], hint
    await group.send(lan, "/baocao@baocao_test_bot")
    await group.send(boss, "/chuanop")
    await settle(tg)
    assert len(group.messages()) == 1  # once, then quiet: no review, no missing list
    await boss.send("/nhac")
    await boss.wait_for("Đã gửi lời nhắc")
    await lan.wait_for("Kính nhắc", timeout=5)  # in her private chat
    await settle(tg)
    assert [m.text for m in group.messages()] == hint


async def test_anonymous_admins_and_channel_senders_are_nobody(bot: Running, tg: FakeTelegram):
    first, second = tg.group(-1001111, "Nhóm xã An Lão"), tg.group(-1002222, "Nhóm khác")
    code = await invite(bot.app, "X-ANLAO", role="coordinator")
    await first.send_as_anonymous_admin(f"/start {code}")
    await first.send_as_channel(f"/start {code}")
    await settle(tg)
    await second.send_as_anonymous_admin("/chuanop")
    await settle(tg)
    for group in (first, second):
        shown = "\n".join(m.text for m in group.messages())
        assert PRIVATELY in shown and "cán bộ tổng hợp" not in shown
        assert "Chưa nộp" not in shown and "chưa nộp" not in shown
    async with bot.app.sessions() as session:
        bound = (await session.scalars(select(Identity).where(
            Identity.external_user_id.in_(["1087968824", "136817688"])))).all()
    assert all(i.contact_id is None for i in bound)
    # The invite was not used up by the anonymous attempts: its owner can still sign in.
    minh = tg.user(1403, "Minh")
    await minh.send(f"/start {code}")
    await minh.wait_for("cán bộ tổng hợp")
