"""Expiring, single-use, signed download links to export files (Zalo has no documents).

A link is /files/<token>?exp=<unix time>&sig=<HMAC of token and expiry>. The signature refuses
forged or altered links without touching the database; the row makes each link work once.

Messengers and phones fetch a link to show a preview before the person taps it, so opening the
link (GET) only shows a small page with a download button; the download itself (`&dl=1`) is
the one use. HEAD never uses a link. Images are the exception: they are links only for Zalo's
sendPhoto, which the platform fetches itself, so their GET is the download."""

from __future__ import annotations

import hashlib
import hmac
import html
import secrets
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.log_safety import hide
from bot.storage.models import FileLink
from conversations.i18n import Catalog, Tr

CONTENT_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv; charset=utf-8",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".png": "image/png",
}
SERVED_DIRECTLY = frozenset({".png"})  # fetched by the messenger for sendPhoto
MESSAGES = {
    "invalid": lambda tr: tr("This link is not valid."),
    "expired": lambda tr: tr("This link has expired. Please export the file again."),
    "used": lambda tr: tr("This link has already been used. Please export the file again."),
    "missing": lambda tr: tr("The file was not found. Please export it again."),
}
NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}
PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="robots" content="noindex, nofollow">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;
line-height:1.5}} a.button{{display:inline-block;padding:.8rem 1.6rem;background:#0068ff;
color:#fff;border-radius:.5rem;text-decoration:none;font-size:1.2rem}} .en{{color:#666}}</style>
</head><body>
<h1>{title}</h1>
{body}
</body></html>
"""


class FileLinks:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], public_url: str, key: bytes,
                 clock, lifetime: timedelta = timedelta(hours=24),  # noqa: ANN001
                 catalog: Catalog | None = None, zone: str = "Asia/Ho_Chi_Minh") -> None:
        self.sessions = sessions
        self.public_url = public_url.rstrip("/")
        self.key = key
        self.clock = clock
        self.lifetime = lifetime
        self.catalog = catalog or Catalog()
        self.zone = ZoneInfo(zone)

    def _sign(self, token: str, expires: int) -> str:
        return hmac.new(self.key, f"{token}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    async def create(self, session: AsyncSession, path: Path, filename: str) -> str:
        now = self.clock()
        expires = now + self.lifetime
        token = secrets.token_urlsafe(24)
        hide(token)
        session.add(FileLink(token=token, path=str(path), filename=filename, expires_at=expires,
                             created_at=now))
        stamp = int(expires.timestamp())
        return f"{self.public_url}/files/{token}?exp={stamp}&sig={self._sign(token, stamp)}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        head = request.method == "HEAD"
        try:
            stamp = int(request.query.get("exp", ""))
        except ValueError:
            return self._page(403, "invalid")
        # Compared as bytes: compare_digest refuses a str with non-ASCII characters.
        given = request.query.get("sig", "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(self._sign(token, stamp).encode(), given):
            return self._page(403, "invalid")
        hide(token)  # signed: it is looked up, and SQL logged at DEBUG names it
        now = self.clock()
        if now.timestamp() > stamp:
            return self._page(410, "expired")
        async with self.sessions() as session:
            link = await session.scalar(select(FileLink).where(FileLink.token == token))
        if link is None or not Path(link.path).exists():
            return self._page(404, "missing")
        if link.used_at is not None:
            return self._page(410, "used")
        path, filename = Path(link.path), link.filename
        download = request.query.get("dl") == "1" or path.suffix in SERVED_DIRECTLY
        if head:  # what a GET would answer, without using the link
            return web.Response(status=200, headers=NO_STORE,
                                content_type=_content_type(path) if download else "text/html")
        if not download:
            return self._download_page(request, filename, stamp)
        async with self.sessions() as session, session.begin():
            claimed = await session.execute(
                update(FileLink).where(FileLink.id == link.id, FileLink.used_at.is_(None))
                .values(used_at=now))
        if claimed.rowcount != 1:
            return self._page(410, "used")
        content_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
        disposition = "inline" if path.suffix in SERVED_DIRECTLY else "attachment"
        return web.Response(body=path.read_bytes(), content_type=content_type.split(";")[0],
                            charset="utf-8" if "charset" in content_type else None,
                            headers={**NO_STORE, "Content-Disposition":
                                     f'{disposition}; filename="{_ascii(filename)}"'})

    def _download_page(self, request: web.Request, filename: str, stamp: int
                       ) -> web.Response:
        until = _local(stamp, self.zone)
        vi, en = (_page_texts(self.catalog.tr(lang), until) for lang in ("vi", "en"))
        href = html.escape(f"{request.path}?{request.query_string}&dl=1")
        body = (f'<p>{html.escape(vi[0])}</p>\n'
                f'<p><a href="{href}" class="button" rel="nofollow" download>'
                f'{html.escape(vi[1])}</a></p>\n'
                f'<p class="en">{html.escape(en[0])} {html.escape(en[1])}: '
                f'{html.escape(filename)}</p>')
        return web.Response(text=PAGE.format(title=html.escape(filename), body=body),
                            content_type="text/html", headers=NO_STORE)

    def _page(self, status: int, why: str) -> web.Response:
        vi, en = (MESSAGES[why](self.catalog.tr(lang)) for lang in ("vi", "en"))
        body = f'<p>{html.escape(vi)}</p>\n<p class="en">{html.escape(en)}</p>'
        return web.Response(status=status, text=PAGE.format(title="baocao", body=body),
                            content_type="text/html", headers=NO_STORE)

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/files/{token}", self.handle)  # HEAD too (aiohttp's allow_head)


def _page_texts(tr: Tr, until: str) -> tuple[str, str]:
    return tr("The download works once, until {time}.", time=until), tr("Download")


def _content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix, "application/octet-stream").split(";")[0]


def _ascii(filename: str) -> str:
    return "".join(c if c.isascii() and c not in '"\\' else "_" for c in filename)


def _local(stamp: int, zone: ZoneInfo) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(stamp, zone).strftime("%H:%M %d/%m/%Y")
