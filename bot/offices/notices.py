"""Telling reporters of a change to their campaign (a later deadline) in chat, through the
outbox as reminders are sent: only the units that have not submitted, each reporter once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.channels.text_split import split_text
from bot.coordinators.reminders import ReminderStore, _insert_ignoring_duplicates
from bot.delivery.outbox import BULK, TEXT_LIMITS, to_payload
from conversations.deadlines import deadline_phrase
from conversations.events import Button, OutboundMessage
from conversations.i18n import Catalog
from scheduler.reminder_plan import Recipient, UnitReport


async def tell_new_deadline(session: Any, store: ReminderStore, catalog: Catalog,
                            campaign_key: str, period_id: int, now: datetime,
                            lock_only: bool = False) -> int:
    """Queue “the deadline is now …” (or, for a later lock alone, “can be sent until …”) for
    every reporter of a unit not yet submitted; returns how many reporters are told. The
    dedupe key holds the new dates, so telling the same extension twice sends nothing more."""
    snapshot = next((s for s in await store.snapshots(session, now, campaign_key)
                     if s.period_id == period_id), None)
    if snapshot is None:
        return 0
    by_contact: dict[int, tuple[Recipient, list[UnitReport]]] = {}
    for unit in snapshot.units:
        if unit.submitted:
            continue
        for reporter in unit.reporters:
            by_contact.setdefault(reporter.contact_id, (reporter, []))[1].append(unit)
    stamp = snapshot.deadline.strftime("%Y%m%dT%H%M")
    if snapshot.lock_at is not None:
        stamp += snapshot.lock_at.strftime("-%Y%m%dT%H%M")
    held = snapshot.policy.allowed(now, snapshot.tz)  # in quiet hours: at their end
    not_before = held if held > now else None
    rows: list[dict[str, Any]] = []
    for contact_id, (recipient, units) in by_contact.items():
        if recipient.channel is None or recipient.chat_id is None:
            continue
        tr = catalog.tr(recipient.language, [u.kind for u in units if u.kind])
        campaign = snapshot.campaign_title.get(tr.language)
        names = ", ".join(u.name for u in units)
        if lock_only and snapshot.lock_at is not None:
            text = tr("Kindly informing you: the report {campaign} of {units} can now be sent "
                      "until {time} (it was due {deadline}).", campaign=campaign, units=names,
                      time=tr.datetime(snapshot.lock_at, snapshot.timezone),
                      deadline=deadline_phrase(snapshot.deadline, snapshot.timezone, tr))
        else:
            text = tr("Kindly informing you: the deadline of the report {campaign} of {units} "
                      "is extended, now {deadline}.", campaign=campaign, units=names,
                      deadline=deadline_phrase(snapshot.deadline, snapshot.timezone, tr))
        text += "\n" + tr("Send /baocao to continue.")
        key = f"extend:{period_id}:{contact_id}:{stamp}"
        pieces = split_text(text, TEXT_LIMITS.get(recipient.channel, 0))
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            buttons = (Button("report", tr("Fill in the report")),) if last else ()
            rows.append({"channel": recipient.channel, "chat_id": recipient.chat_id,
                         "payload": to_payload(OutboundMessage(piece, buttons),
                                               recipient.language),
                         "dedupe_key": key if i == 0 else f"{key}#{i}", "created_at": now,
                         "attempts": 0, "not_before": not_before,
                         "priority": BULK})
    if rows:
        await _insert_ignoring_duplicates(session, rows)
    return len(by_contact)
