"""Report forms as data: the YAML format, its model and its loader.

A form is sections of questions addressed by their printed id (`4.2`), so that reporters,
coordinators and exports all speak of the same row the official document prints.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml

from conversations.form_wording import Wording, WordingError, fill, parse_wording
from conversations.rules import Rule, RuleError, parse_rule

QuestionType = Literal["count", "money", "number", "yes_no", "choice", "text", "date"]
QUESTION_TYPES: tuple[str, ...] = ("count", "money", "number", "yes_no", "choice", "text", "date")
NUMERIC_TYPES = frozenset({"count", "money", "number"})
RULE_TYPES = NUMERIC_TYPES | {"yes_no"}  # the questions a rule may name
# Comparison with the unit's previous report of the same form: a figure this many times above
# or below it is asked back, unless both are below `min_value` (small numbers vary a lot).
DEFAULT_PREVIOUS_FACTOR = Decimal(5)
DEFAULT_PREVIOUS_MIN = Decimal(20)
LANGUAGES = ("vi", "en")

DATA_DIR = Path(__file__).parent / "data"
FORMS_DIR = DATA_DIR / "forms"


class FormError(ValueError):
    """A form file that does not follow the format; the message names the place."""


@dataclass(frozen=True)
class Text:
    """A label in each supported language; Vietnamese is the fallback."""

    vi: str
    en: str

    def get(self, language: str) -> str:
        return self.en if language == "en" and self.en else self.vi

    @staticmethod
    def parse(raw: Any, where: str, required: bool = True) -> Text:
        if raw is None and not required:
            return Text("", "")
        if isinstance(raw, str):
            return Text(raw, raw)
        if not isinstance(raw, Mapping) or not isinstance(raw.get("vi"), str):
            raise FormError(f"{where}: expected a text with 'vi' (and 'en')")
        return Text(raw["vi"].strip(), str(raw.get("en") or raw["vi"]).strip())

    def as_dict(self) -> dict[str, str]:
        return {"vi": self.vi, "en": self.en}


@dataclass(frozen=True)
class Choice:
    id: str
    label: Text


@dataclass(frozen=True)
class Question:
    id: str
    type: QuestionType
    label: Text
    section_id: str
    required: bool = True
    min: Decimal | None = None
    max: Decimal | None = None
    soft_max: Decimal | None = None
    help: Text = field(default_factory=lambda: Text("", ""))
    unit: Text = field(default_factory=lambda: Text("", ""))
    choices: tuple[Choice, ...] = ()
    note: bool = True
    main: bool = False

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC_TYPES


@dataclass(frozen=True)
class Section:
    id: str
    title: Text
    questions: tuple[Question, ...]
    help: Text = field(default_factory=lambda: Text("", ""))


@dataclass(frozen=True)
class PreviousCheck:
    """How a figure is compared with the unit's previous report of the same form; a factor
    of 0 turns the comparison off."""

    factor: Decimal = DEFAULT_PREVIOUS_FACTOR
    min_value: Decimal = DEFAULT_PREVIOUS_MIN

    @property
    def on(self) -> bool:
        return self.factor > 0


@dataclass(frozen=True)
class Form:
    id: str
    version: int
    title: Text
    sections: tuple[Section, ...]
    description: Text = field(default_factory=lambda: Text("", ""))
    source: str = ""
    rules: tuple[Rule, ...] = ()
    previous_check: PreviousCheck = field(default_factory=PreviousCheck)
    # Words the texts take from the unit's kind (form_wording.py); with some, `template` is
    # the form as written ({unit} left in) and this one is worded for `kind` ("" = default).
    wording: Wording = field(default_factory=Wording)
    kind: str = field(default="", compare=False)
    template: Form | None = field(default=None, compare=False, repr=False)

    def worded_for(self, kind: str) -> Form:
        """The form as a unit of this kind reads it: "Trung tâm đã ban hành…" for a centre
        where a school reads "Nhà trường đã ban hành…"; ids, types and rules unchanged."""
        kind = kind if self.wording.has_own_words(kind) else ""
        if self.template is None or kind == self.kind:
            return self
        cache = self.__dict__.setdefault("_worded_cache", {})
        if kind not in cache:
            cache[kind] = _worded(self.template, kind)
        return cache[kind]

    def rules_on(self, qid: str) -> tuple[Rule, ...]:
        """The rules that name a question (checked when it is answered)."""
        cached = self.__dict__.get("_rules_cache")
        if cached is None:
            cached = {}
            for rule in self.rules:
                for named in rule.questions:
                    cached.setdefault(named, []).append(rule)
            cached = {k: tuple(v) for k, v in cached.items()}
            object.__setattr__(self, "_rules_cache", cached)
        return cached.get(qid, ())

    @functools.cached_property  # asked at every step; a form never changes
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for s in self.sections for q in s.questions)

    def question(self, qid: str) -> Question | None:
        return self._index.get(qid)

    def section(self, sid: str) -> Section | None:
        return next((s for s in self.sections if s.id == sid), None)

    def section_of(self, qid: str) -> Section:
        q = self._index[qid]
        return next(s for s in self.sections if s.id == q.section_id)

    def position(self, qid: str) -> int:
        """1-based place of a question in the whole form, for "câu 12/41"."""
        return self._order[qid] + 1

    def next_id(self, qid: str | None) -> str | None:
        qs = self.questions
        i = -1 if qid is None else self._order[qid]
        return qs[i + 1].id if i + 1 < len(qs) else None

    def iter_after(self, qid: str | None) -> Iterator[Question]:
        qs = self.questions
        start = 0 if qid is None else self._order[qid] + 1
        yield from qs[start:]

    @property
    def _order(self) -> dict[str, int]:
        cached = self.__dict__.get("_order_cache")
        if cached is None:
            cached = {q.id: i for i, q in enumerate(self.questions)}
            object.__setattr__(self, "_order_cache", cached)
        return cached

    @property
    def _index(self) -> dict[str, Question]:
        cached = self.__dict__.get("_index_cache")
        if cached is None:
            cached = {q.id: q for q in self.questions}
            object.__setattr__(self, "_index_cache", cached)
        return cached


def _decimal(raw: Any, where: str) -> Decimal | None:
    if raw is None:
        return None
    try:
        return Decimal(str(raw))
    except ArithmeticError as exc:
        raise FormError(f"{where}: not a number: {raw!r}") from exc


def _question(raw: Any, section_id: str, where: str) -> Question:
    if not isinstance(raw, Mapping):
        raise FormError(f"{where}: a question must be a mapping")
    qid = str(raw.get("id", "")).strip()
    if not qid:
        raise FormError(f"{where}: question without id")
    where = f"{where} ({qid})"
    if len(qid) > 16:
        raise FormError(f"{where}: a question id has at most 16 characters")
    qtype = raw.get("type")
    if qtype not in QUESTION_TYPES:
        raise FormError(f"{where}: type must be one of {', '.join(QUESTION_TYPES)}")
    choices: tuple[Choice, ...] = ()
    if qtype == "choice":
        raw_choices = raw.get("choices")
        if not isinstance(raw_choices, list) or len(raw_choices) < 2:
            raise FormError(f"{where}: a choice question needs at least two choices")
        choices = tuple(
            Choice(str(c.get("id")), Text.parse(c.get("label"), f"{where} choice"))
            for c in raw_choices
        )
        if len({c.id for c in choices}) != len(choices):
            raise FormError(f"{where}: duplicate choice ids")
        if any(len(c.id.encode()) > 32 for c in choices):
            raise FormError(f"{where}: a choice id has at most 32 bytes (it travels in buttons)")
    minimum = _decimal(raw.get("min"), where)
    if qtype in ("count", "money") and minimum is None:
        minimum = Decimal(0)
    question = Question(
        id=qid,
        type=qtype,
        label=Text.parse(raw.get("label"), f"{where} label"),
        section_id=section_id,
        required=bool(raw.get("required", True)),
        min=minimum,
        max=_decimal(raw.get("max"), where),
        soft_max=_decimal(raw.get("soft_max"), where),
        help=Text.parse(raw.get("help"), f"{where} help", required=False),
        unit=Text.parse(raw.get("unit"), f"{where} unit", required=False),
        choices=choices,
        note=bool(raw.get("note", qtype != "text")),
        main=bool(raw.get("main", False)),
    )
    if question.min is not None and question.max is not None and question.min > question.max:
        raise FormError(f"{where}: min is above max")
    return question


def _worded(template: Form, kind: str) -> Form:
    """`template` with its placeholders filled with the words of `kind`."""
    words = {lang: template.wording.words(kind, lang) for lang in LANGUAGES}

    def text(t: Text, where: str) -> Text:
        try:
            return Text(fill(t.vi, words["vi"], where), fill(t.en, words["en"], where))
        except WordingError as exc:
            raise FormError(str(exc)) from None

    where = template.id
    sections = tuple(
        replace(s, title=text(s.title, f"{where} section {s.id}"),
                help=text(s.help, f"{where} section {s.id}"),
                questions=tuple(
                    replace(q, label=text(q.label, f"{where} ({q.id})"),
                            help=text(q.help, f"{where} ({q.id})"),
                            unit=text(q.unit, f"{where} ({q.id})"),
                            choices=tuple(replace(c, label=text(c.label, f"{where} ({q.id})"))
                                          for c in q.choices))
                    for q in s.questions))
        for s in template.sections)
    return replace(template, title=text(template.title, where),
                   description=text(template.description, where), sections=sections,
                   kind=kind, template=template)


def parse_form(raw: Any, source: str = "") -> Form:
    """Build a Form from parsed YAML, checking everything a conversation relies on."""
    if not isinstance(raw, Mapping):
        raise FormError(f"{source}: a form must be a mapping")
    form_id = str(raw.get("id", "")).strip()
    if not form_id:
        raise FormError(f"{source}: form without id")
    sections = []
    seen: set[str] = set()
    for s_index, s_raw in enumerate(raw.get("sections") or [], start=1):
        where = f"{form_id} section {s_index}"
        if not isinstance(s_raw, Mapping):
            raise FormError(f"{where}: a section must be a mapping")
        sid = str(s_raw.get("id", "")).strip()
        if not sid:
            raise FormError(f"{where}: section without id")
        questions = tuple(
            _question(q, sid, f"{where} question {i}")
            for i, q in enumerate(s_raw.get("questions") or [], start=1)
        )
        if not questions:
            raise FormError(f"{where} ({sid}): a section needs questions")
        for q in questions:
            if q.id in seen:
                raise FormError(f"{form_id}: question id {q.id} appears twice")
            seen.add(q.id)
        sections.append(
            Section(
                id=sid,
                title=Text.parse(s_raw.get("title"), f"{where} title"),
                questions=questions,
                help=Text.parse(s_raw.get("help"), f"{where} help", required=False),
            )
        )
    if not sections:
        raise FormError(f"{form_id}: a form needs sections")
    if len({s.id for s in sections}) != len(sections):
        raise FormError(f"{form_id}: duplicate section ids")
    types = {q.id: q.type for s in sections for q in s.questions if q.type in RULE_TYPES}
    rules = []
    for index, rule_raw in enumerate(raw.get("rules") or [], start=1):
        try:
            rules.append(parse_rule(rule_raw, f"{form_id} rule {index}", types))
        except RuleError as exc:
            raise FormError(str(exc)) from None
    if len({r.id for r in rules}) != len(rules):
        raise FormError(f"{form_id}: two rules have the same id")
    try:
        version = int(raw.get("version", 1))
    except (TypeError, ValueError):
        raise FormError(f"{form_id}: version must be a whole number") from None
    try:
        wording = parse_wording(raw.get("wording"), f"{form_id} wording")
    except WordingError as exc:
        raise FormError(str(exc)) from None
    form = Form(
        id=form_id,
        version=version,
        title=Text.parse(raw.get("title"), f"{form_id} title"),
        sections=tuple(sections),
        description=Text.parse(raw.get("description"), f"{form_id} description", required=False),
        source=str(raw.get("source", "")),
        rules=tuple(rules),
        previous_check=_previous_check(raw.get("previous_period"), form_id),
        wording=wording,
    )
    # Worded with the default words; every placeholder is checked here, once. A form without
    # a wording block is read as written: one stored before wording existed still loads.
    return _worded(form, "") if wording else form


def _previous_check(raw: Any, form_id: str) -> PreviousCheck:
    if raw is None:
        return PreviousCheck()
    if raw is False:
        return PreviousCheck(Decimal(0))
    if not isinstance(raw, Mapping):
        raise FormError(f"{form_id}: previous_period must be a mapping with factor and "
                        f"min_value (or false)")
    factor = _decimal(raw.get("factor", DEFAULT_PREVIOUS_FACTOR), f"{form_id} previous_period")
    minimum = _decimal(raw.get("min_value", DEFAULT_PREVIOUS_MIN),
                       f"{form_id} previous_period")
    if factor is None or minimum is None or factor < 0 or (0 < factor <= 1) or minimum < 0:
        raise FormError(f"{form_id}: previous_period factor must be 0 (off) or more than 1, "
                        f"min_value 0 or more")
    return PreviousCheck(factor, minimum)


def _number_out(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def form_to_dict(form: Form) -> dict[str, Any]:
    """The form as its canonical YAML mapping: every field written out, so the YAML, the
    spreadsheet and the database hold the same definition. A worded form is written as its
    template, placeholders and wording block included."""
    form = form.template or form

    def question(q: Question) -> dict[str, Any]:
        raw: dict[str, Any] = {"id": q.id, "type": q.type, "label": q.label.as_dict()}
        raw["required"] = q.required
        for name in ("min", "max", "soft_max"):
            value = getattr(q, name)
            if value is not None:
                raw[name] = _number_out(value)
        if q.unit.vi:
            raw["unit"] = q.unit.as_dict()
        if q.help.vi:
            raw["help"] = q.help.as_dict()
        if q.choices:
            raw["choices"] = [{"id": c.id, "label": c.label.as_dict()} for c in q.choices]
        raw["note"] = q.note
        raw["main"] = q.main
        return raw

    out: dict[str, Any] = {"id": form.id, "version": form.version,
                           "title": form.title.as_dict()}
    if form.description.vi:
        out["description"] = form.description.as_dict()
    if form.source:
        out["source"] = form.source
    check = form.previous_check
    out["previous_period"] = {"factor": _number_out(check.factor),
                              "min_value": _number_out(check.min_value)}
    if form.wording:
        out["wording"] = form.wording.as_dict()
    out["sections"] = []
    for s in form.sections:
        section: dict[str, Any] = {"id": s.id, "title": s.title.as_dict()}
        if s.help.vi:
            section["help"] = s.help.as_dict()
        section["questions"] = [question(q) for q in s.questions]
        out["sections"].append(section)
    if form.rules:
        out["rules"] = [r.as_dict() for r in form.rules]
    return out


def dump_form_yaml(form: Form) -> str:
    return yaml.safe_dump(form_to_dict(form), allow_unicode=True, sort_keys=False, width=100)


def load_form_text(text: str, source: str = "") -> Form:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FormError(f"{source}: not valid YAML: {exc}") from exc
    return parse_form(raw, source)


def load_form_file(path: Path) -> Form:
    return load_form_text(path.read_text(encoding="utf-8"), str(path))


def bundled_form_files() -> list[Path]:
    """The forms shipped with the bot (seed 004 commune and school forms, the Month form)."""
    return sorted(FORMS_DIR.glob("*.yaml"))
