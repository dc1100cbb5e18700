"""A fake Telegram Bot API server for end-to-end tests.

It speaks the real HTTP protocol (POST/GET ``/bot<token>/<method>``; form-urlencoded, multipart or
JSON bodies; ``{"ok": ..., "result": ...}`` answers) on 127.0.0.1, so an unmodified aiogram ``Bot``
talks to it through ``AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))``.

Every request is checked against the Bot API 10.1 spec kept as data
(``telegram-bot-api-10.1.min.json``): the method exists, required fields are present, no unknown
fields, field types (recursively through nested objects and unions) and the documented limits
(string lengths "after entities parsing", callback_data bytes, BotCommand, webhook secret...).
A request failing the check is answered 400 like Telegram and appended to ``spec_errors``.

Users are simulated with :class:`FakeUser`: they send texts and contacts, press inline buttons, and
tests read what they see (``messages()``, ``wait_for(...)``). Faults, delays and Telegram's flood
limits can be injected.

    async with FakeTelegram() as tg:
        bot = Bot(tg.token, session=AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url)))
        thu = tg.user(42, "Thu")
        ...  # start polling (or set_webhook) with the bot under test
        await thu.send("/start")
        await thu.wait_for("Chào")  # bot messages new or edited since thu's last action
        await thu.press("Báo cáo")  # an inline button by label or callback_data
        assert tg.spec_errors == []

Records: ``requests`` (every call, with coerced params and the answered status), ``spec_errors``
(violations), ``spec_warnings`` (deprecated fields Telegram still accepts), ``commands``,
``menu_buttons`` (setChatMenuButton, by chat),
``chat_actions``, ``callback_answers``, ``webhook_statuses``, ``flood_429s``.
The spec is found via $TELEGRAM_BOT_API_SPEC, next to this file, in tests/data/, or in
/work/shared/reference/.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import math
import mimetypes
import os
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientSession, ClientTimeout, MultipartReader, web

SPEC_ENV = "TELEGRAM_BOT_API_SPEC"
_SPEC_CANDIDATES = (
    Path(__file__).with_name("telegram-bot-api-10.1.min.json"),
    Path(__file__).parent / "data" / "telegram-bot-api-10.1.min.json",
    Path("/work/shared/reference/telegram-bot-api-10.1.min.json"),
)

# Fields Telegram still accepts although the current spec no longer lists them. aiogram 3.31 sends
# `disable_web_page_preview` when DefaultBotProperties(link_preview_is_disabled=...) is used.
LEGACY_FIELDS = {
    "disable_web_page_preview": "Boolean",
    "reply_to_message_id": "Integer",
    "allow_sending_without_reply": "Boolean",
}
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
PARSE_MODES = {"html": "HTML", "markdownv2": "MarkdownV2", "markdown": "Markdown"}
NOT_DEFAULT_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}
DOCUMENT_LIMIT = 50 * 1024 * 1024
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # what a bot may download with getFile
PHOTO_LIMIT = 10 * 1024 * 1024
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a content and reply markup of the current message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
_ENTITY_SIBLINGS = {
    "text": ("parse_mode", "entities"),
    "message_text": ("parse_mode", "entities"),
    "caption": ("parse_mode", "caption_entities"),
}
_LEN_RE = re.compile(r"(\d+)-(\d+) (characters|bytes)")
_CONST_RE = re.compile(r'(?:must be|always) "?([a-z_]+)"?')


# --------------------------------------------------------------------------------------------
# Public records


@dataclass
class Request:
    """One call the bot made (or returned in a webhook answer)."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 0
    error: str | None = None
    source: str = "http"  # "http" or "webhook-reply"


@dataclass
class UploadedFile:
    filename: str
    data: bytes
    content_type: str = "application/octet-stream"


@dataclass
class SentMessage:
    """A bot message as the user sees it now (after edits)."""

    message_id: int
    text: str | None
    inline_keyboard: list[list[dict]] | None
    reply_keyboard: dict | None
    kind: str  # "text" | "document" | "photo"
    filename: str | None = None
    data: bytes | None = None
    caption: str | None = None
    edits: int = 0
    chat_id: int = 0
    date: int = 0
    edit_date: int | None = None
    entities: list[dict] = field(default_factory=list)
    caption_entities: list[dict] = field(default_factory=list)
    raw_text: str | None = None  # as sent, before entity parsing
    parse_mode: str | None = None
    url: str | None = None  # document/photo sent as a URL string
    file_id: str | None = None
    mime_type: str | None = None
    deleted: bool = False
    version: int = 0  # global change counter when created or last edited

    @property
    def buttons(self) -> list[dict]:
        return [b for row in self.inline_keyboard or [] for b in row]

    def shows(self, text: str) -> bool:
        return text in (self.text or "") or text in (self.caption or "")


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    filename: str | None
    data: bytes | None
    mime_type: str | None
    url: str | None = None
    path: str = ""


class _Violation(Exception):
    """The request breaks the Bot API spec: answered 400 and recorded in spec_errors."""

    def __init__(self, why: str, status: int = 400, description: str | None = None) -> None:
        super().__init__(why)
        self.why = why
        self.status = status
        self.description = description or (
            f"Bad Request: {why}" if status == 400 else "Request Entity Too Large"
        )


class _ApiError(Exception):
    """A runtime error Telegram would answer (not a spec violation)."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict:
        out: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            out["parameters"] = {"retry_after": self.retry_after}
        return out


# --------------------------------------------------------------------------------------------
# Entity parsing (HTML, MarkdownV2, Markdown) -> plain text + entities, like Telegram does


class EntityParseError(Exception):
    pass


def _u16(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "tg-time": "date_time",
}
_ATTR_RE = re.compile(r"""\s*([a-zA-Z_-]+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_HTML_ENTITY_RE = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


def _parse_html(text: str) -> tuple[str, list[dict]]:
    out: list[str] = []
    pos = 0
    stack: list[dict] = []
    entities: list[dict] = []
    i = 0

    def at(k: int) -> int:
        return len(text[:k].encode())

    while i < len(text):
        c = text[i]
        if c == "<":
            j = text.find(">", i + 1)
            if j < 0:
                raise EntityParseError(f"Unclosed start tag at byte offset {at(i)}")
            inner = text[i + 1 : j]
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack:
                    raise EntityParseError(f'Unexpected end tag "{name}" at byte offset {at(i)}')
                top = stack.pop()
                if top["tag"] != name:
                    raise EntityParseError(
                        f'Unmatched end tag at byte offset {at(i)}, expected "</{top["tag"]}>", '
                        f'found "</{name}>"'
                    )
                ent = top["entity"]
                if ent is not None and pos > ent["offset"]:
                    ent["length"] = pos - ent["offset"]
                    entities.append(ent)
            else:
                m = re.match(r"([a-zA-Z][a-zA-Z0-9-]*)", inner)
                name = m.group(1).lower() if m else ""
                if name not in _HTML_TAGS:
                    raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {at(i)}')
                attrs = {
                    a.group(1).lower(): a.group(2) or a.group(3) or a.group(4) or ""
                    for a in _ATTR_RE.finditer(inner[m.end() :])
                    if a.group(1)
                }
                ent: dict | None = {"type": _HTML_TAGS[name], "offset": pos}
                if name == "span" and attrs.get("class") != "tg-spoiler":
                    raise EntityParseError('Tag "span" must have class "tg-spoiler"')
                if name == "a":
                    href = attrs.get("href", "")
                    mention = re.fullmatch(r"tg://user\?id=(\d+)", href)
                    if mention:
                        user = {"id": int(mention.group(1)), "is_bot": False, "first_name": "User"}
                        ent = {"type": "text_mention", "offset": pos, "user": user}
                    elif href:
                        ent["url"] = href
                    else:
                        ent = None
                elif name == "blockquote" and "expandable" in attrs:
                    ent["type"] = "expandable_blockquote"
                elif name == "code" and stack and stack[-1]["tag"] == "pre":
                    lang = attrs.get("class", "")
                    if lang.startswith("language-") and stack[-1]["entity"] is not None:
                        stack[-1]["entity"]["language"] = lang[len("language-") :]
                        ent = None
                elif name == "tg-emoji":
                    ent["custom_emoji_id"] = attrs.get("emoji-id", "")
                stack.append({"tag": name, "entity": ent})
            i = j + 1
            continue
        if c == "&":
            m2 = _HTML_ENTITY_RE.match(text, i)
            if m2:
                ch = html.unescape(m2.group(0))
                out.append(ch)
                pos += _u16(ch)
                i = m2.end()
                continue
        out.append(c)
        pos += _u16(c)
        i += 1
    if stack:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1]["tag"]}"'
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MD_KIND = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}
_KIND_NAME = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
}


def _find_unescaped(text: str, token: str, start: int) -> int:
    k = start
    while k < len(text):
        if text[k] == "\\":
            k += 2
            continue
        if text.startswith(token, k):
            return k
        k += 1
    return -1


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s, flags=re.S)


def _parse_markdown(text: str, *, v2: bool) -> tuple[str, list[dict]]:
    out: list[str] = []
    pos = 0
    stack: list[dict] = []
    entities: list[dict] = []
    i = 0

    def at(k: int) -> int:
        return len(text[:k].encode())

    def emit(s: str) -> None:
        nonlocal pos
        out.append(s)
        pos += _u16(s)

    while i < len(text):
        c = text[i]
        if c == "\\" and (v2 or (i + 1 < len(text) and text[i + 1] in "_*`[\\")):
            if i + 1 >= len(text):
                raise EntityParseError(
                    "Character '\\' is reserved and must be escaped with the preceding '\\'"
                )
            emit(text[i + 1])
            i += 2
            continue
        if c == "`":
            fence = "```" if text.startswith("```", i) else "`"
            close = (
                _find_unescaped(text, fence, i + len(fence))
                if v2
                else text.find(fence, i + len(fence))
            )
            if close < 0:
                kind = "Pre" if fence == "```" else "Code"
                raise EntityParseError(f"Can't find end of {kind} entity at byte offset {at(i)}")
            body = text[i + len(fence) : close]
            ent: dict[str, Any] = {"type": "code", "offset": pos}
            if fence == "```":
                ent["type"] = "pre"
                first, nl, rest = body.partition("\n")
                if nl and first and re.fullmatch(r"[\w+#-]+", first):
                    ent["language"] = first
                    body = rest
            body = _unescape(body) if v2 else body
            emit(body)
            if body:
                ent["length"] = pos - ent["offset"]
                entities.append(ent)
            i = close + len(fence)
            continue
        if c == "[":
            if v2:
                stack.append({"marker": "[", "offset": pos, "at": i})
                i += 1
                continue
            close = text.find("](", i)
            end = text.find(")", close) if close >= 0 else -1
            if close < 0 or end < 0:
                raise EntityParseError(
                    f"Can't find end of the entity starting at byte offset {at(i)}"
                )
            label = text[i + 1 : close]
            start = pos
            emit(label)
            entities.append(
                {
                    "type": "text_link",
                    "offset": start,
                    "length": pos - start,
                    "url": text[close + 2 : end],
                }
            )
            i = end + 1
            continue
        if v2 and c == "]":
            if not stack or stack[-1]["marker"] != "[":
                raise EntityParseError(
                    "Character ']' is reserved and must be escaped with the preceding '\\'"
                )
            top = stack.pop()
            if not text.startswith("(", i + 1):
                raise EntityParseError(
                    f"Can't find end of TextUrl entity at byte offset {at(top['at'])}"
                )
            end = _find_unescaped(text, ")", i + 2)
            if end < 0:
                raise EntityParseError(
                    f"Can't find end of TextUrl entity at byte offset {at(top['at'])}"
                )
            if pos > top["offset"]:
                entities.append(
                    {
                        "type": "text_link",
                        "offset": top["offset"],
                        "length": pos - top["offset"],
                        "url": _unescape(text[i + 2 : end]),
                    }
                )
            i = end + 1
            continue
        if c in "*_~|" and (v2 or c in "*_"):
            if v2 and c == "|" and not text.startswith("||", i):
                raise EntityParseError(
                    "Character '|' is reserved and must be escaped with the preceding '\\'"
                )
            marker = c
            if v2 and text.startswith("__", i):
                marker = "__"
            elif v2 and text.startswith("||", i):
                marker = "||"
            if not v2:
                close = text.find(c, i + 1)
                if close < 0:
                    raise EntityParseError(
                        f"Can't find end of the entity starting at byte offset {at(i)}"
                    )
                start = pos
                emit(text[i + 1 : close])
                if pos > start:
                    entities.append({"type": _MD_KIND[c], "offset": start, "length": pos - start})
                i = close + 1
                continue
            if stack and stack[-1]["marker"] == marker:
                top = stack.pop()
                if pos > top["offset"]:
                    entities.append(
                        {
                            "type": _MD_KIND[marker],
                            "offset": top["offset"],
                            "length": pos - top["offset"],
                        }
                    )
            elif any(s["marker"] == marker for s in stack):
                raise EntityParseError(
                    f"Can't parse entities: intersecting {marker!r} at byte offset {at(i)}"
                )
            else:
                stack.append({"marker": marker, "offset": pos, "at": i})
            i += len(marker)
            continue
        if v2 and c == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1  # block quotation marker; the fake does not build the blockquote entity
            continue
        if v2 and c in _MDV2_RESERVED:
            raise EntityParseError(
                f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
            )
        emit(c)
        i += 1
    if stack:
        top = stack[-1]
        kind = "text_link" if top["marker"] == "[" else _MD_KIND[top["marker"]]
        raise EntityParseError(
            f"Can't find end of {_KIND_NAME[kind]} entity at byte offset {at(top['at'])}"
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def parse_entities(text: str, parse_mode: str | None) -> tuple[str, list[dict]]:
    """Plain text and entities of `text` sent with `parse_mode`, as Telegram would show it."""
    if not parse_mode:
        return text, []
    mode = PARSE_MODES.get(parse_mode.lower())
    if mode == "HTML":
        return _parse_html(text)
    if mode == "MarkdownV2":
        return _parse_markdown(text, v2=True)
    if mode == "Markdown":
        return _parse_markdown(text, v2=False)
    raise EntityParseError(f"unsupported parse_mode {parse_mode!r}")


def command_entities(text: str) -> list[dict]:
    m = re.match(r"/[A-Za-z0-9_]{1,64}(@[A-Za-z0-9_]{3,32})?(?=\s|$)", text)
    return [{"type": "bot_command", "offset": 0, "length": _u16(m.group(0))}] if m else []


# --------------------------------------------------------------------------------------------
# The spec checker


def _spec_path() -> Path:
    if os.environ.get(SPEC_ENV):
        return Path(os.environ[SPEC_ENV])
    for p in _SPEC_CANDIDATES:
        if p.exists():
            return p
    raise FileNotFoundError(
        f"Bot API spec not found; set {SPEC_ENV} or put it at {_SPEC_CANDIDATES[0]}"
    )


@cache
def load_spec() -> dict:
    return json.loads(_spec_path().read_text(encoding="utf-8"))


class _Ctx:
    def __init__(self, files: dict[str, UploadedFile], form_keys: set[str]) -> None:
        self.files = files
        self.form_keys = form_keys
        self.used: set[str] = set()
        self.warnings: list[str] = []


class SpecChecker:
    """Checks values against the Bot API spec and coerces form strings to their types."""

    def __init__(self, spec: dict | None = None) -> None:
        spec = spec or load_spec()
        self.methods: dict[str, dict] = spec["methods"]
        self.types: dict[str, dict] = spec["types"]
        self.by_lower = {name.lower(): name for name in self.methods}

    # -- public helpers
    def check_method(
        self,
        method: str,
        raw: dict[str, Any],
        files: dict[str, UploadedFile],
        form_keys: set[str],
    ) -> tuple[dict[str, Any], list[str]]:
        fields = self.methods[method].get("fields", [])
        names = {f["name"] for f in fields}
        ctx = _Ctx(files, form_keys)
        obj = {k: v for k, v in raw.items() if v is not None}
        for name, upload in files.items():
            if name in names and name not in obj:
                obj[name] = upload
                ctx.used.add(name)
        params = self._fields(obj, fields, "", method, ctx, form=True)
        stray = set(files) - ctx.used
        if stray:
            raise _Violation(f"unknown field {sorted(stray)[0]!r} (a file part nothing refers to)")
        return params, ctx.warnings

    def validate(self, value: Any, type_name: str) -> list[str]:
        """Errors of a JSON value (e.g. an Update the fake produced) against a spec type."""
        try:
            self._one(value, type_name, type_name, False, _Ctx({}, set()))
        except _Violation as e:
            return [e.why]
        return []

    # -- internals
    @staticmethod
    def _json(value: str, path: str) -> Any:
        try:
            return json.loads(value)
        except ValueError as e:
            raise _Violation(f"{path}: can't parse JSON object ({e})") from None

    def _union(self, value: Any, types: list[str], path: str, form: bool, ctx: _Ctx) -> Any:
        if len(types) == 1:
            return self._one(value, types[0], path, form, ctx)
        errors: dict[str, _Violation] = {}
        for t in types:
            try:
                return self._one(value, t, path, form, ctx)
            except _Violation as e:
                errors[t] = e
        probe = value
        if form and isinstance(value, str):
            with contextlib.suppress(ValueError):
                probe = json.loads(value)
        if isinstance(probe, dict):

            def overlap(t: str) -> int:
                fields = {f["name"] for f in self.types.get(t, {}).get("fields", [])}
                return len(fields & set(probe))

            best = max((t for t in types if t in self.types), key=overlap, default=None)
            if best is not None and overlap(best):
                raise errors[best]
        raise _Violation(f"{path}: expected {' or '.join(types)}, got {_short(value)}")

    def _one(self, value: Any, t: str, path: str, form: bool, ctx: _Ctx) -> Any:
        text = form and isinstance(value, str)
        if t == "Integer":
            if text and re.fullmatch(r"-?\d+", value.strip()):
                return int(value)
            if not text and isinstance(value, int) and not isinstance(value, bool):
                return value
            raise _Violation(f"{path}: expected Integer, got {_short(value)}")
        if t == "Float":
            if text:
                try:
                    return float(value)
                except ValueError:
                    pass
            elif isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
            raise _Violation(f"{path}: expected Float, got {_short(value)}")
        if t in ("Boolean", "True"):
            if text and value.lower() in ("true", "false", "1", "0"):
                return value.lower() in ("true", "1")
            if isinstance(value, bool):
                return value
            raise _Violation(f"{path}: expected Boolean, got {_short(value)}")
        if t == "String":
            if isinstance(value, str):
                return value
            raise _Violation(f"{path}: expected String, got {_short(value)}")
        if t == "InputFile":
            if isinstance(value, UploadedFile):
                return value
            if isinstance(value, str) and value.startswith("attach://"):
                name = value[len("attach://") :]
                if name in ctx.files:
                    ctx.used.add(name)
                    return ctx.files[name]
                raise _Violation(f"{path}: attached file {name!r} is not in the request")
            raise _Violation(f"{path}: expected a file upload (InputFile), got {_short(value)}")
        if isinstance(value, UploadedFile):
            raise _Violation(f"{path}: a file upload where {t} is expected")
        if t.startswith("Array of "):
            inner = t[len("Array of ") :]
            if text:
                value = self._json(value, path)
            if not isinstance(value, list):
                raise _Violation(f"{path}: expected {t}, got {_short(value)}")
            return [self._one(v, inner, f"{path}[{k}]", False, ctx) for k, v in enumerate(value)]
        if t in self.types:
            if text:
                value = self._json(value, path)
            if t == "KeyboardButton" and isinstance(value, str):
                return value  # "String can be used instead of this object"
            if not isinstance(value, dict):
                raise _Violation(f"{path}: expected {t} object, got {_short(value)}")
            return self._object(value, t, path, ctx)
        raise _Violation(f"{path}: the spec has no type {t!r}")

    def _discriminator(self, type_name: str) -> tuple[str, str] | None:
        for f in self.types.get(type_name, {}).get("fields", []):
            if f["name"] in ("type", "status", "source"):
                m = _CONST_RE.search(f.get("description", ""))
                if m:
                    return f["name"], m.group(1)
        return None

    def _object(self, value: dict, type_name: str, path: str, ctx: _Ctx) -> dict:
        spec = self.types[type_name]
        subtypes = spec.get("subtypes")
        if subtypes:
            candidates = []
            for sub in subtypes:
                disc = self._discriminator(sub)
                if disc is None or value.get(disc[0]) == disc[1]:
                    candidates.append(sub)
            if not candidates:
                key = next((k for k in ("type", "status", "source") if k in value), "type")
                raise _Violation(f"{path}: unknown {type_name} {key} {value.get(key)!r}")
            return self._union(value, candidates, path, False, ctx)
        fields = spec.get("fields")
        if fields is None:
            return value
        out = self._fields(value, fields, path, type_name, ctx, form=False)
        disc = self._discriminator(type_name)
        if disc and out.get(disc[0]) != disc[1]:
            raise _Violation(f"{path}.{disc[0]}: must be {disc[1]!r} for {type_name}")
        return out

    def _fields(
        self, obj: dict, fields: list[dict], path: str, owner: str, ctx: _Ctx, *, form: bool
    ) -> dict:
        known = {f["name"]: f for f in fields}
        out: dict[str, Any] = {}
        for key, value in obj.items():
            p = f"{path}.{key}" if path else key
            spec_field = known.get(key)
            if value is None and not form:
                continue
            if spec_field is None:
                if owner in self.methods and key in LEGACY_FIELDS:
                    ctx.warnings.append(f"{owner}: deprecated field {key!r} (not in the spec)")
                    out[key] = self._one(value, LEGACY_FIELDS[key], p, key in ctx.form_keys, ctx)
                    continue
                raise _Violation(f"{p}: unknown field for {owner}")
            out[key] = self._union(
                value, spec_field["types"], p, form and key in ctx.form_keys, ctx
            )
        for f in fields:
            if f["required"] and f["name"] not in out:
                p = f"{path}.{f['name']}" if path else f["name"]
                raise _Violation(f"{p}: required field of {owner} is missing")
        self._limits(out, known, path)
        self._rules(out, path, owner)
        return out

    def _limits(self, out: dict, known: dict[str, dict], path: str) -> None:
        for key, value in out.items():
            bad_mode = isinstance(value, str) and value and value.lower() not in PARSE_MODES
            if key.endswith("parse_mode") and bad_mode:
                raise _Violation(f"{_p(path, key)}: unsupported parse_mode {value!r}")
        for key, value in out.items():
            spec_field = known.get(key)
            if spec_field is None or not isinstance(value, str):
                continue
            desc = spec_field.get("description", "")
            m = _LEN_RE.search(desc)
            if not m:
                continue
            lo, hi, unit = int(m.group(1)), int(m.group(2)), m.group(3)
            shown = value
            if "after entities parsing" in desc:
                mode_key, ents_key = _ENTITY_SIBLINGS.get(
                    key, (f"{key}_parse_mode", f"{key}_entities")
                )
                if not out.get(ents_key):
                    try:
                        shown = parse_entities(value, out.get(mode_key))[0]
                    except EntityParseError as e:
                        raise _Violation(f"{_p(path, key)}: can't parse entities: {e}") from None
            size = len(shown.encode()) if unit == "bytes" else len(shown)
            if lo > 0 and not shown.strip():
                raise _Violation(f"{_p(path, key)}: must not be empty ({lo}-{hi} {unit})")
            if size > hi:
                raise _Violation(f"{_p(path, key)}: too long, {size} {unit} (at most {hi})")

    def _rules(self, out: dict, path: str, owner: str) -> None:
        if owner in ("InlineKeyboardButton", "KeyboardButton"):
            kinds = [k for k in out if k not in ("text", "icon_custom_emoji_id", "style")]
            if owner == "InlineKeyboardButton" and len(kinds) != 1:
                raise _Violation(
                    f"{path}: an inline keyboard button needs exactly one of url, callback_data, "
                    f"web_app, ... (has {kinds or 'none'})"
                )
            if owner == "KeyboardButton" and len(kinds) > 1:
                raise _Violation(f"{path}: a keyboard button has more than one kind: {kinds}")
            if out.get("style") not in (None, "danger", "success", "primary"):
                raise _Violation(f"{path}.style: must be danger, success or primary")
        elif owner == "WebAppInfo":
            parts = urlsplit(out["url"])
            local = parts.hostname in ("127.0.0.1", "localhost", "::1")
            if not (parts.scheme == "https" or (parts.scheme == "http" and local)):
                raise _Violation(f"{path}.url: Web App URLs must be HTTPS, got {out['url']!r}")
        elif owner == "BotCommand":
            if not re.fullmatch(r"[a-z0-9_]{1,32}", out["command"]):
                raise _Violation(
                    f"{path}.command: 1-32 characters of lowercase English letters, digits and "
                    f"underscores, got {out['command']!r}"
                )
        elif owner == "setMyCommands":
            if len(out["commands"]) > 100:
                raise _Violation("commands: at most 100 commands")
        elif owner == "setWebhook":
            secret = out.get("secret_token")
            if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
                raise _Violation("secret_token: 1-256 characters of A-Z, a-z, 0-9, _ and -")
            if not 1 <= out.get("max_connections", 40) <= 100:
                raise _Violation("max_connections: must be 1-100")
            url = out.get("url", "")
            parts = urlsplit(url)
            local = parts.hostname in ("127.0.0.1", "localhost", "::1")
            if url and not (parts.scheme == "https" or (parts.scheme == "http" and local)):
                raise _Violation("bad webhook: An HTTPS URL must be provided for webhook")
        elif owner == "sendChatAction":
            if out["action"] not in CHAT_ACTIONS:
                raise _Violation(f"action: wrong parameter action in request: {out['action']!r}")
        elif owner == "getUpdates" and "allowed_updates" in out:
            known = {f["name"] for f in self.types["Update"]["fields"]} - {"update_id"}
            bad = [u for u in out["allowed_updates"] if u not in known]
            if bad:
                raise _Violation(f"allowed_updates: unknown update types {bad}")


def _p(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --------------------------------------------------------------------------------------------
# Simulated users


class FakeUser:
    def __init__(
        self,
        server: FakeTelegram,
        user_id: int,
        first_name: str,
        *,
        phone: str | None,
        language_code: str | None,
        last_name: str | None = None,
        username: str | None = None,
    ) -> None:
        self._server = server
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.phone = phone
        self.language_code = language_code
        self.reply_keyboard: dict | None = None  # the custom keyboard currently shown
        self.answers: list[dict] = []  # answerCallbackQuery calls for this user's presses
        self.last_query_id: str | None = None
        self._mark = 0  # server version at this user's last action

    def __repr__(self) -> str:
        return f"FakeUser({self.id}, {self.first_name!r})"

    # -- the user's identity as Telegram shows it
    def as_user(self) -> dict:
        out: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            out["last_name"] = self.last_name
        if self.username:
            out["username"] = self.username
        if self.language_code:
            out["language_code"] = self.language_code
        return out

    def as_chat(self) -> dict:
        out: dict[str, Any] = {"id": self.id, "first_name": self.first_name}
        if self.last_name:
            out["last_name"] = self.last_name
        if self.username:
            out["username"] = self.username
        out["type"] = "private"
        return out

    # -- actions
    def _message(self, **content: Any) -> dict:
        srv = self._server
        srv.blocked_by.discard(self.id)  # writing to the bot restarts (unblocks) it
        message_id = srv._next_message_id(self.id)
        srv._user_messages.setdefault(self.id, set()).add(message_id)
        return {
            "message_id": message_id,
            "from": self.as_user(),
            "chat": self.as_chat(),
            "date": srv._now(),
            **content,
        }

    async def _push(self, update: dict) -> int:
        self._mark = self._server._version
        update_id = self._server.push_update(update)
        await asyncio.sleep(0)
        return update_id

    async def send(self, text: str, reply_to: SentMessage | None = None) -> int:
        """A private text message from this user; returns its update_id. `reply_to`: a bot
        message it replies to, carried whole in `reply_to_message` as the Bot API does."""
        content: dict[str, Any] = {"text": text}
        entities = command_entities(text)
        if entities:
            content["entities"] = entities
        if reply_to is not None:
            content["reply_to_message"] = self._server._message_json(reply_to)
        return await self._push({"message": self._message(**content)})

    async def share_contact(self, phone: str | None = None, *, own: bool = True) -> int:
        phone = phone or self.phone
        if not phone:
            raise ValueError(f"{self!r} has no phone; pass one")
        contact: dict[str, Any] = {"phone_number": phone, "first_name": self.first_name}
        if self.last_name:
            contact["last_name"] = self.last_name
        contact["user_id"] = self.id if own else self.id + 1_000_000
        if not own:
            contact["first_name"] = "Người khác"
        return await self._push({"message": self._message(contact=contact)})

    async def send_document(
        self,
        filename: str,
        data: bytes,
        *,
        caption: str | None = None,
        mime_type: str | None = None,
    ) -> int:
        """The user uploads a file (the bot can getFile and download it)."""
        stored = self._server._store_file(filename, data, mime_type, kind="document")
        doc = {
            "file_name": filename,
            "mime_type": stored.mime_type,
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(data),
        }
        content: dict[str, Any] = {"document": doc}
        if caption:
            content["caption"] = caption
        return await self._push({"message": self._message(**content)})

    async def send_photo(self, caption: str | None = None) -> int:
        """A photo from the phone's gallery, optionally captioned."""
        stored = self._server._store_file("photo.jpg", b"\xff\xd8\xff" + b"0" * 64,
                                          "image/jpeg", kind="photo")
        sizes = [
            {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
             "width": w, "height": w, "file_size": 67}
            for w in (90, 320)
        ]
        content: dict[str, Any] = {"photo": sizes}
        if caption:
            content["caption"] = caption
        return await self._push({"message": self._message(**content)})

    async def send_sticker(self, emoji: str = "👍") -> int:
        stored = self._server._store_file("sticker.webp", b"RIFF0000WEBP", "image/webp",
                                          kind="sticker")
        sticker = {
            "file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
            "type": "regular", "width": 512, "height": 512, "is_animated": False,
            "is_video": False, "emoji": emoji,
        }
        return await self._push({"message": self._message(sticker=sticker)})

    async def send_location(self, latitude: float = 20.8449, longitude: float = 106.6881) -> int:
        location = {"latitude": latitude, "longitude": longitude}
        return await self._push({"message": self._message(location=location)})

    async def forward(self, text: str, *, origin: str = "user",
                      hidden_name: str | None = "Nguyễn Văn A") -> int:
        """A message forwarded from someone else. With origin "hidden_user" and
        hidden_name=None, Telegram's real quirk for old forwards: the documented-as-required
        `sender_user_name` is missing (aiogram issue 1840), so aiogram's models reject it."""
        srv = self._server
        when = srv._now() - 86_400
        if origin == "user":
            other = {"id": self.id + 7_000_000, "is_bot": False, "first_name": "Người khác"}
            forward_origin: dict[str, Any] = {"type": "user", "date": when,
                                              "sender_user": other}
        elif origin == "hidden_user":
            forward_origin = {"type": "hidden_user", "date": when}
            if hidden_name is not None:
                forward_origin["sender_user_name"] = hidden_name
        else:
            raise ValueError(f"unknown forward origin {origin!r}")
        content: dict[str, Any] = {"text": text, "forward_origin": forward_origin}
        return await self._push({"message": self._message(**content)})

    async def press(self, label_or_data: str) -> int:
        """Press the inline button with this text or callback_data on the newest bot message
        showing it (falls back to a button of the custom reply keyboard: sends its text, or the
        contact for a request_contact button)."""
        srv = self._server
        for sm in reversed(self.messages()):
            for button in sm.buttons:
                if label_or_data not in (button.get("text"), button.get("callback_data")):
                    continue
                if "callback_data" not in button:
                    raise AssertionError(f"button {button} has no callback_data to press")
                query_id = str(next(srv._query_ids))
                srv._queries[query_id] = {"user_id": self.id, "answered": None}
                self.last_query_id = query_id
                query = {
                    "id": query_id,
                    "from": self.as_user(),
                    "message": srv._message_json(sm),
                    "chat_instance": str(-4_000_000_000_000_000_000 - self.id),
                    "data": button["callback_data"],
                }
                return await self._push({"callback_query": query})
        keyboard = (self.reply_keyboard or {}).get("keyboard") or []
        for row in keyboard:
            for button in row:
                text = button if isinstance(button, str) else button.get("text")
                if text != label_or_data:
                    continue
                if isinstance(button, dict) and button.get("request_contact"):
                    update_id = await self.share_contact()
                else:
                    update_id = await self.send(text)
                if (self.reply_keyboard or {}).get("one_time_keyboard"):
                    self.reply_keyboard = None
                return update_id
        shown = [[b.get("text") for b in sm.buttons] for sm in self.messages() if sm.buttons]
        raise AssertionError(
            f"no button {label_or_data!r} for user {self.id}; inline buttons: {shown}; "
            f"reply keyboard: {keyboard}"
        )

    async def block(self) -> int:
        """The user blocks the bot (my_chat_member update; sends now answer 403)."""
        return await self._member_change("member", "kicked", block=True)

    async def unblock(self) -> int:
        return await self._member_change("kicked", "member", block=False)

    async def _member_change(self, old: str, new: str, *, block: bool) -> int:
        srv = self._server
        if block:
            srv.blocked_by.add(self.id)
        else:
            srv.blocked_by.discard(self.id)
        bot = srv.bot_user()

        def member(status: str) -> dict:
            return {
                "status": status,
                "user": bot,
                **({"until_date": 0} if status == "kicked" else {}),
            }

        change = {
            "chat": self.as_chat(),
            "from": self.as_user(),
            "date": srv._now(),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        return await self._push({"my_chat_member": change})

    # -- what the user sees
    def messages(self) -> list[SentMessage]:
        return self._server.sent_to(self.id)

    async def wait_for(
        self,
        predicate_or_text: str | Callable[[SentMessage], Any],
        timeout: float = 5.0,
        *,
        fresh: bool = True,
    ) -> SentMessage:
        """Wait until a bot message to this user contains the text (or caption) / satisfies the
        predicate. With fresh=True (default) only messages sent or edited after this user's last
        action (send/press/share_contact/...) count."""
        if isinstance(predicate_or_text, str):
            needle = predicate_or_text

            def pred(m: SentMessage) -> bool:
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

    async def wait_for_messages(self, count: int, timeout: float = 5.0) -> list[SentMessage]:
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
            shown = (
                sm.text if sm.kind == "text" else f"[{sm.kind} {sm.filename}] {sm.caption or ''}"
            )
            kb = f" buttons={[b.get('text') for b in sm.buttons]}" if sm.buttons else ""
            lines.append(f"  #{sm.message_id} (edits={sm.edits}): {shown!r}{kb}")
        return "\n".join(lines) or "  (none)"


ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group",
                   "username": "GroupAnonymousBot"}
CHANNEL_SENDER = {"id": 136817688, "is_bot": True, "first_name": "Channel",
                  "username": "Channel_Bot"}


class FakeGroup:
    """A group (or supergroup) the bot was added to; members write in it."""

    def __init__(self, server: FakeTelegram, chat_id: int, title: str) -> None:
        self._server = server
        self.id = chat_id
        self.title = title

    def as_chat(self) -> dict:
        kind = "supergroup" if str(self.id).startswith("-100") else "group"
        return {"id": self.id, "title": self.title, "type": kind}

    def _message(self, sender: dict, text: str, **extra: Any) -> dict:
        srv = self._server
        message_id = srv._next_message_id(self.id)
        srv._user_messages.setdefault(self.id, set()).add(message_id)
        content: dict[str, Any] = {"text": text}
        entities = command_entities(text)
        if entities:
            content["entities"] = entities
        return {"message_id": message_id, "from": sender, "chat": self.as_chat(),
                "date": srv._now(), **content, **extra}

    async def send(self, user: FakeUser, text: str) -> int:
        """A member writes in the group."""
        update_id = self._server.push_update({"message": self._message(user.as_user(), text)})
        await asyncio.sleep(0)
        return update_id

    async def send_as_anonymous_admin(self, text: str) -> int:
        """An admin with "remain anonymous" on: every such admin is user 1087968824."""
        message = self._message(ANONYMOUS_ADMIN, text, sender_chat=self.as_chat())
        update_id = self._server.push_update({"message": message})
        await asyncio.sleep(0)
        return update_id

    async def send_as_channel(self, text: str, channel_id: int = -1009876543210) -> int:
        """A member writes "as" a channel they own: user 136817688 with sender_chat."""
        channel = {"id": channel_id, "title": "Kênh tin xã", "type": "channel"}
        message = self._message(CHANNEL_SENDER, text, sender_chat=channel)
        update_id = self._server.push_update({"message": message})
        await asyncio.sleep(0)
        return update_id

    def messages(self) -> list[SentMessage]:
        return self._server.sent_to(self.id)


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


@dataclass
class _Fault:
    remaining: int
    status: int
    method: str | None
    retry_after: int | None
    description: str
    chat_id: int | None = None


@dataclass
class _RawFault:
    """An answer that is not Telegram's JSON: a proxy's error page (before Telegram saw the
    request) or a mangled answer to a request Telegram did handle (after)."""

    remaining: int
    method: str | None
    chat_id: int | None
    status: int
    body: bytes
    content_type: str
    after: bool


PROXY_502_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


@dataclass
class _FloodConfig:
    per_second: int
    per_chat_per_second: float
    burst: int
    # Messages sent with allow_paid_broadcast: their own overall limit (Bot API: up to 1000
    # a second, for a fee); the per-chat limit applies to them as to any message.
    paid_per_second: int = 1000


_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    504: "Gateway Timeout",
}
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM", b"RIFF")


# --------------------------------------------------------------------------------------------
# The server


class FakeTelegram:
    token = "123456:TEST-fake-token"
    FLOOD_METHODS = frozenset({"sendMessage", "sendDocument", "sendPhoto", "editMessageText"})

    def __init__(self, *, token: str | None = None, strict_chats: bool = False) -> None:
        if token is not None:
            self.token = token
        self.bot_id = int(self.token.split(":", 1)[0])
        self.strict_chats = strict_chats  # unknown chat ids answer 400 "chat not found"
        self.checker = SpecChecker()
        self.clock: Callable[[], float] = time.time  # message dates
        self.base_url = ""
        self.requests: list[Request] = []
        self.spec_errors: list[str] = []
        self.spec_warnings: list[str] = []
        self.webhook_url = ""
        self.webhook_secret = ""
        self.webhook_statuses: list[int] = []
        self.webhook_allowed_updates: list[str] | None = None
        self.webhook_max_connections = 40
        self.webhook_timeout = 10.0
        self.commands: dict[tuple[str, str], list[dict]] = {}
        self.menu_buttons: dict[int | None, dict] = {}  # by private chat; None: the default
        self.users: dict[int, FakeUser] = {}
        self.blocked_by: set[int] = set()
        self.flood_429s = 0
        self.chat_actions: list[tuple[int, str]] = []
        self.callback_answers: dict[str, dict] = {}
        self.files: dict[str, StoredFile] = {}
        self.downloads: list[str] = []  # file paths the bot downloaded
        self._updates: list[dict] = []  # pending for getUpdates: {"id", "update", "sticky"}
        self._all_updates: dict[int, dict] = {}
        self._update_ids = itertools.count(100_001)
        self._query_ids = itertools.count(5_170_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._polling_allowed: list[str] | None = None
        self._poll_generation = 0
        self._updates_signal = _Signal()
        self._changed = _Signal()
        self._version = 0
        self._messages: dict[int, dict[int, SentMessage]] = {}
        self._user_messages: dict[int, set[int]] = {}
        self._message_ids: dict[int, int] = {}
        self._queries: dict[str, dict] = {}
        self._faults: list[_Fault] = []
        self._raw_faults: list[_RawFault] = []
        self._delays: dict[tuple[str | None, int | None], float] = {}
        self._flood: _FloodConfig | None = None
        self._flood_window: deque[float] = deque()
        self._paid_window: deque[float] = deque()
        self.paid_broadcasts = 0  # messages accepted with allow_paid_broadcast
        self._buckets: dict[int, tuple[float, float]] = {}
        self._webhook_tasks: set[asyncio.Task] = set()
        self._webhook_sem: asyncio.Semaphore | None = None
        self._last_webhook_error: tuple[int, str] | None = None
        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None
        self._closing = False

    # -- lifecycle
    async def start(self) -> None:
        app = web.Application(client_max_size=DOCUMENT_LIMIT + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        self._client = ClientSession()
        self._webhook_sem = asyncio.Semaphore(self.webhook_max_connections)

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

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- users and updates
    def user(
        self,
        user_id: int,
        first_name: str = "Thu",
        *,
        phone: str | None = None,
        language_code: str = "vi",
        last_name: str | None = None,
        username: str | None = None,
    ) -> FakeUser:
        existing = self.users.get(user_id)
        if existing is not None:
            return existing
        created = FakeUser(
            self,
            user_id,
            first_name,
            phone=phone,
            language_code=language_code,
            last_name=last_name,
            username=username,
        )
        self.users[user_id] = created
        return created

    def group(self, chat_id: int = -1001234567890, title: str = "Tổ công tác HTSĐ") -> FakeGroup:
        return FakeGroup(self, chat_id, title)

    def push_update(self, update: dict) -> int:
        update_id = next(self._update_ids)
        full = {"update_id": update_id, **{k: v for k, v in update.items() if k != "update_id"}}
        self._all_updates[update_id] = full
        self._enqueue(full, sticky=False)
        return update_id

    def restart_update_ids(self, start: int = 100_001) -> None:
        """After a week without updates Telegram starts update ids again from a random number
        (Bot API, getUpdates); message ids in each chat keep counting as before."""
        self._update_ids = itertools.count(start)

    def redeliver(self, update_id: int) -> None:
        """Deliver that same update again (as Telegram does when it was not confirmed)."""
        self._enqueue(self._all_updates[update_id], sticky=True)

    def _enqueue(self, update: dict, *, sticky: bool) -> None:
        if self.webhook_url:
            allowed = self._allowed(self.webhook_allowed_updates)
            if _update_type(update) in allowed:
                self._start_webhook_delivery(update)
            return
        self._updates.append({"id": update["update_id"], "update": update, "sticky": sticky})
        self._updates_signal.notify()

    def _allowed(self, allowed: list[str] | None) -> set[str]:
        every = {f["name"] for f in self.checker.types["Update"]["fields"]} - {"update_id"}
        return set(allowed) if allowed else every - NOT_DEFAULT_UPDATES

    # -- fault injection
    def fail_next(
        self,
        count: int,
        status: int = 429,
        *,
        method: str | None = "sendMessage",
        retry_after: int | None = None,
        description: str = "",
        chat_id: int | None = None,
    ) -> None:
        """The next `count` calls of `method` (any method if None), to `chat_id` only if
        given, fail with `status` as Telegram answers it (JSON, retry_after for 429)."""
        if status == 429 and retry_after is None:
            retry_after = 1
        self._faults.append(_Fault(count, status, method, retry_after, description, chat_id))

    def fail_next_html(
        self,
        count: int = 1,
        status: int = 502,
        *,
        method: str | None = None,
        chat_id: int | None = None,
        body: bytes = PROXY_502_PAGE,
    ) -> None:
        """A reverse proxy in front of the Bot API answers with its HTML error page: the
        request never reached Telegram (nothing is sent, no update is consumed)."""
        self._raw_faults.append(
            _RawFault(count, method, chat_id, status, body, "text/html", after=False)
        )

    def garble_next(
        self, count: int = 1, *, method: str | None = "sendMessage", chat_id: int | None = None
    ) -> None:
        """Telegram handles the request (the message is delivered), but the answer arrives
        cut off (a proxy dropped the connection mid-body after a 200)."""
        self._raw_faults.append(
            _RawFault(count, method, chat_id, 200, b'{"ok":true,"result":{"message_id":',
                      "application/json", after=True)
        )

    def delay(self, seconds: float, method: str | None = None, *,
              chat_id: int | None = None) -> None:
        """Answer calls of `method` (any if None), to `chat_id` only if given, `seconds` late."""
        key = (method, chat_id)
        if seconds <= 0:
            self._delays.pop(key, None)
        else:
            self._delays[key] = seconds

    def enforce_flood_limits(
        self, per_second: int = 30, per_chat_per_second: float = 1.0, burst: int = 3
    ) -> None:
        self._flood = _FloodConfig(per_second, per_chat_per_second, burst)
        self._flood_window.clear()
        self._paid_window.clear()
        self._buckets.clear()

    def disable_flood_limits(self) -> None:
        self._flood = None

    # -- inspection
    def sent_to(self, chat_id: int) -> list[SentMessage]:
        msgs = self._messages.get(chat_id, {})
        return [msgs[k] for k in sorted(msgs) if not msgs[k].deleted]

    def calls(self, method: str) -> list[Request]:
        return [r for r in self.requests if r.method == method]

    async def wait_webhooks(self, timeout: float = 5.0) -> None:
        """Wait until every webhook delivery in flight has finished."""
        if self._webhook_tasks:
            await asyncio.wait_for(
                asyncio.gather(*list(self._webhook_tasks), return_exceptions=True), timeout
            )

    def bot_user(self) -> dict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Báo cáo (test)",
            "username": "baocao_test_bot",
        }

    # -- HTTP
    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            self.requests.append(Request(method, {}, time.monotonic(), 401, "Unauthorized"))
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        try:
            raw, files, form_keys = await self._read_body(request)
        except _Violation as e:
            self.spec_errors.append(f"{method}: {e.why}")
            self.requests.append(Request(method, {}, time.monotonic(), 400, e.description))
            return web.json_response(
                {"ok": False, "error_code": 400, "description": e.description}, status=400
            )
        fault = self._take_raw_fault(method, raw)
        if fault is not None and not fault.after:
            self.requests.append(Request(method, dict(raw), time.monotonic(), fault.status,
                                         "proxy error page"))
            return web.Response(body=fault.body, status=fault.status,
                                content_type=fault.content_type)
        status, body = await self._call(method, raw, files, form_keys)
        if fault is not None and status == 200:
            return web.Response(body=fault.body, status=200, content_type=fault.content_type)
        return web.json_response(body, status=status)

    def _take_raw_fault(self, method: str, raw: dict[str, Any]) -> _RawFault | None:
        name = self.checker.by_lower.get(method.lower(), method)
        for fault in self._raw_faults:
            if fault.method not in (None, name):
                continue
            if fault.chat_id is not None and str(raw.get("chat_id")) != str(fault.chat_id):
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._raw_faults.remove(fault)
            return fault
        return None

    async def _read_body(
        self, request: web.Request
    ) -> tuple[dict[str, Any], dict[str, UploadedFile], set[str]]:
        raw: dict[str, Any] = dict(request.query)
        form_keys = set(raw)
        files: dict[str, UploadedFile] = {}
        if not request.body_exists:
            return raw, files, form_keys
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _Violation("can't parse JSON body") from None
            if not isinstance(body, dict):
                raise _Violation("the JSON body must be an object")
            for key, value in body.items():
                # the real server reads a top-level JSON string like a form value ("42" is an
                # Integer, a JSON-serialized reply_markup is an object); typed values stay typed
                if isinstance(value, str):
                    form_keys.add(key)
                else:
                    form_keys.discard(key)
            raw.update(body)
            return raw, files, form_keys
        if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            post = await request.post()
            for key, value in post.items():
                if isinstance(value, web.FileField):
                    files[key] = UploadedFile(value.filename, value.file.read(), value.content_type)
                else:
                    raw[key] = value
                    form_keys.add(key)
            return raw, files, form_keys
        raise _Violation(f"unsupported Content-Type {request.content_type!r}")

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        for stored in self.files.values():
            if stored.path == path and stored.data is not None and \
                    len(stored.data) <= DOWNLOAD_LIMIT:
                self.downloads.append(path)
                return web.Response(body=stored.data, content_type="application/octet-stream")
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    async def _call(
        self,
        method_in: str,
        raw: dict[str, Any],
        files: dict[str, UploadedFile],
        form_keys: set[str],
        *,
        source: str = "http",
    ) -> tuple[int, dict]:
        req = Request(method_in, dict(raw), time.monotonic(), source=source)
        self.requests.append(req)
        try:
            name = self.checker.by_lower.get(method_in.lower())
            if name is None:
                self.spec_errors.append(f"{method_in}: no such method in the Bot API")
                raise _ApiError(404, "Not Found")
            req.method = name
            try:
                params, warnings = self.checker.check_method(name, raw, files, form_keys)
                self.spec_warnings.extend(warnings)
                req.params = params
                chat = params.get("chat_id")
                pause = max(
                    self._delays.get((m, c), 0.0) for m in (name, None) for c in (chat, None)
                )
                if pause:
                    await asyncio.sleep(pause)
                self._inject_fault(name, chat)
                handler = getattr(self, f"_m_{name}", None)
                if handler is None:
                    raise _ApiError(404, "Not Found")
                chat_id = params.get("chat_id")
                if isinstance(chat_id, int) and chat_id in self.blocked_by:
                    raise _ApiError(403, "Forbidden: bot was blocked by the user")
                if self._flood is not None and name in self.FLOOD_METHODS:
                    self._flood_check(chat_id if isinstance(chat_id, int) else None,
                                      paid=params.get("allow_paid_broadcast") is True)
                result = await handler(params)
            except _Violation as e:
                self.spec_errors.append(f"{name}: {e.why}")
                raise _ApiError(e.status, e.description) from None
            status, body = 200, {"ok": True, "result": result}
        except _ApiError as e:
            status, body = e.status, e.body()
            req.error = e.description
        except asyncio.CancelledError:
            req.status, req.error = 499, "client closed the request"
            raise
        req.status = status
        return status, body

    def _inject_fault(self, method: str, chat_id: Any = None) -> None:
        for fault in self._faults:
            if fault.chat_id is not None and fault.chat_id != chat_id:
                continue
            if fault.remaining > 0 and fault.method in (None, method):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                description = fault.description or _DEFAULT_DESCRIPTIONS.get(fault.status, "Error")
                if fault.status == 429 and not fault.description:
                    description = f"Too Many Requests: retry after {fault.retry_after}"
                raise _ApiError(fault.status, description, fault.retry_after)

    def _flood_check(self, chat_id: int | None, paid: bool = False) -> None:
        cfg = self._flood
        assert cfg is not None
        now = time.monotonic()
        window = self._paid_window if paid else self._flood_window
        limit = cfg.paid_per_second if paid else cfg.per_second
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= limit:
            self._too_many(max(1, math.ceil(window[0] + 1.0 - now)))
        if chat_id is not None:
            tokens, last = self._buckets.get(chat_id, (float(cfg.burst), now))
            tokens = min(float(cfg.burst), tokens + (now - last) * cfg.per_chat_per_second)
            if tokens < 1.0:
                self._buckets[chat_id] = (tokens, now)
                self._too_many(max(1, math.ceil((1.0 - tokens) / cfg.per_chat_per_second)))
            self._buckets[chat_id] = (tokens - 1.0, now)
        window.append(now)
        if paid:
            self.paid_broadcasts += 1

    def _too_many(self, retry_after: int) -> None:
        self.flood_429s += 1
        raise _ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    # -- webhook delivery
    def _start_webhook_delivery(self, update: dict) -> None:
        deliver = self._deliver(update, self.webhook_url, self.webhook_secret)
        task = asyncio.get_running_loop().create_task(deliver)
        self._webhook_tasks.add(task)
        task.add_done_callback(self._webhook_tasks.discard)

    async def _deliver(self, update: dict, url: str, secret: str) -> None:
        assert self._client is not None and self._webhook_sem is not None
        async with self._webhook_sem:
            headers = {"Content-Type": "application/json"}
            if secret:
                headers["X-Telegram-Bot-Api-Secret-Token"] = secret
            try:
                async with self._client.post(
                    url,
                    data=json.dumps(update, ensure_ascii=False).encode(),
                    headers=headers,
                    timeout=ClientTimeout(total=self.webhook_timeout),
                ) as resp:
                    self.webhook_statuses.append(resp.status)
                    if 200 <= resp.status < 300:
                        await self._webhook_reply(resp)
                    else:
                        self._last_webhook_error = (
                            self._now(),
                            f"Wrong response from the webhook: {resp.status} {resp.reason}",
                        )
            except (ClientError, TimeoutError) as e:
                self.webhook_statuses.append(0)
                self._last_webhook_error = (self._now(), f"Connection failed: {e}")

    async def _webhook_reply(self, resp: Any) -> None:
        """A webhook answer may carry one method call, as aiogram's handle_in_background=False
        does (multipart with a "method" part, or JSON with "method")."""
        raw: dict[str, Any] = {}
        files: dict[str, UploadedFile] = {}
        form_keys: set[str] = set()
        if resp.content_type == "multipart/form-data":
            reader = MultipartReader(resp.headers, resp.content)
            while (part := await reader.next()) is not None:
                if part.filename:
                    files[part.name] = UploadedFile(part.filename, bytes(await part.read()))
                else:
                    raw[part.name] = await part.text()
                    form_keys.add(part.name)
        elif resp.content_type == "application/json":
            with contextlib.suppress(ValueError):
                body = await resp.json()
                if isinstance(body, dict):
                    raw = body
        method = raw.pop("method", None)
        form_keys.discard("method")
        if method:
            await self._call(method, raw, files, form_keys, source="webhook-reply")

    # -- helpers for handlers
    def _now(self) -> int:
        return int(self.clock())

    def _next_message_id(self, chat_id: int) -> int:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def _bump(self, sm: SentMessage) -> None:
        self._version += 1
        sm.version = self._version
        self._changed.notify()

    def _chat(self, chat_id: int | str) -> int:
        if isinstance(chat_id, str):
            for u in self.users.values():
                if u.username and f"@{u.username}" == chat_id:
                    return u.id
            raise _ApiError(400, "Bad Request: chat not found")
        if self.strict_chats and chat_id not in self.users:
            raise _ApiError(400, "Bad Request: chat not found")
        return chat_id

    def _chat_json(self, chat_id: int) -> dict:
        u = self.users.get(chat_id)
        if u is not None:
            return u.as_chat()
        if chat_id > 0:
            return {"id": chat_id, "first_name": f"User {chat_id}", "type": "private"}
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "title": f"Chat {chat_id}", "type": kind}

    def _message_json(self, sm: SentMessage) -> dict:
        msg: dict[str, Any] = {
            "message_id": sm.message_id,
            "from": self.bot_user(),
            "chat": self._chat_json(sm.chat_id),
            "date": sm.date,
        }
        if sm.edit_date:
            msg["edit_date"] = sm.edit_date
        if sm.kind == "text":
            msg["text"] = sm.text
            if sm.entities:
                msg["entities"] = sm.entities
        else:
            stored = self.files[sm.file_id] if sm.file_id else None
            ids = {"file_id": sm.file_id, "file_unique_id": stored.file_unique_id if stored else ""}
            size = {"file_size": len(sm.data)} if sm.data is not None else {}
            if sm.kind == "document":
                msg["document"] = {
                    **ids,
                    "file_name": sm.filename,
                    "mime_type": sm.mime_type,
                    **size,
                }
            else:
                msg["photo"] = [
                    {**ids, "width": 90, "height": 90, **size},
                    {**ids, "width": 320, "height": 320, **size},
                ]
            if sm.caption:
                msg["caption"] = sm.caption
                if sm.caption_entities:
                    msg["caption_entities"] = sm.caption_entities
        if sm.inline_keyboard is not None:
            msg["reply_markup"] = {"inline_keyboard": sm.inline_keyboard}
        return msg

    def _store_file(
        self,
        filename: str | None,
        data: bytes | None,
        mime_type: str | None,
        *,
        kind: str,
        url: str | None = None,
    ) -> StoredFile:
        n = next(self._file_ids)
        prefix = "BQACAgUAAxkBAAI" if kind == "document" else "AgACAgUAAxkBAAI"
        mime = mime_type if mime_type and mime_type != "application/octet-stream" else None
        mime = mime or mimetypes.guess_type(filename or "")[0] or "application/octet-stream"
        ext = Path(filename or "").suffix or (".jpg" if kind == "photo" else "")
        stored = StoredFile(
            f"{prefix}{n:06d}fake",
            f"AgAD{n:06d}",
            filename,
            data,
            mime,
            url,
            f"{kind}s/file_{n}{ext}",
        )
        self.files[stored.file_id] = stored
        return stored

    def _render(
        self, text: str, parse_mode: str | None, entities: list | None
    ) -> tuple[str, list[dict]]:
        if entities:
            return text, entities
        try:
            return parse_entities(text, parse_mode)
        except EntityParseError as e:  # already caught by the spec check, kept for safety
            raise _Violation(f"can't parse entities: {e}") from None

    def _check_reply(self, chat_id: int, params: dict) -> None:
        reply = params.get("reply_parameters") or (
            {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply", False),
            }
            if "reply_to_message_id" in params
            else None
        )
        if not reply or reply.get("allow_sending_without_reply"):
            return
        target = reply["message_id"]
        exists = target in self._messages.get(chat_id, {}) or target in self._user_messages.get(
            chat_id, set()
        )
        if not exists:
            raise _ApiError(400, "Bad Request: message to be replied not found")

    def _new_message(self, chat_id: int, kind: str, params: dict, **fields: Any) -> SentMessage:
        markup = params.get("reply_markup")
        inline = markup.get("inline_keyboard") if isinstance(markup, dict) else None
        reply_kb = markup if isinstance(markup, dict) and inline is None else None
        sm = SentMessage(
            message_id=self._next_message_id(chat_id),
            text=None,
            inline_keyboard=inline,
            reply_keyboard=reply_kb,
            kind=kind,
            chat_id=chat_id,
            date=self._now(),
            **fields,
        )
        self._messages.setdefault(chat_id, {})[sm.message_id] = sm
        user = self.users.get(chat_id)
        if user is not None and reply_kb is not None:
            if "keyboard" in reply_kb:
                user.reply_keyboard = reply_kb
            elif reply_kb.get("remove_keyboard"):
                user.reply_keyboard = None
        self._bump(sm)
        return sm

    def _editable(self, params: dict) -> SentMessage:
        if "inline_message_id" in params:
            raise _ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        if "chat_id" not in params or "message_id" not in params:
            raise _Violation("chat_id and message_id (or inline_message_id) are required")
        chat_id = self._chat(params["chat_id"])
        sm = self._messages.get(chat_id, {}).get(params["message_id"])
        if sm is None or sm.deleted:
            if params["message_id"] in self._user_messages.get(chat_id, set()):
                raise _ApiError(400, "Bad Request: message can't be edited")
            raise _ApiError(400, "Bad Request: message to edit not found")
        return sm

    @staticmethod
    def _inline(params: dict) -> list[list[dict]] | None:
        markup = params.get("reply_markup")
        return markup.get("inline_keyboard") if isinstance(markup, dict) else None

    def _edited(self, sm: SentMessage) -> dict:
        sm.edits += 1
        sm.edit_date = self._now()
        self._bump(sm)
        return self._message_json(sm)

    def _file_param(self, value: UploadedFile | str, kind: str) -> tuple[StoredFile, bool]:
        if isinstance(value, UploadedFile):
            limit = DOCUMENT_LIMIT if kind == "document" else PHOTO_LIMIT
            if len(value.data) > limit:
                raise _Violation(f"{kind}: file of {len(value.data)} bytes is too big", status=413)
            if kind == "photo" and not value.data.startswith(_IMAGE_MAGIC):
                raise _Violation("photo: IMAGE_PROCESS_FAILED (not an image)")
            return self._store_file(value.filename, value.data, value.content_type, kind=kind), True
        if value in self.files:
            return self.files[value], False
        if value.startswith(("http://", "https://")):
            name = Path(urlsplit(value).path).name or None
            return self._store_file(name, None, None, kind=kind, url=value), False
        raise _Violation(f"{kind}: wrong file identifier/HTTP URL specified")

    # -- methods
    async def _m_getMe(self, p: dict) -> dict:
        return {
            **self.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _m_getUpdates(self, p: dict) -> list[dict]:
        if self.webhook_url:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = p.get("offset", 0)
        if offset > 0:
            self._updates = [u for u in self._updates if u["id"] >= offset or u["sticky"]]
        elif offset < 0:
            self._updates = self._updates[offset:]
        if "allowed_updates" in p:
            self._polling_allowed = p["allowed_updates"]
        limit = min(max(p.get("limit", 100), 1), 100)
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_signal.notify()  # an older long poll is terminated
        deadline = time.monotonic() + max(p.get("timeout", 0), 0)
        while True:
            allowed = self._allowed(self._polling_allowed)
            self._updates = [u for u in self._updates if _update_type(u["update"]) in allowed]
            batch = self._updates[:limit]
            if batch:
                for u in batch:
                    u["sticky"] = False
                return [u["update"] for u in batch]
            if self._closing:
                return []
            if generation != self._poll_generation:
                raise _ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure "
                    "that only one bot instance is running",
                )
            if self.webhook_url:
                raise _ApiError(409, "Conflict: terminated by setWebhook request")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            await self._updates_signal.wait(remaining)

    async def _m_setWebhook(self, p: dict) -> bool:
        if not p["url"]:
            return await self._m_deleteWebhook(p)
        if p.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook_url = p["url"]
        self.webhook_secret = p.get("secret_token", "")
        if "allowed_updates" in p:
            self.webhook_allowed_updates = p["allowed_updates"]
        self.webhook_max_connections = p.get("max_connections", 40)
        self._webhook_sem = asyncio.Semaphore(self.webhook_max_connections)
        self._updates_signal.notify()  # a pending getUpdates ends with 409
        pending, self._updates = self._updates, []
        for u in pending:
            self._enqueue(u["update"], sticky=False)
        return True

    async def _m_deleteWebhook(self, p: dict) -> bool:
        self.webhook_url = ""
        self.webhook_secret = ""
        if p.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _m_getWebhookInfo(self, p: dict) -> dict:
        if not self.webhook_url:
            return {
                "url": "",
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
        info: dict[str, Any] = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._webhook_tasks),
            "max_connections": self.webhook_max_connections,
            "ip_address": "127.0.0.1",
        }
        if self.webhook_allowed_updates:
            info["allowed_updates"] = self.webhook_allowed_updates
        if self._last_webhook_error:
            info["last_error_date"], info["last_error_message"] = self._last_webhook_error
        return info

    @staticmethod
    def _scope_key(p: dict) -> tuple[str, str]:
        scope = p.get("scope") or {"type": "default"}
        key = scope["type"]
        if "chat_id" in scope:
            key += f":{scope['chat_id']}"
        if "user_id" in scope:
            key += f":{scope['user_id']}"
        return key, p.get("language_code", "")

    async def _m_setMyCommands(self, p: dict) -> bool:
        key = self._scope_key(p)
        if p["commands"]:
            self.commands[key] = [dict(c) for c in p["commands"]]
        else:
            self.commands.pop(key, None)
        return True

    async def _m_getMyCommands(self, p: dict) -> list[dict]:
        return self.commands.get(self._scope_key(p), [])

    async def _m_deleteMyCommands(self, p: dict) -> bool:
        self.commands.pop(self._scope_key(p), None)
        return True

    async def _m_setChatMenuButton(self, p: dict) -> bool:
        chat_id = p.get("chat_id")
        if chat_id is not None and self._chat(chat_id) < 0:
            raise _ApiError(400, "Bad Request: chat_id must be a private chat")
        self.menu_buttons[chat_id] = dict(p.get("menu_button") or {"type": "default"})
        return True

    async def _m_getChatMenuButton(self, p: dict) -> dict:
        return self.menu_buttons.get(p.get("chat_id"), self.menu_buttons.get(
            None, {"type": "commands"}))

    async def _m_sendMessage(self, p: dict) -> dict:
        chat_id = self._chat(p["chat_id"])
        markup = p.get("reply_markup") or {}
        if chat_id < 0 and any("web_app" in b for row in markup.get("inline_keyboard") or []
                               for b in row):
            raise _Violation("BUTTON_TYPE_INVALID: web_app buttons only in private chats")
        self._check_reply(chat_id, p)
        text, entities = self._render(p["text"], p.get("parse_mode"), p.get("entities"))
        sm = self._new_message(
            chat_id,
            "text",
            p,
            entities=entities,
            raw_text=p["text"],
            parse_mode=p.get("parse_mode"),
        )
        sm.text = text
        return self._message_json(sm)

    async def _m_editMessageText(self, p: dict) -> dict:
        if "text" not in p:
            if "rich_message" in p:
                raise _ApiError(400, "Bad Request: rich messages are not supported by the fake")
            raise _Violation("text: required to edit a message's text")
        sm = self._editable(p)
        if sm.kind != "text":
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities = self._render(p["text"], p.get("parse_mode"), p.get("entities"))
        inline = self._inline(p)
        if text == sm.text and entities == sm.entities and inline == sm.inline_keyboard:
            raise _ApiError(400, NOT_MODIFIED)
        sm.text, sm.entities, sm.inline_keyboard = text, entities, inline
        sm.raw_text, sm.parse_mode = p["text"], p.get("parse_mode")
        return self._edited(sm)

    async def _m_editMessageCaption(self, p: dict) -> dict:
        sm = self._editable(p)
        if sm.kind == "text":
            raise _ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption, entities = self._render(
            p.get("caption", ""), p.get("parse_mode"), p.get("caption_entities")
        )
        inline = self._inline(p)
        if (caption or None) == sm.caption and inline == sm.inline_keyboard:
            raise _ApiError(400, NOT_MODIFIED)
        sm.caption, sm.caption_entities, sm.inline_keyboard = caption or None, entities, inline
        return self._edited(sm)

    async def _m_editMessageReplyMarkup(self, p: dict) -> dict:
        sm = self._editable(p)
        inline = self._inline(p)
        if inline == sm.inline_keyboard:
            raise _ApiError(400, NOT_MODIFIED)
        sm.inline_keyboard = inline
        return self._edited(sm)

    async def _m_deleteMessage(self, p: dict) -> bool:
        chat_id = self._chat(p["chat_id"])
        sm = self._messages.get(chat_id, {}).get(p["message_id"])
        if sm is not None and not sm.deleted:
            sm.deleted = True
            self._bump(sm)
            return True
        incoming = self._user_messages.get(chat_id, set())
        if p["message_id"] in incoming:
            incoming.discard(p["message_id"])
            return True
        raise _ApiError(400, "Bad Request: message to delete not found")

    async def _m_answerCallbackQuery(self, p: dict) -> bool:
        query_id = p["callback_query_id"]
        query = self._queries.get(query_id)
        if query is None:
            raise _Violation(
                f"callback_query_id {query_id!r} was never issued: {QUERY_TOO_OLD}",
                description=QUERY_TOO_OLD,
            )
        if query["answered"] is not None:
            raise _ApiError(400, QUERY_TOO_OLD)
        answer = {k: p[k] for k in ("text", "show_alert", "url", "cache_time") if k in p}
        query["answered"] = answer
        self.callback_answers[query_id] = answer
        user = self.users.get(query["user_id"])
        if user is not None:
            user.answers.append({"query_id": query_id, **answer})
        return True

    async def _send_file(self, p: dict, kind: str) -> dict:
        chat_id = self._chat(p["chat_id"])
        self._check_reply(chat_id, p)
        stored, uploaded = self._file_param(p[kind], kind)
        caption, entities = self._render(
            p.get("caption", ""), p.get("parse_mode"), p.get("caption_entities")
        )
        sm = self._new_message(
            chat_id,
            kind,
            p,
            filename=stored.filename,
            data=stored.data,
            caption=caption or None,
            caption_entities=entities,
            url=stored.url,
            file_id=stored.file_id,
            mime_type=stored.mime_type,
            parse_mode=p.get("parse_mode"),
        )
        return self._message_json(sm)

    async def _m_sendDocument(self, p: dict) -> dict:
        return await self._send_file(p, "document")

    async def _m_sendPhoto(self, p: dict) -> dict:
        return await self._send_file(p, "photo")

    async def _m_sendChatAction(self, p: dict) -> bool:
        self.chat_actions.append((self._chat(p["chat_id"]), p["action"]))
        return True

    async def _m_getFile(self, p: dict) -> dict:
        stored = self.files.get(p["file_id"])
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        # "For the moment, bots can download files of up to 20MB in size" (getFile).
        if stored.data is not None and len(stored.data) > DOWNLOAD_LIMIT:
            raise _ApiError(400, "Bad Request: file is too big")
        out: dict[str, Any] = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        if stored.data is not None:
            out["file_size"] = len(stored.data)
            out["file_path"] = stored.path
        return out


def _update_type(update: dict) -> str:
    return next((k for k in update if k != "update_id"), "")
