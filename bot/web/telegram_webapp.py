"""Signing in from the Telegram Mini App: the page Telegram opens (`GET /web/tg`) posts the
Mini App's `initData`; `POST /web/tg` checks it with the bot token and opens the same web
session as a one-time link gives, for the contact bound to that Telegram account.

Nothing to leak: `initData` is signed by Telegram for this bot only and is taken for
MAX_AGE after Telegram made it (aiogram checks the signature, not the age). aiogram is
imported only here, when a Telegram token is configured: a Zalo-only console runs without it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.log_safety import hide
from bot.storage.models import Contact, Identity, WebSession
from bot.web.auth import COOKIE, ROLES, SESSION_LIFETIME
from bot.web.links import token_hash
from conversations.i18n import SUPPORTED, Tr

if TYPE_CHECKING:
    from bot.web.server import Console

MAX_AGE = timedelta(minutes=5)
SKEW = timedelta(seconds=30)  # a phone's clock a little ahead of ours is not "the future"
PATH = "/web/tg"
FORM_PAGE, CONSOLE_PAGE = "/web/form/", "/web/"
NEXT_PAGES = ("form", "console")
# telegram-web-app.js is Telegram's; this page alone may load it.
PAGE_CSP = ("default-src 'none'; script-src 'self' https://telegram.org; style-src 'self'; "
            "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
            "base-uri 'none'")

Refusal = str  # "tampered" | "stale" | "unknown_person"

MESSAGES: dict[str, Callable[[Tr], tuple[str, str]]] = {
    "tampered": lambda tr: (tr("This sign-in from Telegram could not be checked."), tr(
        "Please close this window and open it again from the button in the bot's chat.")),
    "stale": lambda tr: (tr("This sign-in from Telegram has expired."), tr(
        "It works for 5 minutes after the window is opened. Please close this window and "
        "open it again from the button in the bot's chat.")),
    "unknown_person": lambda tr: (tr("This Telegram account is not signed in to the bot."), tr(
        "Please send the bot your invite code in a private chat first, then open this "
        "window again.")),
    "no_script": lambda tr: (tr("Opening from Telegram…"), tr(
        "This page signs you in when it is opened from the button in the bot's chat on "
        "Telegram. Elsewhere, send /web to the bot for a sign-in link.")),
}


def routes(console: Console) -> list[web.RouteDef]:
    """The Mini App's page and its sign-in, for the console's route list."""
    signin = TelegramSignIn(console)
    return [web.get("/tg", signin.page), web.post("/tg", signin.sign_in)]


def web_app_base(public_url: str, console_on: bool) -> str:
    """Where Web App buttons open the console, or "" when they cannot: the console off, or an
    address Telegram does not open (it takes https only; plain http only on this machine,
    for tests against the fake Bot API)."""
    parts = urlsplit(public_url)
    local = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
    if not console_on or not (parts.scheme == "https" or local):
        return ""
    return public_url.rstrip("/")


def web_app_url(public_url: str, page: str) -> str:
    """The URL a Web App button or the menu button opens: this page, then `page`."""
    return f"{public_url.rstrip('/')}{PATH}?next={page}"


def check_init_data(token: str, init_data: str, now: datetime) -> int | Refusal:
    """The Telegram user id that `init_data` signs in, or why it is refused: a signature not
    made with this bot's token (tampered, another bot's), or older than MAX_AGE (or ahead of
    our clock)."""
    from aiogram.utils.web_app import safe_parse_webapp_init_data

    try:
        data = safe_parse_webapp_init_data(token, init_data)
    except ValueError:  # a wrong signature, or signed but not the shape Telegram sends
        return "tampered"
    if data.user is None:
        return "tampered"
    made = data.auth_date if data.auth_date.tzinfo else data.auth_date.replace(tzinfo=UTC)
    if made < now - MAX_AGE or made > now + SKEW:
        return "stale"
    return data.user.id


async def open_session(session: AsyncSession, telegram_user_id: int, now: datetime
                       ) -> tuple[str, str] | None:
    """A web session for the active contact this Telegram account is bound to: (session
    token, role); None when the account is no contact's."""
    contact = await session.scalar(
        select(Contact).join(Identity, Identity.contact_id == Contact.id)
        .where(Identity.channel == "telegram",
               Identity.external_user_id == str(telegram_user_id)))
    if contact is None or not contact.active:
        return None
    token = secrets.token_urlsafe(32)
    hide(token)
    session.add(WebSession(token_hash=token_hash(token), contact_id=contact.id,
                           language=contact.language or "vi", created_at=now,
                           expires_at=now + SESSION_LIFETIME, flash=""))
    return token, contact.role


class TelegramSignIn:
    """`GET /web/tg` and `POST /web/tg`, answered 404 when no Telegram token is configured."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def _token(self) -> str:
        if not self.console.telegram_token:
            raise web.HTTPNotFound()
        return self.console.telegram_token

    def _texts(self, why: str) -> list[tuple[str, str]]:
        return [MESSAGES[why](self.console.catalog.tr(lang)) for lang in SUPPORTED]

    def _refuse(self, request: web.Request, status: int, why: str) -> web.Response:
        texts = self._texts(why)
        return aiohttp_jinja2.render_template(
            "message.html", request, {"texts": texts, "signed_in": False,
                                      "title": texts[0][0]}, status=status)

    async def page(self, request: web.Request) -> web.Response:
        """What the Mini App opens: Telegram's script hands our script the initData, which
        it posts at once. Without a script the page says where to open it from."""
        self._token()
        target = request.query.get("next", "")
        texts = self._texts("no_script")
        response = aiohttp_jinja2.render_template(
            "telegram.html", request, {"texts": texts, "title": texts[0][0],
                                       "next": target if target in NEXT_PAGES else "form"})
        response.headers["Content-Security-Policy"] = PAGE_CSP
        return response

    async def sign_in(self, request: web.Request) -> web.Response:
        token = self._token()
        console = self.console
        now = console.clock()
        address = console._address(request)
        if console.throttle.blocked(address, now):
            return console._message(request, 429, "throttled")
        form = await request.post()
        checked = check_init_data(token, str(form.get("init_data", "")), now)
        if isinstance(checked, str):
            console.throttle.failed(address, now)
            return self._refuse(request, 403, checked)
        async with console.sessions() as session, session.begin():
            opened = await open_session(session, checked, now)
        if opened is None:
            return self._refuse(request, 403, "unknown_person")
        session_token, role = opened
        # Coordinators go to the board (whatever button they pressed); reporters only ever
        # to their form.
        target = CONSOLE_PAGE if role in ROLES else FORM_PAGE
        response = web.Response(status=303, headers={"Location": target})
        response.set_cookie(COOKIE, console.signer.cookie(session_token),
                            max_age=int(SESSION_LIFETIME.total_seconds()), path="/web",
                            httponly=True, samesite="Lax", secure=console.secure)
        return response
