"""Commands only coordinators may use; everyone else gets a plain refusal."""

from __future__ import annotations

from datetime import timedelta

from conversations.events import Nudge
from conversations.session import Turn

NUDGE_EVERY = timedelta(hours=1)


def is_coordinator(turn: Turn) -> bool:
    contact = turn.ctx.contact
    return contact is not None and contact.role in ("coordinator", "admin")


def refuse(turn: Turn) -> None:
    turn.say(turn.tr("This command is for coordinators. Send /trogiup to see what you can do."))


def nudge(turn: Turn) -> None:
    """`/nhac`: remind every non-submitter in the coordinator's units, at most once an hour."""
    tr = turn.tr
    if not is_coordinator(turn):
        refuse(turn)
        return
    info = turn.ctx.nudge
    if info is None or not info.targets:
        turn.say(tr("No open report is waiting for your units right now."))
        return
    if info.last_at is not None and turn.now - info.last_at < NUDGE_EVERY:
        wait = info.last_at + NUDGE_EVERY
        turn.say(tr("A reminder was already sent at {time}; to avoid disturbing people, the "
                    "next one is possible after {next}.",
                    time=tr.datetime(info.last_at, info.timezone),
                    next=tr.datetime(wait, info.timezone)))
        return
    waiting = [t for t in info.targets if t.units_missing]
    if not waiting:
        turn.say(tr("Every unit has submitted; nobody needs a reminder."))
        return
    turn.effect(Nudge(tuple(t.campaign_key for t in waiting)))
    lines = [tr("Reminders are on their way:")]
    for target in waiting:
        lines.append("• " + tr("{campaign}: {people} people of {units} units that have not "
                               "submitted.", campaign=target.title.get(tr.language),
                               people=target.people, units=target.units_missing))
    turn.say("\n".join(lines))
