"""Issue 24, 6: the console offers a remind button only where a reminder can help someone act.
After the period's lock nobody can send a report any more, except a unit whose report was
returned after the lock, until its correction deadline: its reporters are reminded (with that
deadline), and nobody else is. Over real HTTP, against the real bot on the fake Telegram server."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app import App
from bot.runtime import Running
from bot.storage.models import Campaign, Period

from .conftest import VN, Clock
from .fake_telegram import FakeTelegram
from .filing import COMMUNE, file_report
from .filing import sign_in as chat_sign_in
from .test_report_lifecycle import _only_locked_week
from .test_web_console import text_of
from .web_console import (
    base_url,
    client,
    coordinator,
    csrf_of,
    link_from_chat,
    report_through_chat,
    sign_in,
)

pytestmark = pytest.mark.slow

LOCK = datetime(2023, 10, 15, 0, 0, tzinfo=VN)


async def _lock_the_week(bot: Running) -> None:
    async with bot.app.sessions() as session, session.begin():
        period = await session.scalar(select(Period).join(Campaign).where(
            Campaign.key == "tuan-le-htsd-2023"))
        period.lock_at = LOCK


async def test_after_the_lock_only_a_returned_report_can_be_reminded(
        console: Running, tg: FakeTelegram):
    await _lock_the_week(console)
    people = await report_through_chat(console, tg)  # 09/10: a draft at THCS An Lão
    console.clock.set(datetime(2023, 10, 16, 10, 0, tzinfo=VN))  # after the lock
    boss = await coordinator(console, tg, "HP", 4120)
    base = base_url(console)
    async with client() as http:
        await sign_in(http, await link_from_chat(boss))
        async with http.get(base + "/web/") as page:
            assert "remind-all" not in await page.text()  # nobody can still send
        async with http.get(base + "/web/unit/THCS-ANLAO") as page:
            html = await page.text()
        assert 'id="remind"' not in html
        async with http.get(base + "/web/unit/X-ANLAO") as page:
            html = await page.text()
        assert 'id="remind"' not in html  # submitted
        period = re.search(r'name="period" value="(\d+)"', html).group(1)

        data = {"csrf": csrf_of(html), "period": period, "reason": "Mục 4 thiếu số người"}
        async with http.post(base + "/web/unit/X-ANLAO/return", data=data) as after:
            html = await after.text()
        assert "Đã trả lại báo cáo của Xã An Lão" in text_of(html)
        await people["X-ANLAO"].wait_for("Mục 4 thiếu số người")
        assert 'id="remind"' in html  # reopened until 19/10 10:00: its reporter can act
        async with http.get(base + "/web/") as page:
            assert "remind-all" in await page.text()

        console.clock.set(console.clock() + timedelta(minutes=5))
        data = {"csrf": csrf_of(html), "period": period}
        async with http.post(base + "/web/unit/X-ANLAO/remind", data=data) as after:
            words = text_of(await after.text())
        assert "Đã gửi lời nhắc" in words, words
        told = await people["X-ANLAO"].wait_for("Kính nhắc", timeout=10)
        assert "10:00 ngày 19/10/2023" in told.text, told.text
        assert "muộn" not in told.text  # a returned report keeps its first status

        # A forged post for the draft is refused and reaches nobody.
        async with http.post(base + "/web/unit/THCS-ANLAO/remind", data=data) as after:
            words = text_of(await after.text())
        assert "Đã gửi lời nhắc" not in words
        assert not [m for m in people["THCS-ANLAO"].messages() if "Kính nhắc" in (m.text or "")]

    console.clock.set(datetime(2023, 10, 19, 10, 30, tzinfo=VN))  # correction time over
    async with client() as http:
        await sign_in(http, await link_from_chat(boss))
        async with http.get(base + f"/web/unit/X-ANLAO?period={period}") as page:
            assert 'id="remind"' not in await page.text()
        async with http.get(base + "/web/") as page:
            assert "remind-all" not in await page.text()


async def test_nhac_after_the_lock_reminds_only_a_report_returned_then(app: App, clock: Clock):
    await _only_locked_week(app)  # locked on 15/10/2023
    returned = await file_report(app, "X-ANLAO", COMMUNE)
    never = await chat_sign_in(app, "X-ANTHANG")
    boss = await chat_sign_in(app, "HP", role="coordinator")
    clock.set("2023-10-16 10:00")
    reply = await boss.say("/nhac")
    assert "Hiện không có báo cáo nào đang mở" in reply, reply  # nobody can send any more
    assert not await never.chat.deliver()

    await boss.say("/tralai X-ANLAO Mục 4 thiếu số người")
    await returned.chat.deliver()
    clock.set("2023-10-16 10:05")
    reply = await boss.say("/nhac")
    assert "Đã gửi lời nhắc" in reply and "1 người" in reply and "1 đơn vị" in reply, reply
    told = "\n".join(await returned.chat.deliver())
    assert "Kính nhắc" in told and "trước 10:00 ngày 19/10/2023" in told, told
    assert "muộn" not in told
    assert not await never.chat.deliver()


async def test_nhac_weeks_after_the_deadline_reaches_a_unit_that_can_still_send(
        app: App, clock: Clock):
    # The 2023 Week has no lock: a report is still taken, late, for BAOCAO_LATE_WINDOW_DAYS.
    late = await chat_sign_in(app, "X-ANTHANG")
    boss = await chat_sign_in(app, "HP", role="coordinator")
    clock.set("2023-11-02 09:00")  # 20 days after "before 13/10/2023"
    assert "1.1. " in await late.say("/baocao")  # the reporter can still send
    await late.say("/huy")
    clock.set("2023-11-02 10:00")
    reply = await boss.say("/nhac")
    assert "Đã gửi lời nhắc" in reply, reply
    told = "\n".join(await late.chat.deliver())
    assert "Kính nhắc" in told and "nộp muộn" in told, told
