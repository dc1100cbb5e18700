"""Campaigns run from the web console over real HTTP, against the real bot on the fake Telegram
server: a new campaign written as a short form (a bad date refused and named, a unit that does
not exist named and publishing refused until it is corrected), its reminders previewed,
published through the same loader as the YAML; a deadline extended (the reporters of units
not yet submitted are told in chat, the others not); close and archive; the history page,
scoped; a coordinator's probes of another commune's campaign are 404s."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape

import aiohttp
import pytest
from sqlalchemy import select

from bot.runtime import Running
from bot.storage.models import Campaign, CampaignDraft, ChangeRecord, Period

from .conftest import VN, invite
from .fake_telegram import FakeTelegram
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


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


NEW_CAMPAIGN = {
    "title_vi": "Tháng Khuyến học năm 2025", "title_en": "Study Promotion Month 2025",
    "key": "thang-khuyen-hoc-2025",
    "form_1": "thang-khuyen-hoc", "kinds_1": "commune, ward",
    "start": "05/09/2025", "end": "05/10/2025", "due_before": "06/10/2025",
    "every": "", "correction_days": "3",
    "opening": "1", "before": "3d, 1d", "overdue_days": "2",
    "quiet_start": "21:00", "quiet_end": "07:00",
}


async def admin_session(bot: Running, tg: FakeTelegram, http: aiohttp.ClientSession,
                        user_id: int = 4200) -> None:
    """An admin (the whole tree) signed in with the link the bot sends to /web."""
    boss = tg.user(user_id, "Quản trị viên")
    await boss.send(f"/start {await invite(bot.app, 'HP', role='admin')}")
    await boss.wait_for(lambda m: True)
    assert (await sign_in(http, await link_from_chat(boss))).status == 303


async def coordinator_session(bot: Running, tg: FakeTelegram, http: aiohttp.ClientSession,
                              unit: str, user_id: int) -> None:
    boss = await coordinator(bot, tg, unit, user_id, f"Cán bộ {unit}")
    assert (await sign_in(http, await link_from_chat(boss))).status == 303


async def get(http: aiohttp.ClientSession, bot: Running, path: str) -> tuple[int, str]:
    async with http.get(base_url(bot) + path) as page:
        return page.status, await page.text()


async def post(http: aiohttp.ClientSession, bot: Running, path: str, data: dict[str, str],
               csrf_from: str = "/web/campaigns") -> aiohttp.ClientResponse:
    _status, html = await get(http, bot, csrf_from)
    return await http.post(base_url(bot) + path, data={"csrf": csrf_of(html), **data},
                           allow_redirects=False)


async def test_a_new_campaign_is_refused_with_its_errors_named_then_previewed_and_published(
        console: Running, tg: FakeTelegram):
    async with client() as http:
        await admin_session(console, tg, http)
        status, html = await get(http, console, "/web/campaigns")
        assert status == 200
        words = text_of(html)
        assert "tuan-le-htsd-2023" in words and "Đã phát hành" in words
        assert "Hạn nộp trước ngày 13/10/2023." in words  # each campaign's periods, deadlines

        # A date that is not a date: nothing is stored, the field is named with what it wants.
        bad = await post(http, console, "/web/campaigns/new",
                         {**NEW_CAMPAIGN, "due_before": "31/02/2025"}, "/web/campaigns/new")
        assert bad.status == 400
        words = text_of(await bad.text())
        assert "Anh/chị vui lòng ghi ngày theo ngày/tháng/năm, ví dụ: 13/10/2025." in words
        assert 'value="31/02/2025"' in await bad.text()  # what was typed is kept
        async with console.app.sessions() as session:
            assert await session.scalar(select(CampaignDraft.id)) is None

        # Readable, but a unit that is not loaded: the draft is saved, publishing refused.
        saved = await post(http, console, "/web/campaigns/new",
                           {**NEW_CAMPAIGN, "units": "X-ANLAO, X-KHONGCO"},
                           "/web/campaigns/new")
        assert saved.status == 303
        draft_page = saved.headers["Location"]
        status, html = await get(http, console, draft_page)
        words = text_of(html)
        assert "Cần sửa trước khi phát hành" in words and "Chưa có đơn vị X-KHONGCO." in words
        refused = await post(http, console, draft_page + "/publish", {}, draft_page)
        assert refused.status == 400
        assert "Chưa có đơn vị X-KHONGCO." in text_of(await refused.text())
        async with console.app.sessions() as session:
            assert await session.scalar(select(Campaign.id).where(
                Campaign.key == NEW_CAMPAIGN["key"])) is None

        # Corrected: the preview lists every reminder and digest and when, then it publishes.
        fixed = await post(http, console, draft_page, {**NEW_CAMPAIGN, "units": ""},
                           draft_page)
        assert fixed.status == 303
        status, html = await get(http, console, draft_page)
        words = text_of(html)
        assert "Cần sửa" not in words
        assert "07:00 ngày 05/09/2025 Thông báo mở đợt tới người báo cáo" in words
        # 3 days before "trước ngày 06/10" is 03/10 00:00, in quiet hours: sent at 07:00
        assert "00:00 ngày 03/10/2025" not in words
        assert "07:00 ngày 03/10/2025 Nhắc các đơn vị chưa nộp" in words
        assert "08:00 ngày 05/10/2025 Bản tổng hợp gửi cán bộ tổng hợp" in words
        assert "08:00 ngày 07/10/2025 Nhắc quá hạn các đơn vị chưa nộp" in words
        assert "08:00 ngày 08/10/2025" not in words  # two overdue days, as asked
        published = await post(http, console, draft_page + "/publish", {}, draft_page)
        assert published.status == 303
        assert published.headers["Location"] == "/web/campaigns/c/thang-khuyen-hoc-2025"
        async with console.app.sessions() as session:
            campaign = await session.scalar(select(Campaign).where(
                Campaign.key == NEW_CAMPAIGN["key"]))
            assert campaign is not None and campaign.state == "published"
            period = await session.scalar(select(Period).where(
                Period.campaign_id == campaign.id))
            assert period.deadline == datetime(2025, 10, 6, tzinfo=VN)
            assert campaign.definition["reminders"]["overdue_days"] == 2
            assert await session.scalar(select(CampaignDraft.id)) is None
        status, html = await get(http, console, "/web/history")
        words = text_of(html)
        assert "campaign.publish thang-khuyen-hoc-2025" in words
        assert "Quản trị viên" in words
        assert words.index("campaign.publish") < words.index("campaign.draft")  # newest first

        # The same code again is refused, not a second campaign over the first.
        again = await post(http, console, "/web/campaigns/new", NEW_CAMPAIGN,
                           "/web/campaigns/new")
        assert again.status == 400
        assert "Đã có đợt báo cáo với mã này" in text_of(await again.text())

        # "Copy for next year": the same form with every date a year later.
        status, html = await get(http, console, "/web/campaigns/new?copy=thang-khuyen-hoc-2025")
        assert 'value="06/10/2026"' in html and 'value="thang-khuyen-hoc-2026"' in html
        assert 'value="Tháng Khuyến học năm 2026"' in html


async def test_an_extended_deadline_reaches_only_the_units_not_yet_submitted(
        console: Running, tg: FakeTelegram):
    people = await report_through_chat(console, tg)  # X-ANLAO, TH-ANLAO submitted; THCS draft
    before = {code: len(user.messages()) for code, user in people.items()}
    async with console.app.sessions() as session:
        period = await session.scalar(select(Period).join(Campaign).where(
            Campaign.key == "tuan-le-htsd-2023"))
    async with client() as http:
        await admin_session(console, tg, http)
        page = "/web/campaigns/c/tuan-le-htsd-2023"
        earlier = await post(http, console, page + "/extend",
                             {"period": str(period.id), "due_before": "10/10/2023"}, page)
        assert earlier.status == 303
        status, html = await get(http, console, page)
        assert "Hạn nộp mới phải sau hạn hiện tại." in text_of(html)
        done = await post(http, console, page + "/extend",
                          {"period": str(period.id), "due_before": "20/10/2023"}, page)
        assert done.status == 303
        status, html = await get(http, console, page)
        assert "đã báo trong chat cho 1 người báo cáo" in text_of(html)
        assert "Hạn nộp trước ngày 20/10/2023." in text_of(html)
        # the preview follows: 3 days before the new deadline (17/10 00:00, quiet) at 07:00
        assert "07:00 ngày 17/10/2023 Nhắc các đơn vị chưa nộp" in text_of(html)
    # A bulk message waits while the reporter is typing (they wrote a moment ago), then comes.
    console.clock.set(console.clock() + timedelta(minutes=3))
    told = await people["THCS-ANLAO"].wait_for("gia hạn", timeout=10)
    assert "trước ngày 20/10/2023" in told.text and "/baocao" in told.text
    for code in ("X-ANLAO", "TH-ANLAO"):
        assert not any("gia hạn" in m.text for m in people[code].messages()[before[code]:])
    # A later lock alone: those not yet submitted are told until when they can still send.
    async with client() as http:
        await admin_session(console, tg, http, 4201)
        page = "/web/campaigns/c/tuan-le-htsd-2023"
        lock = await post(http, console, page + "/extend",
                          {"period": str(period.id), "lock_before": "25/10/2023"}, page)
        assert lock.status == 303
    console.clock.set(console.clock() + timedelta(minutes=3))
    told = await people["THCS-ANLAO"].wait_for("nay có thể gửi đến", timeout=10)
    assert "00:00 ngày 25/10/2023" in told.text and "trước ngày 20/10/2023" in told.text
    for code in ("X-ANLAO", "TH-ANLAO"):
        assert not any("có thể gửi" in m.text for m in people[code].messages()[before[code]:])
    async with console.app.sessions() as session:
        change = await session.scalar(select(ChangeRecord).where(
            ChangeRecord.action == "campaign.extend"))
        assert datetime.fromisoformat(change.before["deadline"]) == datetime(2023, 10, 13,
                                                                             tzinfo=VN)
        assert datetime.fromisoformat(change.after["deadline"]) == datetime(2023, 10, 20,
                                                                            tzinfo=VN)


async def test_close_then_archive_and_a_coordinator_sees_only_their_own(
        console: Running, tg: FakeTelegram):
    async with client() as admin_http, client() as anlao, client() as anthang:
        await admin_session(console, tg, admin_http)
        await coordinator_session(console, tg, anlao, "X-ANLAO", 4301)
        await coordinator_session(console, tg, anthang, "X-ANTHANG", 4302)

        # A coordinator's campaign must name units, and only units below theirs.
        own = {**NEW_CAMPAIGN, "key": "tuan-le-xa-anlao", "form_1": "tuan-le-htsd-truong",
               "kinds_1": "school", "units": "TH-ANLAO, MN-ANTHANG, X-ANLAO",
               "start": "02/10/2023", "end": "08/10/2023", "due_before": "20/10/2023"}
        saved = await post(anlao, console, "/web/campaigns/new", own, "/web/campaigns/new")
        draft_page = saved.headers["Location"]
        status, html = await get(anlao, console, draft_page)
        assert "Đơn vị MN-ANTHANG, X-ANLAO không thuộc các đơn vị anh/chị phụ trách." in \
            text_of(html)
        assert (await post(anthang, console, draft_page, own, "/web/campaigns")).status == 404
        await post(anlao, console, draft_page, {**own, "units": "TH-ANLAO, THCS-ANLAO"},
                   draft_page)
        published = await post(anlao, console, draft_page + "/publish", {}, draft_page)
        assert published.status == 303
        page = "/web/campaigns/c/tuan-le-xa-anlao"

        # The other commune's coordinator: a 404 for every page and action of it.
        for probe in (page, draft_page, "/web/campaigns/c/tuan-le-htsd-2023"):
            assert (await get(anthang, console, probe))[0] == 404
        assert (await post(anthang, console, page + "/close", {})).status == 404
        status, html = await get(anthang, console, "/web/campaigns")
        assert "tuan-le-xa-anlao" not in html and "tuan-le-htsd-2023" not in html
        status, html = await get(anthang, console, "/web/history")
        assert "tuan-le-xa-anlao" not in html
        status, html = await get(anlao, console, "/web/history")
        assert "campaign.publish tuan-le-xa-anlao" in text_of(html)
        assert "Cán bộ X-ANLAO" in text_of(html)
        status, html = await get(admin_http, console, "/web/campaigns")
        assert "tuan-le-xa-anlao" in html  # an admin sees every office's campaigns

        # Archive before closing is refused and says why; close, then archive.
        await post(anlao, console, page + "/archive", {}, page)
        status, html = await get(anlao, console, page)
        assert "anh/chị vui lòng kết thúc đợt trước khi lưu trữ" in text_of(html)
        assert (await post(anlao, console, page + "/close", {}, page)).status == 303
        async with console.app.sessions() as session:
            campaign = await session.scalar(select(Campaign).where(
                Campaign.key == "tuan-le-xa-anlao"))
            period = await session.scalar(select(Period).where(
                Period.campaign_id == campaign.id))
            assert campaign.state == "closed" and period.lock_at is not None
            assert period.lock_at <= console.clock()
        status, html = await get(anlao, console, "/web/")
        assert "Tháng Khuyến học năm 2025" in html  # the board still offers the closed one
        assert (await post(anlao, console, page + "/archive", {}, page)).status == 303
        status, html = await get(anlao, console, "/web/")
        assert "Tháng Khuyến học năm 2025" not in html  # archived: out of the board too
        status, html = await get(anlao, console, "/web/campaigns")
        assert "tuan-le-xa-anlao" not in html
        status, html = await get(anlao, console, "/web/campaigns?archived=1")
        assert "tuan-le-xa-anlao" in html and "Đã lưu trữ" in text_of(html)


async def test_a_form_spreadsheet_uploaded_is_refused_line_by_line_then_loaded(
        console: Running, tg: FakeTelegram, tmp_path):  # noqa: ANN001
    """The same line-numbered errors as `baocao forms load`; a corrected file is loaded and
    offered on the new campaign's form; a coordinator cannot load forms (shared by all)."""
    from openpyxl import load_workbook

    from bot.spreadsheets.form_sheets import write_form_workbook
    from conversations.forms import bundled_form_files, load_form_file

    form = next(load_form_file(p) for p in bundled_form_files() if p.stem == "tuan-le-htsd")
    good = tmp_path / "mau-2025.xlsx"
    write_form_workbook(form, good)
    book = load_workbook(good)
    book["Biểu mẫu"]["B3"] = 2  # next year's version
    book.save(good)
    book["Câu hỏi"]["C4"] = "???"
    bad = tmp_path / "sai.xlsx"
    book.save(bad)

    async def upload(http: aiohttp.ClientSession, path) -> aiohttp.ClientResponse:  # noqa: ANN001
        _status, html = await get(http, console, "/web/campaigns/new")
        data = aiohttp.FormData()
        data.add_field("csrf", csrf_of(html))
        data.add_field("workbook", path.read_bytes(), filename=path.name)
        return await http.post(base_url(console) + "/web/forms/upload", data=data,
                               allow_redirects=False)

    async with client() as http, client() as anlao:
        await admin_session(console, tg, http)
        refused = await upload(http, bad)
        assert refused.status == 400
        words = text_of(await refused.text())
        assert "sheet “Câu hỏi”, line 4: question 2.1: type “???”" in words
        loaded = await upload(http, good)
        assert loaded.status == 303
        status, html = await get(http, console, "/web/campaigns/new")
        assert "Đã tải mẫu tuan-le-htsd phiên bản 2" in text_of(html)
        status, html = await get(http, console, "/web/history")
        assert "form.load tuan-le-htsd v2" in text_of(html)
        await coordinator_session(console, tg, anlao, "X-ANLAO", 4301)
        assert (await upload(anlao, good)).status == 404
