"""What every export is made from: plain data, gathered by SQL in
`bot/coordinators/reporting.py`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.exports.letterhead import Letterhead


@dataclass(frozen=True)
class QuestionColumn:
    id: str            # "4.2", or "I", "II.2" for free-text parts
    label_vi: str      # the row label as the form words it
    type: str          # count | money | number | yes_no | choice | text | date
    section_id: str
    section_title_vi: str
    unit_vi: str = ""  # "người", "đồng", …
    choices_vi: Mapping[str, str] = field(default_factory=dict)  # choice id → label
    has_note: bool = False  # the form takes a note ("Ghi chú") on this row

    @property
    def numeric(self) -> bool:
        return self.type in ("count", "money", "number")


@dataclass(frozen=True)
class UnitRow:
    code: str
    name: str
    parent_name: str
    kind: str
    status: str                 # submitted | accepted | draft | returned | none
    on_time: bool | None        # decided by the first submission
    submitted_at: datetime | None  # the latest submission (a resubmission, if any)
    submitted_by: str
    answers: Mapping[str, Any]  # question id → stored value: int, "12.5", True/False, "2023-10-02",
                                #   a choice id, text; None = skipped; absent = not answered
    notes: Mapping[str, str] = field(default_factory=dict)
    # For a unit that has not submitted: its reporters (name, phone) and when one of them was
    # last reminded for this period.
    reporters: tuple[tuple[str, str], ...] = ()
    last_reminded: datetime | None = None
    # question id → why the figure is to be checked ("cần kiểm tra"), when the unit kept it
    # after being asked back
    flags: Mapping[str, str] = field(default_factory=dict)
    # The first submission, which decided on time or late; None: as `submitted_at`.
    first_submitted_at: datetime | None = None

    @property
    def counted(self) -> bool:
        """Its figures are in the totals (submitted or accepted)."""
        return self.status in ("submitted", "accepted")

    @property
    def first_submission(self) -> datetime | None:
        """When it first came in: what on time or late is judged by."""
        return self.first_submitted_at or self.submitted_at

    @property
    def resubmission(self) -> datetime | None:
        """When it was last sent again after the first submission; None if it never was."""
        first = self.first_submission
        if self.submitted_at is None or first is None or self.submitted_at == first:
            return None
        return self.submitted_at


@dataclass(frozen=True)
class ProgressRow:
    """Completeness of one sub-unit of the scope (all asked units at or below it). Every unit
    is in one state, so on_time + late + returned + drafts + not_started == total."""

    code: str
    name: str
    total: int
    on_time: int
    late: int
    drafts: int
    returned: int = 0
    not_started: int = 0
    accepted: int = 0  # a part of on_time + late

    @property
    def submitted(self) -> int:
        return self.on_time + self.late

    @property
    def missing(self) -> int:
        """Not submitted: returned, drafts and not started."""
        return self.total - self.submitted

    @property
    def on_time_rate(self) -> float:
        return self.on_time / self.total if self.total else 0.0


@dataclass(frozen=True)
class RevisionRow:
    unit_code: str
    unit_name: str
    revision: int
    question_id: str
    old_value: Any
    new_value: Any
    changed_by: str
    changed_at: datetime


@dataclass(frozen=True)
class ReportBlock:
    """The reports of one form at one place on the reporting line
    (bot/coordinators/reporting.py): a block's
    figures are summed within it and never added to another block's."""

    title: str                            # "Các xã, phường"
    direct: bool                          # the reports come to the scope's level
    form_title: str
    questions: Sequence[QuestionColumn]   # form order; text parts last
    units: Sequence[UnitRow]              # the block's units, sorted by tree path
    totals: Mapping[str, Decimal]         # per numeric question: sum over SUBMITTED units
    # For a block from further down: whose reports already hold its figures ("xã, phường").
    covered_by: str = ""
    form_key: str = ""                    # the form's id, e.g. tuan-le-htsd
    # Completeness of this block's units per sub-unit of the scope (a province's schools per
    # commune), so a chart never puts two lines in one bar.
    progress: Sequence[ProgressRow] = ()

    @property
    def note(self) -> str:
        """What a reader must know before adding this block to anything."""
        if self.direct:
            return ""
        return (f"Báo cáo gửi {self.covered_by}; số liệu đã có trong báo cáo của "
                f"{self.covered_by} nên không cộng thêm vào tổng.")


@dataclass(frozen=True)
class ExportData:
    campaign_title: str
    period_label: str
    scope_name: str           # the unit the coordinator acts for, e.g. "Thành phố Hải Phòng"
    timezone: str             # times are shown in it, e.g. Asia/Ho_Chi_Minh
    deadline: datetime
    generated_at: datetime
    blocks: Sequence[ReportBlock]         # the scope's own level first, then further down
    progress: Sequence[ProgressRow]       # per direct sub-unit of the scope
    revisions: Sequence[RevisionRow] = ()
    source_document: str = ""             # e.g. the plan the report answers, for the docx
    letterhead: Letterhead = field(default_factory=Letterhead)
    report_template: str = ""             # the office's .docx template; "" = the shipped one
    # What the file is for, hidden in the XLSX, so that a coordinator who fills in the rows
    # of units that reported on paper and sends it back enters them in the right report.
    campaign_key: str = ""
    period_id: int = 0
    period_key: str = ""

    @property
    def main(self) -> ReportBlock:
        """The block whose totals are the scope's own figures (the first at its level)."""
        return next((b for b in self.blocks if b.direct), self.blocks[0]) if self.blocks \
            else ReportBlock("", True, "", (), (), {})

    @property
    def units(self) -> list[UnitRow]:
        return [unit for block in self.blocks for unit in block.units]

    @property
    def questions(self) -> list[QuestionColumn]:
        """Every block's questions, one column per id, in form order (a text row such as 1.2
        in its place); the free-text parts (I, II.2, …) last."""
        seen: dict[str, QuestionColumn] = {}
        for block in self.blocks:
            for q in block.questions:
                seen.setdefault(q.id, q)
        columns = list(seen.values())
        parts = [q for q in columns if q.type == "text" and q.id == q.section_id]
        return [q for q in columns if q not in parts] + parts


# --- values the files can hold ------------------------------------------------------------


@dataclass(frozen=True)
class Skipped:
    """A stored value an export could not render and left out (written before values were
    checked at the edge): where it is, and what it was, shortened."""

    unit_code: str
    question_id: str
    value: str

    def __str__(self) -> str:
        return f"{self.unit_code} {self.question_id} ({self.value})"


def renderable(question: QuestionColumn, stored: Any) -> bool:
    """True if `stored` is a value of the question's type that every export can write."""
    from conversations.answer_parsing import MAX_BY_TYPE, within_bounds

    if stored is None:
        return True
    if question.numeric:
        if type(stored) is int:  # most answers: compared without a Decimal
            limit = MAX_BY_TYPE.get(question.type)
            return limit is None or -limit < stored < limit
        if isinstance(stored, bool) or not isinstance(stored, int | float | str | Decimal):
            return False
        try:
            number = Decimal(stored) if isinstance(stored, int) else Decimal(str(stored).strip())
        except (ArithmeticError, ValueError):
            return False
        return within_bounds(question.type, number)
    if question.type == "yes_no":
        return isinstance(stored, bool)
    return isinstance(stored, str | int | float) and not isinstance(stored, bool)


def _shown(stored: Any) -> str:
    try:
        text = str(stored)
    except ValueError:  # an int longer than Python prints
        return "…"
    return text if len(text) <= 24 else text[:20] + "…"


def checked(data: ExportData) -> tuple[ExportData, list[Skipped]]:
    """`data` without the values no file can hold, and the list of those values. Totals that
    are not a finite figure are left out the same way, block by block."""
    from dataclasses import replace

    from conversations.answer_parsing import MAX_BY_TYPE

    skipped: list[Skipped] = []
    limit = max(MAX_BY_TYPE.values()) * 10**6  # a sum over a million units
    blocks = []
    for block in data.blocks:
        by_id = {q.id: q for q in block.questions}
        units = []
        for unit in block.units:
            bad = [qid for qid, value in unit.answers.items()
                   if qid in by_id and not renderable(by_id[qid], value)]
            if bad:
                skipped += [Skipped(unit.code, qid, _shown(unit.answers[qid])) for qid in bad]
                unit = replace(unit, answers={k: v for k, v in unit.answers.items()
                                              if k not in bad})
            units.append(unit)
        totals = {}
        for qid, total in block.totals.items():
            good = isinstance(total, Decimal) and total.is_finite() and abs(total) < limit
            totals[qid] = total if good else Decimal(0)
            if not good:
                skipped.append(Skipped("∑", qid, _shown(total)))
        blocks.append(replace(block, units=units, totals=totals))
    by_id = {q.id: q for q in data.questions}
    revisions = []
    for item in data.revisions:
        question = by_id.get(item.question_id)
        if question is not None:
            if not renderable(question, item.old_value):
                item = replace(item, old_value=None)
            if not renderable(question, item.new_value):
                item = replace(item, new_value=None)
        revisions.append(item)
    if not skipped and revisions == list(data.revisions):
        return data, []
    return replace(data, blocks=blocks, revisions=revisions), skipped
