"""Exported files: deleted by the bot after BAOCAO_FILES_KEEP_DAYS; a download link survives the
link preview a messenger or a phone fetches before the person taps it."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.runtime import Running, start
from bot.settings import Settings

from . import test_zalo_e2e as zalo_e2e
from .fake_zalo import FakeZalo
from .test_telegram_e2e import FlowingClock
from .test_zalo_e2e import sign_in

# The Zalo end-to-end fixtures: Telegram and Zalo in one process, a seeded database.
zl, clock, settings, bot = zalo_e2e.zl, zalo_e2e.clock, zalo_e2e.settings, zalo_e2e.bot

pytestmark = pytest.mark.slow
PREVIEW_AGENTS = ("facebookexternalhit/1.1", "Zalo-LinkPreview/1.0 (compatible)",
                  "Mozilla/5.0 (compatible; Googlebot/2.1)")


async def link_from(user, text: str) -> str:  # noqa: ANN001
    message = await user.wait_for(text, timeout=15)
    return next(w for w in message.text.split() if w.startswith("http"))


async def test_a_link_preview_does_not_use_up_a_one_time_download_link(bot: Running,
                                                                      zl: FakeZalo):
    """Defect 5: a preview fetcher's GET used the link up before the person tapped it."""
    boss = zl.user("0000000000000000eee5", "Chủ tịch xã")
    await sign_in(bot, boss, "X-ANLAO", role="coordinator")
    await boss.send("/xuat")
    url = await link_from(boss, "dùng được một lần")
    async with aiohttp.ClientSession() as http:
        for agent in PREVIEW_AGENTS:  # previews and crawlers: a small page, nothing used
            async with http.get(url, headers={"User-Agent": agent}) as page:
                assert page.status == 200
                assert page.content_type == "text/html"
                body = await page.text()
            async with http.head(url) as head:
                assert head.status == 200
        assert "Tải xuống" in body and ".xlsx" in body
        assert 'name="robots" content="noindex' in body
        download = re.search(r'href="([^"]+)"[^>]*>\s*Tải xuống', body).group(1)
        download = download.replace("&amp;", "&")
        if download.startswith("/"):
            download = url.split("/files/")[0] + download
        async with http.get(download) as response:  # the person taps the button
            assert response.status == 200
            assert "attachment" in response.headers["Content-Disposition"]
            assert (await response.read()).startswith(b"PK")  # an XLSX (zip)
        async with http.get(download) as again:
            assert again.status == 410  # works once
        async with http.get(url) as page:  # the page now says it was used
            assert page.status == 410 and "đã được dùng" in await page.text()
        async with http.head(download) as head:
            assert head.status == 410


async def test_exports_older_than_the_setting_are_deleted_by_the_bot(
        settings: Settings, clock: FlowingClock, zl: FakeZalo):
    files = Path(settings.files_dir)
    now = clock().timestamp()
    made = {}
    for name, age_days in (("a" * 32, 31), ("b" * 32, 29), ("c" * 32, 45)):
        folder = files / name
        folder.mkdir(parents=True)
        (folder / "bao-cao.xlsx").write_bytes(b"PK")
        stamp = now - timedelta(days=age_days).total_seconds()
        os.utime(folder / "bao-cao.xlsx", (stamp, stamp))
        os.utime(folder, (stamp, stamp))
        made[name] = folder
    mine = files / "ghi-chu-cua-toi.txt"  # not an export of the bot: never touched
    mine.write_text("x")
    os.utime(mine, (now - 400 * 86400, now - 400 * 86400))
    running = await start(settings.model_copy(update={"files_keep_days": 30}), clock=clock)
    try:
        await running.housekeeping()
    finally:
        await running.stop()
    assert not made["a" * 32].exists() and not made["c" * 32].exists()
    assert made["b" * 32].exists() and mine.exists()
