"""What the web console tests share: the real bot (`baocao run`'s wiring) on the fake Telegram
server with its web server on a free port of 127.0.0.1, units that have reported through the
chat, and coordinators who get their sign-in link by sending /web."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import aiohttp

from bot import admin
from bot.runtime import Running, start
from bot.settings import Settings

from .conftest import VN, invite, seed_reference_data
from .fake_telegram import FakeTelegram, FakeUser
from .test_coordinators_e2e import known_values, school_form, submit_known_values
from .test_report_conversation import COMMUNE_FORM
from .test_telegram_e2e import FlowingClock, deep_link_sign_in, free_port

SECRET = "test-web-secret-0123456789abcdefghijklmnop"
LINK = re.compile(r"http://127\.0\.0\.1:\d+/web/l/[A-Za-z0-9_-]+")
# During the Week 2023's reporting time: after the week, before "trước ngày 13/10/2023".
START = datetime(2023, 10, 9, 9, 0, tzinfo=VN)


async def start_console(tg: FakeTelegram, db_url: str, tmp_path: Path) -> Running:
    """The bot with its console on a free port; `running.clock` is a FlowingClock tests set."""
    port = free_port()
    clock = FlowingClock(START)
    settings = Settings(database_url=db_url, telegram_bot_token=tg.token,
                        telegram_api_base=tg.base_url, telegram_rate_per_chat=50,
                        files_dir=str(tmp_path / "files"), reminder_tick_seconds=0,
                        public_url=f"http://127.0.0.1:{port}", webhook_listen="127.0.0.1",
                        webhook_port=port, web_secret=SECRET)
    running = await start(settings, clock=clock)
    running.clock = clock
    await seed_reference_data(running.app, tmp_path)
    return running


def base_url(bot: Running) -> str:
    assert bot.settings is not None
    return bot.settings.public_url


async def report_through_chat(bot: Running, tg: FakeTelegram) -> dict[str, FakeUser]:
    """Xã An Lão and the Trường Tiểu học An Lão submit their whole report in chat; the THCS
    An Lão starts a draft; everyone else has not started."""
    people = {}
    for i, code in enumerate(("X-ANLAO", "TH-ANLAO")):
        form = COMMUNE_FORM if code.startswith("X-") else school_form()
        user = tg.user(4000 + i, f"Người báo cáo {code}")
        await deep_link_sign_in(bot, user, code)
        await submit_known_values(user, form, known_values(i + 1, form))
        people[code] = user
    drafter = tg.user(4010, "Người báo cáo THCS")
    await deep_link_sign_in(bot, drafter, "THCS-ANLAO")
    await drafter.send("/baocao")
    await drafter.wait_for("câu 1/")
    await drafter.send("mục 1: có")
    await drafter.wait_for("Đã lưu")
    people["THCS-ANLAO"] = drafter
    return people


async def coordinator(bot: Running, tg: FakeTelegram, unit: str, user_id: int,
                      name: str = "Cán bộ Sở") -> FakeUser:
    boss = tg.user(user_id, name)
    await boss.send(f"/start {await invite(bot.app, unit, role='coordinator')}")
    await boss.wait_for("cán bộ tổng hợp")
    return boss


async def link_from_chat(boss: FakeUser) -> str:
    """Send /web and read the link out of the bot's answer."""
    await boss.send("/web")
    message = await boss.wait_for("/web/l/")
    found = LINK.search(message.text)
    assert found, message.text
    return found.group(0)


def client() -> aiohttp.ClientSession:
    """A browser-like client: keeps cookies (also for 127.0.0.1), does not follow redirects
    unless asked."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def sign_in(http: aiohttp.ClientSession, link: str) -> aiohttp.ClientResponse:
    """Open the link, press the button: what a person does."""
    async with http.get(link) as page:
        assert page.status == 200, await page.text()
        html = await page.text()
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)
    assert csrf, html
    response = await http.post(link, data={"csrf": csrf.group(1)}, allow_redirects=False)
    return response


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


async def add_units(bot: Running, tmp_path: Path, rows: list[str]) -> None:
    extra = tmp_path / "extra-units.csv"
    extra.write_text("code,name,kind,parent_code\n" + "\n".join(rows) + "\n", encoding="utf-8")
    async with bot.app.sessions() as session, session.begin():
        await admin.import_units(session, extra)
