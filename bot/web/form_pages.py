"""The form page: a reporter's whole report on one screen (a Telegram Mini App, or a one-time
link from Zalo and the local chat), saved and submitted through the chat's own engine.

A section's post becomes the fast-entry message the chat reads ("4.2 = 150\\n8.3 = 5tr"), run
as a message of this person in their chat (Dispatcher.handle_web): the same parser, checks,
flags, storage and "who entered it", in one transaction; the replies are shown on the page,
not sent to the chat. Nộp báo cáo is the chat's "nộp", and the chat is told."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.context_loader import load_context
from bot.storage.models import ConversationState, Identity
from bot.web import auth
from bot.web.auth import COOKIE, Visitor
from conversations import web_form
from conversations.context import Assignment
from conversations.deadlines import deadline_text
from conversations.events import InboundEvent, StepResult, Submit
from conversations.forms import Form
from conversations.i18n import SUPPORTED, Tr
from conversations.session import FORM_STEPS

if TYPE_CHECKING:
    from bot.web.server import Console

KEEP_ROUNDS = 20  # soft checks kept in one post, one "Đúng, giữ nguyên" each


@dataclass(frozen=True)
class Reporter:
    """Who is filling in the form, and the chat their answers belong to."""

    visitor: Visitor
    identity: Identity
    tr: Tr


def routes(console: Console) -> list[web.RouteDef]:
    pages = FormPages(console)
    return [web.get("/form/", pages.show), web.get("/form/{period}", pages.show),
            web.post("/form/{period}/save", pages.save),
            web.post("/form/{period}/submit", pages.submit)]


def sign_in_texts(tr: Tr) -> tuple[str, str, str]:
    """The one-time link's page for a reporter: what it opens (title, line, button)."""
    return (tr("Open the report form"),
            tr("This link signs you in once, on this device only; the session lasts 8 hours."),
            tr("Open the form"))


async def _identity(session: AsyncSession, contact_id: int) -> Identity | None:
    """The chat the person last wrote in: the form's answers go on that conversation."""
    rows = (await session.execute(
        select(Identity, ConversationState.updated_at)
        .outerjoin(ConversationState, ConversationState.identity_id == Identity.id)
        .where(Identity.contact_id == contact_id))).all()
    if not rows:
        return None
    rows.sort(key=lambda r: (r[1] is not None, r[1] or r[0].created_at, r[0].id))
    return rows[-1][0]


class FormPages:
    def __init__(self, console: Console) -> None:
        self.console = console

    # ------------------------------------------------------------------ helpers

    def _event(self, identity: Identity, text: str) -> InboundEvent:
        return InboundEvent(channel=identity.channel, chat_id=identity.chat_id,
                            user_id=identity.external_user_id,
                            message_id=f"web-form:{uuid.uuid4().hex}", kind="text",
                            received_at=self.console.clock(), text=text,
                            display_name=identity.display_name)

    async def _reporter(self, request: web.Request, session: AsyncSession) -> Reporter | None:
        c = self.console
        token = c.signer.token_of(request.cookies.get(COOKIE))
        visitor = await auth.visitor(session, token, c.clock())
        if visitor is None:
            return None
        if visitor.role != "reporter":  # a coordinator's place is the console
            raise web.HTTPSeeOther("/web/")
        identity = await _identity(session, visitor.contact_id)
        if identity is None:
            return None
        return Reporter(visitor, identity, c._tr(visitor.language))

    async def _assignments(self, session: AsyncSession, who: Reporter
                           ) -> tuple[list[Assignment], Mapping[str, Form]]:
        c = self.console
        now = c.clock()
        ctx = await load_context(session, self._event(who.identity, ""), who.identity, now,
                                 c.catalog, c.forms, SUPPORTED[0], c.late_window)
        return [a for a in ctx.assignments if not a.locked(now)], ctx.forms

    def _chosen(self, request: web.Request, open_: list[Assignment]) -> Assignment | None:
        wanted = request.match_info.get("period", "")
        unit = request.query.get("unit", "")
        for a in open_:
            if str(a.period_id) == wanted and (not unit or a.unit.code == unit):
                return a
        return None

    async def _render(self, request: web.Request, who: Reporter, a: Assignment,
                      forms: Mapping[str, Form], values: dict[str, Any],
                      status: int = 200) -> web.Response:
        tr = self.console.catalog.tr(who.tr.language, (a.unit.kind,))
        form = forms[a.form_key].worded_for(a.unit.kind)
        sections = web_form.sections(form, a, tr)
        posted: Mapping[str, str] = values.get("posted") or {}
        return aiohttp_jinja2.render_template("form.html", request, {
            "tr": tr, "lang": tr.language, "a": a, "sections": sections,
            "deadline": deadline_text(a, tr),
            "title": a.campaign_title.get(tr.language), "zone": a.timezone,
            "csrf": self.console.signer.csrf(who.visitor.token),
            "when": lambda dt: tr.datetime(dt, a.timezone) if dt is not None else "",
            "posted": posted, "notes": values.get("notes") or {},
            "keep": values.get("keep") or (), "said": values.get("said") or "",
            "said_in": values.get("said_in", ""), "submitted": values.get("submitted", ""),
            "unanswered": [r.id for s in sections for r in s.rows
                           if r.required and not r.answered],
            "suffix": f"?unit={a.unit.code}" if values.get("several") else "",
        }, status=status)

    async def _load(self, request: web.Request
                    ) -> tuple[Reporter, Assignment, Mapping[str, Form], bool] | web.Response:
        async with self.console.read_sessions() as session:
            who = await self._reporter(request, session)
            if who is None:
                return await self.console._signed_out(request)
            open_, forms = await self._assignments(session, who)
        a = self._chosen(request, open_)
        if a is None:
            raise web.HTTPNotFound()
        return who, a, forms, len(open_) > 1

    # ------------------------------------------------------------------ pages

    async def show(self, request: web.Request) -> web.Response:
        """The form; at /web/form/ with several open reports, the list to choose from."""
        if "period" not in request.match_info:
            async with self.console.read_sessions() as session:
                who = await self._reporter(request, session)
                if who is None:
                    return await self.console._signed_out(request)
                open_, _forms = await self._assignments(session, who)
            if len(open_) == 1:
                raise web.HTTPSeeOther(f"/web/form/{open_[0].period_id}")
            return aiohttp_jinja2.render_template("form_list.html", request, {
                "tr": who.tr, "lang": who.tr.language, "reports": open_,
                "title": who.tr("Reports to file"),
                "when": lambda dt, zone: who.tr.datetime(dt, zone)})
        loaded = await self._load(request)
        if isinstance(loaded, web.Response):
            return loaded
        who, a, forms, several = loaded
        return await self._render(request, who, a, forms, {"several": several})

    async def _posted(self, request: web.Request
                      ) -> tuple[Reporter, Assignment, Mapping[str, Form], bool,
                                 dict[str, str]] | web.Response:
        loaded = await self._load(request)
        if isinstance(loaded, web.Response):
            return loaded
        who, a, forms, several = loaded
        form = {k: str(v) for k, v in (await request.post()).items() if isinstance(v, str)}
        if not secrets.compare_digest(form.get("csrf", ""),
                                      self.console.signer.csrf(who.visitor.token)):
            return self.console._message(request, 403, "form_expired")
        return who, a, forms, several, form

    async def _run(self, who: Reporter, text: str, submit_note: str = "") -> StepResult:
        dispatcher = self.console.dispatcher
        result = await dispatcher.handle_web(self._event(who.identity, text), submit_note)
        self.console._after_commit()
        return result

    async def _chat_state(self, who: Reporter) -> dict[str, Any]:
        async with self.console.read_sessions() as session:
            row = await session.get(ConversationState, who.identity.id)
        return dict(row.state) if row else {}

    async def _leave_the_chat_as_shown(self, who: Reporter, before: Mapping[str, Any]) -> None:
        """The page's messages move the chat on without showing it: if it is no longer on
        the question it last showed, stop it (/huy, answers kept), so a reply typed in chat
        to that question is never stored as the answer of another."""
        after = await self._chat_state(who)
        if after.get("step") in FORM_STEPS and any(
                after.get(k) != before.get(k) for k in ("step", "question", "assignment")):
            await self._run(who, "/huy")

    async def _on_this_report(self, who: Reporter, a: Assignment) -> bool:
        """Put the person's chat on this page's report, as they would in chat (/huy, /baocao,
        its number), so no value lands in another report; False if it could not be."""
        state = await self._chat_state(who)
        if state.get("assignment") == a.key and state.get("step") in FORM_STEPS:
            return True
        if state.get("step") in FORM_STEPS:
            state = (await self._run(who, "/huy")).state
        state = (await self._run(who, "/baocao")).state
        choices = list(state.get("choices") or []) if state.get("step") == "choosing" else []
        if a.key in choices:
            state = (await self._run(who, str(choices.index(a.key) + 1))).state
        return state.get("assignment") == a.key and state.get("step") in FORM_STEPS

    async def save(self, request: web.Request) -> web.Response:
        """One section: what changed goes in as one chat message; values asked back and
        ticked "Đúng, giữ nguyên" are kept with their flag, as "1" keeps them in chat."""
        posted = await self._posted(request)
        if isinstance(posted, web.Response):
            return posted
        who, a, forms, several, form = posted
        tr = self.console.catalog.tr(who.tr.language, (a.unit.kind,))
        rows = web_form.sections(forms[a.form_key].worded_for(a.unit.kind), a, tr)
        section = next((s for s in rows if s.id == form.get("section")), None)
        if section is None:
            raise web.HTTPNotFound()
        worded = forms[a.form_key].worded_for(a.unit.kind)
        sent = web_form.entry(worded, section, form)
        ids = sent.ids
        replies: list[str] = []
        state: Mapping[str, Any] = {}
        before = {qid: a.answers.get(qid) for qid in ids}
        shown = await self._chat_state(who)
        if (sent.lines or sent.texts) and not await self._on_this_report(who, a):
            replies.append(tr("This report cannot be opened here right now; nothing was saved. "
                              "Please send /baocao in the chat and choose it, then save again."))
        else:
            if sent.lines:
                result = await self._run(who, sent.text)
                replies += _for_the_page(result)
                state = result.state
            for qid, text in sent.texts:  # as in chat: "III: …", one message each
                if state.get("step") == "confirming":
                    break  # a figure waits for "Đúng, giữ nguyên" first
                result = await self._run(who, f"{qid}: {text}")
                replies += _for_the_page(result)
                state = result.state
        kept = {r.id for r in section.rows if form.get(f"k:{r.id}")}
        for _ in range(KEEP_ROUNDS):
            pending = list(state.get("pending") or []) if state.get("step") == "confirming" \
                else []
            if not pending or pending[0].get("qid") not in kept:
                break
            result = await self._run(who, "1")
            replies += _for_the_page(result)
            state = result.state
        pending = [p.get("qid") for p in state.get("pending") or []] \
            if state.get("step") == "confirming" else []
        await self._leave_the_chat_as_shown(who, shown)
        loaded = await self._load(request)
        if isinstance(loaded, web.Response):
            return loaded
        who, a, forms, several = loaded
        said = "\n\n".join(replies)
        # not stored (refused, or waiting for "Đúng, giữ nguyên"): the typed value stays
        unsaved = {qid: form.get(f"v:{qid}", "") for qid in ids
                   if a.answers.get(qid) == before[qid] or qid in pending}
        notes = {qid: web_form.said_about(said, qid) for qid in unsaved}
        for qid in sent.refused:
            notes[qid] = [tr("This value or its note reads like another row (such as "
                             "“4.2 = …”), so it was not saved. Please write it without that.")]
        return await self._render(request, who, a, forms, {
            "several": several, "posted": unsaved, "notes": notes, "keep": tuple(pending),
            "said": said, "said_in": section.id})

    async def submit(self, request: web.Request) -> web.Response:
        """The chat's review and "nộp": on time or late from this press; the chat is told."""
        posted = await self._posted(request)
        if isinstance(posted, web.Response):
            return posted
        who, a, forms, several, _form = posted
        tr = self.console.catalog.tr(who.tr.language, (a.unit.kind,))
        shown = await self._chat_state(who)
        if not await self._on_this_report(who, a):
            await self._leave_the_chat_as_shown(who, shown)
            return await self._render(request, who, a, forms, {
                "several": several, "said_in": "submit", "said": tr(
                    "This report cannot be opened here right now; nothing was saved. Please "
                    "send /baocao in the chat and choose it, then save again.")})
        await self._run(who, "xem lại")
        result = await self._run(who, "nộp", tr("Submitted through the web form:"))
        said = "\n\n".join(_for_the_page(result))
        done = any(isinstance(e, Submit) for e in result.effects)
        await self._leave_the_chat_as_shown(who, shown)  # a refused one leaves it reviewing
        loaded = await self._load(request)
        if isinstance(loaded, web.Response):
            return loaded
        who, a, forms, several = loaded
        return await self._render(request, who, a, forms, {
            "several": several, "said": said, "said_in": "submit",
            "submitted": "yes" if done else ""})


def _for_the_page(result: StepResult) -> list[str]:
    """The engine's replies, less the chat's next question or review (the page shows every
    question): of those, only what they say first (what was stored)."""
    asking_next = result.state.get("step") in ("answering", "reviewing")
    return [m.lead if m.prompt and asking_next else m.text for m in result.messages
            if m.text and not (m.prompt and asking_next and not m.lead)]
