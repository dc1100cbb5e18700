"""The form page offered under `/baocao` where the messenger has no Web App button (Zalo, the
local chat): a one-time link in the text, made like the console's (`/web`)."""

from __future__ import annotations

from dataclasses import replace

from conversations.events import IssueWebLink, OutboundMessage
from conversations.session import Turn

# Telegram opens the form from a Web App button instead (no link to leak there).
LINK_CHANNELS = frozenset({"zalo", "local"})


def wanted(channel: str, role: str | None, has_reports: bool) -> bool:
    """Whether the shell should make a link for this `/baocao`: a reporter with a report."""
    return channel in LINK_CHANNELS and role == "reporter" and has_reports


def offer(turn: Turn) -> None:
    """Put the link first, before the report's first question (the chat goes on as before);
    only in a private chat, since whoever opens it is signed in as this person."""
    link = turn.ctx.web_link
    contact = turn.ctx.contact
    if link is None or contact is None or contact.role != "reporter":
        return
    if turn.event.chat_id != turn.event.user_id or not turn.ctx.assignments:
        return
    tr = turn.tr
    turn.effect(IssueWebLink(link.token_hash, link.expires_at))
    text = (tr("The whole report on one screen (a web form, with the same checks as here):")
            + "\n" + link.url + "\n"
            + tr("The link works once, until {time}, and signs in only this device. Please do "
                 "not forward it. Or answer here, question by question:",
                 time=tr.datetime(link.expires_at, link.timezone)))
    if turn.messages:  # one message still: the link above the first question
        first = turn.messages[0]
        turn.messages[0] = replace(first, text=f"{text}\n\n{first.text}",
                                   lead=f"{text}\n\n{first.lead}" if first.lead
                                   else text if first.prompt else "")
    else:
        turn.messages.append(OutboundMessage(text=text))
