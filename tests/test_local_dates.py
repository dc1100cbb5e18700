"""Issue 24, 3: every date the bot shows is the date in the configured time zone
(Asia/Ho_Chi_Minh), never the UTC date of the stored instant. Between 00:00 and 07:00 local
time UTC is still the previous day, so a date taken before converting is one day early."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from bot import admin
from bot.app import App, build_app
from bot.cli import app as cli
from bot.runtime import start
from bot.settings import Settings
from bot.storage.models import Invite
from conversations.campaigns import parse_campaign
from conversations.forms import load_form_text

from .conftest import VN, Clock, invite, seed_reference_data
from .fake_telegram import FakeTelegram
from .fake_zalo import FakeZalo
from .filing import COMMUNE, file_report, sign_in
from .test_report_conversation import stored_report
from .test_telegram_e2e import FlowingClock, deep_link_sign_in, free_port, seeded_bot

pytestmark = pytest.mark.slow

# Opens 05/10/2026 00:00 local time (04/10 17:00 UTC), due before 13/10/2026.
OCTOBER_WEEK = {
    "id": "tuan-le-2026",
    "title": {"vi": "Tuần lễ học tập suốt đời năm 2026", "en": "Lifelong Learning Week 2026"},
    "forms": [{"form": "tuan-le-htsd", "kinds": ["commune", "ward", "town"]}],
    "periods": [{"key": "2026", "label": "Tuần lễ 05/10 - 11/10/2026", "start": "2026-10-05",
                 "end": "2026-10-11", "due_before": "2026-10-13"}],
}


async def _october_week(app: App, clock: Clock, now: str) -> None:
    clock.set(now)
    async with app.sessions() as session, session.begin():
        await admin.load_campaign(session, parse_campaign(OCTOBER_WEEK), app.clock())


@pytest.mark.parametrize("now", ["2026-10-04 12:00", "2026-10-04 23:30", "2026-10-04 03:00"])
async def test_status_names_the_local_day_a_period_opens(app: App, clock: Clock, now: str):
    await _october_week(app, clock, now)
    thu = await sign_in(app, "X-ANLAO")
    assert "Hiện chưa có báo cáo nào cần nộp" in await thu.say("/baocao")
    status = await thu.say("/trangthai")
    assert "Bắt đầu nhận báo cáo từ ngày 05/10/2026" in status, status
    assert "04/10/2026" not in status
    assert "trước ngày 13/10/2026" in status  # 13/10 00:00 local: "before 13/10"
    await thu.say("/ngonngu en")
    assert "Opens on 05/10/2026" in await thu.say("/status")


async def test_a_report_filed_before_seven_in_the_morning_shows_that_local_day(
        app: App, clock: Clock):
    await _october_week(app, clock, "2026-10-05 03:00")  # UTC: 04/10 20:00
    thu = await file_report(app, "X-ANLAO", COMMUNE)
    status = await thu.say("/trangthai")
    assert "03:00 ngày 05/10/2026" in status, status
    assert "04/10/2026" not in status


def test_invite_list_shows_the_local_day_an_invite_expires(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    clock = Clock(datetime(2026, 10, 4, 3, 0, tzinfo=VN))  # valid 30 days: to 03/11 03:00

    async def setup() -> str:
        bot = await build_app(Settings(database_url=db_url, files_dir=str(tmp_path / "f")),
                              clock=clock)
        try:
            await seed_reference_data(bot, tmp_path)
            code = await invite(bot, "X-ANLAO")
            async with bot.sessions() as session:
                stored = await session.scalar(select(Invite).where(Invite.code == code))
            assert stored is not None and stored.expires_at.day == 2  # 02/11 20:00 UTC
            return code
        finally:
            await bot.close()

    code = asyncio.run(setup())
    monkeypatch.setenv("BAOCAO_DATABASE_URL", db_url)
    listing = CliRunner().invoke(cli, ["invite", "list"], catch_exceptions=False).output
    line = next(row for row in listing.splitlines() if code in row)
    assert "03/11/2026" in line and "02/11/2026" not in line, line


PLAN_DATE_FORM = """\
id: ke-hoach-nam
version: 1
title: {vi: "Kế hoạch năm", en: "Yearly plan"}
sections:
  - id: "1"
    title: {vi: "Kế hoạch", en: "Plan"}
    questions:
      - id: "1.1"
        type: date
        label: {vi: "Ngày ban hành kế hoạch năm", en: "Date the yearly plan was issued"}
      - id: "1.2"
        type: count
        label: {vi: "Số lớp", en: "Classes"}
"""
# The year opens 01/01/2026 00:00 local time: 31/12/2025 17:00 UTC.
YEAR_2026 = {
    "id": "ke-hoach-2026",
    "title": {"vi": "Kế hoạch năm 2026", "en": "Plan 2026"},
    "forms": [{"form": "ke-hoach-nam", "kinds": ["commune"]}],
    "periods": [{"key": "2026", "label": "Năm 2026", "start": "2026-01-01",
                 "end": "2026-12-31", "due_before": "2026-03-01"}],
}


async def test_a_date_typed_without_its_year_takes_the_local_year_of_the_period(
        app: App, clock: Clock):
    clock.set("2026-01-20 09:00")
    async with app.sessions() as session, session.begin():
        await admin.load_form(session, load_form_text(PLAN_DATE_FORM),
                              yaml.safe_load(PLAN_DATE_FORM), app.clock())
        await admin.load_campaign(session, parse_campaign(YEAR_2026), app.clock())
    thu = await sign_in(app, "X-ANLAO")
    reply = await thu.say("/baocao")
    assert "Ngày ban hành kế hoạch năm" in reply, reply
    reply = await thu.say("15/1")
    assert "15/01/2026" in reply or "Số lớp" in reply, reply
    report = await stored_report(app, "X-ANLAO", "ke-hoach-2026")
    assert report is not None and report.answers["1.1"] == "2026-01-15", report.answers


async def test_status_on_telegram_names_the_local_opening_day(
        tg: FakeTelegram, db_url: str, tmp_path: Path):
    # 04/10 03:00 local time is 03/10 20:00 UTC; the period opens 05/10 00:00 local.
    async with seeded_bot(tg, db_url, tmp_path, datetime(2026, 10, 4, 3, 0, tzinfo=VN)) as bot:
        async with bot.app.sessions() as session, session.begin():
            await admin.load_campaign(session, parse_campaign(OCTOBER_WEEK), bot.app.clock())
        lan = tg.user(2601, "Lan")
        await deep_link_sign_in(bot, lan)
        await lan.send("/trangthai")
        status = await lan.wait_for("Bắt đầu nhận báo cáo từ ngày")
        assert "từ ngày 05/10/2026" in status.text and "04/10/2026" not in status.text
        assert "trước ngày 13/10/2026" in status.text


async def test_the_upload_page_shows_its_expiry_in_the_configured_time_zone(
        db_url: str, tmp_path: Path):
    """Over the fake Zalo server; the zone set to Tokyo (UTC+9), so a zone written into the
    page instead of the configured one shows."""
    async with FakeZalo() as zl:
        await _upload_page_in_tokyo(zl, db_url, tmp_path)
        assert zl.spec_errors == []


async def _upload_page_in_tokyo(zl: FakeZalo, db_url: str, tmp_path: Path) -> None:
    from .test_zalo_e2e import sign_in as zalo_sign_in

    port = free_port()
    settings = Settings(database_url=db_url, zalo_bot_token=zl.token, zalo_api_base=zl.base_url,
                        zalo_rate_per_chat=50, public_url=f"http://127.0.0.1:{port}",
                        webhook_port=port, files_dir=str(tmp_path / "files"),
                        reminder_tick_seconds=0, timezone="Asia/Tokyo")
    bot = await start(settings, clock=FlowingClock(datetime(2023, 10, 5, 9, 0, tzinfo=VN)))
    try:
        await seed_reference_data(bot.app, tmp_path)
        thu = zl.user("00000000000000002601", "Thu")
        await zalo_sign_in(bot, thu)
        await thu.send("/tailen")
        upload = await thu.wait_for("/uploads/", timeout=10)
        url = next(w for w in upload.text.split() if "/uploads/" in w)
        expires = datetime.fromtimestamp(int(parse_qs(urlsplit(url).query)["exp"][0]), UTC)
        async with aiohttp.ClientSession() as http, http.get(url) as page:
            html = await page.text()
        tokyo = expires.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%H:%M %d/%m/%Y")
        assert tokyo in html, html
    finally:
        await bot.stop()
