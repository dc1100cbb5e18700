"""Many answers in one message: `mục 4: 2, 150, 1, 300, 3`, `4.1=2 4.2=150`, or one per line."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from conversations.forms import Form
from conversations.text_normalise import clean

_SECTION = re.compile(r"^\s*(?:m[uụ]c|ph[aầ]n|section|part)\s+(?P<sid>[0-9IVX]+(?:\.\d+)?)\s*"
                      r"[:.\-)]?\s*(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
# A comma or semicolon followed by a space separates values; a comma between digits groups them.
_VALUE_SPLIT = re.compile(r"\s*;\s*|\s*\n\s*|,\s+|\s*,(?=\D)")
SKIP_MARKS = frozenset({"-", "_", "x", "–", "—"})


@dataclass
class FastEntry:
    section_id: str | None = None
    pairs: list[tuple[str, str]] = field(default_factory=list)
    too_many: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.pairs or self.too_many)


def parse_section(form: Form, text: str) -> FastEntry | None:
    """`mục 4: 2, 150, 1` → the section's questions in order; None if it isn't that shape."""
    match = _SECTION.match(clean(text))
    if not match:
        return None
    section = form.section(match.group("sid").upper())
    if section is None:
        return FastEntry(section_id=match.group("sid"))
    rest = match.group("rest").strip()
    values = [v.strip() for v in _VALUE_SPLIT.split(rest)] if rest else []
    if section.questions[0].type == "text" and len(section.questions) == 1 and rest:
        values = [rest]
    entry = FastEntry(section_id=section.id)
    for question, value in zip(section.questions, values, strict=False):
        if value and value not in SKIP_MARKS:
            entry.pairs.append((question.id, value))
    entry.too_many = values[len(section.questions):]
    return entry


def _id_pattern(form: Form) -> re.Pattern[str]:
    return _pattern_for(tuple(q.id for q in form.questions))


@functools.lru_cache(maxsize=64)
def _pattern_for(question_ids: tuple[str, ...]) -> re.Pattern[str]:
    ids = sorted(question_ids, key=len, reverse=True)
    alternation = "|".join(re.escape(i) for i in ids)
    return re.compile(rf"(?:^|(?<=[\s,;]))(?P<id>{alternation})(?![\w.])\s*(?P<sep>[=:]|\s)\s*",
                      re.IGNORECASE)


def parse_pairs(form: Form, text: str, *, need_separator: bool = False) -> FastEntry | None:
    """`4.1=2 4.2=150`, `4.1: 2; 4.2: 150`, `4.2 150` or one pair per line; None otherwise.

    With `need_separator`, a bare `4.2 150` does not count (used where a free-text answer
    could begin with something that looks like an id)."""
    pattern = _id_pattern(form)
    by_upper = {q.id.upper(): q.id for q in form.questions}
    entry = FastEntry()
    for line in clean(text).split("\n"):
        if not line.strip():
            continue
        found = list(pattern.finditer(line))
        if not found or found[0].start() != 0:
            return None
        for i, match in enumerate(found):
            if need_separator and match.group("sep").isspace():
                return None
            end = found[i + 1].start() if i + 1 < len(found) else len(line)
            value = line[match.end():end].strip(" ,;")
            if not value:
                return None
            entry.pairs.append((by_upper[match.group("id").upper()], value))
    return entry if entry.pairs else None
