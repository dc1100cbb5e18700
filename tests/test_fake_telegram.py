"""The fake Bot API server behaves like Telegram for an unmodified aiogram Bot."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from aiohttp import web

from tests.fake_telegram import FakeTelegram, SpecChecker

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


class FastSession(AiohttpSession):
    async def close(self) -> None:  # aiogram sleeps 250 ms after closing; loopback needs none
        if self._session is not None and not self._session.closed:
            await self._session.close()


@pytest.fixture
async def tg():
    async with FakeTelegram() as fake:
        yield fake


def make_bot(tg: FakeTelegram, **kwargs) -> Bot:
    api = TelegramAPIServer.from_base(tg.base_url)
    return Bot(tg.token, session=FastSession(api=api), **kwargs)


@pytest.fixture
async def bot(tg: FakeTelegram):
    b = make_bot(tg)
    yield b
    await b.session.close()


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=label, callback_data=f"cb:{label}")] for label in labels
        ]
    )


async def raw_post(tg: FakeTelegram, method: str, **kwargs) -> tuple[int, dict]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{tg.base_url}/bot{tg.token}/{method}", **kwargs) as resp,
    ):
        return resp.status, await resp.json()


async def test_get_me_and_long_poll(tg: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.username == "baocao_test_bot" and me.id == 123456

    thu = tg.user(42, "Thu")
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    assert not poll.done()  # long-polling
    started = time.monotonic()
    update_id = await thu.send("/start")
    updates = await poll
    assert time.monotonic() - started < 1
    assert [u.update_id for u in updates] == [update_id]
    message = updates[0].message
    assert message.text == "/start" and message.chat.type == "private"
    assert message.from_user.id == 42 and message.from_user.language_code == "vi"
    assert message.entities[0].type == "bot_command" and message.entities[0].length == 6

    # unconfirmed updates come again; an offset confirms them
    await thu.send("hai")
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [update_id, update_id + 1]
    assert await bot.get_updates(offset=update_id + 1, limit=1, timeout=0) != []
    assert await bot.get_updates(offset=update_id + 2, timeout=0) == []
    assert await bot.get_updates(timeout=0, allowed_updates=["message"]) == []
    assert tg.spec_errors == []


async def test_updates_match_aiogram_and_the_spec(tg: FakeTelegram, bot: Bot) -> None:
    thu = tg.user(42, "Thu", phone="+84901234567")
    await bot.send_message(42, "Chọn", reply_markup=keyboard("Có"))
    await thu.send("/start@baocao_test_bot now")
    await thu.press("Có")
    await thu.share_contact("+84901234567")
    await thu.share_contact("+84999999999", own=False)
    await thu.send_document("bao_cao.xlsx", b"PK\x03\x04data")
    await thu.block()
    checker = SpecChecker()
    updates = await bot.get_updates(timeout=0)
    raw = [tg._all_updates[u.update_id] for u in updates]
    assert len(raw) == 6
    for update in raw:
        assert checker.validate(update, "Update") == [], update
        Update.model_validate(update)  # aiogram parses it
    assert updates[0].message.entities[0].length == len("/start@baocao_test_bot")
    query = updates[1].callback_query
    assert query.data == "cb:Có" and query.message.reply_markup.inline_keyboard[0][0].text == "Có"
    assert updates[2].message.contact.user_id == 42
    assert updates[3].message.contact.user_id != 42
    assert updates[5].my_chat_member.new_chat_member.status == "kicked"
    assert 42 in tg.blocked_by

    file = await bot.get_file(updates[4].message.document.file_id)
    data = await bot.download_file(file.file_path)
    assert data.read() == b"PK\x03\x04data"


async def test_get_file_and_download_as_the_bot_api_serves_them(tg: FakeTelegram,
                                                                bot: Bot) -> None:
    """getFile returns a File (file_id, file_unique_id, file_size, file_path); the file is then
    a GET on /file/bot<token>/<file_path>. Bots download at most 20 MB: a bigger file is
    refused by getFile ("file is too big"); an unknown file_id is a bad request."""
    thu = tg.user(42)
    await thu.send_document("mau.xlsx", b"PK\x03\x04" + b"x" * 100)
    await thu.send_document("lon.xlsx", b"PK" + b"0" * (20 * 1024 * 1024 + 1))
    small, big = [u.message.document for u in await bot.get_updates(timeout=0)]
    assert small.file_size == 104 and small.file_name == "mau.xlsx"
    file = await bot.get_file(small.file_id)
    assert SpecChecker().validate(file.model_dump(exclude_none=True), "File") == []
    assert file.file_size == 104 and file.file_path
    assert (await bot.download_file(file.file_path)).read().startswith(b"PK\x03\x04x")
    assert tg.downloads == [file.file_path]
    with pytest.raises(TelegramBadRequest, match="file is too big"):
        await bot.get_file(big.file_id)
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("no-such-file")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{tg.base_url}/file/bot{tg.token}/documents/none.xlsx") as r:
            assert r.status == 404
        async with http.get(f"{tg.base_url}/file/bot1:wrong/{file.file_path}") as r:
            assert r.status == 401
    assert tg.spec_errors == []


async def test_keyboard_press_answer_and_edit(tg: FakeTelegram, bot: Bot) -> None:
    thu = tg.user(42)
    sent = await bot.send_message(42, "Báo cáo tuần?", reply_markup=keyboard("Có", "Không"))
    assert sent.message_id == 1 and sent.from_user.is_bot
    assert sent.reply_markup.inline_keyboard[1][0].callback_data == "cb:Không"
    [shown] = thu.messages()
    assert shown.inline_keyboard[0][0] == {"text": "Có", "callback_data": "cb:Có"}

    await thu.press("Không")
    [update] = await bot.get_updates(timeout=0)
    query = update.callback_query
    assert query.data == "cb:Không" and query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(query.id, text="Đã ghi")
    assert thu.answers[-1]["text"] == "Đã ghi"
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query.id)

    edited = await bot.edit_message_text("Đã chọn: Không", chat_id=42, message_id=1)
    assert edited.edit_date and edited.reply_markup is None
    assert thu.messages()[0].text == "Đã chọn: Không" and thu.messages()[0].inline_keyboard is None
    assert thu.messages()[0].edits == 1
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("Đã chọn: Không", chat_id=42, message_id=1)
    await bot.edit_message_reply_markup(chat_id=42, message_id=1, reply_markup=keyboard("Lại"))
    assert thu.messages()[0].buttons[0]["text"] == "Lại"
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=42, message_id=99)

    # wait_for sees edits made after the user's last action, not older messages
    await thu.press("Lại")
    waiter = asyncio.create_task(thu.wait_for("Xong"))
    await asyncio.sleep(0.02)
    await bot.edit_message_text("Xong <b>rồi</b>", chat_id=42, message_id=1, parse_mode="HTML")
    assert (await waiter).text == "Xong rồi"
    with pytest.raises(AssertionError, match="Xong rồi"):
        await thu.wait_for("không có", timeout=0.05)
    await thu.send("ping")
    with pytest.raises(AssertionError):
        await thu.wait_for("Xong", timeout=0.05)  # nothing new since "ping"
    assert (await thu.wait_for("Xong", fresh=False)).message_id == 1

    assert SpecChecker().validate(tg._message_json(thu.messages()[0]), "Message") == []
    assert await bot.delete_message(42, 1)
    assert thu.messages() == []
    assert tg.spec_errors == []


async def test_reply_keyboard_and_chat_action(tg: FakeTelegram, bot: Bot) -> None:
    thu = tg.user(42, phone="84901234567")
    markup = ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text="Gửi số điện thoại", request_contact=True)],
            [KeyboardButton(text="Bỏ qua")],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    await bot.send_message(42, "Số điện thoại?", reply_markup=markup)
    assert thu.messages()[0].reply_keyboard["keyboard"][1][0]["text"] == "Bỏ qua"
    await bot.send_chat_action(42, "typing")
    await thu.press("Gửi số điện thoại")
    [update] = await bot.get_updates(timeout=0)
    assert update.message.contact.phone_number == "84901234567"
    assert thu.reply_keyboard is None  # one-time keyboard hidden after use
    assert tg.chat_actions == [(42, "typing")]
    assert tg.spec_errors == []


async def test_documents_and_photos(tg: FakeTelegram, bot: Bot) -> None:
    thu = tg.user(42)
    doc = BufferedInputFile(b"PK\x03\x04xlsx-bytes", filename="bao_cao_tuan.xlsx")
    message = await bot.send_document(42, doc, caption="Báo cáo tuần 40")
    assert message.document.file_name == "bao_cao_tuan.xlsx"
    [shown] = thu.messages()
    assert shown.kind == "document" and shown.filename == "bao_cao_tuan.xlsx"
    assert shown.data == b"PK\x03\x04xlsx-bytes" and shown.caption == "Báo cáo tuần 40"
    assert shown.mime_type.startswith("application/vnd.openxmlformats")

    # the file_id Telegram returned can be sent again; a URL is stored as such
    await bot.send_document(42, message.document.file_id)
    await bot.send_document(42, "https://example.org/files/mau.docx")
    assert thu.messages()[1].data == b"PK\x03\x04xlsx-bytes"
    assert thu.messages()[2].url == "https://example.org/files/mau.docx"
    assert thu.messages()[2].filename == "mau.docx"

    photo = await bot.send_photo(42, BufferedInputFile(PNG, "chart.png"), caption="Biểu đồ")
    assert photo.photo[-1].file_id and thu.messages()[3].kind == "photo"
    assert tg.spec_errors == []
    checker = SpecChecker()
    for sm in thu.messages():
        assert checker.validate(tg._message_json(sm), "Message") == []

    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(42, BufferedInputFile(b"not an image", "x.png"))
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_document(42, "no-such-file-id")
    assert len(tg.spec_errors) == 2


async def test_commands_per_scope_and_language(tg: FakeTelegram, bot: Bot) -> None:
    vi = [
        BotCommand(command="start", description="Bắt đầu"),
        BotCommand(command="bao_cao", description="Gửi báo cáo"),
    ]
    assert await bot.set_my_commands(vi, language_code="vi")
    assert await bot.set_my_commands([BotCommand(command="help", description="Help")])
    await bot.set_my_commands(vi[:1], scope=BotCommandScopeChat(chat_id=42))
    assert tg.commands[("default", "vi")][1] == {"command": "bao_cao", "description": "Gửi báo cáo"}
    assert tg.commands[("default", "")][0]["command"] == "help"
    assert list(tg.commands[("chat:42", "")]) == [{"command": "start", "description": "Bắt đầu"}]
    got = await bot.get_my_commands(language_code="vi")
    assert [c.command for c in got] == ["start", "bao_cao"]
    assert await bot.delete_my_commands(language_code="vi")
    assert await bot.get_my_commands(language_code="vi") == []

    with pytest.raises(TelegramBadRequest, match="lowercase"):
        await bot.set_my_commands([BotCommand(command="BaoCao", description="x")])
    with pytest.raises(TelegramBadRequest, match="description"):
        await bot.set_my_commands([BotCommand(command="x", description="d" * 257)])
    assert len(tg.spec_errors) == 2


async def test_webhook_blocks_get_updates(tg: FakeTelegram, bot: Bot) -> None:
    thu = tg.user(42)
    await thu.send("trước")
    poll = asyncio.create_task(bot.get_updates(offset=10**9, timeout=5))
    await asyncio.sleep(0.05)
    assert await bot.set_webhook(
        "https://bot.example.org/tg", secret_token="s3cret-_X", drop_pending_updates=True
    )
    with pytest.raises(TelegramConflictError, match="terminated by setWebhook"):
        await poll
    with pytest.raises(TelegramConflictError):
        await bot.get_updates(timeout=0)
    info = await bot.get_webhook_info()
    assert info.url == "https://bot.example.org/tg" and tg.webhook_secret == "s3cret-_X"
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates(timeout=0) == []

    with pytest.raises(TelegramBadRequest, match="secret_token"):
        await bot.set_webhook("https://bot.example.org/tg", secret_token="có dấu")
    with pytest.raises(TelegramBadRequest, match="HTTPS"):
        await bot.set_webhook("http://bot.example.org/tg")
    assert len(tg.spec_errors) == 2


async def test_webhook_delivery(tg: FakeTelegram, bot: Bot) -> None:
    received: list[tuple[str | None, dict]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != "right":
            return web.Response(status=401)
        update = await request.json()
        # answer with a method, as aiogram does with handle_in_background=False
        return web.json_response(
            {"method": "sendMessage", "chat_id": update["message"]["chat"]["id"], "text": "Đã nhận"}
        )

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        thu = tg.user(42)
        await bot.set_webhook(f"http://{host}:{port}/hook", secret_token="right")
        update_id = await thu.send("xin chào")
        await tg.wait_webhooks()
        assert received == [("right", tg._all_updates[update_id])]
        assert tg.webhook_statuses == [200]
        assert (await thu.wait_for("Đã nhận")).kind == "text"
        assert tg.requests[-1].source == "webhook-reply"

        tg.redeliver(update_id)
        await tg.wait_webhooks()
        assert received[-1][1]["update_id"] == update_id and len(received) == 2

        await bot.set_webhook(f"http://{host}:{port}/hook", secret_token="wrong")
        await thu.send("lại")
        await tg.wait_webhooks()
        assert tg.webhook_statuses[-1] == 401
        info = await bot.get_webhook_info()
        assert "401" in info.last_error_message
    finally:
        await runner.cleanup()
    assert tg.spec_errors == []


async def test_spec_violations_are_caught(tg: FakeTelegram, bot: Bot) -> None:
    tg.user(42)
    long_data = json.dumps({"inline_keyboard": [[{"text": "x", "callback_data": "d" * 65}]]})
    status, body = await raw_post(
        tg, "sendMessage", data={"chat_id": "42", "text": "hi", "reply_markup": long_data}
    )
    assert status == 400 and body["ok"] is False and body["error_code"] == 400
    assert "callback_data" in body["description"] and "65 bytes" in body["description"]
    # 64 bytes of Vietnamese letters: 2 bytes each, so 32 of them is the most allowed
    ok_markup = json.dumps({"inline_keyboard": [[{"text": "x", "callback_data": "ô" * 32}]]})
    status, _ = await raw_post(
        tg, "sendMessage", data={"chat_id": "42", "text": "hi", "reply_markup": ok_markup}
    )
    assert status == 200
    assert len(tg.spec_errors) == 1

    with pytest.raises(TelegramBadRequest, match="too long"):
        await bot.send_message(42, "a" * 4097)
    await bot.send_message(42, "a" * 4096)
    await bot.send_message(42, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")  # counted parsed
    with pytest.raises(TelegramBadRequest, match="empty"):
        await bot.send_message(42, "   ")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(42, "Dòng 1<br>Dòng 2", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="reserved"):
        await bot.send_message(42, "Tổng: 5.5", parse_mode="MarkdownV2")
    with pytest.raises(TelegramBadRequest, match="caption"):
        await bot.send_document(42, BufferedInputFile(b"x", "a.txt"), caption="c" * 1025)
    with pytest.raises(TelegramBadRequest, match="exactly one"):
        await bot.send_message(
            42,
            "x",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="chỉ chữ")]]
            ),
        )
    with pytest.raises(TelegramBadRequest, match="200"):
        await bot.answer_callback_query("123", text="t" * 201)

    status, body = await raw_post(tg, "sendMessage", json={"text": "no chat"})
    assert status == 400 and "chat_id" in body["description"]
    status, body = await raw_post(tg, "sendMessage", json={"chat_id": 42, "text": "x", "colour": 1})
    assert status == 400 and "colour" in body["description"]
    status, body = await raw_post(tg, "sendMessage", json={"chat_id": 42, "text": 5})
    assert status == 400 and "String" in body["description"]
    status, body = await raw_post(tg, "sendMesage", data={"chat_id": "42"})
    assert status == 404 and body == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert len(tg.spec_errors) == 12, tg.spec_errors

    status, body = await raw_post(
        tg,
        "sendPoll",
        json={"chat_id": 42, "question": "?", "options": [{"text": "a"}, {"text": "b"}]},
    )
    assert status == 404  # in the spec but not faked: no spec error
    assert len(tg.spec_errors) == 12
    assert all(r.status >= 400 for r in tg.requests if "Bad Request" in (r.error or ""))


async def test_raw_http_forms(tg: FakeTelegram) -> None:
    tg.user(42)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{tg.base_url}/bot{tg.token}/getMe") as resp:
            assert resp.status == 200 and (await resp.json())["result"]["is_bot"] is True
        url = f"{tg.base_url}/bot{tg.token}/SENDMESSAGE?chat_id=42&text=qua+GET"
        async with http.get(url) as resp:  # method names are case-insensitive
            assert resp.status == 200
        async with http.post(
            f"{tg.base_url}/bot{tg.token}/sendMessage",
            json={
                "chat_id": "42",
                "text": "json",
                "disable_notification": True,
                "reply_markup": json.dumps(keyboard("A").model_dump(exclude_none=True)),
            },
        ) as resp:
            assert resp.status == 200, await resp.text()
        async with http.post(f"{tg.base_url}/botWRONG:token/getMe") as resp:
            assert resp.status == 401
    assert [m.text for m in tg.sent_to(42)] == ["qua GET", "json"]
    assert tg.sent_to(42)[1].inline_keyboard == [[{"text": "A", "callback_data": "cb:A"}]]
    assert tg.calls("sendMessage")[1].params["chat_id"] == 42
    assert tg.spec_errors == []


async def test_legacy_defaults_are_warnings(tg: FakeTelegram) -> None:
    bot = make_bot(tg, default=DefaultBotProperties(link_preview_is_disabled=True))
    try:
        await bot.send_message(1, "https://example.org")
    finally:
        await bot.session.close()
    assert tg.spec_errors == []
    assert tg.calls("sendMessage")[0].params["link_preview_options"] == {"is_disabled": True}
    assert any("disable_web_page_preview" in w for w in tg.spec_warnings)


async def test_fault_injection(tg: FakeTelegram, bot: Bot) -> None:
    tg.user(42)
    tg.fail_next(1, 429, retry_after=7)
    with pytest.raises(TelegramRetryAfter) as err:
        await bot.send_message(42, "một")
    assert err.value.retry_after == 7
    await bot.send_message(42, "một")

    tg.fail_next(2, 500, method=None)
    with pytest.raises(TelegramServerError):
        await bot.get_me()
    with pytest.raises(TelegramServerError):
        await bot.send_message(42, "hai")
    await bot.send_message(42, "hai")

    tg.blocked_by.add(42)
    with pytest.raises(TelegramForbiddenError, match="blocked"):
        await bot.send_message(42, "ba")
    await tg.user(42).send("/start")  # writing to the bot unblocks it
    await bot.send_message(42, "ba")

    tg.delay(0.2, "sendChatAction")
    started = time.monotonic()
    await bot.send_chat_action(42, "typing")
    assert time.monotonic() - started >= 0.2
    assert [r.status for r in tg.calls("sendMessage")] == [429, 200, 500, 200, 403, 200]
    assert tg.spec_errors == []


async def test_flood_limits(tg: FakeTelegram, bot: Bot) -> None:
    tg.enforce_flood_limits(per_second=5, per_chat_per_second=1.0, burst=3)
    for text in "abc":
        await bot.send_message(1, text)
    with pytest.raises(TelegramRetryAfter) as err:
        await bot.send_message(1, "d")
    assert err.value.retry_after == 1 and tg.flood_429s == 1
    await bot.send_message(2, "other chat")
    await bot.send_message(3, "other chat")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(4, "over 5 per second overall")
    assert tg.flood_429s == 2
    await bot.send_chat_action(1, "typing")  # not a send method


async def test_dispatcher_polling_end_to_end(tg: FakeTelegram, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message(F.text == "/start")
    async def start(message: Message) -> None:
        await message.answer("Chào bạn! Chọn:", reply_markup=keyboard("Báo cáo"))

    @dp.callback_query(F.data == "cb:Báo cáo")
    async def report(query: CallbackQuery) -> None:
        await query.answer("OK")
        await query.message.edit_text("Nhập số học viên:")

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(f"Bạn nói: {message.text}")

    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, polling_timeout=1, close_bot_session=False)
    )
    try:
        thu = tg.user(42, "Thu")
        start_id = await thu.send("/start")
        await thu.wait_for("Chào bạn")
        await thu.press("Báo cáo")
        await thu.wait_for("Nhập số học viên")
        assert thu.answers[0]["text"] == "OK"
        await thu.send("25")
        msgs = await thu.wait_for_messages(2)
        assert [m.text for m in msgs] == ["Nhập số học viên:", "Bạn nói: 25"]
        tg.redeliver(start_id)  # a duplicate, as after a crash before confirming
        msgs = await thu.wait_for_messages(3)
        assert msgs[-1].text == "Chào bạn! Chọn:"
    finally:
        await dp.stop_polling()
        await polling
    assert tg.spec_errors == []
    allowed = tg.calls("getUpdates")[0].params["allowed_updates"]
    assert sorted(allowed) == ["callback_query", "message"]  # aiogram asks only what it handles
    await asyncio.sleep(0.05)
    assert tg.calls("getUpdates")[-1].status == 499  # the long poll stop_polling cancelled


async def test_proxy_pages_mangled_answers_slow_chats_and_one_chats_429(
        tg: FakeTelegram, bot: Bot) -> None:
    from aiogram.exceptions import ClientDecodeError

    tg.user(42)
    tg.user(43)
    tg.fail_next_html(1, 502, method="sendMessage")
    with pytest.raises(ClientDecodeError):  # an nginx page is no Bot API answer
        await bot.send_message(42, "một")
    assert tg.sent_to(42) == []  # the proxy never passed it on
    tg.garble_next(1, method="sendMessage", chat_id=42)
    with pytest.raises(ClientDecodeError):
        await bot.send_message(42, "hai")
    assert [m.text for m in tg.sent_to(42)] == ["hai"]  # delivered, though the answer broke

    tg.fail_next(1, 429, retry_after=5, chat_id=42)
    await bot.send_message(43, "other chats are served")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(42, "ba")

    tg.delay(0.3, "sendMessage", chat_id=42)
    started = time.monotonic()
    await bot.send_message(43, "fast")
    assert time.monotonic() - started < 0.25
    await bot.send_message(42, "slow")
    assert time.monotonic() - started >= 0.3
    assert tg.spec_errors == []


async def test_media_forwards_and_groups_as_telegram_sends_them(tg: FakeTelegram,
                                                                bot: Bot) -> None:
    from pydantic import ValidationError

    thu = tg.user(42, "Thu")
    group = tg.group()
    await thu.send_photo(caption="12")
    await thu.send_sticker()
    await thu.send_location()
    await thu.forward("4.1=2")
    await group.send(thu, "xin chào")
    await group.send_as_anonymous_admin("/chuanop")
    await group.send_as_channel("/baocao")
    await thu.forward("tin cũ", origin="hidden_user", hidden_name=None)
    checker = SpecChecker()
    raw = [tg._all_updates[i] for i in sorted(tg._all_updates)]
    for update in raw[:-1]:
        assert checker.validate(update, "Update") == [], update
        Update.model_validate(update)
    assert raw[0]["message"]["caption"] == "12" and raw[0]["message"]["photo"]
    assert raw[5]["message"]["from"]["id"] == 1087968824
    assert raw[6]["message"]["sender_chat"]["type"] == "channel"
    # Telegram really sends this old forward without sender_user_name; aiogram refuses it.
    assert checker.validate(raw[-1], "Update") != []
    with pytest.raises(ValidationError):
        Update.model_validate(raw[-1])
