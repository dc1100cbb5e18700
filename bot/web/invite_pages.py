"""The console's invite pages: who of each unit has signed in and who has not, "new code" per
unit, and the invite letters (.docx, and PDF when LibreOffice is installed) for a unit, a
commune or a whole campaign. Scoped as every console page: a unit or campaign outside the
visitor's units is "not found", like one that does not exist."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordinators.reporting import Scope
from bot.offices import invites, letters
from bot.offices.history import Actor
from bot.storage.models import Campaign, Contact, Unit
from bot.web import auth, unit_page
from conversations.i18n import SUPPORTED, Tr

if TYPE_CHECKING:
    from bot.web.server import Console, Page

LETTER_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


def routes(console: Console) -> list[web.RouteDef]:
    """The invite pages' routes, for the console's route list."""
    pages = InvitePages(console)
    return [web.get("/invites", pages.list_page),
            web.post("/invites/letters", pages.download),
            web.post("/invites/{code}/new", pages.new_code)]


def _visible(page: Page, unit: Unit) -> Scope | None:
    """The visitor's scope a unit is in (below theirs, or their own unit), or None."""
    for scope in page.scopes:
        if scope.contains(unit.path) or scope.path == unit.path:
            return scope
    return None


class InvitePages:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.converting = asyncio.Semaphore(1)  # one LibreOffice at a time on 2 cores

    async def _units(self, session: AsyncSession, page: Page, unit_code: str
                     ) -> tuple[Unit | None, list[Unit]]:
        """The unit asked for and its subtree, or every unit the visitor may see; a unit
        outside their scope is not found."""
        if unit_code:
            placement = await unit_page.find_unit(session, unit_code, page.contact.id,
                                                  page.contact.role)
            if placement is None:
                raise web.HTTPNotFound()
            found = await invites.subtree(session, placement.unit)
            return placement.unit, [u for u in found if _visible(page, u)]
        result: list[Unit] = []
        for scope in page.scopes:
            own = await session.scalar(select(Unit).where(Unit.path == scope.path))
            if own is not None:
                result += [u for u in await invites.subtree(session, own)
                           if u.id not in {r.id for r in result}]
        return None, result

    async def _campaigns(self, session: AsyncSession, page: Page) -> list[Campaign]:
        """The campaigns some unit of the visitor's reports in (an admin: all)."""
        shown = []
        for campaign in (await session.scalars(select(Campaign).order_by(
                Campaign.created_at.desc(), Campaign.id.desc()))).all():
            units = await invites.reporting_units(session, campaign)
            if page.contact.role == "admin" or any(_visible(page, u) for u in units):
                shown.append(campaign)
        return shown

    async def list_page(self, request: web.Request) -> web.Response:
        console = self.console
        now = console.clock()
        async with console.read_sessions() as session:
            page = await console._page(request, session)
            if page is None:
                return await console._signed_out(request)
            unit, units = await self._units(session, page, request.query.get("unit", ""))
            rows = await invites.sign_ins(session, units, now)
            campaigns = await self._campaigns(session, page)
            chosen = await invites.default_campaign(session, now) if campaigns else None
            flash = await console._take_flash(page)
        return await console._render(request, page, "invites.html", {
            "unit": unit, "rows": rows, "campaigns": campaigns, "flash": flash,
            "chosen": chosen.key if chosen else "",
            "pdf": letters.pdf_available(), "spaced": letters.spaced,
            "signed": sum(1 for r in rows if r.reporting)})

    async def new_code(self, request: web.Request) -> web.Response:
        """The unit's codes still good stop working; it gets a new one (both recorded)."""
        console = self.console
        now = console.clock()
        async with console.sessions() as session, session.begin():
            posted = await console._posted(request, session)
            if isinstance(posted, web.Response):
                return posted
            page, form = posted
            placement = await console._unit_of(request, session, page)
            contact = await session.get(Contact, page.contact.id)
            assert contact is not None
            info = await invites.new_code(session, placement.unit, now, Actor.of(contact))
            reply = page.tr("{unit}: the new code is {code}; the old codes no longer work.",
                            unit=placement.unit.name, code=letters.spaced(info.code))
            await auth.set_flash(session, page.visitor.session_id, reply)
        back = form.get("back", "")
        raise web.HTTPSeeOther("/web/invites" + (f"?{urlencode({'unit': back})}" if back else ""))

    async def download(self, request: web.Request) -> web.StreamResponse:
        """The letters as .docx or PDF; codes are made for the units that have none good.
        The file is written after the commit, so no write waits on it."""
        console = self.console
        now = console.clock()
        async with console.sessions() as session, session.begin():
            posted = await console._posted(request, session)
            if isinstance(posted, web.Response):
                return posted
            page, form = posted
            fmt = form.get("fmt", "docx")
            if fmt not in LETTER_TYPES:
                raise web.HTTPNotFound()
            if fmt == "pdf" and not letters.pdf_available():
                return self._refused(request, lambda tr: tr(
                    "The PDF needs LibreOffice, which is not installed on the server; the "
                    ".docx works (open it in Word and print)."))
            made = await self._letters(session, page, form, now)
        if not isinstance(made, tuple):
            return self._refused(request, made)
        name, content = made
        body = await asyncio.to_thread(letters.write_docx, content)
        if fmt == "pdf":
            try:
                async with self.converting:
                    body = await asyncio.to_thread(letters.to_pdf, body,
                                                   letters.pdf_timeout(len(content.pages)))
            except letters.PdfUnavailable:
                return self._refused(request, lambda tr: tr(
                    "The PDF could not be made this time; please try again, or download the "
                    ".docx and print it."))
        return web.Response(body=body, content_type=LETTER_TYPES[fmt], headers={
            "Content-Disposition": f'attachment; filename="{name}.{fmt}"'})

    async def _letters(self, session: AsyncSession, page: Page, form: dict[str, str],
                       now: Any) -> tuple[str, letters.Letters] | Callable[[Tr], str]:
        """The file's name and the letters, or why there are none."""
        campaign_key = form.get("campaign", "")
        campaigns = await self._campaigns(session, page)
        campaign = next((c for c in campaigns if c.key == campaign_key), None)
        if campaign is None:
            raise web.HTTPNotFound()
        unit, units = await self._units(session, page, form.get("unit", ""))
        wanted = {u.id for u in units}
        reporting = [u for u in await invites.reporting_units(session, campaign)
                     if u.id in wanted]
        if not reporting:
            return lambda tr: tr("No unit here reports in this campaign, so there is no "
                                 "letter to make. Please choose another unit or campaign.")
        office_scope = _visible(page, reporting[0])
        office = await session.scalar(select(Unit).where(
            Unit.path == office_scope.path)) if office_scope else None
        contact = await session.get(Contact, page.contact.id)
        assert contact is not None
        made, _codes = await invites.make_letters(
            session, reporting, campaign, office,
            self.console.bot_names.get("telegram", ""), self.console.report_settings, now,
            Actor.of(contact))
        name = f"thu-moi-{campaign.key}-{unit.code if unit else 'tat-ca'}"
        return "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_"
                       for c in name), made

    def _refused(self, request: web.Request, why: Callable[[Tr], str]) -> web.Response:
        """A page that says, in Vietnamese then English, why no file came."""
        texts = [(why(self.console.catalog.tr(lang)), "") for lang in SUPPORTED]
        return aiohttp_jinja2.render_template(
            "message.html", request, {"texts": texts, "signed_in": True,
                                      "title": texts[0][0]}, status=409)
