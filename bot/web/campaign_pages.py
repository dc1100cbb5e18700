"""The console's campaign pages: the list, a new campaign as a short form (saved as a draft,
checked, its reminders previewed, then published), extend / close / archive, and the history
page. Everything goes through bot/offices/campaigns.py, as the CLI does.

Roles: an admin runs campaigns for the whole tree; a coordinator only campaigns of their
subtree that name their units (a campaign by kind alone would ask every commune of the
province). A campaign or draft that is not the reader's is a 404, like one that does not
exist."""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.admin import AdminError
from bot.offices import campaigns as office
from bot.offices import forms, history
from bot.offices.notices import tell_new_deadline
from bot.spreadsheets.form_sheets import FormSheetError
from bot.storage.models import Campaign, CampaignDraft, Period
from bot.web import auth
from conversations.deadlines import deadline_phrase
from conversations.forms import FormError
from conversations.i18n import Tr
from conversations.reporting_lines import KIND_NAMES

if TYPE_CHECKING:
    from bot.web.server import Console, Page


def routes(console: Console) -> list[web.RouteDef]:
    """The routes of these pages, added to the console's list in one line."""
    pages = CampaignPages(console)
    return [
        web.get("/campaigns", pages.listing),
        web.get("/campaigns/new", pages.new),
        web.post("/campaigns/new", pages.create),
        web.get("/campaigns/draft/{id}", pages.draft),
        web.post("/campaigns/draft/{id}", pages.update),
        web.post("/campaigns/draft/{id}/publish", pages.publish),
        web.get("/campaigns/c/{key}", pages.campaign),
        web.post("/campaigns/c/{key}/{action}", pages.act),
        web.get("/history", pages.history),
        web.post("/forms/upload", pages.upload_form),
    ]


def reader(page: Page) -> str | None:
    """None for an admin (everything); else the path of the coordinator's first unit."""
    if page.contact.role == "admin":
        return None
    return page.scopes[0].path if page.scopes else "/nowhere/"


def _visible(page: Page, scope_path: str) -> bool:
    if page.contact.role == "admin":
        return True
    return any(office.visible(scope_path, s.path) for s in page.scopes)


def problem_text(problem: office.Problem, tr: Tr) -> str:
    return tr(problem.message, **dict(problem.values))


def state_name(state: str, tr: Tr) -> str:
    return {"draft": tr("Draft"), "published": tr("Published"), "closed": tr("Closed"),
            "archived": tr("Archived")}.get(state, state)


def slot_name(kind: str, tr: Tr) -> str:
    """A reminder slot as the preview names it: who gets what."""
    return {"opening": tr("Opening notice to the reporters"),
            "before": tr("Reminder to units not yet submitted"),
            "overdue": tr("Overdue reminder to units not yet submitted"),
            "digest": tr("Digest to the coordinators")}.get(kind, kind)


class CampaignPages:
    def __init__(self, console: Console) -> None:
        self.c = console

    async def _signed(self, request: web.Request, session: AsyncSession) -> Page:
        page = await self.c._page(request, session)
        if page is None:
            raise _Out(await self.c._signed_out(request))
        return page

    async def _draft(self, session: AsyncSession, page: Page, request: web.Request
                     ) -> CampaignDraft:
        raw = request.match_info["id"]
        draft = await session.get(CampaignDraft, int(raw)) if raw.isdigit() else None
        if draft is None or not _visible(page, draft.scope_path):
            raise web.HTTPNotFound()
        return draft

    async def _campaign(self, session: AsyncSession, page: Page, key: str) -> Campaign:
        campaign = await session.scalar(select(Campaign).where(Campaign.key == key))
        if campaign is None or not _visible(page, campaign.scope_path):
            raise web.HTTPNotFound()
        return campaign

    def _render(self, request: web.Request, page: Page, template: str, values: dict[str, Any],
                status: int = 200) -> Any:
        tr = page.tr
        return self.c._render(request, page, template, {
            "problem_text": problem_text, "state_name": lambda s: state_name(s, tr),
            "slot_name": lambda k: slot_name(k, tr),
            "due": lambda at, zone: deadline_phrase(at, zone, tr), **values}, status)

    # ------------------------------------------------------------------ the list

    async def listing(self, request: web.Request) -> web.StreamResponse:
        async with self.c.read_sessions() as session:
            try:
                page = await self._signed(request, session)
            except _Out as out:
                return out.response
            rows = (await session.scalars(select(Campaign).order_by(Campaign.created_at.desc(),
                                                                    Campaign.id.desc()))).all()
            shown = [c for c in rows if _visible(page, c.scope_path)]
            periods: dict[int, list[Period]] = {c.id: [] for c in shown}
            for p in (await session.scalars(select(Period).where(
                    Period.campaign_id.in_(list(periods))).order_by(Period.starts_at))).all():
                periods[p.campaign_id].append(p)
            drafts = [d for d in (await session.scalars(select(CampaignDraft).order_by(
                CampaignDraft.updated_at.desc()))).all() if _visible(page, d.scope_path)]
            flash = await self.c._take_flash(page)
        archived = request.query.get("archived") == "1"
        shown = [c for c in shown if (c.state == "archived") == archived]
        return await self._render(request, page, "campaigns.html", {
            "campaigns": shown, "periods": periods, "zone": "Asia/Ho_Chi_Minh",
            "drafts": drafts, "archived": archived, "flash": flash, "now": self.c.clock()})

    # ------------------------------------------------------------------ new, drafts

    async def _form_page(self, request: web.Request, session: AsyncSession, page: Page,
                         fields: dict[str, str], problems: list[office.Problem],
                         draft: CampaignDraft | None = None, status: int = 200,
                         flash: str = "") -> web.StreamResponse:
        schedule: list[office.Slot] = []
        if draft is not None and not any(p.field == "" for p in problems):
            try:
                schedule = office.schedule(draft.definition)
            except (office.CampaignError, ValueError):
                schedule = []
        return await self._render(request, page, "campaign_form.html", {
            "fields": fields, "problems": problems, "draft": draft, "schedule": schedule,
            "forms": await office.form_choices(session), "kinds": list(KIND_NAMES),
            "rows": range(1, office.FORM_ROWS + 1), "flash": flash,
            "by_field": {p.field: problem_text(p, page.tr) for p in problems},
            "zone": "Asia/Ho_Chi_Minh"}, status)

    async def new(self, request: web.Request) -> web.StreamResponse:
        async with self.c.read_sessions() as session:
            try:
                page = await self._signed(request, session)
            except _Out as out:
                return out.response
            fields: dict[str, str] = {"opening": "1", "before": "3d, 1d", "overdue_days": "3",
                                      "quiet_start": "21:00", "quiet_end": "07:00",
                                      "correction_days": "3"}
            copy = request.query.get("copy", "")
            if copy:
                source = await self._campaign(session, page, copy)
                fields = office.shift_years(office.form_of_definition(source.definition))
            flash = await self.c._take_flash(page)
            return await self._form_page(request, session, page, fields, [], flash=flash)

    async def create(self, request: web.Request) -> web.StreamResponse:
        now = self.c.clock()
        async with self.c.sessions() as session, session.begin():
            posted = await self.c._posted(request, session)
            if isinstance(posted, web.Response):
                return posted
            page, form = posted
            definition, problems = office.definition_from_form(form)
            scope_path = reader(page) or ""
            if not problems:
                try:
                    draft = await office.save_draft(
                        session, definition, actor=await _actor(session, page),
                        scope_path=scope_path, now=now)
                except office.OfficeError as exc:
                    problems = [office.Problem("key", str(exc))]
            if problems:
                return await self._form_page(request, session, page, dict(form), problems,
                                             status=400)
            await auth.set_flash(session, page.visitor.session_id,
                                 page.tr("The draft is saved. Check it and publish it."))
        raise web.HTTPSeeOther(f"/web/campaigns/draft/{draft.id}")

    async def draft(self, request: web.Request) -> web.StreamResponse:
        async with self.c.read_sessions() as session:
            try:
                page = await self._signed(request, session)
            except _Out as out:
                return out.response
            draft = await self._draft(session, page, request)
            problems = await office.check(session, draft.definition, draft.scope_path)
            flash = await self.c._take_flash(page)
            return await self._form_page(request, session, page,
                                         office.form_of_definition(draft.definition),
                                         problems, draft, flash=flash)

    async def update(self, request: web.Request) -> web.StreamResponse:
        now = self.c.clock()
        async with self.c.sessions() as session, session.begin():
            posted = await self.c._posted(request, session)
            if isinstance(posted, web.Response):
                return posted
            page, form = posted
            draft = await self._draft(session, page, request)
            definition, problems = office.definition_from_form(form)
            if not problems:
                try:
                    await office.save_draft(session, definition,
                                            actor=await _actor(session, page),
                                            scope_path=draft.scope_path, now=now,
                                            draft_id=draft.id)
                except office.OfficeError as exc:
                    problems = [office.Problem("key", str(exc))]
            if problems:
                return await self._form_page(request, session, page, dict(form), problems,
                                             draft, status=400)
            await auth.set_flash(session, page.visitor.session_id,
                                 page.tr("The draft is saved. Check it and publish it."))
        raise web.HTTPSeeOther(f"/web/campaigns/draft/{draft.id}")

    async def publish(self, request: web.Request) -> web.StreamResponse:
        now = self.c.clock()
        async with self.c.sessions() as session, session.begin():
            posted = await self.c._posted(request, session)
            if isinstance(posted, web.Response):
                return posted
            page, _form = posted
            draft = await self._draft(session, page, request)
            result = await office.publish(session, draft, actor=await _actor(session, page),
                                          now=now)
            if isinstance(result, list):
                return await self._form_page(
                    request, session, page, office.form_of_definition(draft.definition),
                    result, draft, status=400,
                    flash=page.tr("The campaign is not published: correct what is named "
                                  "below first."))
            key = result.key
            await auth.set_flash(session, page.visitor.session_id, page.tr(
                "The campaign is published: its units are asked to report."))
        self.c._after_commit()
        raise web.HTTPSeeOther(f"/web/campaigns/c/{key}")

    # ------------------------------------------------------------------ a published one

    async def campaign(self, request: web.Request) -> web.StreamResponse:
        async with self.c.read_sessions() as session:
            try:
                page = await self._signed(request, session)
            except _Out as out:
                return out.response
            campaign = await self._campaign(session, page, request.match_info["key"])
            periods = (await session.scalars(select(Period).where(
                Period.campaign_id == campaign.id).order_by(Period.starts_at))).all()
            flash = await self.c._take_flash(page)
            try:
                schedule = office.stored_schedule(campaign, list(periods))
            except (office.CampaignError, ValueError):
                schedule = []
        return await self._render(request, page, "campaign.html", {
            "campaign": campaign, "periods": periods, "flash": flash, "schedule": schedule,
            "zone": campaign.timezone, "now": self.c.clock()})

    async def act(self, request: web.Request) -> web.StreamResponse:
        action = request.match_info["action"]
        if action not in ("extend", "close", "archive"):
            raise web.HTTPNotFound()
        now = self.c.clock()
        async with self.c.sessions() as session, session.begin():
            posted = await self.c._posted(request, session)
            if isinstance(posted, web.Response):
                return posted
            page, form = posted
            campaign = await self._campaign(session, page, request.match_info["key"])
            actor, tr = await _actor(session, page), page.tr
            try:
                if action == "extend":
                    reply = await self._extend(session, campaign, form, actor, tr, now)
                elif action == "close":
                    await office.close(session, campaign, actor=actor, now=now)
                    reply = tr("The campaign is closed: its reports are kept and can be read.")
                else:
                    await office.archive(session, campaign, actor=actor, now=now)
                    reply = tr("The campaign is archived.")
            except office.OfficeError as exc:  # refused before anything was changed
                reply = tr(str(exc))
            await auth.set_flash(session, page.visitor.session_id, reply)
        self.c._after_commit()
        raise web.HTTPSeeOther(f"/web/campaigns/c/{campaign.key}")

    async def _extend(self, session: AsyncSession, campaign: Campaign, form: dict[str, str],
                      actor: history.Actor, tr: Tr, now: Any) -> str:
        period_id = form.get("period", "")
        period = await session.get(Period, int(period_id)) if period_id.isdigit() else None
        if period is None or period.campaign_id != campaign.id:
            raise web.HTTPNotFound()
        days = {}
        for name in ("due_before", "lock_before"):
            text = form.get(name, "").strip()
            days[name] = office.parse_day(text) if text else None
            if text and days[name] is None:
                raise office.OfficeError("Write a date as day/month/year, e.g. 13/10/2025.")
        if days["due_before"] is None and days["lock_before"] is None:
            raise office.OfficeError("Write the new deadline or the new lock date.")
        await office.extend(session, campaign, period, due_before=days["due_before"],
                            lock_before=days["lock_before"], actor=actor, now=now)
        told = await tell_new_deadline(session, self.c.store, self.c.catalog, campaign.key,
                                       period.id, now, lock_only=days["due_before"] is None)
        return tr.plural("The new date is saved; {n} reporter of units not yet submitted is "
                         "told in chat.", "The new date is saved; {n} reporters of units not "
                         "yet submitted are told in chat.", told)

    # ------------------------------------------------------------------ a form spreadsheet

    async def upload_form(self, request: web.Request) -> web.StreamResponse:
        """A form spreadsheet (the `forms export` layout), read with the same line-numbered
        errors as `baocao forms load`. Admins only: forms are shared by the whole tree."""
        now = self.c.clock()
        async with self.c.sessions() as session, session.begin():
            page = await self.c._page(request, session)
            if page is None:
                return await self.c._signed_out(request)
            if page.contact.role != "admin":
                raise web.HTTPNotFound()
            posted = await request.post()
            sent = str(posted.get("csrf", ""))
            if not secrets.compare_digest(sent, self.c.signer.csrf(page.visitor.token)):
                return self.c._message(request, 403, "form_expired")
            upload = posted.get("workbook")
            tr = page.tr
            if not isinstance(upload, web.FileField):
                errors = [tr("Choose the form's Excel file (.xlsx) first.")]
            else:
                errors, reply = await self._read_form(session, page, upload, now)
            if errors:
                return await self._render(request, page, "form_upload.html",
                                          {"errors": errors, "flash": ""}, 400)
            await auth.set_flash(session, page.visitor.session_id, reply)
        raise web.HTTPSeeOther("/web/campaigns/new")

    async def _read_form(self, session: AsyncSession, page: Page, upload: web.FileField,
                         now: Any) -> tuple[list[str], str]:
        tr = page.tr
        name = PurePath(upload.filename or "form.xlsx").name
        with tempfile.TemporaryDirectory(prefix="baocao-form-") as folder:
            path = Path(folder) / (name if name.lower().endswith(".xlsx") else name + ".xlsx")
            path.write_bytes(upload.file.read())
            try:
                row, created = await forms.load_workbook_form(
                    session, path, actor=await _actor(session, page), now=now)
            except FormSheetError as exc:
                return [*exc.errors], ""
            except (FormError, AdminError) as exc:
                return [str(exc)], ""
        if created:
            return [], tr("Form {form} version {version} is loaded: choose it below.",
                          form=row.key, version=row.version)
        return [], tr("Form {form} version {version} was already loaded: choose it below.",
                      form=row.key, version=row.version)

    # ------------------------------------------------------------------ history

    async def history(self, request: web.Request) -> web.StreamResponse:
        async with self.c.read_sessions() as session:
            try:
                page = await self._signed(request, session)
            except _Out as out:
                return out.response
            within = reader(page)
            rows = await history.recent(session, within=within)
            if within is not None:  # a coordinator of several units reads each subtree
                for scope in page.scopes[1:]:
                    rows += await history.recent(session, within=scope.path)
                rows.sort(key=lambda r: (r.at, r.id), reverse=True)
        return await self._render(request, page, "history.html", {
            "rows": rows, "show": _show, "zone": "Asia/Ho_Chi_Minh",
            "query": {}, "qs": urlencode({})})


def _show(value: Any) -> str:
    """before / after as one short line: `key: value` pairs."""
    if value is None:
        return "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_show(v) if isinstance(v, dict | list) else v}"
                         for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_show(v) if isinstance(v, dict | list) else str(v) for v in value)
    return str(value)


async def _actor(session: AsyncSession, page: Page) -> history.Actor:
    from bot.storage.models import Contact

    contact = await session.get(Contact, page.contact.id)
    return history.Actor.of(contact) if contact is not None else history.Actor()


class _Out(Exception):  # noqa: N818 - a response to return, not an error
    def __init__(self, response: web.StreamResponse) -> None:
        self.response = response
