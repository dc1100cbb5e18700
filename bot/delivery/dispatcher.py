"""The path of one inbound event: lock the chat, load, advance the engine, commit everything
(dedupe mark, effects, state, outbox) in one transaction."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.coordinators.coordination import (
    NEEDS_DATA,
    accept_report,
    coordinator_data,
    document_payload,
    make_export,
    on_behalf_reports,
    return_report,
    tell_entered,
)
from bot.coordinators.reminders import ReminderStore, nudge_info, nudge_runner
from bot.coordinators.reporting import with_received
from bot.coordinators.resubmission import tell_returner
from bot.delivery import outbox
from bot.exports.letterhead import ReportSettings
from bot.exports.model import Skipped
from bot.storage.batch_snapshot import BatchSnapshot, PendingWrites
from bot.storage.context_loader import FormCache, PreviousCache, identity_for, load_context
from bot.storage.database import dialect_insert
from bot.storage.effects import apply_effects
from bot.storage.models import (
    Contact,
    ConversationState,
    InboxMessage,
    OutboxMessage,
    ProcessedMessage,
    Unit,
)
from bot.web import links as web_links
from bot.web.links import WebLinks
from conversations import form_link, not_typed
from conversations.context import Assignment, Context
from conversations.engine import advance, command_of, needs_received
from conversations.events import (
    AcceptReport,
    Export,
    FetchFile,
    InboundEvent,
    IssueWebLink,
    LinkIdentity,
    OfferUpload,
    OutboundMessage,
    Register,
    ReturnReport,
    SendWorkbook,
    SetLanguage,
    StepResult,
    Submit,
)
from conversations.forms import Form
from conversations.i18n import Catalog, Tr
from conversations.private_only import not_here
from conversations.prompts import prompt_key
from conversations.uploaded_workbook import TEMPLATE_KIND, UploadedWorkbook
from conversations.workbook_entry import table_codes

log = logging.getLogger(__name__)
MENU_CHANNELS = frozenset({"telegram"})  # channels with a per-chat command menu


def utc_now() -> datetime:
    return datetime.now(UTC)


class FileTooBig(Exception):
    """A fetcher refuses a file over the size the bot reads (MAX_FILE_BYTES)."""


class FileNotFetched(Exception):
    """The messenger does not have the file (an unknown or expired file id)."""


def _safe(name: str) -> str:
    """A file name safe on any disk: letters, digits, dot, dash."""
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in ".-_") else "-" for c in name)
    return cleaned.strip(".-")[:80]


def upload_link_payload(event: InboundEvent, language: str) -> dict[str, Any]:
    """An outbox payload the channel's transport turns into a one-time upload link for the
    sender (Zalo: a file can reach the bot only through a web page)."""
    return {"kind": "upload_link", "user_id": event.user_id, "language": language}


def dedupe_key(event: InboundEvent) -> tuple[str, str, str]:
    """What makes an inbound message the same one again: its channel, chat and message id
    (adapters give a button press the callback query's id). Never a messenger's update
    counter: Telegram starts update_id again after a week without updates."""
    return event.channel, event.chat_id, event.message_id


def _processed(event: InboundEvent, now: datetime) -> ProcessedMessage:
    channel, chat_id, message_id = dedupe_key(event)
    return ProcessedMessage(channel=channel, chat_id=chat_id, message_id=message_id,
                            processed_at=now)


SKIPPED_SHOWN = 10


def export_notes(tr: Tr, fmt: str, failed: bool, skipped: Sequence[Skipped]) -> list[str]:
    """What the coordinator reads beside (or instead of) an export."""
    notes = []
    if failed:
        notes.append(tr("The {format} file could not be made. The error has been recorded; "
                        "please try again later, or tell the administrator if it happens "
                        "again.", format=fmt.upper()))
    if skipped:
        shown = "; ".join(str(s) for s in skipped[:SKIPPED_SHOWN])
        more = len(skipped) - SKIPPED_SHOWN
        if more > 0:
            shown += "; " + tr("and {count} more", count=more)
        notes.append(tr("{count} stored value(s) could not be written into the file and were "
                        "left out: {values}. Please ask these units to correct them.",
                        count=len(skipped), values=shown))
    return notes


def _reader_language(result: StepResult, ctx: Context) -> str:
    """The language the replies were written in (a language change applies at once)."""
    for effect in result.effects:
        if isinstance(effect, SetLanguage):
            return effect.language
    if ctx.contact is not None:
        return ctx.contact.language
    return result.state.get("language") or ctx.default_language


@dataclass(frozen=True)
class Queued:
    """An event waiting to be handled, with its channel chores (acks) and stored row."""

    event: InboundEvent
    acks: Sequence[Any] = ()
    inbox_id: int | None = None


Take = Callable[[AsyncSession], Awaitable[list[Queued]]]


@dataclass(frozen=True)
class FileToMake:
    """An export a coordinator asked for, made after the commit (it only reads)."""

    event: InboundEvent
    contact_id: int
    role: str
    export: Export


@dataclass(frozen=True)
class WorkbookToMake:
    """A unit's Excel template of a report, made and sent after the commit."""

    event: InboundEvent
    form: Form
    assignment: Assignment
    answers: dict[str, dict[str, Any]]
    language: str


@dataclass(frozen=True)
class FileToFetch:
    """A file a person sent, downloaded and read after the commit."""

    event: InboundEvent
    fetch: FetchFile


AfterCommit = FileToMake | WorkbookToMake | FileToFetch
# Fetches a file a person sent, by the channel's reference, into the given path.
Fetcher = Callable[[str, Path], Awaitable[None]]


class ChatLocks:
    """One asyncio lock per chat, so one chat's messages are handled one at a time, in order."""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    def busy(self, channel: str, chat_id: str) -> bool:
        lock = self._locks.get((channel, chat_id))
        return lock is not None and lock.locked()

    def __call__(self, channel: str, chat_id: str) -> asyncio.Lock:
        key = (channel, chat_id)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock


class Dispatcher:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], catalog: Catalog,
                 default_language: str = "vi", late_window_days: int = 90,
                 clock: Callable[[], datetime] = utc_now,
                 contact_sharing_channels: frozenset[str] = frozenset({"telegram"}),
                 read_sessions: async_sessionmaker[AsyncSession] | None = None,
                 files_dir: Path = Path("files"),
                 report_settings: ReportSettings | None = None) -> None:
        self.sessions = sessions
        self.catalog = catalog
        self.default_language = default_language
        self.late_window = timedelta(days=late_window_days)
        self.clock = clock
        self.forms = FormCache()
        self.previous = PreviousCache()  # cleared whenever a report is submitted
        self.locks = ChatLocks()
        self.contact_sharing_channels = contact_sharing_channels
        self.on_commit: list[Callable[[], None]] = []  # e.g. wake the outbox sender
        self.reminders = ReminderStore(sessions, catalog, self.forms, self.late_window)
        self.read_sessions = read_sessions or sessions
        self.files_dir = files_dir
        self.report_settings = report_settings
        self.web_links: WebLinks | None = None  # set when the web console is turned on
        # batches handled; events answered from the snapshot, and through the one-event path
        self.counts: Counter[str] = Counter()
        self.bot_names: dict[str, str] = {}  # channel → the bot's username, for links to it
        # Channels on which a person can send a file in the chat, and how to fetch it.
        self.fetchers: dict[str, Fetcher] = {}
        self._workbooks: dict[tuple[str, str, str], UploadedWorkbook] = {}  # read, not handled
        self._background: set[asyncio.Task[None]] = set()
        self._submitted = False

    async def handle(self, event: InboundEvent, *, acks: Sequence[dict[str, Any]] = (),
                     inbox_id: int | None = None) -> bool:
        """Process one event; False when it was a duplicate and nothing happened.

        `acks` are channel payloads (answer a button press, tidy the pressed message) queued
        before the replies; `inbox_id` is the stored update this event came from, deleted in
        the same transaction."""
        exports: list[AfterCommit] = []
        async with self.locks(event.channel, event.chat_id):
            try:
                handled = await self._handle(event, acks, inbox_id, exports)
            except Exception:
                log.exception("failed to handle %s message %s", event.channel, event.message_id)
                await self._apologise(event, inbox_id)
                handled = True
        await self._after_commit(exports)
        return handled

    async def handle_web(self, event: InboundEvent, submit_note: str = "") -> StepResult:
        """An event from the web form, run exactly as a chat message in that person's chat
        (state, answers, flags in one transaction), deduplicated the same way. The replies
        are returned for the page, not queued to the chat; except a submission's, which the
        chat gets after `submit_note`, in the same transaction."""
        capture: list[StepResult] = []
        exports: list[AfterCommit] = []
        async with self.locks(event.channel, event.chat_id):
            now = self.clock()
            async with self.sessions() as session, session.begin():
                if not await self._seen(session, event):
                    session.add(_processed(event, now))
                    await self._process(session, event, (), exports, now, capture=capture,
                                        queue=False, submit_note=submit_note)
            if self._submitted:
                self.previous.clear()
                self._submitted = False
        await self._after_commit(exports)
        return capture[0] if capture else StepResult({}, (), ())

    async def handle_batch(self, take: Take) -> int:
        """Process stored updates of many chats in one transaction; returns how many were
        handled. `take` (the inbox's) picks and removes them inside that transaction, skipping
        chats whose lock is held; each chat's events are handled in the order given.

        The common case (a reporter's next answer) is answered from a snapshot read in a few
        queries and written with one statement per table; any other event goes through the
        one-event path inside the same transaction. If anything fails, nothing is written and
        the exception propagates, so the caller can retry one by one."""
        exports: list[AfterCommit] = []
        async with contextlib.AsyncExitStack() as stack:
            handled = await self._handle_batch(take, stack, exports)
        await self._after_commit(exports)
        return handled

    async def _handle_batch(self, take: Take, stack: contextlib.AsyncExitStack,
                            exports: list[AfterCommit]) -> int:
        now = self.clock()
        async with self.sessions() as session, session.begin():
            items = await take(session)
            for channel, chat_id in sorted({(i.event.channel, i.event.chat_id) for i in items}):
                lock = self.locks(channel, chat_id)
                if lock.locked():  # `take` skips busy chats; never wait here, holding the DB
                    raise RuntimeError(f"chat {channel}:{chat_id} is busy")
                await stack.enter_async_context(lock)
            items = await self._unseen(session, items, now)
            snapshot = await BatchSnapshot.load(session, [i.event for i in items], now,
                                                self.forms, self.late_window, self.previous)
            replied = await outbox.replied_prompts(session, [i.event for i in items])
            writes = PendingWrites()
            self.counts["batches"] += bool(items)
            for item in items:
                event = item.event
                loaded = snapshot.context(event, self.catalog, self.default_language,
                                          event.channel in self.contact_sharing_channels,
                                          event.channel in self.fetchers)
                if loaded is not None and self._may_offer_form_link(event):
                    loaded = None  # the one-event path makes the link and stores it
                if loaded is not None:
                    ctx, state = loaded
                    if event.reply_to:
                        ctx = replace(ctx, replied=replied.get(
                            (event.channel, event.chat_id, event.reply_to)))
                    result = advance(state, event, ctx, now)
                    self._forget_previous(result)
                    if snapshot.fast_writes(result, now, event):
                        menu = snapshot.record(writes, event, result, now,
                                               self.default_language)
                        writes.outbox += [outbox.payload_row(event.channel, event.chat_id,
                                                             ack, now) for ack in item.acks]
                        if menu is not None and event.channel in MENU_CHANNELS:
                            writes.outbox.append(outbox.payload_row(event.channel,
                                                                    event.chat_id, menu, now))
                        writes.outbox += outbox.message_rows(event.channel, event.chat_id,
                                                             result.messages, now,
                                                             _reader_language(result, ctx),
                                                             prompt_key(result))
                        self.counts["fast"] += 1
                        continue
                self.counts["one_by_one"] += 1
                await writes.flush(session, now)  # keeps the rows in the order of events
                await self._process(session, event, item.acks, exports, now)
                await session.flush()
                snapshot.handled_elsewhere(event)
            await writes.flush(session, now)
        if self._submitted:  # committed: read the previous reports afresh
            self.previous.clear()
            self._submitted = False
        return len(items)

    def _may_offer_form_link(self, event: InboundEvent) -> bool:
        """A `/baocao` where the form page's link is given in the text (Zalo, local chat)."""
        command = command_of(event)
        return (self.web_links is not None and event.channel in form_link.LINK_CHANNELS
                and command is not None and command[0] == "report")

    def _forget_previous(self, result: StepResult) -> None:
        """A submitted report may be some later report's previous one."""
        if any(isinstance(e, Submit) for e in result.effects):
            self.previous.clear()
            self._submitted = True

    async def _unseen(self, session: AsyncSession, items: Sequence[Queued],
                      now: datetime) -> list[Queued]:
        """Mark the events processed (one statement); those marked before, or twice in the
        batch, are dropped."""
        fresh: dict[tuple[str, str, str], Queued] = {}
        for item in items:
            fresh.setdefault(dedupe_key(item.event), item)
        if not fresh:
            return []
        stmt = dialect_insert(session)(ProcessedMessage).on_conflict_do_nothing().returning(
            ProcessedMessage.channel, ProcessedMessage.chat_id, ProcessedMessage.message_id)
        marked = {(c, chat, m) for c, chat, m in (await session.execute(
            stmt, [{"channel": c, "chat_id": chat, "message_id": m, "processed_at": now}
                   for c, chat, m in fresh])).all()}
        return [item for key, item in fresh.items() if key in marked]

    async def _after_commit(self, exports: Sequence[AfterCommit]) -> None:
        for callback in self.on_commit:
            callback()
        for item in exports:
            if isinstance(item, FileToMake):
                await self._export(item.event, item.contact_id, item.role, item.export)
            elif isinstance(item, WorkbookToMake):
                await self._send_workbook(item)
            else:  # a download may take a while: the other chats go on meanwhile
                self._in_background(self._fetch(item))

    def _in_background(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def settle(self) -> None:
        """Wait for the files being fetched and read (the local chat and tests)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def _send_workbook(self, item: WorkbookToMake) -> None:
        """The unit's template, written and queued to its chat; on a channel where a person
        cannot send a file, with a one-time upload link."""
        from bot.spreadsheets.workbooks import TemplateFor, write_template
        from conversations.deadlines import deadline_text

        event, a = item.event, item.assignment
        try:
            tr = self.catalog.tr(item.language, (a.unit.kind,))
            folder = self.files_dir / uuid.uuid4().hex
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"bao-cao-{_safe(a.unit.code)}-{a.period_id}.xlsx"
            target = TemplateFor(a.unit.code, a.unit.name, a.period_id,
                                 a.period_label.get(item.language),
                                 a.campaign_title.get(item.language), deadline_text(a, tr))
            await asyncio.to_thread(write_template, path, item.form, target, item.answers, tr,
                                    self.clock())
            caption = tr("Excel file of the report: {title} — {unit}",
                         title=a.campaign_title.get(item.language), unit=a.unit.name)
            async with self.sessions() as session, session.begin():
                now = self.clock()
                outbox.enqueue_payload(session, event.channel, event.chat_id,
                                       document_payload(path, caption, "xlsx"), now)
                if event.channel not in self.fetchers:
                    outbox.enqueue_payload(session, event.channel, event.chat_id,
                                           upload_link_payload(event, item.language), now)
        except Exception:
            log.exception("making the Excel template of %s failed", a.key)
            return
        for callback in self.on_commit:
            callback()

    async def _fetch(self, item: FileToFetch) -> None:
        """Download the file a person sent and hand it to its chat as a workbook event."""
        event, fetch = item.event, item.fetch
        fetcher = self.fetchers.get(event.channel)
        folder = self.files_dir / uuid.uuid4().hex
        path = folder / f"upload-{_safe(fetch.file_name) or 'file.xlsx'}"
        problem = ""
        try:
            if fetcher is None:
                raise OSError(f"no file fetcher for {event.channel}")
            folder.mkdir(parents=True, exist_ok=True)
            await fetcher(fetch.ref, path)
        except FileTooBig:
            problem = "too_big"
        except FileNotFetched as gone:  # told to the person; nothing for the operator to fix
            log.warning("%s from %s could not be downloaded: %s", fetch.file_name,
                        event.channel, gone)
            problem = "download_failed"
        except Exception:
            log.exception("downloading %s from %s failed", fetch.file_name, event.channel)
            problem = "download_failed"
        await self.receive_file(event, path, fetch.file_name, problem)

    async def received_upload(self, event: InboundEvent, path: Path, file_name: str,
                              upload: UploadedWorkbook | None = None) -> None:
        """A file posted to an upload page (already read there, so that a file that cannot
        be read leaves the link usable): handled in its chat, in the background."""
        self._in_background(self.receive_file(event, path, file_name,
                                              message_id=event.message_id, upload=upload))

    async def receive_file(self, source: InboundEvent, path: Path, file_name: str,
                           problem: str = "", message_id: str = "",
                           upload: UploadedWorkbook | None = None) -> None:
        """Read a received .xlsx (in a child process with limits: bot/spreadsheets/
        workbook_worker.py) and handle it in the chat it came from, as a "workbook" event
        (deduplicated like any message: a file is read and stored once)."""
        from bot.spreadsheets.workbook_worker import read_isolated

        if problem:
            upload = UploadedWorkbook(file_name, problem)
        elif upload is None:
            upload = await read_isolated(path, file_name)
        event = replace(source, kind="workbook", message_id=message_id
                        or f"{source.message_id}:file", payload="", text="",
                        file_name=file_name)
        self._workbooks[dedupe_key(event)] = upload
        try:
            await self.handle(event)
        finally:
            self._workbooks.pop(dedupe_key(event), None)

    async def _export(self, event: InboundEvent, contact_id: int, role: str,
                      export: Export) -> None:
        """Files are made after the commit, reading a snapshot without blocking writers. The
        coordinator is told when a file could not be made, and which values a file left
        out."""
        made: list[tuple[Path, str, list[Skipped]]] = []
        failed = False
        try:
            async with self.read_sessions() as session:
                for period_id in export.period_ids:
                    made += await make_export(session, contact_id, role, period_id,
                                              export.format, self.forms, self.files_dir,
                                              self.clock(), self.report_settings,
                                              export.unit_code)
        except Exception:
            log.exception("export %s failed", export)
            failed = True
        try:
            async with self.sessions() as session, session.begin():
                language = await session.scalar(select(Contact.language).where(
                    Contact.id == contact_id)) or self.default_language
                tr = self.catalog.tr(language)
                for path, caption, _skipped in made:
                    outbox.enqueue_payload(session, event.channel, event.chat_id,
                                           document_payload(path, caption, export.format),
                                           self.clock())
                notes = export_notes(tr, export.format, failed,
                                     [s for *_rest, skipped in made for s in skipped])
                outbox.enqueue(session, event.channel, event.chat_id,
                               [OutboundMessage(text) for text in notes], self.clock(),
                               language)
        except Exception:
            log.exception("could not queue the files of export %s", export)
            return
        for callback in self.on_commit:
            callback()

    async def _handle(self, event: InboundEvent, acks: Sequence[dict[str, Any]],
                      inbox_id: int | None, exports: list[AfterCommit]) -> bool:
        now = self.clock()
        async with self.sessions() as session, session.begin():
            if inbox_id is not None:
                await session.execute(delete(InboxMessage).where(InboxMessage.id == inbox_id))
            if await self._seen(session, event):
                return False
            session.add(_processed(event, now))
            await self._process(session, event, acks, exports, now)
        if self._submitted:
            self.previous.clear()
            self._submitted = False
        return True

    async def _process(self, session: AsyncSession, event: InboundEvent,
                       acks: Sequence[dict[str, Any]], exports: list[AfterCommit],
                       now: datetime, capture: list[StepResult] | None = None,
                       queue: bool = True, submit_note: str = "") -> None:
        """Load, advance and write one event, inside the caller's transaction; the result
        is handed back in `capture`, and its replies queued to the chat unless not `queue`."""
        if not event.personal:
            await self._not_here(session, event, acks, now)
            return
        identity = await identity_for(session, event, now)
        row = await session.get(ConversationState, identity.id)
        state = dict(row.state) if row else {}
        event, state = not_typed.resolve(event, state)  # a confirmed caption: as if typed
        ctx = await load_context(session, event, identity, now, self.catalog, self.forms,
                                 self.default_language, self.late_window,
                                 event.channel in self.contact_sharing_channels, state,
                                 self.previous)
        command = command_of(event)
        if ctx.assignments and needs_received(event, state):
            ctx = replace(ctx, assignments=await with_received(session, ctx.assignments,
                                                               self.forms))
        coordinator = ctx.contact is not None and ctx.contact.role in ("coordinator", "admin")
        if command and coordinator and ctx.contact is not None:
            if command[0] == "nudge":
                ctx = replace(ctx, nudge=await nudge_info(self.reminders, session,
                                                          ctx.contact.id, now))
            elif command[0] in NEEDS_DATA:
                data, forms = await coordinator_data(session, ctx.contact, command[0],
                                                     command[1], now, self.late_window,
                                                     self.forms)
                ctx = replace(ctx, coordination=data, forms={**ctx.forms, **forms})
            elif command[0] == "web" and self.web_links is not None:
                ctx = replace(ctx, web_link=self.web_links.prepare(now))
        if queue and command and command[0] == "report" and self.web_links is not None and \
                form_link.wanted(event.channel, ctx.contact and ctx.contact.role,
                                 bool(ctx.assignments)):
            ctx = replace(ctx, web_link=self.web_links.prepare(now))
        ctx = replace(ctx, can_receive_files=event.channel in self.fetchers)
        if event.reply_to:  # which question the message replied to asked
            replied = await outbox.replied_prompts(session, [event])
            ctx = replace(ctx, replied=replied.get((event.channel, event.chat_id,
                                                    event.reply_to)))
        if event.kind == "workbook":
            ctx = await self._with_workbook(session, event, ctx, now)
        result = advance(state, event, ctx, now)
        self._forget_previous(result)
        own = []
        language = _reader_language(result, ctx)
        for effect in result.effects:
            if isinstance(effect, ReturnReport):
                await return_report(session, effect, identity.contact_id, self.catalog, now)
            elif isinstance(effect, AcceptReport):
                await accept_report(session, effect, identity.contact_id, self.catalog, now)
            elif isinstance(effect, Export) and ctx.contact is not None:
                exports.append(FileToMake(event, ctx.contact.id, ctx.contact.role, effect))
            elif isinstance(effect, IssueWebLink) and ctx.contact is not None:
                web_links.store(session, ctx.contact.id, effect.token_hash, effect.expires_at,
                                now)
            elif isinstance(effect, SendWorkbook):
                a = ctx.assignment(f"{effect.period_id}:{effect.unit_code}")
                if a is not None:  # the form worded for the unit's kind, as in the chat
                    form = ctx.forms[effect.form_key].worded_for(a.unit.kind)
                    exports.append(WorkbookToMake(event, form, a, effect.answers, language))
            elif isinstance(effect, FetchFile):
                exports.append(FileToFetch(event, effect))
            elif isinstance(effect, OfferUpload):
                outbox.enqueue_payload(session, event.channel, event.chat_id,
                                       upload_link_payload(event, language), now)
            else:
                own.append(effect)
        await apply_effects(session, tuple(own), identity, now, self.default_language,
                            result.state, nudge_runner(self.reminders))
        for effect in own:
            if isinstance(effect, Submit) and effect.on_behalf:
                await tell_entered(session, effect, identity.contact_id, self.catalog, now)
            elif isinstance(effect, Submit):
                await tell_returner(session, effect, self.catalog, self.forms, now)
        if row is None:
            session.add(ConversationState(identity_id=identity.id, state=result.state,
                                          updated_at=now))
        else:
            row.state, row.updated_at = dict(result.state), now
        for ack in acks:
            outbox.enqueue_payload(session, event.channel, event.chat_id, ack, now)
        if event.channel in MENU_CHANNELS and any(
                isinstance(e, Register | LinkIdentity | SetLanguage) for e in result.effects):
            contact = await session.get(Contact, identity.contact_id)
            if contact is not None:  # this person's command menu, in their role and language
                outbox.enqueue_payload(session, event.channel, event.chat_id,
                                       {"kind": "menu", "role": contact.role,
                                        "language": contact.language}, now)
        if capture is not None:
            capture.append(result)
        messages = result.messages
        if not queue and submit_note and any(isinstance(e, Submit) for e in result.effects):
            first = messages[0] if messages else OutboundMessage("")
            told = replace(first, text=f"{submit_note}\n{first.text}".strip())
            queue, messages = True, (told, *messages[1:])
        if queue:
            outbox.enqueue(session, event.channel, event.chat_id, messages, now,
                           _reader_language(result, ctx), prompt_key(result))

    async def _not_here(self, session: AsyncSession, event: InboundEvent,
                        acks: Sequence[dict[str, Any]], now: datetime) -> None:
        """A group, a channel or a shared sender id: no identity is looked up or bound, no
        state changes; the chat is told once a day how to reach the bot privately."""
        for ack in acks:
            outbox.enqueue_payload(session, event.channel, event.chat_id, ack, now)
        tr = self.catalog.tr(self.default_language)
        row = outbox.payload_row(
            event.channel, event.chat_id,
            outbox.to_payload(OutboundMessage(not_here(tr, self.bot_names.get(event.channel,
                                                                              ""))),
                              self.default_language),
            now, dedupe_key=f"not-here:{event.channel}:{event.chat_id}:{now.date().isoformat()}")
        await session.execute(dialect_insert(session)(OutboxMessage).values(**row)
                              .on_conflict_do_nothing())

    async def _with_workbook(self, session: AsyncSession, event: InboundEvent, ctx: Context,
                             now: datetime) -> Context:
        """The file read for this event; for a coordinator's table of units, the reports of
        the units it names that are in their scope."""
        upload = self._workbooks.get(dedupe_key(event)) or UploadedWorkbook(event.file_name,
                                                                           "lost")
        if upload.kind == TEMPLATE_KIND:  # a unit is named as the database names it, or not
            name = await session.scalar(select(Unit.name).where(
                Unit.code == upload.meta.get("unit", "")))
            upload = replace(upload, meta={**upload.meta, "unit_name": name or ""})
        ctx = replace(ctx, upload=upload)
        contact = ctx.contact
        if upload.problem or upload.kind == TEMPLATE_KIND or contact is None or \
                contact.role not in ("coordinator", "admin"):
            return ctx
        codes = table_codes(upload)
        if not codes:
            return ctx
        on_behalf, forms = await on_behalf_reports(session, contact, codes, upload.meta, now,
                                                   self.late_window, self.forms)
        return replace(ctx, on_behalf=on_behalf, forms={**ctx.forms, **forms})

    async def _seen(self, session: AsyncSession, event: InboundEvent) -> bool:
        return await session.scalar(select(ProcessedMessage.message_id).where(
            ProcessedMessage.channel == event.channel,
            ProcessedMessage.chat_id == event.chat_id,
            ProcessedMessage.message_id == event.message_id)) is not None

    async def _apologise(self, event: InboundEvent, inbox_id: int | None) -> None:
        """Nothing of the failed event was written; record it as seen and say so politely."""
        now = self.clock()
        try:
            async with self.sessions() as session, session.begin():
                if inbox_id is not None:
                    await session.execute(delete(InboxMessage).where(InboxMessage.id == inbox_id))
                if await self._seen(session, event):
                    return
                session.add(_processed(event, now))
                tr = self.catalog.tr(self.default_language)
                text = tr("Sorry, something went wrong on our side and this message was not "
                          "processed. Your earlier answers are safe; please send it again.")
                outbox.enqueue(session, event.channel, event.chat_id,
                               [OutboundMessage(text)], now)
        except Exception:
            log.exception("could not record the failure of %s", event.message_id)
