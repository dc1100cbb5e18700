"""What the reply says about parts of a fast entry that were set aside rather than stored: rows
this unit's form lacks (typed from the commune paper form) and one-character text parts.

Kept apart from the other problems because neither is a mistake to send again: a row the form
lacks cannot be stored at all, and `III: -` on an optional part most likely means "nothing to
report", which leaves the part empty."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from conversations.fast_entry import EntryProblem
from conversations.forms import Form
from conversations.i18n import Tr

SET_ASIDE = frozenset({"not_in_form", "short_text"})
# A dash for a text part is "nothing to report"; any other single character ("x") is unclear.
DASHES = frozenset({"-", "_", "–", "—"})


@dataclass
class SetAside:
    remarks: list[str] = field(default_factory=list)  # said after what was stored
    problems: list[str] = field(default_factory=list)  # "Not saved (please send again)" lines
    ask: list[str] = field(default_factory=list)  # text parts to ask for again


def set_aside(tr: Tr, form: Form, unit_kind: str, answered: Collection[str],
              problems: Sequence[EntryProblem]) -> SetAside:
    """The lines for the set-aside problems of one entry; the other problems are left out."""
    out = SetAside()
    out.remarks.extend(_not_in_form_lines(tr, form, unit_kind,
                                          [p for p in problems if p.code == "not_in_form"]))
    for problem in problems:
        if problem.code != "short_text":
            continue
        question = form.question(problem.text)
        qid, typed = problem.text, problem.typed
        if typed in DASHES and problem.text in answered:
            out.remarks.append(tr("{qid}: “{typed}” was not saved: part {qid} keeps the text "
                                  "given before. To change it, send {qid}: …", qid=qid,
                                  typed=typed))
        elif typed in DASHES and question is not None and not question.required:
            out.remarks.append(tr("{qid}: “{typed}” was read as nothing to report, so part {qid} "
                                  "was left empty. To add its text later, send {qid}: …",
                                  qid=qid, typed=typed))
        else:
            out.problems.append("• " + tr(
                "{qid}: “{typed}” — one character is too short for the text of this part, so "
                "it was not saved. Please write the text ({qid}: …), or “không có” if there is "
                "nothing to report.", qid=qid, typed=typed))
            out.ask.append(qid)
    return out


def _not_in_form_lines(tr: Tr, form: Form, unit_kind: str,
                       problems: Sequence[EntryProblem]) -> list[str]:
    """One line per section: "This school's report has no question 4.3, so it was not saved.
    The questions of section 4: 4.1, 4.2, 4.5." """
    by_section: dict[str, list[str]] = {}
    for problem in problems:
        ids = by_section.setdefault(problem.section_id, [])
        if problem.text not in ids:
            ids.append(problem.text)
    school = unit_kind == "school"
    lines = []
    for sid, ids in by_section.items():
        section = form.section(sid)
        shown = ", ".join(ids)
        if section is not None:
            rows = ", ".join(q.id for q in section.questions)
            if school:
                text = tr.plural(
                    "This school's report has no question {ids}, so it was not saved. The "
                    "questions of section {section}: {rows}.",
                    "This school's report has no questions {ids}, so they were not saved. The "
                    "questions of section {section}: {rows}.", len(ids), ids=shown,
                    section=sid, rows=rows)
            else:
                text = tr.plural(
                    "This unit's report has no question {ids}, so it was not saved. The "
                    "questions of section {section}: {rows}.",
                    "This unit's report has no questions {ids}, so they were not saved. The "
                    "questions of section {section}: {rows}.", len(ids), ids=shown,
                    section=sid, rows=rows)
        else:
            sections = ", ".join(s.id for s in form.sections)
            if school:
                text = tr.plural(
                    "This school's report has no question {ids} (it has no section {section}), "
                    "so it was not saved. Its sections: {sections}.",
                    "This school's report has no questions {ids} (it has no section "
                    "{section}), so they were not saved. Its sections: {sections}.", len(ids),
                    ids=shown, section=sid, sections=sections)
            else:
                text = tr.plural(
                    "This unit's report has no question {ids} (it has no section {section}), "
                    "so it was not saved. Its sections: {sections}.",
                    "This unit's report has no questions {ids} (it has no section "
                    "{section}), so they were not saved. Its sections: {sections}.", len(ids),
                    ids=shown, section=sid, sections=sections)
        lines.append(text)
    return lines
