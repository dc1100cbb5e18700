"""Every value a reporter gives, typed or from a spreadsheet, is vetted before it is stored:
a hard rule of the form refuses it (with the rule's own message); a figure above the form's
plausible maximum, far from the unit's previous report, or breaking a soft rule is asked back
once, and if kept, stored with the reason ("cần kiểm tra") for the coordinator."""

from __future__ import annotations

import re
from collections.abc import Mapping
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
ASKED_EACH_TIME = frozenset({"soft_max", "reading"})
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
        if not same_answer(before.get(qid), c.parsed):
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
        if not checks:
            result.accepted[qid] = stored(c.parsed)
            continue
        item = {"qid": qid, "value": c.parsed.value, "note": c.parsed.note, "checks": checks}
        flaggable = [x for x in checks if x["kind"] not in ASKED_EACH_TIME]
        if not ask and c.parsed.near_miss:  # nobody to ask: never stored on a guess
            result.refused.append((c, unclear_unit(turn.tr, q, c.parsed.value)))
            continue
        if not ask or (qid in asked_before and len(flaggable) == len(checks)):
            result.accepted[qid] = stored(c.parsed, flag_text(turn, a, form, item, merged))
            if flaggable:
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


def reasons(turn: Turn, a: Assignment, form: Form, item: Mapping[str, Any], tr: Tr,
            answers: Mapping[str, Mapping[str, Any]], with_soft_max: bool = True) -> list[str]:
    """Why a value is asked back, in `tr`'s language."""
    q = form.question(item["qid"])
    assert q is not None
    out = []
    for check in item.get("checks") or [{"kind": "soft_max"}]:
        kind = check.get("kind")
        if kind == "soft_max" and with_soft_max:
            out.append(tr("much higher than usual"))
        elif kind == "previous":
            period = a.previous_label.get(tr.language)
            previous = show_value(q, Decimal(check["previous"]), tr)
            if check.get("up") and Decimal(check["previous"]) == 0:
                out.append(tr("the previous report ({period}) had 0", period=period))
            elif check.get("up"):
                out.append(tr("{times} times the previous report ({previous}, {period})",
                              times=check.get("times"), previous=previous, period=period))
            else:
                out.append(tr("far below the previous report ({previous}, {period})",
                              previous=previous, period=period))
        elif kind == "rule":
            rule = next((r for r in form.rules if r.id == check.get("rule")), None)
            if rule is not None:
                merged = {**answers, q.id: {"value": item["value"], "note": item["note"]}}
                out.append(rule_message(tr, form, rule, merged).rstrip(". "))
    return out


def flag_text(turn: Turn, a: Assignment, form: Form, item: Mapping[str, Any],
              answers: Mapping[str, Mapping[str, Any]]) -> str:
    """The reason kept with a value for the coordinator, in Vietnamese (the language of the
    files they sign); empty when only the plausible maximum was passed."""
    vi = turn.ctx.catalog.tr(FLAG_LANGUAGE)
    return "; ".join(reasons(turn, a, form, item, vi, answers, with_soft_max=False))


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
    checks = item.get("checks") or [{"kind": "soft_max"}]
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
