"""The console's HTTP side: routes, sign-in and sessions, CSRF, security headers, pages.

Mounted under /web in the bot's one web server (beside the webhooks and file links) when the
console is turned on. Every page that shows units checks the scope with the chat's functions;
a unit or scope outside it is a 404, like one that does not exist."""

from __future__ import annotations

import asyncio
import logging
import secrets
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.coordinators import reporting
from bot.coordinators.coordination import FILE_NAMES, _slug
from bot.coordinators.reminders import ReminderStore
from bot.coordinators.reporting import Scope
from bot.exports.letterhead import ReportSettings
from bot.storage.context_loader import FormCache, contact_view
from bot.storage.models import Campaign, Period
from bot.web import (
    actions,
    auth,
    board,
    form_pages,
    invite_pages,
    office_units,
    telegram_webapp,
    texts,
    unit_page,
)
from bot.web.auth import COOKIE, PRE_COOKIE, SESSION_LIFETIME, Signer, Throttle, Visitor
from bot.web.campaign_pages import routes as campaign_routes
from conversations.context import ContactView
from conversations.deadlines import deadline_phrase
from conversations.i18n import SUPPORTED, Catalog, Tr
from conversations.reporting_lines import KIND_NAMES, kind_names

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "connect-src 'self'; "
                               "img-src 'self' data:; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}
EXPORT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "png": "image/png",
}
REASON_LIMIT = 1000


@dataclass(frozen=True)
class Page:
    """A signed-in request: who, in which language, and their scopes."""

    visitor: Visitor
    tr: Tr
    contact: ContactView
    scopes: list[Scope]


class Console:
    """The web console, built from the running bot's parts."""

    # Set by the runtime: the bots' usernames (for t.me links) and the office's settings.
    bot_names: dict[str, str] = {}  # noqa: RUF012 - replaced per instance, never mutated
    report_settings: ReportSettings | None = None

    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 read_sessions: async_sessionmaker[AsyncSession], catalog: Catalog,
                 forms: FormCache, store: ReminderStore, secret: str, public_url: str,
                 clock: Callable[[], datetime], late_window: timedelta,
                 on_commit: list[Callable[[], None]] | None = None,
                 throttle: Throttle | None = None, telegram_token: str = "") -> None:
        self.sessions = sessions
        self.read_sessions = read_sessions
        self.catalog = catalog
        self.forms = forms
        self.store = store
        self.signer = Signer(secret)
        self.secure = public_url.lower().startswith("https://")
        self.clock = clock
        self.late_window = late_window
        self.on_commit = on_commit if on_commit is not None else []
        self.throttle = throttle or Throttle()
        self.telegram_token = telegram_token  # checks the Mini App's initData (/web/tg)
        self.exporting = asyncio.Semaphore(1)  # one file at a time: 2 cores serve the chat too
        self.dispatcher: Any = None  # the chat's, set by the runtime: the form page's posts

    # ------------------------------------------------------------------ wiring

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self._headers])
        env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(HERE / "templates"),
                                   autoescape=True, trim_blocks=True, lstrip_blocks=True,
                                   undefined=jinja2.StrictUndefined)
        env.globals["state_class"] = state_class
        routes = [
            web.get("/", self.board, name="board"),
            web.get("/l/{token}", self.sign_in_page),
            web.post("/l/{token}", self.sign_in),
            web.post("/logout", self.sign_out),
            web.post("/language", self.language),
            web.get("/unit/{code}", self.unit),
            web.post("/unit/{code}/{action}", self.unit_action),
            web.post("/remind", self.remind_all),
            web.get("/totals", self.totals),
            web.get("/files/{fmt}", self.download),
            *invite_pages.routes(self),
            *campaign_routes(self),
            *office_units.add_routes(self),
            *telegram_webapp.routes(self),
            *form_pages.routes(self),
            web.static("/static", HERE / "static"),
        ]
        app.add_routes(routes)
        return app

    def mount(self, parent: web.Application) -> None:
        parent.add_subapp("/web", self.application())

    @web.middleware
    async def _headers(self, request: web.Request,
                       handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                       ) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPNotFound:
            response = self._message(request, 404, "not_found")
        except web.HTTPMethodNotAllowed:
            response = self._message(request, 405, "not_found")
        except web.HTTPRedirection as redirect:
            redirect.headers.update(SECURITY_HEADERS)
            raise
        for name, value in SECURITY_HEADERS.items():  # a page may set its own CSP
            response.headers.setdefault(name, value)
        if not request.path.startswith("/web/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    # ------------------------------------------------------------------ helpers

    def _tr(self, language: str) -> Tr:
        return self.catalog.tr(language if language in SUPPORTED else SUPPORTED[0])

    def _address(self, request: web.Request) -> str:
        """Who is signing in, for the throttle: the peer, or behind a proxy on this machine
        the address it forwards."""
        peer = request.remote or ""
        forwarded = request.headers.get("X-Forwarded-For", "")
        try:
            local = ip_address(peer).is_loopback
        except ValueError:
            local = False
        if local and forwarded:
            return forwarded.split(",")[-1].strip()
        return peer

    async def _page(self, request: web.Request, session: AsyncSession) -> Page | None:
        now = self.clock()
        token = self.signer.token_of(request.cookies.get(COOKIE))
        visitor = await auth.visitor(session, token, now)
        if visitor is None:
            return None
        if visitor.role not in auth.ROLES:  # a reporter's session opens the form page only
            raise web.HTTPNotFound()
        contact = await contact_view(session, visitor.contact_id)
        if contact is None:
            return None
        contact = ContactView(contact.id, contact.name, contact.role, visitor.language,
                              contact.units)
        scopes = await reporting.scopes_of(session, contact.id, contact.role)
        return Page(visitor, self._tr(visitor.language), contact, scopes)

    def _context(self, request: web.Request, page: Page, **values: Any) -> dict[str, Any]:
        tr = page.tr
        zone = values.get("zone", "Asia/Ho_Chi_Minh")
        return {
            "tr": tr, "lang": tr.language, "page": page, "visitor": page.visitor,
            "csrf": self.signer.csrf(page.visitor.token), "here": request.path_qs,
            "when": lambda dt: tr.datetime(dt, zone) if dt is not None else "",
            "number": lambda v: tr.number(v) if isinstance(v, int | Decimal) else str(v),
            "kinds_of": lambda kinds: kind_names(kinds).get(tr.language),
            "kind_name": lambda kind: (KIND_NAMES[kind].get(tr.language)
                                       if kind in KIND_NAMES else kind),
            "flash": "",
            "qs": urlencode(values.get("query") or {}),
            "badge": lambda status, on_time: texts.badge(status, on_time, tr),
            "detail": lambda row: texts.row_detail(row, tr, zone),
            **values,
        }

    def _message(self, request: web.Request, status: int, why: str,
                 signed_in: bool = False) -> web.Response:
        """A page that says what happened and what to do, in Vietnamese then English."""
        texts = [MESSAGES[why](self.catalog.tr(lang)) for lang in SUPPORTED]
        return aiohttp_jinja2.render_template(
            "message.html", request, {"texts": texts, "signed_in": signed_in,
                                      "title": texts[0][0]}, status=status)

    async def _signed_out(self, request: web.Request) -> web.Response:
        return self._message(request, 401, "signed_out")

    async def _form(self, request: web.Request, page: Page) -> dict[str, str] | None:
        """The posted form, or None when its CSRF token is not this session's."""
        form = await request.post()
        sent = str(form.get("csrf", ""))
        if not secrets.compare_digest(sent, self.signer.csrf(page.visitor.token)):
            return None
        return {k: str(v) for k, v in form.items() if isinstance(v, str)}

    async def _posted(self, request: web.Request, session: AsyncSession
                      ) -> tuple[Page, dict[str, str]] | web.Response:
        """The visitor's page and their posted form, or the page that says why not (signed
        out, or a form this session did not issue)."""
        page = await self._page(request, session)
        if page is None:
            return await self._signed_out(request)
        form = await self._form(request, page)
        if form is None:
            return self._message(request, 403, "form_expired")
        return page, form

    async def _unit_of(self, request: web.Request, session: AsyncSession, page: Page
                       ) -> unit_page.Placement:
        """The unit named in the address, if the visitor may see it; 404 otherwise (another
        commune's unit and a unit that does not exist answer the same)."""
        placement = await unit_page.find_unit(session, request.match_info["code"],
                                              page.contact.id, page.contact.role)
        if placement is None:
            raise web.HTTPNotFound()
        return placement

    def _after_commit(self) -> None:
        for callback in self.on_commit:
            callback()

    @staticmethod
    def _scope(page: Page, code: str) -> Scope | None:
        """The scope asked for by its unit code (the first one by default); None if the
        coordinator has no such scope."""
        if not code:
            return page.scopes[0] if page.scopes else None
        return next((s for s in page.scopes if s.path.rstrip("/").rsplit("/", 1)[-1] == code),
                    None)

    async def _scope_and_period(self, request: web.Request, session: AsyncSession, page: Page,
                                now: datetime) -> tuple[Scope, Period, Campaign]:
        """The scope and period a page's query names; not found when either is not theirs."""
        scope = self._scope(page, request.query.get("scope", ""))
        if scope is None:
            raise web.HTTPNotFound()
        _periods, chosen = await self._period(session, scope, request.query.get("period", ""),
                                              now)
        if chosen is None:
            raise web.HTTPNotFound()
        return scope, *chosen

    async def _period(self, session: AsyncSession, scope: Scope, wanted: str, now: datetime
                      ) -> tuple[list[tuple[Period, Campaign]], tuple[Period, Campaign] | None]:
        periods = await board.periods_for(session, scope, now)
        if wanted:
            chosen = next((pc for pc in periods if str(pc[0].id) == wanted), None)
            return periods, chosen
        return periods, board.default_period(periods, now)

    # ------------------------------------------------------------------ sign in and out

    async def sign_in_page(self, request: web.Request) -> web.Response:
        """GET of a link shows a button; only the POST spends it, so the preview a messenger
        or a phone fetches first leaves it working. Past the throttle, only a token that is
        not a link is refused."""
        now = self.clock()
        address = self._address(request)
        token = request.match_info["token"]
        async with self.read_sessions() as session:
            problem = await auth.link_problem(session, token, now)
            reporter = await auth.link_role(session, token) == "reporter"
            signed_in = await auth.visitor(
                session, self.signer.token_of(request.cookies.get(COOKIE)), now) is not None
        if problem == "unknown":
            if self.throttle.blocked(address, now):
                return self._message(request, 429, "throttled")
            self.throttle.failed(address, now)
        if problem is not None:
            return self._message(request, 404 if problem == "unknown" else 410, problem,
                                 signed_in=signed_in)
        pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(16)
        texts = [form_pages.sign_in_texts(tr) if reporter else (
                     tr("Sign in to the coordinators' console"),
                     tr("This link signs you in once; the session lasts 8 hours on this device."),
                     tr("Open the console"))
                 for tr in (self.catalog.tr(lang) for lang in SUPPORTED)]
        response = aiohttp_jinja2.render_template(
            "sign_in.html", request, {"texts": texts, "action": request.path,
                                      "csrf": self.signer.sign("pre", f"{pre}:{token}")[:40],
                                      "title": texts[0][0]})
        response.set_cookie(PRE_COOKIE, pre, max_age=600, path="/web/l/", httponly=True,
                            samesite="Lax", secure=self.secure)
        return response

    async def sign_in(self, request: web.Request) -> web.Response:
        """The button: spends the link. The throttle refuses only an address's further wrong
        tokens, never a valid link (behind a proxy that hides the client, that address is
        every coordinator's)."""
        now = self.clock()
        address = self._address(request)
        token = request.match_info["token"]
        if self.throttle.blocked(address, now):
            async with self.read_sessions() as session:
                if await auth.link_problem(session, token, now) == "unknown":
                    return self._message(request, 429, "throttled")
        form = await request.post()
        pre = request.cookies.get(PRE_COOKIE, "")
        expected = self.signer.sign("pre", f"{pre}:{token}")[:40]
        if not pre or not secrets.compare_digest(expected, str(form.get("csrf", ""))):
            self.throttle.failed(address, now)
            return self._message(request, 403, "form_expired_sign_in")
        async with self.sessions() as session, session.begin():
            result = await auth.use_link(session, token, now)
        if isinstance(result, str):
            if result == "unknown":
                self.throttle.failed(address, now)
            return self._message(request, 404 if result == "unknown" else 410, result)
        session_token, _language = result
        async with self.read_sessions() as session:
            visitor = await auth.visitor(session, session_token, now)
        reporter = visitor is not None and visitor.role == "reporter"
        response = web.Response(status=303, headers={
            "Location": "/web/form/" if reporter else "/web/"})
        response.set_cookie(COOKIE, self.signer.cookie(session_token),
                            max_age=int(SESSION_LIFETIME.total_seconds()), path="/web",
                            httponly=True, samesite="Lax", secure=self.secure)
        response.del_cookie(PRE_COOKIE, path="/web/l/")
        return response

    async def sign_out(self, request: web.Request) -> web.Response:
        async with self.sessions() as session, session.begin():
            posted = await self._posted(request, session)
            if isinstance(posted, web.Response):
                return posted
            page, _form = posted
            await auth.end(session, page.visitor.session_id, self.clock())
        response = self._message(request, 200, "signed_out_now")
        response.del_cookie(COOKIE, path="/web")
        return response

    async def language(self, request: web.Request) -> web.Response:
        async with self.sessions() as session, session.begin():
            posted = await self._posted(request, session)
            if isinstance(posted, web.Response):
                return posted
            page, form = posted
            language = form.get("lang", "")
            if language in SUPPORTED:
                await auth.set_language(session, page.visitor.session_id, language)
        raise web.HTTPSeeOther(_local_path(form.get("next", "")))

    # ------------------------------------------------------------------ the board

    async def board(self, request: web.Request) -> web.Response:
        now = self.clock()
        async with self.read_sessions() as session:
            page = await self._page(request, session)
            if page is None:
                return await self._signed_out(request)
            scope = self._scope(page, request.query.get("scope", ""))
            if scope is None:
                raise web.HTTPNotFound()
            periods, chosen = await self._period(session, scope, request.query.get("period", ""),
                                                 now)
            if chosen is None:
                if request.query.get("period"):
                    raise web.HTTPNotFound()
                return await self._render(request, page, "empty.html", {"scope": scope})
            period, campaign = chosen
            filters = board.Filters.parse(dict(request.query))
            data = await board.build(session, period, campaign, scope, self.forms, now,
                                     filters)
            flash = await self._take_flash(page)
        return await self._render(request, page, "board.html", {
            "board": data, "periods": periods, "period": period, "campaign": campaign,
            "scope": scope, "zone": campaign.timezone, "flash": flash,
            "deadline": deadline_phrase(period.deadline, campaign.timezone, page.tr),
            "query": _query(scope, period, page), "files": ("xlsx", "csv", "docx", "png"),
            "filters": filters, "states": board.STATES, "sorts": board.SORTS,
            # as the chat: a period past its late window takes no report, so no reminder
            "can_remind": data.can_remind and period.deadline > now - self.late_window})

    async def _render(self, request: web.Request, page: Page, template: str,
                      values: dict[str, Any], status: int = 200) -> web.Response:
        return aiohttp_jinja2.render_template(template, request,
                                              self._context(request, page, **values),
                                              status=status)

    async def _take_flash(self, page: Page) -> str:
        """The last action's reply, shown once."""
        if not page.visitor.flash:
            return ""
        async with self.sessions() as session, session.begin():
            await auth.set_flash(session, page.visitor.session_id, "")
        return page.visitor.flash

    async def totals(self, request: web.Request) -> web.Response:
        """Every figure of every block: the reports that come to the coordinator's level
        summed, those from further down in their own blocks, never added in."""
        now = self.clock()
        async with self.read_sessions() as session:
            page = await self._page(request, session)
            if page is None:
                return await self._signed_out(request)
            scope, period, campaign = await self._scope_and_period(request, session, page, now)
            lines = await reporting.lines_of(session, period, scope, self.forms)
            await reporting.sum_blocks(session, lines)
        return await self._render(request, page, "totals.html", {
            "lines": lines, "period": period, "campaign": campaign, "scope": scope,
            "zone": campaign.timezone, "query": _query(scope, period, page), "now": now})

    # ------------------------------------------------------------------ one unit

    async def unit(self, request: web.Request) -> web.Response:
        now = self.clock()
        async with self.read_sessions() as session:
            page = await self._page(request, session)
            if page is None:
                return await self._signed_out(request)
            placement = await self._unit_of(request, session, page)
            _periods, chosen = await self._period(session, placement.scope,
                                                  request.query.get("period", ""), now)
            if chosen is None:
                raise web.HTTPNotFound()
            period, campaign = chosen
            data = await unit_page.build(session, placement, period, campaign, self.forms,
                                         now, self.late_window, page.tr)
            flash = await self._take_flash(page)
        return await self._render(request, page, "unit.html", {
            "unit": data, "period": period, "campaign": campaign, "zone": campaign.timezone,
            "flash": flash, "query": _query(placement.scope, period, page),
            "deadline": deadline_phrase(period.deadline, campaign.timezone, page.tr),
            "reason_limit": REASON_LIMIT})

    async def unit_action(self, request: web.Request) -> web.Response:
        """Accept, return with a reason, or remind: the engine decides and replies, as in
        chat; the reply is shown on the unit's page."""
        action = request.match_info["action"]
        if action not in ("accept", "return", "remind"):
            raise web.HTTPNotFound()
        now = self.clock()
        async with self.sessions() as session, session.begin():
            posted = await self._posted(request, session)
            if isinstance(posted, web.Response):
                return posted
            page, form = posted
            placement = await self._unit_of(request, session, page)
            periods, chosen = await self._period(session, placement.scope,
                                                 form.get("period", ""), now)
            if chosen is None:
                raise web.HTTPNotFound()
            period, campaign = chosen
            tr = page.tr
            if not await unit_page.is_current(session, period, now, self.late_window):
                reply = tr("This period is closed: its reports can be read, no longer "
                           "accepted, returned or reminded.")
            elif action == "remind":
                reply = await actions.remind_unit(session, page.contact, placement.unit, period,
                                                  campaign.key, campaign.timezone, self.store,
                                                  self.catalog, now)
            else:
                reason = " ".join(form.get("reason", "").split())[:REASON_LIMIT]
                if action == "return":  # with the comments beside rows, as /tralai takes them
                    reason = unit_page.with_row_comments(reason, form, REASON_LIMIT)
                if action == "return" and not reason:
                    reply = tr("Please write the reason for the return: the reporters read it "
                               "in the chat.")
                else:
                    reply = await actions.decide(session, page.contact, action,
                                                 placement.unit.code, period, reason,
                                                 self.catalog, self.forms, now,
                                                 self.late_window)
            await auth.set_flash(session, page.visitor.session_id, reply)
        self._after_commit()
        target = f"/web/unit/{placement.unit.code}?" + urlencode({"period": period.id})
        raise web.HTTPSeeOther(target)

    async def remind_all(self, request: web.Request) -> web.Response:
        """Exactly the chat's /nhac, with its hourly limit."""
        async with self.sessions() as session, session.begin():
            posted = await self._posted(request, session)
            if isinstance(posted, web.Response):
                return posted
            page, form = posted
            reply = await actions.remind_all(session, page.contact, self.store, self.catalog,
                                             self.clock())
            await auth.set_flash(session, page.visitor.session_id, reply)
        self._after_commit()
        raise web.HTTPSeeOther(_local_path(form.get("next", "")))

    # ------------------------------------------------------------------ files

    async def download(self, request: web.Request) -> web.StreamResponse:
        """An export of the board's scope and period, made by the chat's writers."""
        fmt = request.match_info["fmt"]
        if fmt not in EXPORT_TYPES:
            raise web.HTTPNotFound()
        now = self.clock()
        async with self.read_sessions() as session:
            page = await self._page(request, session)
            if page is None:
                return await self._signed_out(request)
            scope, period, campaign = await self._scope_and_period(request, session, page, now)
            async with self.exporting:
                data = await reporting.export_data(session, period, campaign, scope,
                                                   self.forms, now)
        filename = f"{campaign.key}-{period.key}-{_slug(scope.name)}-{FILE_NAMES[fmt]}"
        async with self.exporting:
            body = await asyncio.to_thread(_write, fmt, data, filename)
        disposition = "inline" if fmt == "png" else "attachment"
        return web.Response(body=body, content_type=EXPORT_TYPES[fmt],
                            charset="utf-8" if fmt == "csv" else None,
                            headers={"Content-Disposition":
                                     f'{disposition}; filename="{_ascii(filename)}"'})


def _write(fmt: str, data: Any, filename: str) -> bytes:
    from bot.exports import writers

    with tempfile.TemporaryDirectory(prefix="baocao-web-") as folder:
        path = Path(folder) / filename
        writers.write(fmt, data, path)
        return path.read_bytes()


def _ascii(filename: str) -> str:
    return "".join(c if c.isascii() and c not in '"\\' else "_" for c in filename)


def _local_path(target: str) -> str:
    """Where to go back to after a form: a page of the console, never another site."""
    if target.startswith("/web/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/web/"


def _query(scope: Scope, period: Period, page: Page) -> dict[str, str]:
    """The query that keeps the scope and period from page to page."""
    query = {"period": str(period.id)}
    if len(page.scopes) > 1:
        query["scope"] = scope.path.rstrip("/").rsplit("/", 1)[-1]
    return query


def state_class(status: str, on_time: bool | None) -> str:
    if status in ("submitted", "accepted"):
        return f"{status} {'on-time' if on_time else 'late'}"
    return status


MESSAGES: dict[str, Callable[[Tr], tuple[str, str]]] = {
    "unknown": lambda tr: (tr("This link is not valid."), tr(
        "Please send /web to the bot in a private chat for a new link.")),
    "expired": lambda tr: (tr("This link has expired."), tr(
        "Links work for 10 minutes. Please send /web to the bot again for a new link.")),
    "used": lambda tr: (tr("This link has already been used."), tr(
        "Each link signs in once. If that was not you, tell your administrator. Please send "
        "/web to the bot again for a new link.")),
    "throttled": lambda tr: (tr("Too many sign-in attempts."), tr(
        "Many links that are not valid were opened from this address, so for safety such "
        "links are refused for 15 minutes. A link from the chat still works: please open the "
        "newest one, or send /web to the bot for a new link.")),
    "signed_out": lambda tr: (tr("You are not signed in."), tr(
        "Please send /web to the bot in a private chat: it answers with a link that signs "
        "you in.")),
    "signed_out_now": lambda tr: (tr("You are signed out."), tr(
        "To sign in again, send /web to the bot.")),
    "form_expired": lambda tr: (tr("This form has expired."), tr(
        "Please go back, reload the page and try again.")),
    "form_expired_sign_in": lambda tr: (tr("This sign-in form has expired."), tr(
        "Please open the link from the chat again.")),
    "not_found": lambda tr: (tr("Not found."), tr(
        "This page or unit does not exist, or is not among the units you coordinate.")),
}
