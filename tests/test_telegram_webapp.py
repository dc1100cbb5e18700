"""The Telegram Mini App over real HTTP, against the real bot on the fake Telegram server: the
Mini App's initData (signed here as Telegram signs it, with the fake bot's token) signs a
coordinator in to the board and a reporter to their form; a tampered, stale, future or
other bot's initData is refused. The Web App button under /baocao and the menu buttons."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
from datetime import datetime, timedelta
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
from sqlalchemy import select

from bot.app import App
from bot.runtime import Running
from bot.storage.models import ConversationState

from .conftest import invite
from .fake_telegram import FakeTelegram, SentMessage
from .test_telegram_e2e import deep_link_sign_in
from .web_console import base_url, client, coordinator

pytestmark = pytest.mark.slow


def signed_init_data(token: str, user_id: int, made: datetime, **changed: str) -> str:
    """initData as Telegram makes it: the fields sorted as `key=value` lines, HMAC-SHA256
    under HMAC-SHA256("WebAppData", bot token); `changed` fields are altered after signing."""
    fields = {"query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
              "user": json.dumps({"id": user_id, "first_name": "Thu", "language_code": "vi"},
                                 separators=(",", ":")),
              "auth_date": str(int(made.timestamp()))}
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    fields.update(changed)
    return urlencode(fields)


def words(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def post_init_data(http: aiohttp.ClientSession, bot: Running, init_data: str,
                         page: str = "form") -> aiohttp.ClientResponse:
    return await http.post(base_url(bot) + "/web/tg", data={"init_data": init_data,
                                                           "next": page},
                           allow_redirects=False)


async def test_a_coordinator_opening_the_mini_app_is_signed_in_to_the_board(
        console: Running, tg: FakeTelegram):
    await coordinator(console, tg, "HP", 4200)
    made = console.clock() - timedelta(minutes=1)
    async with client() as http:
        response = await post_init_data(http, console, signed_init_data(tg.token, 4200, made),
                                        "console")
        assert response.status == 303 and response.headers["Location"] == "/web/"
        cookie = response.headers["Set-Cookie"]
        assert cookie.startswith("baocao_web=") and "HttpOnly" in cookie
        assert "Path=/web" in cookie and "Max-Age=28800" in cookie
        async with http.get(base_url(console) + "/web/") as board:
            assert board.status == 200
            assert "Tuần lễ hưởng ứng học tập suốt đời năm 2023" in words(await board.text())


async def test_a_reporter_goes_to_the_form_and_never_sees_the_board(
        console: Running, tg: FakeTelegram):
    teacher = tg.user(4201, "Cô Lan")
    await deep_link_sign_in(console, teacher, "TH-ANLAO")
    made = console.clock() - timedelta(seconds=20)
    async with client() as http:
        # Whatever the button asked for, a reporter is sent to the form.
        for page in ("form", "console"):
            response = await post_init_data(http, console,
                                            signed_init_data(tg.token, 4201, made), page)
            assert response.status == 303 and response.headers["Location"] == "/web/form/"
            assert response.headers["Set-Cookie"].startswith("baocao_web=")
        async with http.get(base_url(console) + "/web/") as board:
            assert board.status in (401, 403, 404)
            assert "Tuần lễ hưởng ứng" not in words(await board.text())


@pytest.mark.parametrize("why", ["tampered", "stale", "future", "other bot", "unsigned",
                                 "not a contact"])
async def test_initdata_that_does_not_hold_is_refused_politely(
        console: Running, tg: FakeTelegram, why: str):
    await coordinator(console, tg, "HP", 4202)
    now = console.clock()
    init_data = {
        # one field changed after Telegram signed it: someone else's id
        "tampered": signed_init_data(tg.token, 4202, now, user=json.dumps(
            {"id": 4203, "first_name": "Thu"}, separators=(",", ":"))),
        "stale": signed_init_data(tg.token, 4202, now - timedelta(minutes=10)),
        "future": signed_init_data(tg.token, 4202, now + timedelta(minutes=10)),
        "other bot": signed_init_data("987654:another-bots-token", 4202, now),
        "unsigned": "user=%7B%22id%22%3A4202%7D&auth_date=" + str(int(now.timestamp())),
        "not a contact": signed_init_data(tg.token, 4299, now),
    }[why]
    async with client() as http:
        response = await post_init_data(http, console, init_data, "console")
        assert response.status == 403
        assert "Set-Cookie" not in response.headers
        text = words(await response.text())
        expected = {"stale": "đã hết hạn", "future": "đã hết hạn",
                    "not a contact": "chưa đăng ký"}.get(why, "Chưa xác minh được")
        assert expected in text and "Telegram" in text
        async with http.get(base_url(console) + "/web/") as board:
            assert board.status == 401  # not signed in


async def test_the_page_telegram_opens_posts_the_init_data(console: Running):
    async with client() as http, http.get(base_url(console) + "/web/tg?next=console") as page:
        assert page.status == 200
        html = await page.text()
        csp = page.headers["Content-Security-Policy"]
    assert '<script src="https://telegram.org/js/telegram-web-app.js"></script>' in html
    assert '<script src="/web/static/telegram.js" defer></script>' in html
    assert re.search(r'<form method="post" action="/web/tg" id="tg-sign-in">', html)
    assert 'name="init_data"' in html and 'name="next" value="console"' in html
    assert "script-src 'self' https://telegram.org;" in csp and "unsafe-inline" not in csp
    async with client() as http, http.get(base_url(console) + "/web/static/telegram.js") as js:
        script = await js.text()
    assert "Telegram.WebApp" in script and "tgWebAppData" in script and "submit()" in script


def web_app_buttons(message: SentMessage) -> list[dict]:
    return [b for b in message.buttons if "web_app" in b]


async def test_baocao_offers_the_form_as_a_web_app_button_in_the_private_chat(
        console: Running, tg: FakeTelegram):
    teacher = tg.user(4210, "Cô Lan")
    await deep_link_sign_in(console, teacher, "TH-ANLAO")
    await teacher.send("/baocao")
    first = await teacher.wait_for("câu 1/")
    form_url = base_url(console) + "/web/tg?next=form"
    assert web_app_buttons(first) == [{"text": "Mở biểu mẫu", "web_app": {"url": form_url}}]
    assert [b["text"] for b in first.buttons if "callback_data" in b][-2:] == [
        "Mẫu điền nhanh", "Tệp Excel"]  # the chat's own shortcuts are still there
    # /baocao again in the middle of the report, and once the conversation was left, offer it
    # too.
    await teacher.press("Có")
    await teacher.wait_for("1.1 = Có")
    await teacher.send("/baocao")
    again = await teacher.wait_for("tiếp tục báo cáo")
    assert web_app_buttons(again) == [{"text": "Mở biểu mẫu", "web_app": {"url": form_url}}]
    await teacher.send("/huy")
    await teacher.wait_for("Đã dừng")
    await teacher.send("/baocao")
    later = await teacher.wait_for("Đã trả lời 1/")
    assert web_app_buttons(later) == [{"text": "Mở biểu mẫu", "web_app": {"url": form_url}}]
    # In a group the bot answers only with the way to its private chat: no Web App there
    # (Telegram refuses web_app buttons outside private chats; the fake checks it).
    group = tg.group()
    await group.send(teacher, "/baocao@" + console.telegram_username)
    await asyncio.sleep(1.0)
    assert group.messages() and not any(web_app_buttons(m) for m in group.messages())


def test_the_telegram_keyboard_leaves_the_web_app_out_where_it_cannot_open():
    from bot.channels.telegram.transport import keyboard

    buttons = [["ans:1.1:yes", "Có", False], ["form", "Mở biểu mẫu", True, "web_app"]]
    private = keyboard(buttons, "https://bot.example.org")
    assert private is not None
    assert [[(b.text, b.web_app.url if b.web_app else b.callback_data) for b in row]
            for row in private.inline_keyboard] == [
        [("Có", "ans:1.1:yes")], [("Mở biểu mẫu", "https://bot.example.org/web/tg?next=form")]]
    for shown in (keyboard(buttons, "https://bot.example.org", group=True),
                  keyboard(buttons, "")):  # a group; no console (or no https address)
        assert shown is not None
        assert [[b.text for b in row] for row in shown.inline_keyboard] == [["Có"]]
    assert keyboard([["form", "Mở biểu mẫu", True, "web_app"]], "") is None


async def test_the_local_chat_shows_no_web_app_button_and_its_words_select_nothing(
        app: App, person):  # noqa: ANN001
    lan = person("lan")
    await lan.say(await invite(app, "X-ANLAO"))
    shown = await lan.say("/baocao")
    assert "câu 1/" in shown and "/web/tg" not in shown and "biểu mẫu”" not in shown
    async with app.sessions() as session:
        states = (await session.scalars(select(ConversationState.state))).all()
    offered = [token for state in states for token, *_rest in state.get("offered") or []]
    assert "template" in offered and "form" not in offered  # typed, its label is no choice


async def test_a_zalo_only_console_has_no_mini_app_and_zalo_shows_no_web_app_button(
        db_url: str, tmp_path: Path):
    from bot.runtime import start
    from bot.settings import Settings

    from .conftest import seed_reference_data
    from .fake_zalo import FakeZalo
    from .test_telegram_e2e import FlowingClock, free_port
    from .test_zalo_e2e import sign_in as zalo_sign_in
    from .web_console import SECRET, START

    port = free_port()
    async with FakeZalo() as zl:
        settings = Settings(database_url=db_url, zalo_bot_token=zl.token,
                            zalo_api_base=zl.base_url, zalo_rate_per_chat=50,
                            public_url=f"http://127.0.0.1:{port}", webhook_port=port,
                            web_secret=SECRET, files_dir=str(tmp_path / "files"),
                            reminder_tick_seconds=0, outbox_lease_seconds=1)
        bot = await start(settings, clock=FlowingClock(START))
        try:
            await seed_reference_data(bot.app, tmp_path)
            thu = zl.user("a1b2c3d4e5f6a7b8c9d0", "Nguyễn Thị Thu")
            await zalo_sign_in(bot, thu)
            await thu.send("/baocao")
            first = await thu.wait_for("câu 1/")
            assert "/web/tg" not in first.text and "“mở biểu mẫu”" not in first.text
            async with client() as http:
                for method in ("get", "post"):  # no Telegram token: no Mini App at all
                    async with http.request(method, settings.public_url + "/web/tg") as page:
                        assert page.status == 404
        finally:
            await bot.stop()
        assert zl.spec_errors == []


async def test_the_menu_button_opens_the_console_for_a_coordinator_and_the_form_for_a_reporter(
        console: Running, tg: FakeTelegram):
    await coordinator(console, tg, "HP", 4230)
    teacher = tg.user(4231, "Cô Lan")
    await deep_link_sign_in(console, teacher, "TH-ANLAO")
    base = base_url(console)
    for chat, text, page in ((4230, "Bảng điều khiển", "console"),
                             (4231, "Mở biểu mẫu", "form")):
        for _ in range(50):  # the menu goes out through the outbox, after the reply
            if chat in tg.menu_buttons:
                break
            await asyncio.sleep(0.1)
        assert tg.menu_buttons[chat] == {"type": "web_app", "text": text,
                                         "web_app": {"url": f"{base}/web/tg?next={page}"}}
    # Set with the chat's command list, once per sign-in.
    calls = [r for r in tg.requests if r.method == "setChatMenuButton"]
    assert sorted(r.params["chat_id"] for r in calls) == [4230, 4231]
    # The coordinator who opens it is signed in to the board.
    made = console.clock() - timedelta(seconds=5)
    async with client() as http:
        response = await post_init_data(http, console, signed_init_data(tg.token, 4230, made),
                                        "console")
        assert response.status == 303 and response.headers["Location"] == "/web/"


async def test_without_the_console_no_menu_button_is_set(tg: FakeTelegram, db_url: str,
                                                          tmp_path: Path):
    from bot.runtime import start
    from bot.settings import Settings

    from .conftest import seed_reference_data
    from .test_telegram_e2e import FlowingClock
    from .web_console import START

    bot = await start(Settings(database_url=db_url, telegram_bot_token=tg.token,
                               telegram_api_base=tg.base_url, telegram_rate_per_chat=50,
                               files_dir=str(tmp_path / "files"), reminder_tick_seconds=0),
                      clock=FlowingClock(START))
    try:
        await seed_reference_data(bot.app, tmp_path)
        user = tg.user(4232, "Thu")
        await deep_link_sign_in(bot, user, "X-ANLAO")
        await user.send("/baocao")
        first = await user.wait_for("câu 1/")
        assert not web_app_buttons(first)  # and no Web App button either
        assert not [r for r in tg.requests if r.method == "setChatMenuButton"]
    finally:
        await bot.stop()


async def test_people_signed_in_before_the_console_was_on_get_the_menu_button_at_start(
        tg: FakeTelegram, db_url: str, tmp_path: Path):
    from bot.runtime import start
    from bot.settings import Settings

    from .conftest import seed_reference_data
    from .test_telegram_e2e import FlowingClock, free_port
    from .web_console import SECRET, START

    def settings(**console: str | int) -> Settings:
        return Settings(database_url=db_url, telegram_bot_token=tg.token,
                        telegram_api_base=tg.base_url, telegram_rate_per_chat=50,
                        files_dir=str(tmp_path / "files"), reminder_tick_seconds=0, **console)

    plain = settings()
    bot = await start(plain, clock=FlowingClock(START))
    try:
        await seed_reference_data(bot.app, tmp_path)
        await coordinator(bot, tg, "HP", 4240)
        await deep_link_sign_in(bot, tg.user(4241, "Cô Lan"), "TH-ANLAO")
    finally:
        await bot.stop()
    assert tg.menu_buttons == {}
    port = free_port()
    with_console = settings(public_url=f"http://127.0.0.1:{port}", webhook_port=port,
                            web_secret=SECRET)
    for _restart in range(2):
        bot = await start(with_console, clock=FlowingClock(START))
        try:
            for _ in range(50):
                if {4240, 4241} <= set(tg.menu_buttons):
                    break
                await asyncio.sleep(0.1)
        finally:
            await bot.stop()
        base = f"http://127.0.0.1:{port}/web/tg?next="
        assert tg.menu_buttons[4240]["web_app"]["url"] == base + "console"
        assert tg.menu_buttons[4241]["web_app"]["url"] == base + "form"
        # Once per chat: a second start sends none again.
        calls = [r.params["chat_id"] for r in tg.requests if r.method == "setChatMenuButton"]
        assert sorted(calls) == [4240, 4241]
