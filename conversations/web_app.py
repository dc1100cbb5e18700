"""The report's web form opened inside the messenger: a Web App button under /baocao.

The engine always offers it in a private chat; the shell decides where it shows (on Telegram,
with the console's https address; never in a group; text-only channels leave it out)."""

from __future__ import annotations

from conversations.events import WEB_APP, Button
from conversations.session import Turn

FORM = "form"  # the page: /web/tg?next=form signs in, then the form


def form_button(turn: Turn) -> tuple[Button, ...]:
    """"Mở biểu mẫu": the whole report on one screen, for the person in this private chat."""
    if not turn.event.personal:
        return ()
    return (Button(FORM, turn.tr("Open the form"), shortcut=True, kind=WEB_APP),)
