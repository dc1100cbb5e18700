"""What goes into the engine and what comes out: channel-agnostic value objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

# "media": a photo, sticker, location, voice… (its caption, if any, in `text`, its sort in
# `payload`); "forward": a message forwarded from elsewhere (its text in `text`). Neither is
# the person's own typed answer. "document": a file a person sent (Telegram); "workbook": that
# file (or one uploaded through the upload page) once the shell has read it, handed to the
# engine in the context.
EventKind = Literal["text", "button", "contact", "media", "forward", "document", "workbook"]


@dataclass(frozen=True)
class InboundEvent:
    """One message, button press or shared contact, as an adapter translated it."""

    channel: str
    chat_id: str
    user_id: str
    message_id: str
    kind: EventKind
    received_at: datetime
    text: str = ""
    payload: str = ""
    phone: str = ""
    display_name: str = ""
    contact_user_id: str = ""  # whose phone a shared contact is; must be the sender's own
    file_name: str = ""  # a document: its name as sent; `payload` is the channel's file id
    file_size: int = 0
    # "private", or where else it was written ("group", "supergroup", "channel").
    chat_type: str = "private"
    # Sent under an id many people share (an anonymous group admin, "send as channel").
    anonymous: bool = False
    # The messenger's id of the message this one replies to (Telegram's reply_to_message):
    # a reply to a question's message answers that question.
    reply_to: str = ""

    @property
    def personal(self) -> bool:
        """A private chat with one identifiable person: the only place reports and
        coordinator answers are given, and the only sender an identity may be bound to."""
        return self.chat_type == "private" and not self.anonymous


@dataclass(frozen=True)
class Button:
    """A choice: `token` is what the engine receives back when it is pressed or typed.

    Answer buttons are numbered on text-only channels (reply 1, 2, 3); shortcut buttons
    ("Bỏ qua", "Quay lại") are shown there as words to type."""

    token: str
    label: str
    shortcut: bool = False
    # WEB_APP: opens the bot's web page `token` ("form") inside the messenger (a Telegram
    # Mini App), never pressed back; channels that cannot open one leave it out.
    kind: str = "press"


WEB_APP = "web_app"


@dataclass(frozen=True)
class OutboundMessage:
    """Text plus optional buttons; an adapter shows them as buttons or as numbered options."""

    text: str
    buttons: tuple[Button, ...] = ()
    # A question (or a form step) waiting for the answer: not sent once a later turn's
    # message is behind it (conversations.prompts), as its answer would land elsewhere.
    prompt: bool = False
    # A prompt's opening lines, said before the question (what the last answer stored): sent
    # alone should the question go stale before it is sent, so no acknowledgement is lost.
    lead: str = ""


@dataclass(frozen=True)
class Effect:
    """Base of every change the shell must write in the same transaction as the new state."""


@dataclass(frozen=True)
class Register(Effect):
    invite_code: str
    display_name: str
    phone: str = ""


@dataclass(frozen=True)
class LinkIdentity(Effect):
    """Sign in a contact imported by phone, after they shared their own number."""

    contact_id: int


@dataclass(frozen=True)
class RecordFailedSignIn(Effect):
    """A code tried and not honoured; `limited` when refused by the guessing limits."""

    attempted: str
    limited: bool = False


@dataclass(frozen=True)
class SaveAnswers(Effect):
    """Answers of a draft, saved at once. A value of None means 'skipped'."""

    period_id: int
    unit_code: str
    form_key: str
    answers: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Submit(Effect):
    """Submit (or resubmit with `changes`, for a report already submitted). `at` is when the
    message was received: the first submission's `at` decides on time or late, for good."""

    period_id: int
    unit_code: str
    form_key: str
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    at: datetime | None = None
    on_behalf: bool = False  # a coordinator entering a unit's paper report


@dataclass(frozen=True)
class RecordTaskCheckin(Effect):
    task_id: int
    unit_id: int
    done: bool


@dataclass(frozen=True)
class Nudge(Effect):
    """A coordinator asks to remind, now, everyone in their units who has not reported."""

    campaign_keys: tuple[str, ...]


@dataclass(frozen=True)
class ReturnReport(Effect):
    """Send a submitted report back for correction; its reporters are told at once. It may be
    submitted again until `correct_by`, even after the period's lock."""

    period_id: int
    unit_code: str
    comment: str
    correct_by: datetime | None = None
    rows: dict[str, str] = field(default_factory=dict)  # a comment per row id, in form order


@dataclass(frozen=True)
class AcceptReport(Effect):
    """Accept a submitted report; its reporters are told, and it changes only if returned."""

    period_id: int
    unit_code: str


@dataclass(frozen=True)
class Export(Effect):
    """Make a file for the coordinator (xlsx, csv, docx, png) and send it to this chat."""

    period_ids: tuple[int, ...]
    format: str
    unit_code: str = ""  # one unit's subtree inside the coordinator's (a chart of one commune)


@dataclass(frozen=True)
class IssueWebLink(Effect):
    """Keep a one-time sign-in link to the web console (only its token's hash) for the
    coordinator who asked for it; the shell made the token before the engine ran."""

    token_hash: str
    expires_at: datetime


@dataclass(frozen=True)
class SendWorkbook(Effect):
    """Make the unit's Excel template of this report, with these answers filled in, and send
    it to this chat (on a channel without documents, with a one-time upload link)."""

    period_id: int
    unit_code: str
    form_key: str
    answers: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class FetchFile(Effect):
    """Download the file a person sent (after the commit) and hand it back as a workbook."""

    ref: str
    file_name: str
    file_size: int = 0


@dataclass(frozen=True)
class OfferUpload(Effect):
    """Send a one-time upload link (channels on which a person cannot send a file)."""


@dataclass(frozen=True)
class SetLanguage(Effect):
    language: str


@dataclass(frozen=True)
class StepResult:
    state: dict[str, Any]
    messages: tuple[OutboundMessage, ...] = ()
    effects: tuple[Effect, ...] = ()
