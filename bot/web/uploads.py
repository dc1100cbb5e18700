"""One-time upload pages: how a person on a messenger that cannot send the bot a file (Zalo)
sends back a filled-in Excel file.

A link is /uploads/<token>?exp=<unix time>&sig=<HMAC>, signed like the download links of
bot/web/file_links.py (same key, same checks, same page style) and tied to the chat it was sent
to. Opening it (GET, HEAD: the preview a messenger fetches too) only shows the form; a file
posted to it (at most 20 MB, an .xlsx) is read first, on the page's request: a file that cannot
be read is refused there with why, and the link stays usable; a file read uses it, once, and is
handled exactly as a file sent in that chat: stored, answered in the chat.
"""

from __future__ import annotations

import html
import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePath
from zoneinfo import ZoneInfo

from aiohttp import BodyPartReader, web
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.log_safety import hide
from bot.storage.models import UploadLink
from bot.web.file_links import NO_STORE, PAGE, FileLinks
from conversations.events import InboundEvent
from conversations.i18n import Catalog, Tr
from conversations.uploaded_workbook import MAX_FILE_BYTES, UploadedWorkbook
from conversations.workbook_problems import FILE_PROBLEMS, problem_text

# Called with (the chat's event the file stands for, the saved file, its name, the file as
# read).
OnUpload = Callable[[InboundEvent, Path, str, UploadedWorkbook], Awaitable[None]]
ReadWorkbook = Callable[[Path, str], Awaitable[UploadedWorkbook]]
UPLOAD_STYLE = ("<style>form{margin:1.5rem 0}input[type=file]{font-size:1.1rem;margin:.5rem 0 "
                "1rem}button{padding:.8rem 1.6rem;background:#0068ff;color:#fff;border:0;"
                "border-radius:.5rem;font-size:1.2rem}</style>")


class UploadLinks:
    def __init__(self, links: FileLinks, files_dir: Path, catalog: Catalog,
                 on_upload: OnUpload | None = None, read: ReadWorkbook | None = None) -> None:
        self.links = links  # the signing key, clock, lifetime and public address
        self.sessions: async_sessionmaker[AsyncSession] = links.sessions
        self.files_dir = files_dir
        self.catalog = catalog
        self.on_upload = on_upload
        if read is None:
            from bot.spreadsheets.workbook_worker import read_isolated as read
        self.read = read

    @property
    def lifetime(self) -> timedelta:
        return self.links.lifetime

    async def create(self, session: AsyncSession, channel: str, chat_id: str,
                     user_id: str) -> str:
        now = self.links.clock()
        expires = now + self.links.lifetime
        token = secrets.token_urlsafe(24)
        hide(token)
        session.add(UploadLink(token=token, channel=channel, chat_id=chat_id, user_id=user_id,
                               expires_at=expires, created_at=now))
        stamp = int(expires.timestamp())
        return (f"{self.links.public_url}/uploads/{token}?exp={stamp}"
                f"&sig={self.links._sign(f'upload:{token}', stamp)}")  # noqa: SLF001

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/uploads/{token}", self.page)  # HEAD too
        app.router.add_post("/uploads/{token}", self.receive)

    async def _usable(self, request: web.Request) -> tuple[UploadLink | None, str]:
        token = request.match_info["token"]
        try:
            stamp = int(request.query.get("exp", ""))
        except ValueError:
            return None, "invalid"
        expected = self.links._sign(f"upload:{token}", stamp)  # noqa: SLF001
        if not secrets.compare_digest(expected, request.query.get("sig", "")):
            return None, "invalid"
        hide(token)  # signed: it is looked up, and SQL logged at DEBUG names it
        if self.links.clock().timestamp() > stamp:
            return None, "expired"
        async with self.sessions() as session:
            link = await session.scalar(select(UploadLink).where(UploadLink.token == token))
        if link is None:
            return None, "invalid"
        if link.used_at is not None:
            return None, "used"
        return link, ""

    async def page(self, request: web.Request) -> web.Response:
        link, why = await self._usable(request)
        if link is None:
            return self._message(410 if why in ("expired", "used") else 403, why)
        until = _local(link.expires_at, self.links.zone)
        vi, en = (_page_texts(self.catalog.tr(lang), until) for lang in ("vi", "en"))
        action = html.escape(f"{request.path}?{request.query_string}")
        body = (f"{UPLOAD_STYLE}<p>{html.escape(vi[0])}</p>\n"
                f'<form method="post" action="{action}" enctype="multipart/form-data">'
                f'<input type="file" name="file" accept=".xlsx,application/vnd.openxmlformats-'
                f'officedocument.spreadsheetml.sheet" required><br>'
                f'<button type="submit">{html.escape(vi[1])}</button></form>\n'
                f'<p class="en">{html.escape(en[0])}</p>')
        return web.Response(text=PAGE.format(title=html.escape(vi[2]), body=body),
                            content_type="text/html", headers=NO_STORE)

    async def receive(self, request: web.Request) -> web.Response:
        link, why = await self._usable(request)
        if link is None:
            return self._message(410 if why in ("expired", "used") else 403, why)
        try:
            saved = await self._save(request)
        except _Refused as refused:
            return self._message(refused.status, refused.why)
        path, file_name = saved
        upload = await self.read(path, file_name)  # before the link is used: a bad file
        if upload.problem in FILE_PROBLEMS:        # leaves it usable for the right one
            path.unlink(missing_ok=True)
            return self._unread(upload)
        now = self.links.clock()
        async with self.sessions() as session, session.begin():
            claimed = await session.execute(
                update(UploadLink).where(UploadLink.id == link.id, UploadLink.used_at.is_(None))
                .values(used_at=now))
        if claimed.rowcount != 1:
            return self._message(410, "used")
        if self.on_upload is not None:
            event = InboundEvent(channel=link.channel, chat_id=link.chat_id,
                                 user_id=link.user_id, message_id=f"upload:{link.token}",
                                 kind="workbook", received_at=now, file_name=file_name)
            await self.on_upload(event, path, file_name, upload)
        return self._message(200, "received")

    async def _save(self, request: web.Request) -> tuple[Path, str]:
        """The posted file, on disk; refused (link unused) when it is no .xlsx or too big."""
        if not request.content_type.startswith("multipart/"):
            raise _Refused(400, "no_file")
        reader = await request.multipart()
        part = await reader.next()
        while part is not None and not (isinstance(part, BodyPartReader) and part.filename):
            part = await reader.next()
        if part is None or not isinstance(part, BodyPartReader):
            raise _Refused(400, "no_file")
        file_name = PurePath(part.filename or "").name or "file.xlsx"
        if not file_name.lower().endswith(".xlsx"):
            raise _Refused(415, "not_xlsx")
        folder = self.files_dir / uuid.uuid4().hex
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / ("upload-" + "".join(c if c.isascii() and (c.isalnum() or c in ".-_")
                                              else "-" for c in file_name)[:80])
        size = 0
        with path.open("wb") as out:
            while chunk := await part.read_chunk(64 * 1024):
                size += len(chunk)
                if size > MAX_FILE_BYTES:
                    out.close()
                    path.unlink(missing_ok=True)
                    raise _Refused(413, "too_big")
                out.write(chunk)
        if size == 0:
            path.unlink(missing_ok=True)
            raise _Refused(400, "no_file")
        return path, file_name

    def _message(self, status: int, why: str) -> web.Response:
        vi, en = (MESSAGES[why](self.catalog.tr(lang)) for lang in ("vi", "en"))
        body = f'<p>{html.escape(vi)}</p>\n<p class="en">{html.escape(en)}</p>'
        return web.Response(status=status, text=PAGE.format(title="baocao", body=body),
                            content_type="text/html", headers=NO_STORE)


    def _unread(self, upload: UploadedWorkbook) -> web.Response:
        """What is wrong with the file, in both languages; the link can still be used."""
        texts = [problem_text(tr, upload) + " " + tr("The link can still be used: please go "
                                                     "back and choose the corrected file.")
                 for tr in (self.catalog.tr(lang) for lang in ("vi", "en"))]
        body = f'<p>{html.escape(texts[0])}</p>\n<p class="en">{html.escape(texts[1])}</p>'
        return web.Response(status=422, text=PAGE.format(title="baocao", body=body),
                            content_type="text/html", headers=NO_STORE)


class _Refused(Exception):
    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status, self.why = status, why


MESSAGES = {
    "invalid": lambda tr: tr("This link is not valid."),
    "expired": lambda tr: tr("This upload link has expired. Please ask the bot for a new one "
                             "with /tailen."),
    "used": lambda tr: tr("This upload link has already been used. Please ask the bot for a "
                          "new one with /tailen."),
    "no_file": lambda tr: tr("No file was chosen. Please go back, choose the Excel file and "
                             "press Send."),
    "not_xlsx": lambda tr: tr("Only Excel files (.xlsx) can be sent here. The link can still "
                              "be used: please go back and choose the .xlsx file."),
    "too_big": lambda tr: tr("The file is larger than 20 MB. The link can still be used: please "
                             "go back and choose the report file."),
    "received": lambda tr: tr("The file was received. The bot is reading it and will answer in "
                              "the chat in a moment."),
}


def _page_texts(tr: Tr, until: str) -> tuple[str, str, str]:
    return (tr("Choose the filled-in Excel file (.xlsx, at most 20 MB), then press Send. The "
               "link works once, until {time}.", time=until), tr("Send"),
            tr("Send the report file"))


async def prune_upload_links(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    async with sessions() as session, session.begin():
        result = await session.execute(delete(UploadLink).where(UploadLink.expires_at < now))
    return result.rowcount or 0


def _local(moment: datetime, zone: ZoneInfo) -> str:
    """In the configured time zone (the links'), as every time the bot shows."""
    return moment.astimezone(UTC).astimezone(zone).strftime("%H:%M %d/%m/%Y")
