"""Many answers in one message: `mục 4: 2, 150, 3`, `4.1=2 4.2=150`, `IV: …`, a filled-in
template, or any number of such lines, one per line.

Every value must land in the row the person meant, or nowhere: values by position are taken
only when their count matches the rows of that section in this unit's form, and a line that
starts like a section or a question id is never the answer of a free-text question. Ids of any
shape (`4.3`, `II.1`) split a line even when this unit's form lacks them (people type from the
paper form, which has rows a school's form does not): such rows are named, never glued onto the
value before them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from conversations.forms import Form, Question, Section
from conversations.text_normalise import clean

_SECTION_WORD = re.compile(
    r"^\s*(?:m[uụ]c|ph[aầ]n|section|part)\s+(?P<sid>[0-9IVXivx]+(?:\.\d+)?)(?![\w])\s*"
    r"[:.\-)=]?\s*(?P<rest>.*)$", re.IGNORECASE)
SKIP_MARKS = frozenset({"-", "_", "x", "–", "—"})
# Ids of rows other forms have (the commune paper form's 4.3, a text part II.1): a pair with
# one of them is named as not in this report. Tried after the form's own ids. Rows number up to
# 19 within a section, so a time in a text ("7.30: khai mạc") is no id.
_OTHER_IDS = r"[1-9]\d?\.1?[1-9]|[1-9]\d?\.10|(?:IX|IV|VI{0,3}|I{1,3})(?:\.[1-9])?"
# A note runs to the end of its value: its commas are the note's own.
_NOTE_START = re.compile(r"(?i)(?:\bghi\s*ch[uú]\b|\bgc\b|\bnote\b)\s*[:\-]?")
# Value separators in a section line: ";" or a new line always; a comma followed by a space.
_STRONG_SPLIT = re.compile(r"\s*[;\n]\s*")
_COMMA_SPACE = re.compile(r",\s+|,(?=[^\d\s])")
_BARE_COMMA = re.compile(r"(?<=\d),(?=\d)")
_APPEND = re.compile(r"^\s*(?:th[eê]m|b[oổ]\s*sung|more|add)\s*:\s*(?P<text>.+)$",
                     re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class EntryProblem:
    """Part of a message that was not stored, and why (the reply says it)."""

    code: str  # count_mismatch | unknown_section | ambiguous_commas | unplaced | duplicate
    #            | not_in_form (text: the id) | short_text (text: the id, typed: the value)
    section_id: str = ""
    count: int = 0
    text: str = ""
    typed: str = ""


@dataclass
class FastEntry:
    pairs: list[tuple[str, str]] = field(default_factory=list)
    problems: list[EntryProblem] = field(default_factory=list)
    blanks: list[str] = field(default_factory=list)  # template rows left empty
    blocks: int = 0  # section lines, id pairs and template rows read
    template: bool = False
    bare: bool = False  # one `4.5 triệu`-like line: an id, a space, a value


    def __bool__(self) -> bool:
        return bool(self.pairs or self.problems or self.blanks)

    @property
    def whole_report(self) -> bool:
        """A pasted report or template rather than one line: its reply ends at the review."""
        return self.template or self.blocks >= 2


# ----------------------------------------------------------------------------- lines

@functools.lru_cache(maxsize=64)
def _patterns(question_ids: tuple[str, ...], section_ids: tuple[str, ...]
              ) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str] | None]:
    """(any id followed by a value, a template row `id label = value`, a text part `IV: …`)."""
    ids = sorted(question_ids, key=len, reverse=True)
    alternation = "|".join([*(re.escape(i) for i in ids), _OTHER_IDS])
    pair = re.compile(rf"(?:^|(?<=[\s,;]))(?P<id>{alternation})(?![\w.])\s*(?P<sep>[=:]|\s)\s*",
                      re.IGNORECASE)
    row = re.compile(rf"^\s*(?P<id>{alternation})(?![\w.])(?P<label>[^=\n]*)=(?P<value>.*)$",
                     re.IGNORECASE)
    named = sorted((s for s in section_ids if not s[:1].isdigit()), key=len, reverse=True)
    part = None
    if named:
        part = re.compile(rf"^\s*(?P<sid>{'|'.join(re.escape(s) for s in named)})(?!\w)\s*"
                          r"[:.)=\-–]\s*(?P<rest>.*)$", re.IGNORECASE)
    return pair, row, part


def _form_patterns(form: Form) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str] | None]:
    return _patterns(tuple(q.id for q in form.questions), tuple(s.id for s in form.sections))


@dataclass
class _Block:
    kind: str  # section | pairs | row
    key: str  # section id, or question id of a template row
    text: str  # what follows the head on its line
    more: list[str] = field(default_factory=list)  # the lines after it, up to the next head
    strong: bool = True

    def value(self) -> str:
        return "\n".join([self.text, *self.more]).strip()


def _is_pair(match: re.Match[str] | None, form: Form) -> bool:
    """`4.2 150` may leave out the "=", but `IV: …` may not: "I" and "IV" are also words. An
    id this form lacks needs the "=" too, except `4.9 5` at the start of a line: "3.1 Tiếp tục"
    in a text and "khoảng 2.5 lần" in a note stay words."""
    if match is None:
        return False
    qid, weak = match.group("id"), match.group("sep").isspace()
    if not weak:
        return True
    if _own_id(form, qid) is not None:
        return qid[:1].isdigit()
    return (qid[:1].isdigit() and match.start() == 0
            and match.string[match.end():match.end() + 1].isdigit())


def _own_id(form: Form, typed: str) -> str | None:
    """The form's spelling of a typed id, or None when this form has no such row."""
    return _ids_by_upper(tuple(q.id for q in form.questions)).get(typed.upper())


@functools.lru_cache(maxsize=64)
def _ids_by_upper(ids: tuple[str, ...]) -> dict[str, str]:
    return {i.upper(): i for i in ids}


def _head(form: Form, line: str, by_upper: dict[str, str]) -> _Block | None:
    """The block a line starts, if it starts like a section, a text part or a question id."""
    pair, row, part = _form_patterns(form)
    found = _SECTION_WORD.match(line)
    if found:
        return _Block("section", found.group("sid").upper(), found.group("rest"))
    if part is not None:
        found = part.match(line)
        if found:
            return _Block("section", found.group("sid").upper(), found.group("rest"))
    found = row.match(line)
    if found and found.group("label").strip() and not pair.search(found.group("label")):
        typed = found.group("id").upper()
        return _Block("row", by_upper.get(typed, typed), found.group("value"))
    found = pair.match(line)
    if found and _is_pair(found, form):
        return _Block("pairs", "", line, strong=not found.group("sep").isspace())
    return None


def _blocks(form: Form, text: str) -> tuple[list[str], list[_Block]]:
    """Leading lines that start no block, then the blocks, each with its following lines."""
    by_upper = {q.id.upper(): q.id for q in form.questions}
    leading: list[str] = []
    blocks: list[_Block] = []
    for line in clean(text).split("\n"):
        head = _head(form, line, by_upper)
        if head is not None and (head.strong or not leading):
            blocks.append(head)
        elif blocks:
            blocks[-1].more.append(line)
        else:
            leading.append(line)
    return leading, blocks


# ----------------------------------------------------------------------------- values

def _split_outside_parentheses(text: str, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    """Spans of `text` between matches of `pattern`, ignoring matches inside (…)."""
    spans, start, depth = [], 0, 0
    inside = [False] * (len(text) + 1)
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        inside[i] = depth > 0
    for match in pattern.finditer(text):
        if inside[match.start()]:
            continue
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return spans


def _bare_split(piece: str) -> tuple[list[tuple[int, int]], bool]:
    """"3,10,17" → three spans; and whether a part of exactly three digits follows a comma,
    which could as well be thousands ("1,500")."""
    cuts = [m.start() for m in _BARE_COMMA.finditer(piece)]
    if not cuts:
        return [(0, len(piece))], False
    bounds = [0, *[c + 1 for c in cuts]]
    ends = [*cuts, len(piece)]
    spans = list(zip(bounds, ends, strict=True))
    ambiguous = any(re.fullmatch(r"\d{3}", piece[b:e].strip()) for b, e in spans[1:])
    return spans, ambiguous


def _values(rest: str, *, bare_commas: bool) -> tuple[list[str], list[int], bool]:
    """Values of a section line, where each begins in `rest`, and whether the reading was
    ambiguous. With `bare_commas`, "3,10,17" (phones type no space) is three values."""
    values: list[str] = []
    starts: list[int] = []
    ambiguous = False
    for chunk_start, chunk_end in _split_outside_parentheses(rest, _STRONG_SPLIT):
        chunk = rest[chunk_start:chunk_end]
        note = _NOTE_START.search(chunk)
        head = chunk[: note.start()] if note else chunk
        pieces = _split_outside_parentheses(head, _COMMA_SPACE)
        if bare_commas:
            split: list[tuple[int, int]] = []
            for start, end in pieces:
                spans, unclear = _bare_split(head[start:end])
                split.extend((start + b, start + e) for b, e in spans)
                ambiguous = ambiguous or unclear
            pieces = split
        pieces[-1] = (pieces[-1][0], len(chunk))  # a note stays with the value before it
        for start, end in pieces:
            values.append(chunk[start:end].strip())
            starts.append(chunk_start + start)
    if len(values) > 1 and not values[-1]:  # "mục 2: 3; 1; 12; 4;"
        values.pop()
        starts.pop()
    return values, starts, ambiguous


def _trailing_optional_texts(section: Section) -> int:
    """How many rows at the end of a section are optional free text (may be left out)."""
    count = 0
    for q in reversed(section.questions):
        if q.type != "text" or q.required:
            break
        count += 1
    return count


def _positional(section: Section, rest: str) -> tuple[list[tuple[str, str]], EntryProblem | None]:
    """`mục 4: 2, 150, 3` → the section's rows in order, only if the count matches."""
    rows = section.questions
    rest = rest.strip()
    if len(rows) == 1:
        if not rest:
            return [], EntryProblem("count_mismatch", section.id, 0)
        skipped = rest in SKIP_MARKS and rows[0].type != "text"
        return ([] if skipped else [(rows[0].id, rest)]), None
    allowed = {len(rows), len(rows) - _trailing_optional_texts(section)}
    text_last = rows[-1].type == "text"
    for bare_commas in (False, True):
        values, starts, ambiguous = _values(rest, bare_commas=bare_commas)
        if text_last and len(values) > len(rows):
            # The free text at the end keeps its own commas.
            values = [*values[: len(rows) - 1], rest[starts[len(rows) - 1]:].strip()]
        if len(values) in allowed and values:
            if ambiguous:
                return [], EntryProblem("ambiguous_commas", section.id, len(values), rest)
            pairs = [(q.id, v) for q, v in zip(rows, values, strict=False)
                     if v and (v not in SKIP_MARKS or q.type == "text")]
            return pairs, None
    values, _starts, _ambiguous = _values(rest, bare_commas=False)
    if len(values) == 1:  # "3,10,17" typed without spaces counts as three values
        values, _starts, _ambiguous = _values(rest, bare_commas=True)
    return [], EntryProblem("count_mismatch", section.id, len(values), rest)


def _line_pairs(form: Form, line: str) -> list[tuple[str, str]] | None:
    """`4.1=2 4.2=150`, `4.1: 2; 4.2: 150` or `4.2 150` on one line; None if a value is
    missing."""
    pair, _row, _part = _form_patterns(form)
    by_upper = {q.id.upper(): q.id for q in form.questions}
    note = _NOTE_START.search(line)
    # In a note ("ghi chú: tăng 4.1 lần") only `id=` or `id:` starts another answer.
    found = [m for m in pair.finditer(line) if _is_pair(m, form) and (
        note is None or m.start() < note.start() or not m.group("sep").isspace())]
    if not found or found[0].start() != 0:
        return None
    pairs = []
    for i, match in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(line)
        qid = by_upper.get(match.group("id").upper(), match.group("id").upper())
        question = form.question(qid)
        # A free-text answer runs to the end of the line, other ids and all.
        if question is not None and question.type == "text":
            end = len(line)
        value = line[match.end():end].strip(" ,;")
        if not value:
            return None
        pairs.append((qid, value))
        if end == len(line):
            break
    return pairs


# ----------------------------------------------------------------------------- entry point

def parse_entry(form: Form, text: str) -> FastEntry | None:
    """Read a message of section lines, id pairs, text parts or template rows; None when it
    is a plain answer to the question being asked (it starts like none of those)."""
    leading, blocks = _blocks(form, text)
    if not blocks:
        return None
    entry = FastEntry(blocks=len(blocks),
                      bare=len(blocks) == 1 and blocks[0].kind == "pairs" and not blocks[0].strong)
    if leading:
        entry.problems.append(EntryProblem("unplaced", text="\n".join(leading)))
    for block in blocks:
        if block.kind == "row":
            entry.template = True
            value = block.value()
            question = form.question(block.key)
            if question is None or (value and (value not in SKIP_MARKS
                                               or question.type == "text")):
                entry.pairs.append((block.key, value))  # set aside below if not this form's
            else:
                entry.blanks.append(block.key)  # "= " or "= -": left empty
        elif block.kind == "section":
            section = form.section(block.key)
            if section is None:
                entry.problems.append(EntryProblem("unknown_section", block.key))
                continue
            rest = block.value()
            inner = _line_pairs(form, rest.split("\n")[0]) if rest else None
            if inner and all(_section_id(form, q) == section.id for q, _v in inner) \
                    and "\n" not in rest:
                entry.pairs.extend(inner)  # "mục 4: 4.1=2, 4.2=150"
                continue
            pairs, problem = _positional(section, rest)
            entry.pairs.extend(pairs)
            if problem:
                entry.problems.append(problem)
        else:
            first = _line_pairs(form, block.text)
            if first is None:
                entry.problems.append(EntryProblem("unplaced", text=block.text))
                continue
            if block.more:
                qid, value = first[-1]
                first[-1] = (qid, "\n".join([value, *block.more]).strip())
            entry.pairs.extend(first)
    _set_aside(form, entry)
    _drop_conflicts(entry)
    return entry


def _section_id(form: Form, qid: str) -> str:
    """The section of a row, also of one this form lacks: 4.3 is in section 4."""
    if form.question(qid) is not None:
        return form.section_of(qid).id
    return qid.split(".")[0]


def _set_aside(form: Form, entry: FastEntry) -> None:
    """Rows this form lacks and one-character text parts become problems, each named in the
    reply: `II.2: x` or `III: -` is hardly the text meant, and storing it would hide that."""
    kept = []
    for qid, value in entry.pairs:
        question = form.question(qid)
        if question is None:
            entry.problems.append(EntryProblem("not_in_form", _section_id(form, qid), text=qid))
        elif question.type == "text" and len(value.strip()) <= 1:
            entry.problems.append(EntryProblem("short_text", question.section_id, text=qid,
                                               typed=value.strip()))
        else:
            kept.append((qid, value))
    entry.pairs = kept


def _drop_conflicts(entry: FastEntry) -> None:
    """The same row given two different values in one message: neither is stored."""
    seen: dict[str, str] = {}
    conflicting: set[str] = set()
    for qid, value in entry.pairs:
        if qid in seen and seen[qid] != value:
            conflicting.add(qid)
        seen[qid] = value
    if conflicting:
        entry.pairs = [(q, v) for q, v in entry.pairs if q not in conflicting]
        entry.problems.extend(EntryProblem("duplicate", text=q) for q in sorted(conflicting))
    unique: dict[str, str] = {}
    for qid, value in entry.pairs:
        unique.setdefault(qid, value)
    entry.pairs = list(unique.items())


def parse_append(text: str) -> str | None:
    """`thêm: …` adds to a long text answered before; the text to add, or None."""
    found = _APPEND.match(clean(text))
    return found.group("text").strip() if found else None


# ----------------------------------------------------------------------------- templates

SHORT_LABEL = 48


def short_label(question: Question, language: str) -> str:
    """A row's label cut to fit one phone line in a template."""
    label = question.label.get(language).replace("=", "-").replace("\n", " ")
    if len(label) <= SHORT_LABEL:
        return label
    cut = label[: SHORT_LABEL - 1].rsplit(" ", 1)[0].rstrip(" ,;:(")
    return cut + "…"


EXAMPLE_COUNTS = (2, 15, 3, 40, 1, 8, 6, 25, 4, 30)


def example_values(section: Section, language: str) -> list[str]:
    """A plausible value for each row of a section, by its type, for the bot's examples."""
    values = []
    for i, q in enumerate(section.questions):
        if q.type == "yes_no":
            values.append("có" if language == "vi" else "yes")
        elif q.type == "money":
            values.append("5tr")
        elif q.type == "date":
            values.append("13/10")
        elif q.type == "text":
            values.append("…")
        elif q.type == "choice":
            values.append("1")
        else:
            values.append(str(EXAMPLE_COUNTS[i % len(EXAMPLE_COUNTS)]))
    return values


def example_line(section: Section, language: str) -> str:
    """`mục 4: 2, 15, 3`: an example with as many values as this section has rows."""
    word = "mục" if language == "vi" else "section"
    return f"{word} {section.id}: " + ", ".join(example_values(section, language))


def example_section(form: Form) -> Section:
    """The section the bot's examples use: the first one of several numeric rows."""
    numeric = [s for s in form.sections
               if len(s.questions) >= 3 and all(q.numeric for q in s.questions)]
    return numeric[0] if numeric else form.sections[0]
