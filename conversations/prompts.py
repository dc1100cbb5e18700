"""What a message of the bot asks, as kept with it: a late copy of a question the
conversation has moved past is dropped, and a reply to a question's message answers that
question, not whichever is current."""

from __future__ import annotations

from dataclasses import dataclass

from conversations.events import StepResult
from conversations.session import FORM_STEPS

# The last message of a turn that left the person outside a form: it makes any earlier
# question prompt stale, and is never stale itself (it may be a status, an export note…).
OUTSIDE_FORM = "-"
QUESTION_PROMPT = "answering|"  # how the key of a question's prompt begins


@dataclass(frozen=True)
class Prompt:
    """A form step waiting for an answer: the step, the report (assignment key) and, when
    answering, the question."""

    step: str
    assignment: str = ""
    question: str = ""

    @property
    def key(self) -> str:
        return f"{self.step}|{self.assignment}|{self.question}"


def prompt_key(result: StepResult) -> str:
    """What the last message of a turn asks, given the state the turn left: OUTSIDE_FORM
    unless it is a prompt (a question, a confirmation, the review, the choice of report)."""
    state = result.state
    step = state.get("step", "idle")
    if step not in FORM_STEPS or not result.messages or not result.messages[-1].prompt:
        return OUTSIDE_FORM
    question = (state.get("question") or "") if step == "answering" else ""
    return Prompt(step, state.get("assignment") or "", question).key


def parse_prompt(key: str | None) -> Prompt | None:
    """The prompt a stored key names; None for none or a turn outside a form."""
    if not key or key == OUTSIDE_FORM or "|" not in key:
        return None
    step, _, rest = key.partition("|")
    assignment, _, question = rest.rpartition("|")
    return Prompt(step, assignment, question)
