"""A fake Zalo Bot API server for end-to-end tests.

It speaks the HTTP protocol described in /work/shared/reference/zalo-bot-api.md on 127.0.0.1:
``POST /bot<token>/<method>`` with a JSON (or form-encoded) body, answered with
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N, "description": "..."}``.
Like the real platform, getUpdates long-polls and returns ONE update object per call (no offset,
no update_id); an idle poll ends with HTTP 200 ``ok: false, error_code: 408``. A webhook gets
every update POSTed bare (or wrapped in ``{"ok": true, "result": ...}`` when
``webhook_wrapped``) with the header ``X-Bot-Api-Secret-Token``.

    async with FakeZalo() as zl:
        ...  # point the bot under test at f"{zl.base_url}/bot{zl.token}/<method>"
        thu = zl.user("e4ea2cd5189df1c3a88c", "Thu")
        await thu.send("xin chào")
        await thu.wait_for("Chào")  # bot messages sent after thu's last action
        assert zl.spec_errors == []

Records: ``requests``, ``spec_errors`` (calls breaking the documented contract: refused with 400),
``spec_warnings`` (accepted but suspicious: unknown fields, a chat that never wrote to the bot),
``sent`` (chat id -> messages), ``chat_actions``, ``photo_fetch_errors``, ``webhook_statuses``,
``dropped`` (updates lost because nobody polled), ``monthly_count`` / ``inbound_count``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientSession, ClientTimeout, web

TEXT_LIMIT = 2000
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
HANG_SECONDS = 30.0
WEBHOOK_TIMEOUT = 10.0
FETCH_TIMEOUT = 10.0
DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Internal error",
    404: "Not Found",
    408: "Request timeout",
    429: "Quota exceeded",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
# Optional fields the platform documents besides the required ones (anything else is a warning).
KNOWN_FIELDS = {
    "getMe": set(),
    "getUpdates": {"timeout"},
    "setWebhook": {"url", "secret_token"},
    "deleteWebhook": set(),
    "getWebhookInfo": set(),
    "sendMessage": {"chat_id", "text", "parse_mode", "text_styles"},
    "sendPhoto": {"chat_id", "photo", "caption"},
    "sendSticker": {"chat_id", "sticker"},
    "sendChatAction": {"chat_id", "action"},
}
CHAT_ACTIONS = {"typing", "upload_photo"}


@dataclass
class Request:
    """One call the bot made. status is the HTTP status (0 while pending or if abandoned);
    error_code is the body's error_code when ok was false (an HTTP 200 may carry one)."""

    method: str
    body: dict[str, Any]
    status: int
    at: float
    error_code: int | None = None


@dataclass
class SentZaloMessage:
    """A message the bot sent to a chat."""

    message_id: str
    text: str | None
    kind: str  # "text" | "photo" | "sticker"
    photo_url: str | None = None
    photo_bytes: bytes | None = None
    caption: str | None = None
    date_ms: int = 0
    chat_id: str = ""
    sticker: str | None = None
    photo_content_type: str | None = None
    version: int = 0  # global counter, for wait_for(fresh=True)

    def shows(self, text: str) -> bool:
        return text in (self.text or "") or text in (self.caption or "")


class _ApiError(Exception):
    def __init__(
        self, status: int, error_code: int, description: str = "", spec: str | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.error_code = error_code
        self.description = description or DESCRIPTIONS.get(error_code, "Error")
        self.spec = spec  # a spec violation, appended to spec_errors


def _violation(why: str, description: str | None = None) -> _ApiError:
    return _ApiError(400, 400, description or f"Bad Request: {why}", spec=why)


@dataclass
class _Fault:
    remaining: int
    status: int
    method: str | None
    error_code: int
    description: str


class _Signal:
    """Wakes every waiter at each notify()."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)


class FakeZaloUser:
    """A person writing to the bot in a private chat (chat id == user id)."""

    def __init__(self, server: FakeZalo, user_id: str, display_name: str) -> None:
        self._server = server
        self.id = user_id
        self.display_name = display_name
        self._mark = 0  # server version at this user's last action

    def __repr__(self) -> str:
        return f"FakeZaloUser({self.id!r}, {self.display_name!r})"

    def _push(self, event_name: str, **content: Any) -> str:
        server = self._server
        message = {
            "message_id": server._new_id(),
            "date": server._now_ms(),
            "chat": {"id": self.id, "chat_type": "PRIVATE"},
            "from": {"id": self.id, server.name_field: self.display_name, "is_bot": False},
            **content,
        }
        self._mark = server._version
        server.push_update({"event_name": event_name, "message": message})
        return message["message_id"]

    async def send(self, text: str) -> str:
        return self._push("message.text.received", text=text)

    async def send_image(self, url: str, caption: str = "") -> str:
        content: dict[str, Any] = {"photo_url": url}
        if caption:
            content["caption"] = caption
        return self._push("message.image.received", **content)

    async def send_sticker(self) -> str:
        return self._push("message.sticker.received", sticker=self._server._new_id())

    def messages(self) -> list[SentZaloMessage]:
        return list(self._server.sent.get(self.id, []))

    async def wait_for(
        self,
        predicate_or_text: str | Callable[[SentZaloMessage], Any],
        timeout: float = 5.0,
        *,
        fresh: bool = True,
    ) -> SentZaloMessage:
        """Wait until a bot message to this user contains the text (or caption) / satisfies the
        predicate. With fresh=True only messages sent after this user's last action count."""
        if isinstance(predicate_or_text, str):
            needle = predicate_or_text

            def pred(m: SentZaloMessage) -> bool:
                return m.shows(needle)
        else:
            pred = predicate_or_text
        mark = self._mark if fresh else -1
        deadline = time.monotonic() + timeout
        while True:
            for sm in reversed(self.messages()):
                if sm.version > mark and pred(sm):
                    return sm
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"user {self.id}: no bot message matching {predicate_or_text!r} within "
                    f"{timeout}s; last messages:\n{self._describe_last()}"
                )
            await self._server._changed.wait(remaining)

    async def wait_for_messages(self, count: int, timeout: float = 5.0) -> list[SentZaloMessage]:
        deadline = time.monotonic() + timeout
        while True:
            msgs = self.messages()
            if len(msgs) >= count:
                return msgs
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"user {self.id}: {len(msgs)} bot messages, expected {count} within "
                    f"{timeout}s; last messages:\n{self._describe_last()}"
                )
            await self._server._changed.wait(remaining)

    def _describe_last(self, n: int = 5) -> str:
        lines = []
        for sm in self.messages()[-n:]:
            shown = sm.text if sm.kind == "text" else f"[{sm.kind}] {sm.photo_url} {sm.caption}"
            lines.append(f"  {sm.message_id}: {shown!r}")
        return "\n".join(lines) or "  (none)"


class FakeZalo:
    token = "1234567890:fake-zalo-secret"

    def __init__(self, *, token: str | None = None) -> None:
        if token is not None:
            self.token = token
        self.bot_id = self.token.split(":", 1)[0]
        self.clock: Callable[[], float] = time.time  # seconds; dates are sent in milliseconds
        self.base_url = ""
        self.requests: list[Request] = []
        self.spec_errors: list[str] = []
        self.spec_warnings: list[str] = []
        self.webhook_url = ""
        self.webhook_secret = ""
        self.webhook_wrapped = False
        self.webhook_statuses: list[int] = []
        self.webhook_updated_at = 0
        # The platform drops messages nobody is polling for; tests usually prefer them queued.
        self.queue_when_idle = True
        self.name_field = "display_name"  # some documents show "first_name"
        self.monthly_limit: int | None = None  # sends beyond it answer 429 "Quota exceeded"
        self.monthly_count = 0  # messages the bot sent (text, photo, sticker)
        self.inbound_count = 0  # messages users sent (the plan's budget counts both)
        self.sent: dict[str, list[SentZaloMessage]] = {}
        self.chat_actions: list[tuple[str, str]] = []
        self.photo_fetch_errors: list[str] = []
        self.dropped: list[dict] = []
        self.users: dict[str, FakeZaloUser] = {}
        self._queue: deque[dict] = deque()
        self._last_update: dict[str, dict] = {}
        self._known_chats: set[str] = set()
        self._pollers = 0
        self._ids = itertools.count(1)
        self._version = 0
        self._updates_signal = _Signal()
        self._changed = _Signal()
        self._faults: list[_Fault] = []
        self._garbles: list[list[Any]] = []
        self._delays: dict[str | None, float] = {}
        self._hangs: list[list[Any]] = []  # [remaining, method]
        self._webhook_tasks: set[asyncio.Task] = set()
        self._webhook_lock = asyncio.Lock()
        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None
        self._closing = False

    # -- lifecycle
    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        self._client = ClientSession()

    async def stop(self) -> None:
        self._closing = True
        self._updates_signal.notify()
        for task in list(self._webhook_tasks):
            task.cancel()
        if self._webhook_tasks:
            await asyncio.gather(*self._webhook_tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeZalo:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- users and updates
    def user(self, user_id: str, display_name: str = "Thu") -> FakeZaloUser:
        existing = self.users.get(user_id)
        if existing is None:
            existing = self.users[user_id] = FakeZaloUser(self, user_id, display_name)
        return existing

    def push_update(self, update: dict) -> None:
        """Deliver an update (webhook, or the getUpdates queue) as a new inbound message."""
        message = update.get("message") or {}
        sender = str((message.get("from") or {}).get("id") or (message.get("chat") or {}).get("id"))
        chat_id = (message.get("chat") or {}).get("id")
        if chat_id is not None:
            self._known_chats.add(str(chat_id))
        self._last_update[sender] = update
        self.inbound_count += 1
        self._enqueue(update)

    def redeliver_last(self, user_id: str) -> None:
        """Deliver this user's last update again (same message_id), as a platform retry would."""
        self._enqueue(self._last_update[user_id])

    def _enqueue(self, update: dict) -> None:
        if self.webhook_url:
            self._start_webhook_delivery(update)
        elif self._pollers > 0 or self.queue_when_idle:
            self._queue.append(update)
            self._updates_signal.notify()
        else:
            self.dropped.append(update)

    # -- fault injection
    def fail_next(
        self,
        count: int,
        status: int = 429,
        *,
        method: str | None = "sendMessage",
        error_code: int | None = None,
        description: str = "",
    ) -> None:
        """The next `count` calls (of `method`, or any when None) answer ok false with HTTP
        `status`; with status 200 the body carries `error_code` (an HTTP 200 with ok false)."""
        if status == 200 and error_code is None:
            raise ValueError("fail_next(status=200) needs an error_code for the body")
        code = error_code if error_code is not None else status
        self._faults.append(_Fault(count, status, method, code, description))

    def garble_next(self, count: int = 1, method: str | None = "sendMessage") -> None:
        """The platform carries out the next `count` calls, but the answer arrives cut off
        (an HTTP 200 whose JSON body a proxy truncated)."""
        self._garbles.append([count, method])

    def delay(self, seconds: float, method: str | None = None) -> None:
        """Answer every call (of `method`, or any when None) `seconds` late; 0 removes it."""
        if seconds <= 0:
            self._delays.pop(method, None)
        else:
            self._delays[method] = seconds

    def timeout_next(self, count: int, method: str | None = None) -> None:
        """The next `count` calls hang for 30 s (then answer 504 unprocessed): a time-out."""
        self._hangs.append([count, method])

    # -- inspection
    def calls(self, method: str) -> list[Request]:
        return [r for r in self.requests if r.method == method]

    async def wait_webhooks(self, timeout: float = 5.0) -> None:
        """Wait until every webhook delivery in flight has finished."""
        if self._webhook_tasks:
            await asyncio.wait_for(
                asyncio.gather(*list(self._webhook_tasks), return_exceptions=True), timeout
            )

    # -- HTTP
    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        rec = Request(method, {}, 0, time.monotonic())
        self.requests.append(rec)
        try:
            if request.match_info["token"] != self.token:
                raise _ApiError(401, 401, "Unauthorized")
            rec.body = await self._read_body(request)
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                raise _ApiError(404, 404, f"Not Found: method {method}", spec="unknown method")
            await self._inject(method)
            unknown = sorted(set(rec.body) - KNOWN_FIELDS[method])
            if unknown:
                self.spec_warnings.append(f"{method}: undocumented fields {unknown} (ignored)")
            result = await handler(rec.body)
            status, payload = 200, {"ok": True, "result": result}
        except _ApiError as e:
            if e.spec:
                self.spec_errors.append(f"{method}: {e.spec}")
            rec.error_code = e.error_code
            status = e.status
            payload = {"ok": False, "error_code": e.error_code, "description": e.description}
        rec.status = status
        for garble in self._garbles:
            if status == 200 and garble[0] > 0 and garble[1] in (None, method):
                garble[0] -= 1
                if garble[0] == 0:
                    self._garbles.remove(garble)
                return web.Response(body=b'{"ok":true,"result":{"message_id":', status=200,
                                    content_type="application/json")
        return web.json_response(
            payload, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False)
        )

    async def _read_body(self, request: web.Request) -> dict[str, Any]:
        body: dict[str, Any] = dict(request.query)
        if not request.can_read_body:
            return body
        if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            body.update({k: v for k, v in form.items() if isinstance(v, str)})
            return body
        raw = await request.read()
        if not raw.strip():
            return body
        try:
            data = json.loads(raw)
        except ValueError as e:
            raise _violation(f"body is not JSON ({e})") from None
        if not isinstance(data, dict):
            raise _violation("body is not a JSON object")
        body.update(data)
        return body

    async def _inject(self, method: str) -> None:
        seconds = self._delays.get(method, self._delays.get(None))
        if seconds:
            await asyncio.sleep(seconds)
        for hang in self._hangs:
            if hang[0] > 0 and hang[1] in (None, method):
                hang[0] -= 1
                if hang[0] == 0:
                    self._hangs.remove(hang)
                await asyncio.sleep(HANG_SECONDS)
                raise _ApiError(504, 504)
        for fault in self._faults:
            if fault.remaining > 0 and fault.method in (None, method):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                raise _ApiError(fault.status, fault.error_code, fault.description)

    # -- webhook delivery (in order, one at a time)
    def _start_webhook_delivery(self, update: dict) -> None:
        task = asyncio.get_running_loop().create_task(
            self._deliver(update, self.webhook_url, self.webhook_secret, self.webhook_wrapped)
        )
        self._webhook_tasks.add(task)
        task.add_done_callback(self._webhook_tasks.discard)

    async def _deliver(self, update: dict, url: str, secret: str, wrapped: bool) -> None:
        assert self._client is not None
        body = {"ok": True, "result": update} if wrapped else update
        headers = {"Content-Type": "application/json", "X-Bot-Api-Secret-Token": secret}
        async with self._webhook_lock:
            try:
                async with self._client.post(
                    url,
                    data=json.dumps(body, ensure_ascii=False).encode(),
                    headers=headers,
                    timeout=ClientTimeout(total=WEBHOOK_TIMEOUT),
                ) as resp:
                    await resp.read()
                    self.webhook_statuses.append(resp.status)
            except (ClientError, TimeoutError):
                self.webhook_statuses.append(0)

    # -- helpers
    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _new_id(self) -> str:
        """A 20-hex-digit identifier like the platform's, deterministic across runs."""
        return hashlib.sha1(f"fake-zalo-{next(self._ids)}".encode()).hexdigest()[:20]

    @staticmethod
    def _string(p: dict, name: str, *, required: bool = True) -> str | None:
        value = p.get(name)
        if value is None:
            if required:
                raise _violation(f"{name} is required")
            return None
        if not isinstance(value, str):
            raise _violation(f"{name} must be a string, got {type(value).__name__}")
        return value

    def _chat_id(self, p: dict, method: str) -> str:
        chat_id = self._string(p, "chat_id")
        assert chat_id is not None
        if not chat_id:
            raise _violation("chat_id is empty")
        if chat_id not in self._known_chats:
            self.spec_warnings.append(f"{method}: chat {chat_id} never wrote to the bot")
        return chat_id

    def _check_quota(self) -> None:
        if self.monthly_limit is not None and self.monthly_count >= self.monthly_limit:
            raise _ApiError(429, 429, "Quota exceeded")

    def _record(self, chat_id: str, kind: str, **fields: Any) -> dict:
        self._version += 1
        sm = SentZaloMessage(
            message_id=self._new_id(),
            kind=kind,
            date_ms=self._now_ms(),
            chat_id=chat_id,
            version=self._version,
            **{"text": None, **fields},
        )
        self.sent.setdefault(chat_id, []).append(sm)
        self.monthly_count += 1
        self._changed.notify()
        return {"message_id": sm.message_id, "date": sm.date_ms}

    @staticmethod
    def _check_length(name: str, value: str) -> None:
        if len(value) > TEXT_LIMIT:
            raise _violation(
                f"{name} has {len(value)} characters (limit {TEXT_LIMIT})",
                f"{name} is too long",
            )

    # -- methods
    async def _m_getMe(self, p: dict) -> dict:
        return {
            "id": self.bot_id,
            "account_name": "bot.baocao_test",
            "account_type": "BASIC",
            "can_join_groups": False,
        }

    async def _m_getUpdates(self, p: dict) -> dict:
        if self.webhook_url:
            raise _violation(
                "getUpdates while a webhook is set",
                "Bad Request: webhook is active; call deleteWebhook before getUpdates",
            )
        raw = p.get("timeout", "30")
        try:
            timeout = float(raw)
        except (TypeError, ValueError):
            raise _violation(f"timeout {raw!r} is not a number of seconds") from None
        if isinstance(raw, bool) or timeout < 0:
            raise _violation(f"timeout {raw!r} is not a number of seconds")
        deadline = time.monotonic() + timeout
        self._pollers += 1
        try:
            while True:
                if self._queue:
                    return self._queue.popleft()
                if self.webhook_url:
                    raise _ApiError(400, 400, "Bad Request: webhook was set during getUpdates")
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closing:
                    raise _ApiError(200, 408, "Request timeout")
                await self._updates_signal.wait(remaining)
        finally:
            self._pollers -= 1

    async def _m_setWebhook(self, p: dict) -> dict:
        url = self._string(p, "url")
        secret = self._string(p, "secret_token")
        assert url is not None and secret is not None
        parts = urlsplit(url)
        loopback_http = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
        if not (parts.scheme == "https" or loopback_http) or not parts.hostname:
            raise _violation(f"url {url!r} is not an HTTPS URL")
        if not 8 <= len(secret) <= 256:
            raise _violation(f"secret_token has {len(secret)} characters (8-256)")
        self.webhook_url = url
        self.webhook_secret = secret
        self.webhook_updated_at = self._now_ms()
        self._updates_signal.notify()  # pending long polls end with an error
        pending, self._queue = list(self._queue), deque()
        for update in pending:
            self._start_webhook_delivery(update)
        return {"url": url, "updated_at": self.webhook_updated_at}

    async def _m_deleteWebhook(self, p: dict) -> dict:
        self.webhook_url = ""
        self.webhook_secret = ""
        self.webhook_updated_at = self._now_ms()
        return {"url": "", "updated_at": self.webhook_updated_at}

    async def _m_getWebhookInfo(self, p: dict) -> dict:
        return {"url": self.webhook_url, "updated_at": self.webhook_updated_at}

    async def _m_sendMessage(self, p: dict) -> dict:
        chat_id = self._chat_id(p, "sendMessage")
        text = self._string(p, "text")
        assert text is not None
        if not text:
            raise _violation("text is empty", "text is empty")
        self._check_length("text", text)
        mode = p.get("parse_mode")
        if mode is not None and mode not in ("markdown", "html"):
            raise _violation(f"parse_mode {mode!r} is not markdown or html")
        self._check_quota()
        return self._record(chat_id, "text", text=text)

    async def _m_sendPhoto(self, p: dict) -> dict:
        chat_id = self._chat_id(p, "sendPhoto")
        url = self._string(p, "photo")
        caption = self._string(p, "caption", required=False) or None
        assert url is not None
        if urlsplit(url).scheme not in ("http", "https"):
            raise _violation(f"photo {url[:80]!r} is not a URL")
        if caption is not None:
            self._check_length("caption", caption)
        self._check_quota()
        assert self._client is not None
        try:
            async with self._client.get(url, timeout=ClientTimeout(total=FETCH_TIMEOUT)) as resp:
                data = await resp.read()
                if resp.status != 200:
                    raise ClientError(f"HTTP {resp.status}")
                content_type = resp.content_type
        except (ClientError, TimeoutError) as e:
            self.photo_fetch_errors.append(f"{url}: {e or type(e).__name__}")
            raise _ApiError(400, 400, "Bad Request: cannot download photo") from None
        if not data:
            self.photo_fetch_errors.append(f"{url}: empty body")
            raise _ApiError(400, 400, "Bad Request: cannot download photo")
        return self._record(
            chat_id,
            "photo",
            photo_url=url,
            photo_bytes=data,
            photo_content_type=content_type,
            caption=caption,
        )

    async def _m_sendSticker(self, p: dict) -> dict:
        chat_id = self._chat_id(p, "sendSticker")
        sticker = self._string(p, "sticker")
        if not sticker:
            raise _violation("sticker is empty")
        self._check_quota()
        return self._record(chat_id, "sticker", sticker=sticker)

    async def _m_sendChatAction(self, p: dict) -> bool:
        chat_id = self._chat_id(p, "sendChatAction")
        action = self._string(p, "action")
        if action not in CHAT_ACTIONS:
            raise _violation(f"action {action!r} is not one of {sorted(CHAT_ACTIONS)}")
        self.chat_actions.append((chat_id, action))
        return True
