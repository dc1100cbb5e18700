"""Who is signed in: one-time links become sessions, sessions live in a signed cookie, every
form carries a CSRF token, and failed sign-ins are throttled per address.

The cookie holds a random session token and its HMAC under BAOCAO_WEB_SECRET; the database
keeps only the token's hash, so neither a stolen database nor a forged cookie signs anyone in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.log_safety import hide
from bot.storage.models import Contact, WebLink, WebSession
from bot.web.links import token_hash

SESSION_LIFETIME = timedelta(hours=8)
COOKIE = "baocao_web"
PRE_COOKIE = "baocao_web_pre"  # ties the sign-in form to the browser that showed it
ROLES = frozenset({"coordinator", "admin"})  # the console's board and units
# A reporter signs in too, for the form page only (bot/web/form_pages.py); the console's
# pages refuse them (server.Console._page).
SIGN_IN_ROLES = ROLES | {"reporter"}


class Signer:
    """HMACs under the console's secret: cookie signatures and CSRF tokens."""

    def __init__(self, secret: str) -> None:
        self.key = hashlib.sha256(f"baocao-web:{secret}".encode()).digest()

    def sign(self, purpose: str, value: str) -> str:
        return hmac.new(self.key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    def check(self, purpose: str, value: str, signature: str) -> bool:
        return hmac.compare_digest(self.sign(purpose, value), signature or "")

    def cookie(self, token: str) -> str:
        return f"{token}.{self.sign('session', token)}"

    def token_of(self, cookie: str | None) -> str | None:
        """The session token of a cookie whose signature holds; None otherwise."""
        if not cookie or "." not in cookie:
            return None
        token, _, signature = cookie.rpartition(".")
        return token if token and self.check("session", token, signature) else None

    def csrf(self, token: str) -> str:
        return self.sign("csrf", token)[:40]


# ----------------------------------------------------------------------------- links

LinkProblem = str  # "unknown" | "expired" | "used"


async def link_problem(session: AsyncSession, token: str, now: datetime) -> LinkProblem | None:
    """Why a link cannot sign in (unknown, expired, used), or None when it can."""
    link = await session.scalar(select(WebLink).where(WebLink.token_hash == token_hash(token)))
    if link is None:
        return "unknown"
    if link.used_at is not None:
        return "used"
    if link.expires_at <= now:
        return "expired"
    contact = await session.get(Contact, link.contact_id)
    if contact is None or not contact.active or contact.role not in SIGN_IN_ROLES:
        return "unknown"
    return None


async def link_role(session: AsyncSession, token: str) -> str:
    """The role of whom a link signs in ("" if none): the sign-in page says what it opens."""
    role = await session.scalar(select(Contact.role).join(
        WebLink, WebLink.contact_id == Contact.id).where(WebLink.token_hash == token_hash(token)))
    return role or ""


async def use_link(session: AsyncSession, token: str, now: datetime
                   ) -> tuple[str, str] | LinkProblem:
    """Spend the link (once, even with two tabs racing) and open a session: (session token,
    language), or why not."""
    problem = await link_problem(session, token, now)
    if problem is not None:
        return problem
    claimed = await session.execute(
        update(WebLink).where(WebLink.token_hash == token_hash(token), WebLink.used_at.is_(None))
        .values(used_at=now).returning(WebLink.contact_id))
    contact_id = claimed.scalar()
    if contact_id is None:
        return "used"
    contact = await session.get(Contact, contact_id)
    assert contact is not None
    session_token = secrets.token_urlsafe(32)
    hide(session_token)
    session.add(WebSession(token_hash=token_hash(session_token), contact_id=contact_id,
                           language=contact.language or "vi", created_at=now,
                           expires_at=now + SESSION_LIFETIME, flash=""))
    return session_token, contact.language or "vi"


# ----------------------------------------------------------------------------- sessions

@dataclass(frozen=True)
class Visitor:
    """A signed-in coordinator (or reporter, for the form page), as a request sees them."""

    session_id: int
    token: str
    contact_id: int
    name: str
    role: str
    language: str
    expires_at: datetime
    flash: str = ""


async def visitor(session: AsyncSession, token: str | None, now: datetime) -> Visitor | None:
    """The coordinator a session token belongs to, while it is valid and they still
    coordinate; None otherwise."""
    if not token:
        return None
    row = (await session.execute(
        select(WebSession, Contact).join(Contact, Contact.id == WebSession.contact_id)
        .where(WebSession.token_hash == token_hash(token)))).first()
    if row is None:
        return None
    web_session, contact = row
    if web_session.ended_at is not None or web_session.expires_at <= now:
        return None
    if not contact.active or contact.role not in SIGN_IN_ROLES:
        return None
    return Visitor(web_session.id, token, contact.id, contact.name, contact.role,
                   web_session.language, web_session.expires_at, web_session.flash)


async def end(session: AsyncSession, session_id: int, now: datetime) -> None:
    await session.execute(update(WebSession).where(WebSession.id == session_id)
                          .values(ended_at=now))


async def set_language(session: AsyncSession, session_id: int, language: str) -> None:
    await session.execute(update(WebSession).where(WebSession.id == session_id)
                          .values(language=language))


async def set_flash(session: AsyncSession, session_id: int, text: str) -> None:
    await session.execute(update(WebSession).where(WebSession.id == session_id)
                          .values(flash=text))


# ----------------------------------------------------------------------------- throttle

class Throttle:
    """At most `limit` failed sign-ins per address in `window`; then further wrong tokens from
    it are refused (a valid link never is). In memory, per instance: a link is 256 random
    bits, this only stops hammering."""

    def __init__(self, limit: int = 10, window: timedelta = timedelta(minutes=15)) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[datetime]] = defaultdict(deque)

    def _recent(self, address: str, now: datetime) -> deque[datetime]:
        times = self._failures[address]
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def blocked(self, address: str, now: datetime) -> bool:
        blocked = len(self._recent(address, now)) >= self.limit
        if not self._failures[address]:
            del self._failures[address]
        return blocked

    def failed(self, address: str, now: datetime) -> None:
        self._recent(address, now).append(now)
        if len(self._failures) > 10_000:  # forget the oldest addresses first
            for stale in list(self._failures)[:1000]:
                del self._failures[stale]
