"""One-time sign-in links to the web console: a random token in the URL, only its hash in the
database, ten minutes to use it, once.

Made for `/web` in chat (the shell makes the token, the engine hands it out) and for
`baocao web link --phone …` at the terminal."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.log_safety import hide
from bot.storage.models import WebLink
from conversations.context import WebLinkView

LINK_LIFETIME = timedelta(minutes=10)
LINK_PATH = "/web/l/"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class WebLinks:
    """Makes links under the console's public address."""

    public_url: str
    timezone: str = "Asia/Ho_Chi_Minh"
    lifetime: timedelta = LINK_LIFETIME

    def prepare(self, now: datetime) -> WebLinkView:
        """A fresh link, not stored yet (the IssueWebLink effect stores it with the reply)."""
        token = secrets.token_urlsafe(32)
        hide(token)
        return WebLinkView(f"{self.public_url.rstrip('/')}{LINK_PATH}{token}", token_hash(token),
                           now + self.lifetime, self.timezone)

    async def create(self, session: AsyncSession, contact_id: int, now: datetime
                     ) -> WebLinkView:
        link = self.prepare(now)
        store(session, contact_id, link.token_hash, link.expires_at, now)
        return link


def store(session: AsyncSession, contact_id: int, hashed: str, expires_at: datetime,
          now: datetime) -> None:
    session.add(WebLink(token_hash=hashed, contact_id=contact_id, created_at=now,
                        expires_at=expires_at))
