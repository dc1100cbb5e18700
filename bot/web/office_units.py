"""The console's units and contacts pages: an office's Excel uploaded, previewed (new, changed,
moved, no longer listed, every bad line) and applied; one unit or person edited; a reporter
who left replaced; two communes merged. The work is bot/offices' (the CLI's too); this module
reads the request, checks the scope and renders.

Scope: an admin works on the whole tree, a coordinator below their units; anything else is
the console's 404. An uploaded file is received with a size limit; a workbook is checked
before openpyxl holds it (bot/spreadsheets/xlsx_checks.py) and read in the limited child
process of bot/spreadsheets/workbook_worker.py, a .csv in a thread: off the event loop. Its
rows wait
server-side under a random token tied to the visitor's session; the apply recomputes the
preview and stores it only if its digest is the one shown."""

from __future__ import annotations

import asyncio
import secrets
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.admin import CONTACT_ALIASES, CONTACT_LABELS, UNIT_ALIASES, UNIT_LABELS
from bot.coordinators.reporting import Scope
from bot.offices import contacts, units
from bot.offices.history import Actor
from bot.offices.units import MERGED, UnitRefused
from bot.spreadsheets.tables import Row, TableError, cell_text, read_table, table_rows
from bot.storage.models import Contact, ContactUnit, Identity, Unit
from bot.web import auth
from conversations.i18n import Tr
from conversations.unit_kinds import KINDS

if TYPE_CHECKING:
    from bot.web.server import Console, Page

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # a province's 3,000 units are ~150 kB
PENDING_LIFETIME = timedelta(minutes=30)
PENDING_AT_MOST = 50
LISTED_AT_MOST = 500
COLUMNS = {"units": (("code", "name", "kind", "parent_code"), UNIT_ALIASES, UNIT_LABELS),
           "contacts": (("name", "phone", "unit_code", "role"), CONTACT_ALIASES,
                        CONTACT_LABELS)}
KIND_WORDS = {k.id: k.vi for k in KINDS}


@dataclass(frozen=True)
class Pending:
    """An uploaded file's rows, waiting for the office to apply its preview."""

    session_id: int
    what: str
    file_name: str
    rows: list[Row]
    at: datetime


class OfficeUnits:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.pending: dict[str, Pending] = {}

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/office/units", self.index),
            web.post("/office/upload/{what}", self.upload),
            web.post("/office/apply/{what}", self.apply),
            web.get("/office/unit/{code}", self.unit),
            web.post("/office/unit/{code}", self.edit_unit),
            web.post("/office/contact/{id}", self.edit_contact),
            web.post("/office/contact/{id}/replace", self.replace),
            web.post("/office/merge", self.merge),
        ]

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def scopes(page: Page) -> list[Scope] | None:
        """None is the whole tree (an admin); a coordinator's scopes otherwise."""
        return None if page.contact.role == "admin" else page.scopes

    async def _signed_in(self, request: web.Request, session: AsyncSession) -> Page:
        page = await self.console._page(request, session)
        if page is None:
            raise web.HTTPUnauthorized()
        if page.contact.role not in ("admin", "coordinator"):
            raise web.HTTPNotFound()
        return page

    async def _unit(self, session: AsyncSession, page: Page, code: str) -> Unit:
        unit = await session.scalar(select(Unit).where(Unit.code == code))
        if unit is None or not units.inside(self.scopes(page), unit.path):
            raise web.HTTPNotFound()
        return unit

    async def _contact(self, session: AsyncSession, page: Page, raw_id: str
                       ) -> tuple[Contact, list[Unit]]:
        found = await contacts.contact_in_scope(session, int(raw_id), self.scopes(page)) \
            if raw_id.isdigit() else None
        if found is None:
            raise web.HTTPNotFound()
        return found

    def _render(self, request: web.Request, page: Page, template: str,
                values: dict[str, Any], status: int = 200) -> Any:
        tr = page.tr
        roles = {"reporter": tr("Reporter"), "coordinator": tr("Coordinator"),
                 "admin": tr("Administrator")}
        return self.console._render(request, page, template, {
            "kind_words": KIND_WORDS, "merged_kind": MERGED, "role_names": roles, **values},
            status)

    async def _done(self, page: Page, text: str, target: str) -> web.Response:
        async with self.console.sessions() as session, session.begin():
            await auth.set_flash(session, page.visitor.session_id, text)
        raise web.HTTPSeeOther(target)

    def _refusal(self, page: Page, refused: UnitRefused) -> str:
        return page.tr("Not changed: {why}.", why=page.tr(refused.message, **refused.params))

    # ------------------------------------------------------------------ pages

    async def index(self, request: web.Request) -> web.Response:
        async with self.console.read_sessions() as session:
            try:
                page = await self._signed_in(request, session)
            except web.HTTPUnauthorized:
                return await self.console._signed_out(request)
            listed = [u for u in (await session.scalars(select(Unit).order_by(Unit.path)))
                      .all() if units.inside(self.scopes(page), u.path)]
            flash = await self.console._take_flash(page)
        return await self._render(request, page, "office_units.html", {
            "units": listed[:LISTED_AT_MOST], "more": max(len(listed) - LISTED_AT_MOST, 0),
            "mergeable": [u for u in listed if u.kind != MERGED], "flash": flash})

    async def unit(self, request: web.Request) -> web.Response:
        async with self.console.read_sessions() as session:
            try:
                page = await self._signed_in(request, session)
            except web.HTTPUnauthorized:
                return await self.console._signed_out(request)
            unit = await self._unit(session, page, request.match_info["code"])
            parent = await session.get(Unit, unit.parent_id) if unit.parent_id else None
            people = (await session.scalars(select(Contact).join(
                ContactUnit, ContactUnit.contact_id == Contact.id)
                .where(ContactUnit.unit_id == unit.id).order_by(Contact.name))).all()
            chats = {cid: n for cid, n in (await session.execute(
                select(Identity.contact_id, Identity.id).where(
                    Identity.contact_id.in_([c.id for c in people])))).all()}
            merged = await units.merged_into(session, unit)
            flash = await self.console._take_flash(page)
        return await self._render(request, page, "office_unit.html", {
            "unit": unit, "parent": parent, "people": people, "chats": chats,
            "merged": merged, "flash": flash})

    # ------------------------------------------------------------------ upload, apply

    async def upload(self, request: web.Request) -> web.Response:
        what = request.match_info["what"]
        if what not in COLUMNS:
            raise web.HTTPNotFound()
        async with self.console.read_sessions() as session:
            try:
                page = await self._signed_in(request, session)
            except web.HTTPUnauthorized:
                return await self.console._signed_out(request)
        tr = page.tr
        with tempfile.TemporaryDirectory(prefix="baocao-office-") as folder:
            received = await self._receive(request, page, Path(folder))
            if isinstance(received, web.Response):
                return received
            path, file_name = received
            if path is None:
                return await self._preview(request, page, what, file_name, [], [
                    tr("Please choose an Excel file (.xlsx) or a .csv file, at most 5 MB.")])
            try:
                rows = await self._read(path, file_name, what)
            except TableError as refused:
                return await self._preview(request, page, what, file_name, [],
                                           _file_errors(refused, path, file_name, tr))
        return await self._preview(request, page, what, file_name, rows, [])

    @staticmethod
    async def _read(path: Path, file_name: str, what: str) -> list[Row]:
        """The file's rows. A workbook is read by the child process of
        bot/spreadsheets/workbook_worker.py (checked while streaming first, with a memory and
        a time limit), a .csv in a thread: the event loop keeps serving the chat."""
        required, aliases, labels = COLUMNS[what]
        if path.suffix == ".csv":
            return await asyncio.to_thread(read_table, path, required, aliases, labels)
        from bot.spreadsheets.workbook_worker import read_isolated

        book = await read_isolated(path, file_name)
        if book.problem or not book.sheets:
            raise TableError([f"{file_name}: {book.problem or 'empty'}"], unreadable=True)
        numbered = [(n, [cell_text(v) for v in values]) for n, values in book.sheets[0].rows]
        return table_rows(numbered, required, aliases, labels, file_name)

    async def _receive(self, request: web.Request, page: Page, folder: Path
                       ) -> tuple[Path | None, str] | web.Response:
        """The posted file saved (at most MAX_UPLOAD_BYTES), after the form's CSRF token."""
        try:
            reader = await request.multipart()
        except (AssertionError, ValueError):
            return self.console._message(request, 403, "form_expired")
        csrf, path, file_name = "", None, ""
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "csrf":
                csrf = (await part.text())[:200]
            elif part.name == "file" and part.filename:
                file_name = PurePath(part.filename.replace("\\", "/")).name[:200]
                suffix = PurePath(file_name).suffix.lower()
                if suffix not in (".xlsx", ".csv"):
                    await part.release()
                    continue
                path, size = folder / f"upload{suffix}", 0
                with path.open("wb") as out:
                    while chunk := await part.read_chunk():
                        size += len(chunk)
                        if size > MAX_UPLOAD_BYTES:
                            path = None
                            break
                        out.write(chunk)
            else:
                await part.release()
        if not secrets.compare_digest(csrf, self.console.signer.csrf(page.visitor.token)):
            return self.console._message(request, 403, "form_expired")
        if path is not None and path.stat().st_size == 0:
            path = None
        return path, file_name

    async def _preview(self, request: web.Request, page: Page, what: str, file_name: str,
                       rows: list[Row], file_errors: list[str], notice: str = "",
                       token: str = "") -> web.Response:
        preview: units.UnitPreview | contacts.ContactPreview | None = None
        if not file_errors:
            async with self.console.read_sessions() as session:
                if what == "units":
                    preview = await units.preview_units(session, rows, self.scopes(page))
                else:
                    preview = await contacts.preview_contacts(session, rows,
                                                              self.scopes(page))
            if not preview.problems and not token:
                token = self._keep(Pending(page.visitor.session_id, what, file_name, rows,
                                           self.console.clock()))
        problems = [p.text(page.tr) for p in preview.problems] if preview else file_errors
        status = 422 if problems else 200
        return await self._render(request, page, "office_preview.html", {
            "what": what, "file_name": file_name, "preview": preview, "problems": problems,
            "token": token if not problems else "", "notice": notice}, status)

    def _keep(self, pending: Pending) -> str:
        now = pending.at
        for token, old in list(self.pending.items()):
            if now - old.at > PENDING_LIFETIME:
                del self.pending[token]
        while len(self.pending) >= PENDING_AT_MOST:
            del self.pending[next(iter(self.pending))]
        token = secrets.token_urlsafe(24)
        self.pending[token] = pending
        return token

    async def apply(self, request: web.Request) -> web.Response:
        what = request.match_info["what"]
        if what not in COLUMNS:
            raise web.HTTPNotFound()
        now = self.console.clock()
        async with self.console.sessions() as session, session.begin():
            posted = await self.console._posted(request, session)
            if isinstance(posted, web.Response):
                return posted
            page, form = posted
            token = form.get("token", "")
            pending = self.pending.get(token)
            if pending is None or pending.session_id != page.visitor.session_id or \
                    pending.what != what or now - pending.at > PENDING_LIFETIME:
                return await self._render(request, page, "message.html", {
                    "texts": [(page.tr("This preview has expired."), page.tr(
                        "Please upload the file again: nothing of it was stored."))],
                    "signed_in": True, "title": page.tr("This preview has expired.")}, 410)
            scopes = self.scopes(page)
            actor = Actor(page.contact.name or f"#{page.contact.id}", page.contact.id)
            if what == "units":
                preview: Any = await units.preview_units(session, pending.rows, scopes)
            else:
                preview = await contacts.preview_contacts(session, pending.rows, scopes)
            if preview.problems or preview.digest != form.get("digest", ""):
                changed = True
            else:
                changed = False
                if what == "units":
                    await units.apply_units(session, preview, actor, now)
                else:
                    await contacts.apply_contacts(session, preview, actor, now)
                count = len([c for c in preview.changes if c.what != "unlisted"])
                await auth.set_flash(session, page.visitor.session_id, page.tr(
                    "Stored: {count} changes from {file}.", count=str(count),
                    file=pending.file_name))
        if changed:
            return await self._preview(
                request, page, what, pending.file_name, pending.rows, [],
                notice=page.tr("The units or contacts changed since this preview was made; "
                               "nothing was stored. Please check the new preview."),
                token=token)
        del self.pending[token]
        self.console._after_commit()
        raise web.HTTPSeeOther("/web/office/units")

    # ------------------------------------------------------------------ edits

    async def edit_unit(self, request: web.Request) -> web.Response:
        now = self.console.clock()
        async with self.console.sessions() as session, session.begin():
            posted = await self.console._posted(request, session)
            if isinstance(posted, web.Response):
                return posted
            page, form = posted
            unit = await self._unit(session, page, request.match_info["code"])
            try:
                changed = await units.edit_unit(
                    session, unit, name=" ".join(form.get("name", "").split())[:255],
                    kind_word=form.get("kind", "")[:64],
                    parent_code=form.get("parent", "").strip()[:64],
                    scopes=self.scopes(page), actor=_actor(page), now=now)
                text = page.tr("Saved.") if changed else page.tr("Nothing changed.")
            except UnitRefused as refused:
                text = self._refusal(page, refused)
            await auth.set_flash(session, page.visitor.session_id, text)
        raise web.HTTPSeeOther(f"/web/office/unit/{unit.code}")

    async def edit_contact(self, request: web.Request) -> web.Response:
        now = self.console.clock()
        async with self.console.sessions() as session, session.begin():
            posted = await self.console._posted(request, session)
            if isinstance(posted, web.Response):
                return posted
            page, form = posted
            contact, their_units = await self._contact(session, page, request.match_info["id"])
            try:
                changed = await contacts.edit_contact(
                    session, contact, their_units, name=form.get("name", "")[:255],
                    phone=form.get("phone", "")[:32], role_word=form.get("role", "")[:32],
                    scopes=self.scopes(page), actor=_actor(page), now=now)
                text = page.tr("Saved.") if changed else page.tr("Nothing changed.")
            except UnitRefused as refused:
                text = self._refusal(page, refused)
            await auth.set_flash(session, page.visitor.session_id, text)
        raise web.HTTPSeeOther(f"/web/office/unit/{their_units[0].code}")

    async def replace(self, request: web.Request) -> web.Response:
        now = self.console.clock()
        async with self.console.sessions() as session, session.begin():
            posted = await self.console._posted(request, session)
            if isinstance(posted, web.Response):
                return posted
            page, form = posted
            contact, their_units = await self._contact(session, page, request.match_info["id"])
            try:
                done = await contacts.replace_contact(
                    session, contact, their_units, name=form.get("name", "")[:255],
                    phone=form.get("phone", "")[:32], actor=_actor(page), now=now,
                    scopes=self.scopes(page))
            except UnitRefused as refused:
                done = None
                await auth.set_flash(session, page.visitor.session_id,
                                     self._refusal(page, refused))
            old_name = contact.name
        if done is None:  # the refusal's flash is committed; nothing else was changed
            raise web.HTTPSeeOther(f"/web/office/unit/{their_units[0].code}")
        self.console._after_commit()
        return await self._render(request, page, "office_replaced.html", {
            "old_name": old_name, "new_name": " ".join(form.get("name", "").split()),
            "done": done})

    async def merge(self, request: web.Request) -> web.Response:
        now = self.console.clock()
        async with self.console.sessions() as session, session.begin():
            posted = await self.console._posted(request, session)
            if isinstance(posted, web.Response):
                return posted
            page, form = posted
            codes = [form.get("first", "").strip(), form.get("second", "").strip()]
            chosen = [await self._unit(session, page, code) for code in codes]
            try:
                new = await units.merge_units(
                    session, chosen, code=form.get("code", "").strip()[:64],
                    name=form.get("name", "")[:255], scopes=self.scopes(page),
                    actor=_actor(page), now=now)
                text = page.tr(
                    "Merged {first} and {second} into {name}; their reports stay readable "
                    "under it.", first=chosen[0].name, second=chosen[1].name, name=new.name)
                target = f"/web/office/unit/{new.code}"
            except UnitRefused as refused:  # refused before anything was changed
                text, target = self._refusal(page, refused), "/web/office/units"
            await auth.set_flash(session, page.visitor.session_id, text)
        self.console._after_commit()
        raise web.HTTPSeeOther(target)


def _actor(page: Page) -> Actor:
    return Actor(page.contact.name or f"#{page.contact.id}", page.contact.id)


def _file_errors(refused: TableError, path: Path, file_name: str, tr: Tr) -> list[str]:
    """A file refused whole, in the reader's words, named as the office called it."""
    if refused.missing:
        return [tr("line 1: the columns {wanted} are missing; the file has: {found}",
                   wanted=", ".join(refused.missing), found=refused.found or "—")]
    if refused.unreadable:
        return [tr("{file} cannot be read: please open it in Excel and save it again as "
                   ".xlsx.", file=file_name)]
    return [e.replace(str(path), file_name).replace(path.name, file_name)
            for e in refused.errors]


def add_routes(console: Console) -> Sequence[web.RouteDef]:
    """The one line server.py's route list holds for these pages."""
    return OfficeUnits(console).routes()
