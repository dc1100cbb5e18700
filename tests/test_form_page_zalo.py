"""The form page from Zalo (issue 26): Zalo has no buttons, so /baocao carries a one-time link
in its text; it signs in once on the device that opens it. The page and the chat stay in step:
a value typed in chat shows on the page when reloaded, and the other way."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.runtime import Running, start
from bot.settings import Settings

from .conftest import VN, invite, seed_reference_data
from .fake_zalo import FakeZalo
from .test_telegram_e2e import FlowingClock, free_port
from .web_console import SECRET, client, csrf_of, sign_in

pytestmark = pytest.mark.slow
LINK = re.compile(r"http://127\.0\.0\.1:\d+/web/l/[A-Za-z0-9_-]+")


@pytest.fixture
async def zl() -> AsyncIterator[FakeZalo]:
    async with FakeZalo() as fake:
        yield fake
        assert fake.spec_errors == [], "the bot sent requests the Zalo Bot API refuses"


@pytest.fixture
async def bot(zl: FakeZalo, db_url: str, tmp_path: Path) -> AsyncIterator[Running]:
    port = free_port()
    settings = Settings(database_url=db_url, zalo_bot_token=zl.token,
                        zalo_api_base=zl.base_url, zalo_rate_per_chat=50,
                        public_url=f"http://127.0.0.1:{port}", webhook_port=port,
                        webhook_listen="127.0.0.1", files_dir=str(tmp_path / "files"),
                        reminder_tick_seconds=0, web_secret=SECRET)
    running = await start(settings, clock=FlowingClock(datetime(2023, 10, 9, 9, 0, tzinfo=VN)))
    await seed_reference_data(running.app, tmp_path)
    yield running
    await running.stop()


def field(html: str, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert found, name
    return found.group(1)


async def test_a_zalo_link_opens_the_form_once_and_the_chat_stays_in_step(bot: Running,
                                                                          zl: FakeZalo):
    co = zl.user("f1e2d3c4b5a6f7e8d9c0", "Cô Lan")
    await co.send(await invite(bot.app, "TH-ANLAO"))
    await co.wait_for("đã được đăng ký")
    await co.send("/baocao")
    offered = await co.wait_for("/web/l/")
    assert "Mục 1 · câu 1/27" in offered.text  # the chat goes on under the link
    link = LINK.search(offered.text)
    assert link, offered.text
    async with client() as http:
        signed = await sign_in(http, link.group(0))
        assert signed.status == 303 and signed.headers["Location"] == "/web/form/"
        async with http.get(signed.headers["Location"].replace(
                "/web/", f"{link.group(0).split('/web/')[0]}/web/", 1)) as page:
            url, html = str(page.url), await page.text()
        data = {"csrf": csrf_of(html), "section": "8", "v:8.3": "5tr", "n:8.3": "tiền mặt"}
        async with http.post(f"{url}/save", data=data) as saved:
            html = await saved.text()
            assert field(html, "v:8.3") == "5.000.000", html[html.find("said"):][:800]
        await co.send("2.1 = 7")  # typed in chat: on the page when reloaded
        await co.wait_for("2.1 = 7")
        async with http.get(url) as page:
            assert field(await page.text(), "v:2.1") == "7"
        await co.send("xem lại")  # the page's value is in the chat
        review = await co.wait_for("8.3")
        assert "5.000.000" in review.text
    async with client() as other, other.get(link.group(0)) as again:
        assert again.status == 410  # the link signs in once
