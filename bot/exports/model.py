"""What every export is made from: plain data, gathered by SQL in `bot/reporting.py`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class QuestionColumn:
    id: str            # "4.2", or "I", "II.2" for free-text parts
    label_vi: str      # the row label as the form words it
    type: str          # count | money | number | yes_no | choice | text | date
    section_id: str
    section_title_vi: str
    unit_vi: str = ""  # "người", "đồng", …
    choices_vi: Mapping[str, str] = field(default_factory=dict)  # choice id → label

    @property
    def numeric(self) -> bool:
        return self.type in ("count", "money", "number")


@dataclass(frozen=True)
class UnitRow:
    code: str
    name: str
    parent_name: str
    kind: str
    status: str                 # submitted | draft | returned | none
    on_time: bool | None
    submitted_at: datetime | None
    submitted_by: str
    answers: Mapping[str, Any]  # question id → stored value: int, "12.5", True/False, "2023-10-02",
                                #   a choice id, text; None = skipped; absent = not answered
    notes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProgressRow:
    """Completeness of one sub-unit of the scope (all target units at or below it)."""

    code: str
    name: str
    total: int
    on_time: int
    late: int
    drafts: int
    missing: int  # not submitted (drafts included)

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
class ExportData:
    campaign_title: str
    period_label: str
    scope_name: str           # the unit the coordinator acts for, e.g. "Thành phố Hải Phòng"
    timezone: str             # times are shown in it, e.g. Asia/Ho_Chi_Minh
    deadline: datetime
    generated_at: datetime
    form_title: str
    questions: Sequence[QuestionColumn]   # form order; text parts last
    units: Sequence[UnitRow]              # every target unit in scope, sorted by tree path
    totals: Mapping[str, Decimal]         # per numeric question: sum over SUBMITTED units
    progress: Sequence[ProgressRow]       # per direct sub-unit of the scope
    revisions: Sequence[RevisionRow] = ()
    source_document: str = ""             # e.g. the plan the report answers, for the docx
