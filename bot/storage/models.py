"""The database model. Times are stored in UTC; campaigns say which zone they are read in."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, whatever the database keeps."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Unit(Base):
    __tablename__ = "units"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(64), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    # Materialised path "/ROOT/CHILD/SELF/" so a subtree is one indexed LIKE 'prefix%'.
    path: Mapped[str] = mapped_column(String(2048), index=True)


class Contact(Base):
    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    phone: Mapped[str | None] = mapped_column(String(32), unique=True)
    role: Mapped[str] = mapped_column(String(32), default="reporter")
    language: Mapped[str] = mapped_column(String(8), default="vi")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ContactUnit(Base):
    __tablename__ = "contact_units"
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"),
                                            primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)


class Identity(Base):
    """One account on one channel; several identities may belong to one contact."""

    __tablename__ = "identities"
    # (channel, chat_id): the sender asks whether the person in a chat wrote recently.
    __table_args__ = (UniqueConstraint("channel", "external_user_id"),
                      Index("ix_identities_chat", "channel", "chat_id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_user_id: Mapped[str] = mapped_column(String(128))
    chat_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(255), default="")
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when the messenger refuses delivery (the person blocked the bot).
    unreachable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConversationState(Base):
    __tablename__ = "conversation_states"
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id", ondelete="CASCADE"),
                                             primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Invite(Base):
    __tablename__ = "invites"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    max_uses: Mapped[int] = mapped_column(Integer, default=1)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SignInFailure(Base):
    """An invite code not found, `limited` when past the limits (such misses count against
    the account, not against everyone). An account's rows go when it signs in."""

    __tablename__ = "signin_failures"
    __table_args__ = (Index("ix_signin_failures_who", "channel", "external_user_id", "at"),
                      Index("ix_signin_failures_at", "at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_user_id: Mapped[str] = mapped_column(String(128))
    attempted: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    limited: Mapped[bool] = mapped_column(Boolean, default=False)


class FormVersion(Base):
    __tablename__ = "forms"
    __table_args__ = (UniqueConstraint("key", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(255))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Campaign(Base):
    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    title_vi: Mapped[str] = mapped_column(String(255))
    title_en: Mapped[str] = mapped_column(String(255))
    timezone: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # published | closed (ended early: its periods locked) | archived (kept, out of the lists)
    state: Mapped[str] = mapped_column(String(16), default="published",
                                       server_default="published")
    # Whose campaign it is: the creator's unit path ("" for an admin's, the whole tree); a
    # coordinator manages only the campaigns within their subtree.
    scope_path: Mapped[str] = mapped_column(String(2048), default="", server_default="")


class CampaignDraft(Base):
    """A campaign being written in the console: the same definition a campaign YAML holds, not
    yet published (no periods, nobody asked to report)."""

    __tablename__ = "campaign_drafts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    scope_path: Mapped[str] = mapped_column(String(2048), default="", server_default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CampaignForm(Base):
    """Which form (a fixed version) a unit kind answers in a campaign."""

    __tablename__ = "campaign_forms"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"),
                                             primary_key=True)
    unit_kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"))


class CampaignUnit(Base):
    """Units a campaign targets by name, besides (or instead of) by kind."""

    __tablename__ = "campaign_units"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"),
                                             primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)


class Period(Base):
    __tablename__ = "periods"
    __table_args__ = (UniqueConstraint("campaign_id", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    label_vi: Mapped[str] = mapped_column(String(255))
    label_en: Mapped[str] = mapped_column(String(255))
    # The campaign's title for this occurrence ("… năm 2026" for a yearly campaign).
    title_vi: Mapped[str] = mapped_column(String(255))
    title_en: Mapped[str] = mapped_column(String(255))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    lock_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("unit_id", "period_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"), index=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"))
    # draft | submitted | returned | accepted
    status: Mapped[str] = mapped_column(String(16), default="draft")
    revision: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the latest submission
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    # On time or late is decided once, by the first submission (when it was received).
    first_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    return_comment: Mapped[str] = mapped_column(Text, default="")
    # The return's comments per row: {"4.2": {"comment": …, "value": …, "note": …}} (the
    # answer when returned, to tell which comments were answered).
    return_rows: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # A returned report may be submitted again until then, even after the period's lock.
    correct_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Answer(Base):
    __tablename__ = "answers"
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"),
                                               primary_key=True)
    question_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    # The value again as a number, so totals are one SUM in SQL.
    num_value: Mapped[Decimal | None] = mapped_column(Numeric(24, 6))
    note: Mapped[str] = mapped_column(Text, default="")
    # Why the figure is to be checked ("cần kiểm tra"): kept by the unit after being asked
    # back (far from its previous report, or breaking a soft rule); empty otherwise.
    flag: Mapped[str] = mapped_column(Text, default="", server_default="")
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AnswerRevision(Base):
    """Every change to a submitted report: who changed which answer from what to what, when."""

    __tablename__ = "answer_revisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"),
                                               index=True)
    revision: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    old_note: Mapped[str] = mapped_column(Text, default="")
    new_note: Mapped[str] = mapped_column(Text, default="")
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReportEvent(Base):
    """What happened to a report besides its answers: submitted, returned (with the reason),
    accepted; who did it and when, for the history coordinators read."""

    __tablename__ = "report_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"),
                                               index=True)
    kind: Mapped[str] = mapped_column(String(16))  # submitted | returned | accepted
    revision: Mapped[int] = mapped_column(Integer, default=0)
    by: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    comment: Mapped[str] = mapped_column(Text, default="")
    rows: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # a return's


class ProcessedMessage(Base):
    """Inbound messages already handled: a redelivery changes nothing and sends nothing.

    Keyed by channel, chat and message id (a Telegram button press by its callback query id),
    never by Telegram's update_id, which starts again after a week without updates. Rows are
    forgotten after a retention window (bot.housekeeping)."""

    __tablename__ = "processed_messages"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class OutboxMessage(Base):
    """Messages to send, written in the same transaction as the change that caused them."""

    __tablename__ = "outbox"
    # The queue in the order it is served: replies before bulk, each oldest first; and one
    # chat's rows in order (is a prompt stale? which question did a message replied to ask?).
    __table_args__ = (Index("ix_outbox_queue", "sent_at", "channel", "priority", "id"),
                      Index("ix_outbox_chat", "channel", "chat_id", "id"))
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    dedupe_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    # 0: a reply to someone who wrote (or a notice their action caused); 1: bulk (reminders,
    # digests, nudges, budget warnings), sent with the capacity replies leave.
    priority: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A sender holds a row until then; a crash frees it for one resend after the lease.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Which instance holds it: after a restart an instance takes its own claims back at once.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed: Mapped[str | None] = mapped_column(Text)
    # On the last message of a conversation turn, what the conversation then waited for
    # (conversations.prompts: "answering|<report>|<question>", "-" outside a form). A prompt
    # with a later turn's message behind it is stale and never sent (a reply to it would
    # land on another question); a reply to a sent one answers the question it asked.
    asks: Mapped[str | None] = mapped_column(String(200))
    # The messenger's id of a prompt once sent (Telegram's message_id), for those replies.
    sent_message_id: Mapped[str | None] = mapped_column(String(64))


class InboxMessage(Base):
    """Updates received but not yet handled: acknowledged to the messenger only once stored."""

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("channel", "update_key"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    update_key: Mapped[str] = mapped_column(String(128))
    chat_id: Mapped[str] = mapped_column(String(128))
    event: Mapped[dict[str, Any]] = mapped_column(JSON)
    acks: Mapped[list[Any]] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Task(Base):
    """A dated task of a campaign's timetable (seed 003), owned by units of some kinds."""

    __tablename__ = "tasks"
    __table_args__ = (UniqueConstraint("campaign_id", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    title_vi: Mapped[str] = mapped_column(String(255))
    title_en: Mapped[str] = mapped_column(String(255))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    owner_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    owner_units: Mapped[list[str]] = mapped_column(JSON, default=list)


class TaskCheckin(Base):
    __tablename__ = "task_checkins"
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"),
                                         primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"),
                                         primary_key=True)
    done: Mapped[bool] = mapped_column(Boolean)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Nudge(Base):
    """A coordinator's "remind everyone now", kept to allow one an hour."""

    __tablename__ = "nudges"
    __table_args__ = (Index("ix_nudges_who", "contact_id", "campaign_id", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class FileLink(Base):
    """A one-time, expiring download link to an export, for channels without documents."""

    __tablename__ = "file_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(Text)
    filename: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebLink(Base):
    """A one-time sign-in link to the web console, asked for in chat (/web) or at the terminal.
    Only a hash of its token is kept: the database alone cannot sign anyone in."""

    __tablename__ = "web_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"),
                                            index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebSession(Base):
    """A coordinator signed in to the web console (cookie: the token, signed); 8 hours, or
    until they sign out."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"),
                                            index=True)
    language: Mapped[str] = mapped_column(String(8), default="vi")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the last action did, shown once on the next page (post, redirect, get).
    flash: Mapped[str] = mapped_column(Text, default="")


class Heartbeat(Base):
    """What one part of a running instance (a poller, a sender) last managed, and its last
    error: read by the watchdog and by `baocao status`."""

    __tablename__ = "heartbeats"
    instance_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    component: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    skipped: Mapped[int] = mapped_column(Integer, default=0)  # updates that could not be read
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
class UploadLink(Base):
    """A one-time, expiring page through which a person sends the bot a file (Zalo has no
    documents); what arrives is handled as if sent in their chat."""

    __tablename__ = "upload_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChangeRecord(Base):
    """One change an office made (a campaign published, a unit moved, a reporter replaced):
    who, when, what, before → after; the history page reads it within the reader's subtree."""

    __tablename__ = "change_history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # "Nguyễn Văn A (0904200040)" from the console, "CLI" from the command line.
    actor: Mapped[str] = mapped_column(String(255))
    actor_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    action: Mapped[str] = mapped_column(String(64))  # campaign.publish, unit.move, …
    subject: Mapped[str] = mapped_column(String(255))  # what it was done to: a code, a key
    # The unit whose subtree the change belongs to (its path), so a coordinator's history is
    # one indexed LIKE; empty for changes of the whole installation (an admin's).
    scope_path: Mapped[str] = mapped_column(String(2048), default="", index=True)
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
