"""One turn of a conversation: the state being changed and what the turn says and does."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from conversations.context import Context
from conversations.events import (
    WEB_APP,
    Button,
    Effect,
    InboundEvent,
    OutboundMessage,
    StepResult,
)
from conversations.i18n import Tr

# The steps of a report being filled in: choosing the unit, answering, confirming a figure
# asked back, reviewing before submitting.
FORM_STEPS = frozenset({"choosing", "answering", "confirming", "reviewing"})


def in_a_form(state: dict[str, Any] | None) -> bool:
    """Whether the person is filling in a report (a reminder then waits until they pause)."""
    return bool(state) and state.get("step", "idle") in FORM_STEPS


@dataclass
class Turn:
    state: dict[str, Any]
    event: InboundEvent
    ctx: Context
    now: datetime
    messages: list[OutboundMessage] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    saved: dict[str, dict[str, Any]] = field(default_factory=dict)
    tr: Tr = field(init=False)

    def __post_init__(self) -> None:
        language = (self.ctx.contact.language if self.ctx.contact
                    else self.state.get("language") or self.ctx.default_language)
        self.tr = self.ctx.catalog.tr(language, self._kinds())

    def _kinds(self) -> tuple[str, ...]:
        """The unit kinds the person is addressed for: the report open, else all their units."""
        current = self.ctx.assignment(self.state.get("assignment"))
        if current is not None:
            return (current.unit.kind,)
        if self.ctx.contact is not None:
            return tuple(u.kind for u in self.ctx.contact.units)
        return ()

    @property
    def received_at(self) -> datetime:
        """When the message reached the bot (or the messenger): deadlines and locks are judged
        by it, not by when a backlog or a restart let the bot handle it."""
        received = self.event.received_at
        return received if received <= self.now else self.now

    def switch_language(self, language: str) -> None:
        self.tr = self.ctx.catalog.tr(language, self._kinds())

    def address_for(self, *kinds: str) -> None:
        """Address the person as a reporter of these unit kinds from now on in this turn."""
        self.tr = self.tr.addressing(kinds)

    def say(self, text: str, buttons: tuple[Button, ...] = (), lead: str = "",
            prompt: bool = False) -> None:
        """Queue a message; its buttons are remembered so a typed number or label selects one.
        `lead`, `prompt`: see OutboundMessage."""
        self.messages.append(OutboundMessage(text=text, buttons=buttons, lead=lead,
                                             prompt=prompt))
        choices = [b for b in buttons if b.kind != WEB_APP]  # a web page is no choice to type
        if choices:
            self.state["offered"] = [[b.token, b.label, b.shortcut] for b in choices]
        else:
            self.state.pop("offered", None)

    def note(self, text: str) -> None:
        """A message that leaves the buttons on offer as they were (e.g. mid-form)."""
        self.messages.append(OutboundMessage(text=text))

    def effect(self, effect: Effect) -> None:
        self.effects.append(effect)

    def result(self) -> StepResult:
        return StepResult(state=self.state, messages=tuple(self.messages),
                          effects=tuple(self.effects))
