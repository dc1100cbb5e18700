"""The fake Zalo Bot API server answers like the documented platform (plain aiohttp client)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.fake_zalo import FakeZalo

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
SECRET = "s3cret-token-123"


@pytest.fixture
async def zl():
    async with FakeZalo() as fake:
        yield fake


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


class Receiver:
    """The test's own web server: a webhook endpoint and a photo to fetch."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], Any]] = []
        self.got = asyncio.Event()
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    async def _hook(self, request: web.Request) -> web.Response:
        self.posts.append((dict(request.headers), await request.json()))
        self.got.set()
        return web.json_response({"ok": True})

    async def _photo(self, request: web.Request) -> web.Response:
        return web.Response(body=PNG, content_type="image/png")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        app.router.add_get("/photo.png", self._photo)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"

    async def next_post(self) -> tuple[dict[str, str], Any]:
        await asyncio.wait_for(self.got.wait(), 3)
        self.got.clear()
        return self.posts[-1]


@pytest.fixture
async def receiver():
    r = Receiver()
    await r.start()
    yield r
    assert r._runner is not None
    await r._runner.cleanup()


async def call(
    http: aiohttp.ClientSession, zl: FakeZalo, method: str, body: dict | None = None, **kw: Any
) -> tuple[int, dict]:
    token = kw.pop("token", zl.token)
    async with http.post(f"{zl.base_url}/bot{token}/{method}", json=body or {}, **kw) as resp:
        return resp.status, await resp.json()


async def test_get_me(zl: FakeZalo, http: aiohttp.ClientSession) -> None:
    status, body = await call(http, zl, "getMe")
    assert status == 200 and body["ok"] is True
    assert body["result"]["id"] == "1234567890"
    assert set(body["result"]) == {"id", "account_name", "account_type", "can_join_groups"}
    assert zl.requests[-1].method == "getMe" and zl.requests[-1].status == 200


async def test_long_poll_returns_one_update_then_408(
    zl: FakeZalo, http: aiohttp.ClientSession
) -> None:
    thu = zl.user("e4ea2cd5189df1c3a88c", "Thu")
    poll = asyncio.create_task(call(http, zl, "getUpdates", {"timeout": "2"}))
    await asyncio.sleep(0.1)  # the poll is waiting
    first = await thu.send("Xin chào")
    second = await thu.send("Báo cáo")
    status, body = await poll
    assert status == 200 and body["ok"] is True
    update = body["result"]
    assert update["event_name"] == "message.text.received"
    msg = update["message"]
    assert msg["message_id"] == first and isinstance(first, str) and len(first) == 20
    assert msg["chat"] == {"id": thu.id, "chat_type": "PRIVATE"}
    assert msg["from"] == {"id": thu.id, "display_name": "Thu", "is_bot": False}
    assert msg["text"] == "Xin chào"
    assert abs(msg["date"] - time.time() * 1000) < 5000  # milliseconds

    _, body = await call(http, zl, "getUpdates", {"timeout": "1"})
    assert body["result"]["message"]["message_id"] == second  # oldest first, one per call

    zl.redeliver_last(thu.id)
    _, body = await call(http, zl, "getUpdates", {"timeout": "1"})
    assert body["result"]["message"]["message_id"] == second  # same message again

    started = time.monotonic()
    status, body = await call(http, zl, "getUpdates", {"timeout": "1"})
    assert 0.9 < time.monotonic() - started < 2
    assert status == 200
    assert body == {"ok": False, "error_code": 408, "description": "Request timeout"}


async def test_form_encoded_and_dropped_when_idle(
    zl: FakeZalo, http: aiohttp.ClientSession
) -> None:
    thu = zl.user("aa01", "Thu")
    zl.queue_when_idle = False
    await thu.send("lost")  # nobody polls: the platform does not keep it
    assert len(zl.dropped) == 1
    url = f"{zl.base_url}/bot{zl.token}/getUpdates"
    async with http.post(url, data={"timeout": "0"}) as resp:
        assert (await resp.json())["error_code"] == 408


async def test_text_too_long_is_refused(zl: FakeZalo, http: aiohttp.ClientSession) -> None:
    thu = zl.user("bb02")
    await thu.send("hi")
    status, body = await call(http, zl, "sendMessage", {"chat_id": thu.id, "text": "a" * 2001})
    assert status == 400
    assert body == {"ok": False, "error_code": 400, "description": "text is too long"}
    assert len(zl.spec_errors) == 1 and "2001" in zl.spec_errors[0]
    zl.spec_errors.clear()
    assert thu.messages() == []

    status, body = await call(http, zl, "sendMessage", {"chat_id": thu.id, "text": "a" * 2000})
    assert status == 200 and body["ok"] is True
    assert set(body["result"]) == {"message_id", "date"}
    sent = await thu.wait_for(lambda m: m.text == "a" * 2000)
    assert sent.message_id == body["result"]["message_id"] and sent.kind == "text"
    assert zl.monthly_count == 1 and zl.spec_errors == [] and zl.spec_warnings == []


async def test_webhook_bare_and_wrapped(
    zl: FakeZalo, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    thu = zl.user("cc03", "Lan")
    hook = f"{receiver.base_url}/hook"
    status, body = await call(http, zl, "setWebhook", {"url": hook, "secret_token": SECRET})
    assert status == 200 and body["result"]["url"] == hook
    assert isinstance(body["result"]["updated_at"], int)
    _, info = await call(http, zl, "getWebhookInfo")
    assert info["result"]["url"] == hook

    message_id = await thu.send("xin chào")
    headers, posted = await receiver.next_post()
    assert headers["X-Bot-Api-Secret-Token"] == SECRET
    assert posted["event_name"] == "message.text.received"
    assert posted["message"]["message_id"] == message_id

    zl.webhook_wrapped = True
    await thu.send("lần hai")
    _, posted = await receiver.next_post()
    assert posted["ok"] is True and posted["result"]["message"]["text"] == "lần hai"
    await zl.wait_webhooks()
    assert zl.webhook_statuses == [200, 200]

    status, body = await call(http, zl, "getUpdates", {"timeout": "1"})
    assert body["ok"] is False and body["error_code"] == 400
    assert zl.spec_errors == ["getUpdates: getUpdates while a webhook is set"]
    zl.spec_errors.clear()

    _, body = await call(http, zl, "deleteWebhook")
    assert body["result"]["url"] == "" and zl.webhook_url == ""


async def test_set_webhook_checks(zl: FakeZalo, http: aiohttp.ClientSession) -> None:
    _, body = await call(
        http, zl, "setWebhook", {"url": "http://example.com/hook", "secret_token": SECRET}
    )
    assert body["ok"] is False
    _, body = await call(
        http, zl, "setWebhook", {"url": "https://example.com/hook", "secret_token": "short"}
    )
    assert body["ok"] is False
    assert len(zl.spec_errors) == 2
    zl.spec_errors.clear()
    assert zl.webhook_url == ""


async def test_injected_failures(zl: FakeZalo, http: aiohttp.ClientSession) -> None:
    thu = zl.user("dd04")
    await thu.send("hi")
    zl.fail_next(1, 429)
    status, body = await call(http, zl, "sendMessage", {"chat_id": thu.id, "text": "x"})
    assert status == 429 and body["ok"] is False and body["error_code"] == 429

    zl.fail_next(1, 200, error_code=429, description="quota")
    status, body = await call(http, zl, "sendMessage", {"chat_id": thu.id, "text": "x"})
    assert status == 200
    assert body == {"ok": False, "error_code": 429, "description": "quota"}
    assert zl.requests[-1].error_code == 429

    status, body = await call(http, zl, "sendMessage", {"chat_id": thu.id, "text": "x"})
    assert status == 200 and body["ok"] is True
    assert len(thu.messages()) == 1

    zl.timeout_next(1)
    with pytest.raises(asyncio.TimeoutError):
        await call(
            http,
            zl,
            "sendMessage",
            {"chat_id": thu.id, "text": "y"},
            timeout=aiohttp.ClientTimeout(total=0.3),
        )
    await asyncio.sleep(0.05)
    assert len(thu.messages()) == 1


async def test_send_photo_fetches_url(
    zl: FakeZalo, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    thu = zl.user("ee05")
    await thu.send("ảnh")
    url = f"{receiver.base_url}/photo.png"
    status, body = await call(
        http, zl, "sendPhoto", {"chat_id": thu.id, "photo": url, "caption": "Biểu đồ"}
    )
    assert status == 200 and body["ok"] is True
    photo = await thu.wait_for("Biểu đồ")
    assert photo.kind == "photo" and photo.photo_url == url and photo.photo_bytes == PNG

    _, body = await call(
        http, zl, "sendPhoto", {"chat_id": thu.id, "photo": f"{receiver.base_url}/missing.png"}
    )
    assert body["ok"] is False and len(zl.photo_fetch_errors) == 1
    assert zl.monthly_count == 1

    status, body = await call(http, zl, "sendChatAction", {"chat_id": thu.id, "action": "typing"})
    assert body == {"ok": True, "result": True}


async def test_wrong_token_and_unknown_method(zl: FakeZalo, http: aiohttp.ClientSession) -> None:
    status, body = await call(http, zl, "getMe", token="999:wrong")
    assert status == 401 and body["ok"] is False and body["error_code"] == 401
    status, body = await call(http, zl, "sendDocument")
    assert status == 404 and body["ok"] is False and body["error_code"] == 404
    assert zl.spec_errors == ["sendDocument: unknown method"]
    zl.spec_errors.clear()
