"""Every value a reporter gives, typed or from a spreadsheet, is vetted before it is stored:
a hard rule of the form refuses it (with the rule's own message); a figure above the form's
plausible maximum, far from the unit's previous report, or breaking a soft rule is asked back
once, and if kept, stored with the reason ("cần kiểm tra") for the coordinator."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from conversations.answer_parsing import Parsed, show_value
from conversations.checks import previous_gap
from conversations.context import Assignment
from conversations.forms import Form, Question
from conversations.i18n import Tr
from conversations.rules import Rule, numeric
from conversations.session import Turn

_NAMED = re.compile(r"\[([^\]]+)\]")
# Checks asked about every time the value is given, never kept with a flag: passing the usual
# maximum, and a unit word nearly right ("5 triệuu", whose reading the person confirms).
FLAG_LANGUAGE = "vi"  # flags are data for the coordinator's files, written in Vietnamese


@dataclass
class Candidate:
    qid: str
    parsed: Parsed
    origin: str = ""  # how the reply names it: "4.2", or a cell "C14 (4.2)"
    typed: str = ""   # what was written, quoted in a refusal

    def __post_init__(self) -> None:
        self.origin = self.origin or self.qid


@dataclass
class Vetted:
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    refused: list[tuple[Candidate, str]] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)  # kept with a flag, asked before


def stored(parsed: Parsed, flag: str = "") -> dict[str, Any]:
    """An answer as it is stored; "flag" only when there is one."""
    out = parsed.stored()
    if flag:
        out["flag"] = flag
    return out


def same_answer(before: Mapping[str, Any] | None, parsed: Parsed) -> bool:
    """The value and note already stored (a template sent back as it was)."""
    return before is not None and before.get("value") == parsed.value \
        and (before.get("note") or "") == parsed.note


def _values(form: Form, answers: Mapping[str, Mapping[str, Any]], rule: Rule
            ) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for qid in rule.questions:
        q = form.question(qid)
        stored_answer = answers.get(qid)
        if q is None or stored_answer is None:
            continue
        value = numeric(stored_answer.get("value"), q.type)
        if value is not None:
            out[qid] = value
    return out


def vet(turn: Turn, a: Assignment, form: Form, candidates: list[Candidate],
        before: Mapping[str, Mapping[str, Any]], ask: bool = True) -> Vetted:
    """Sort the candidates into accepted, refused (a hard rule), pending (asked back) and
    flagged. With `ask` False (a coordinator entering many reports) nothing is asked back:
    what would be is stored with its flag."""
    result = Vetted()
    proposed = {c.qid: c for c in candidates}
    merged = {**before, **{c.qid: c.parsed.stored() for c in candidates}}
    # Hard rules: refuse every new value a broken rule names, until none is broken.
    while True:
        broken = [(rule, named) for rule in _rules(form, proposed, "hard")
                  if (named := [q for q in rule.questions if q in proposed])
                  and rule.broken(_values(form, merged, rule))]
        if not broken:
            break
        for rule, named in broken:
            message = rule_message(turn.tr, form, rule, merged)
            for qid in sorted(named, key=lambda q: list(proposed).index(q)
                              if q in proposed else 0):
                if qid in proposed:
                    result.refused.append((proposed.pop(qid), message))
        merged = {**before, **{qid: c.parsed.stored() for qid, c in proposed.items()}}
    asked_before = set(turn.state.get("checked") or [])
    for qid, c in proposed.items():
        q = form.question(qid)
        assert q is not None
        checks: list[dict[str, Any]] = []
        kept = before.get(qid) if same_answer(before.get(qid), c.parsed) else None
        if kept is None:
            if c.parsed.near_miss:
                checks.append({"kind": "reading", "typed": c.parsed.near_miss})
            if c.parsed.implausible:
                checks.append({"kind": "soft_max"})
            gap = previous_gap(q, c.parsed.value, a.previous.get(qid), form.previous_check)
            if gap is not None:
                checks.append({"kind": "previous", "previous": str(gap.previous),
                               "up": gap.up, "times": gap.times})
            for rule in _rules(form, {qid: c}, "soft"):
                if _blamed(rule, proposed) == qid and rule.broken(_values(form, merged, rule)):
                    checks.append({"kind": "rule", "rule": rule.id})
        if not checks:  # the same figure sent again keeps the flag it was kept with
            result.accepted[qid] = stored(c.parsed, (kept or {}).get("flag") or "")
            continue
        item = {"qid": qid, "value": c.parsed.value, "note": c.parsed.note, "checks": checks}
        if not ask and c.parsed.near_miss:  # nobody to ask: never stored on a guess
            result.refused.append((c, unclear_unit(turn.tr, q, c.parsed.value)))
            continue
        if not ask or (qid in asked_before and _asked_once(item)):
            flag = flag_text(turn, a, form, item, merged)
            result.accepted[qid] = stored(c.parsed, flag)
            if flag:
                result.flagged.append(qid)
            continue
        result.pending.append(item)
    return result


def _rules(form: Form, proposed: Mapping[str, Any], level: str) -> list[Rule]:
    found: dict[str, Rule] = {}
    for qid in proposed:
        for rule in form.rules_on(qid):
            if rule.level == level:
                found.setdefault(rule.id, rule)
    return list(found.values())


def _blamed(rule: Rule, proposed: Mapping[str, Any]) -> str:
    """The one new value a soft rule is asked about: the last one its check names (the
    consequence: 4.4 in "if 4.3 > 0 then 4.4 > 0"), else the last in its condition."""
    for qid in reversed(rule.check.questions):
        if qid in proposed:
            return qid
    for qid in reversed(rule.when.questions if rule.when else ()):
        if qid in proposed:
            return qid
    return ""


def rule_message(tr: Tr, form: Form, rule: Rule, answers: Mapping[str, Mapping[str, Any]]
                 ) -> str:
    """The rule's own message in the reader's language, each [4.2] shown as "4.2 = 150
    người"; a rule without a message says which figures do not fit."""
    def shown(match: re.Match[str]) -> str:
        qid = match.group(1).strip()
        q = form.question(qid)
        stored_answer = answers.get(qid)
        if q is None or stored_answer is None:
            return qid
        return f"{qid} = {show_value(q, stored_answer.get('value'), tr)}"

    text = rule.message.get(tr.language)
    if not text:
        text = tr("these figures do not fit together: {rule}", rule=rule.check.text())
    return _NAMED.sub(shown, text)


# Kinds of check asked again when the value is given again after "Nhập lại"; the others are
# asked once, then the value is kept with its flag.
# A near-miss unit word ("5 triệuu") is asked about every time it is typed, as a figure above
# the usual maximum is; a confirmed reading is what the person meant and carries no flag.
ASKED_EVERY_TIME = frozenset({"soft_max", "reading"})


def _asked_once(item: Mapping[str, Any]) -> bool:
    """Whether a value given again after "Nhập lại" is kept with its flag without asking a
    second time: not when a check asks every time (a retyped figure above the row's usual
    maximum is as likely a slip of the finger as the first)."""
    return all(c.get("kind") not in ASKED_EVERY_TIME for c in _checks(item))


def _checks(item: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return item.get("checks") or [{"kind": "soft_max"}]


@dataclass(frozen=True)
class _Why:
    """What one check's reason is built from."""
    a: Assignment
    form: Form
    q: Question
    item: Mapping[str, Any]
    tr: Tr
    answers: Mapping[str, Mapping[str, Any]]
    for_flag: bool  # the flag kept with the value: says the figure it was checked against


def _usual_max_reason(why: _Why, check: Mapping[str, Any]) -> str:
    if why.for_flag and why.q.soft_max is not None:
        return why.tr("much higher than usual (above {limit})",
                      limit=show_value(why.q, why.q.soft_max, why.tr))
    return why.tr("much higher than usual")


def _previous_reason(why: _Why, check: Mapping[str, Any]) -> str:
    tr = why.tr
    period = why.a.previous_label.get(tr.language)
    previous = show_value(why.q, Decimal(check["previous"]), tr)
    if check.get("up") and Decimal(check["previous"]) == 0:
        return tr("the previous report ({period}) had 0", period=period)
    if check.get("up"):
        return tr("{times} times the previous report ({previous}, {period})",
                  times=check.get("times"), previous=previous, period=period)
    return tr("far below the previous report ({previous}, {period})",
              previous=previous, period=period)


def _rule_reason(why: _Why, check: Mapping[str, Any]) -> str:
    rule = next((r for r in why.form.rules if r.id == check.get("rule")), None)
    if rule is None:
        return ""
    merged = {**why.answers, why.q.id: {"value": why.item["value"], "note": why.item["note"]}}
    return rule_message(why.tr, why.form, rule, merged).rstrip(". ")


# A reason per kind of check: the question asked back, and the flag kept if the value is.
REASONS: dict[str, Callable[[_Why, Mapping[str, Any]], str]] = {
    "soft_max": _usual_max_reason,
    "previous": _previous_reason,
    "rule": _rule_reason,
}


def reasons(turn: Turn, a: Assignment, form: Form, item: Mapping[str, Any], tr: Tr,
            answers: Mapping[str, Mapping[str, Any]], for_flag: bool = False) -> list[str]:
    """Why a value is asked back (or was kept with a flag), in `tr`'s language."""
    q = form.question(item["qid"])
    assert q is not None
    why = _Why(a, form, q, item, tr, answers, for_flag)
    found = (REASONS[c["kind"]](why, c) for c in _checks(item) if c.get("kind") in REASONS)
    return [text for text in found if text]


def flag_text(turn: Turn, a: Assignment, form: Form, item: Mapping[str, Any],
              answers: Mapping[str, Mapping[str, Any]]) -> str:
    """The reason kept with a value for the coordinator, in Vietnamese (the language of the
    files they sign): every check that asked, the row's usual maximum included."""
    tr = turn.ctx.catalog.tr(FLAG_LANGUAGE)
    if all(c.get("kind") == "reading" for c in _checks(item)):
        return ""  # the person confirmed how their words read: nothing left to check
    # A check without a reason of its own still leaves a flag: none is kept silently.
    return "; ".join(reasons(turn, a, form, item, tr, answers, for_flag=True)) \
        or tr("kept as given after being asked back")


def unclear_unit(tr: Tr, q: Question, value: Any) -> str:
    """Why a near-miss unit word is not stored when nobody can be asked about it."""
    return tr("the word after the number is not clear (it may mean {value}); please write "
              "it again", value=show_value(q, value, tr))


def confirm_text(turn: Turn, a: Assignment, form: Form, item: Mapping[str, Any],
                 answers: Mapping[str, Mapping[str, Any]]) -> str:
    tr = turn.tr
    q: Question | None = form.question(item["qid"])
    assert q is not None
    value = show_value(q, item["value"], tr)
    checks = _checks(item)
    reading = next((c for c in checks if c.get("kind") == "reading"), None)
    if reading is not None:  # "“5 triệuu”: 5.000.000 đồng, đúng không?"
        text = tr("{qid}. {label}\n“{typed}”: {value}, is that right?", qid=q.id,
                  label=q.label.get(tr.language), typed=reading.get("typed", ""), value=value)
        others = reasons(turn, a, form, item, tr, answers) if len(checks) > 1 else []
        return text + ("\n" + tr("Please check also: {reasons}.", reasons="; ".join(others))
                       if others else "")
    if [c.get("kind") for c in checks] == ["soft_max"]:
        return tr("{qid}. {label}: {value} is much higher than usual. Is this correct?",
                  qid=q.id, label=q.label.get(tr.language), value=value)
    return tr("{qid}. {label}: {value} — {reasons}. Is this correct?", qid=q.id,
              label=q.label.get(tr.language), value=value,
              reasons="; ".join(reasons(turn, a, form, item, tr, answers)))
