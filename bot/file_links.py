"""Expiring, single-use, signed download links to export files (Zalo has no documents).

A link is /files/<token>?exp=<unix time>&sig=<HMAC of token and expiry>. The signature refuses
forged or altered links without touching the database; the row makes each link work once."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from pathlib import Path

from aiohttp import web
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.models import FileLink

CONTENT_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv; charset=utf-8",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".png": "image/png",
}


class FileLinks:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], public_url: str, key: bytes,
                 clock, lifetime: timedelta = timedelta(hours=24)) -> None:  # noqa: ANN001
        self.sessions = sessions
        self.public_url = public_url.rstrip("/")
        self.key = key
        self.clock = clock
        self.lifetime = lifetime

    def _sign(self, token: str, expires: int) -> str:
        return hmac.new(self.key, f"{token}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    async def create(self, session: AsyncSession, path: Path, filename: str) -> str:
        now = self.clock()
        expires = now + self.lifetime
        token = secrets.token_urlsafe(24)
        session.add(FileLink(token=token, path=str(path), filename=filename, expires_at=expires,
                             created_at=now))
        stamp = int(expires.timestamp())
        return f"{self.public_url}/files/{token}?exp={stamp}&sig={self._sign(token, stamp)}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        try:
            stamp = int(request.query.get("exp", ""))
        except ValueError:
            return web.Response(status=403, text="Link không hợp lệ.")
        # Compared as bytes: compare_digest refuses a str with non-ASCII characters.
        given = request.query.get("sig", "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(self._sign(token, stamp).encode(), given):
            return web.Response(status=403, text="Link không hợp lệ.")
        now = self.clock()
        if now.timestamp() > stamp:
            return web.Response(status=410, text="Link đã hết hạn. Vui lòng xuất lại tệp.")
        async with self.sessions() as session, session.begin():
            link = await session.scalar(select(FileLink).where(FileLink.token == token))
            if link is None:
                return web.Response(status=404, text="Không tìm thấy tệp.")
            claimed = await session.execute(
                update(FileLink).where(FileLink.id == link.id, FileLink.used_at.is_(None))
                .values(used_at=now))
            if claimed.rowcount != 1:
                return web.Response(status=410, text="Link này đã được dùng. Vui lòng xuất lại "
                                                     "tệp.")
            path, filename = Path(link.path), link.filename
        if not path.exists():
            return web.Response(status=404, text="Không tìm thấy tệp.")
        content_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
        return web.Response(body=path.read_bytes(), content_type=content_type.split(";")[0],
                            charset="utf-8" if "charset" in content_type else None,
                            headers={"Content-Disposition":
                                     f'attachment; filename="{filename}"'})

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/files/{token}", self.handle)
