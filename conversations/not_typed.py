"""Messages that are not the person's own typed text: photos, stickers, locations, voice…
(`media`, perhaps with a caption) and messages forwarded from someone else (`forward`).

A figure stored in a report must be one the person typed or chose. So a caption or a forwarded
text is shown back and used only when the person confirms it (then it is handled exactly as if
typed: `resolve` turns the confirmation into that text event before anything is loaded); media
without text get a reply saying what is expected where the person is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from conversations import report_flow
from conversations.events import Button, InboundEvent
from conversations.session import Turn
from conversations.text_normalise import fold

USE, DROP = "quoted:use", "quoted:drop"
SHOWN = 200  # characters of the caption or forwarded text shown back


def resolve(event: InboundEvent, state: dict[str, Any]) -> tuple[InboundEvent, dict[str, Any]]:
    """When the person confirms a caption or forwarded text, the event becomes that text,
    typed by them now; the buttons offered before are offered again."""
    held = state.get("quoted")
    if not isinstance(held, dict):
        return event, state
    confirmed = (event.kind == "button" and event.payload == USE) or (
        event.kind == "text" and fold(event.text).strip(" .!?") == fold(held.get("use", "")))
    if not confirmed:
        return event, state
    state = {k: v for k, v in state.items() if k != "quoted"}
    if held.get("offered"):
        state["offered"] = held["offered"]
    else:
        state.pop("offered", None)
    return replace(event, kind="text", text=str(held.get("text", "")), payload=""), state


def handle(turn: Turn, explain: Callable[[Turn, str], None] = report_flow.expected_here
           ) -> bool:
    """Answer a media or forwarded message, or the refusal of a caption; True if handled.
    Any other message drops a caption waiting for confirmation. `explain` says what is
    expected where the person is (signed in or not)."""
    event = turn.event
    held = turn.state.pop("quoted", None)
    if isinstance(held, dict) and held.get("offered"):
        turn.state["offered"] = held["offered"]
    elif isinstance(held, dict):
        turn.state.pop("offered", None)
    if event.kind == "button" and event.payload == DROP or (
            held and event.kind == "text"
            and fold(event.text).strip(" .!?") == fold(held.get("drop", ""))):
        explain(turn, turn.tr("All right, it was not used."))
        return True
    if event.kind not in ("media", "forward"):
        return False
    text = event.text.strip()
    if not text:
        explain(turn, turn.tr("I can read only typed text messages, not photos, stickers, "
                              "locations or voice messages."))
        return True
    _ask_to_confirm(turn, text)
    return True


def _ask_to_confirm(turn: Turn, text: str) -> None:
    tr = turn.tr
    shown = text if len(text) <= SHOWN else text[: SHOWN - 1].rstrip() + "…"
    if turn.event.kind == "forward":
        question = tr("This message was forwarded from someone else: “{text}”. Shall I use it "
                      "as your own message?", text=shown)
    else:
        question = tr("Your picture or file came with the text “{text}”. Shall I use this text "
                      "as your message?", text=shown)
    use, drop = tr("Use this text"), tr("Do not use")
    offered = turn.state.get("offered")
    turn.say(question, buttons=(Button(USE, use, shortcut=True),
                                Button(DROP, drop, shortcut=True)))
    turn.state["quoted"] = {"text": text, "offered": offered, "use": use, "drop": drop}
