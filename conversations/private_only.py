"""Groups and channels: reports, reviews and coordinators' lists hold figures, names and phone
numbers, so the bot gives them only in private chats. In a group it says how to reach it."""

from __future__ import annotations

from conversations.i18n import Tr


def not_here(tr: Tr, bot_username: str = "") -> str:
    """The one reply a group (or channel) gets."""
    if bot_username:
        where = tr("Please write to @{bot} in a private chat: tap its name, then “Send "
                   "message”, and send /baocao.", bot=bot_username)
    else:
        where = tr("Please write to the bot in a private chat: tap its name, then “Send "
                   "message”, and send /baocao.")
    return tr("The report assistant works only in private chats, so that units' figures and "
              "contacts are not shown in groups.") + " " + where
