"""Accept, return with a reason, remind: the chat's engine decides, the chat's effects write.

A web action is the coordinator's command run through the same code as in chat: the shell
loads what the command needs (`coordinator_data`, `nudge_info`, with the chat's scope checks),
the engine's command function (`conversations.coordinator_commands`) checks it and returns
effects and the reply, and the effects are written by the functions the dispatcher calls
(`return_report`, `accept_report`, the nudge runner), in the caller's transaction. So the
reporter is told in chat exactly as after /tralai, and the reply is shown on the page."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordinators.coordination import accept_report, coordinator_data, return_report
from bot.coordinators.reminders import ReminderStore, nudge_info, nudge_runner
from bot.storage.context_loader import FormCache
from bot.storage.models import Period, Unit
from conversations import coordinator_commands
from conversations.context import ContactView, Context, NudgeInfo, NudgeTarget
from conversations.events import AcceptReport, InboundEvent, Nudge, ReturnReport
from conversations.i18n import Catalog
from conversations.session import Turn

CHANNEL = "web"


def _turn(contact: ContactView, ctx: Context, text: str, now: datetime) -> Turn:
    event = InboundEvent(channel=CHANNEL, chat_id=f"web:{contact.id}", user_id=f"web:{contact.id}",
                         message_id=uuid.uuid4().hex, kind="text", received_at=now, text=text)
    return Turn(state={}, event=event, ctx=ctx, now=now)


def _reply(turn: Turn) -> str:
    return "\n\n".join(m.text for m in turn.messages)


async def decide(session: AsyncSession, contact: ContactView, command: str, unit_code: str,
                 period: Period, reason: str, catalog: Catalog, forms: FormCache,
                 now: datetime, late_window: timedelta) -> str:
    """`accept` or `return` one unit's report for one period; returns the engine's reply."""
    arg = f"{unit_code} {reason.strip()}".strip()
    data, used = await coordinator_data(session, contact, command, arg, now, late_window, forms)
    data = replace(data, units=tuple(u for u in data.units if u.period_id == period.id))
    ctx = Context(catalog=catalog, forms=used, contact=contact, coordination=data)
    turn = _turn(contact, ctx, f"/{command} {arg}", now)
    if command == "return":
        coordinator_commands.return_report(turn, arg)
    else:
        coordinator_commands.accept(turn, arg)
    for effect in turn.effects:
        if isinstance(effect, ReturnReport):
            await return_report(session, effect, contact.id, catalog, now)
        elif isinstance(effect, AcceptReport):
            await accept_report(session, effect, contact.id, catalog, now)
    return _reply(turn)


async def remind_unit(session: AsyncSession, contact: ContactView, unit: Unit, period: Period,
                      campaign_key: str, timezone: str, store: ReminderStore, catalog: Catalog,
                      now: datetime) -> str:
    """Remind the reporters of one unit that has not submitted: the same reminder and the
    same rule as /nhac (nobody reminded by anyone in the last hour is reminded again, quiet
    hours wait for the morning), for this unit and period only."""
    plans = [p for p in await store.nudge_plans(session, now, campaign_key, unit_id=unit.id)
             if p.period.period_id == period.id]
    targets = tuple(NudgeTarget(p.period.campaign_key, p.period.campaign_title,
                                p.units_missing, len(p.due), p.recently_nudged, p.unreachable,
                                p.held_until(now)) for p in plans)
    ctx = Context(catalog=catalog, forms={}, contact=contact,
                  nudge=NudgeInfo(targets, None, timezone))
    turn = _turn(contact, ctx, "/nhac", now)
    coordinator_commands.nudge(turn)
    for effect in turn.effects:
        if isinstance(effect, Nudge):
            for key in effect.campaign_keys:
                await store.nudge(session, key, now, by=contact.id, unit_id=unit.id)
    return _reply(turn)


async def remind_all(session: AsyncSession, contact: ContactView, store: ReminderStore,
                     catalog: Catalog, now: datetime) -> str:
    """Exactly /nhac: every unit below the coordinator's that has not submitted, once an
    hour per coordinator (the hour counts chat and web alike)."""
    ctx = Context(catalog=catalog, forms={}, contact=contact,
                  nudge=await nudge_info(store, session, contact.id, now))
    turn = _turn(contact, ctx, "/nhac", now)
    coordinator_commands.nudge(turn)
    run = nudge_runner(store)
    for effect in turn.effects:
        if isinstance(effect, Nudge):
            await run(session, contact.id, effect.campaign_keys, now)
    return _reply(turn)
