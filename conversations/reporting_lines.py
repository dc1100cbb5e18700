"""Who reports to whom, and so what may be added up (domain.md, "Reporting lines").

A commune's report covers its whole area, its schools included. So a coordinator's figures are
the sum of the reports that come to their level, each unit once; reports from further down are
shown as their own block and never added in; and reports of two different forms are never
summed into one figure.

A campaign says, per unit kind, where its reports go (`reports_to: [commune, ward]`, or
`parent`). A report is *covered* when the unit it goes to is inside the coordinator's scope and
reports in the campaign itself: its figures are already in that unit's report. Where a campaign
says nothing for a kind, the nearest unit above that answers the same form covers it (the same
form at two levels is one line). Everything else is *direct*: it comes to the scope's level.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from conversations.forms import Text

PARENT = "parent"

# How a group of units of one kind is named: "Các xã, phường" / "communes, wards".
KIND_NAMES: dict[str, Text] = {
    "province": Text("tỉnh, thành phố", "provinces"),
    "district": Text("huyện", "districts"),
    "commune": Text("xã", "communes"),
    "ward": Text("phường", "wards"),
    "town": Text("thị trấn", "towns"),
    "special_zone": Text("đặc khu", "special zones"),
    "school": Text("trường", "schools"),
    "centre": Text("trung tâm GDNN-GDTX", "vocational centres"),
    "learning_centre": Text("trung tâm học tập cộng đồng", "community learning centres"),
    "department": Text("phòng, ban, ngành", "departments"),
    "association": Text("hội khuyến học", "study promotion associations"),
    "residential_group": Text("tổ dân phố", "residential groups"),
}


@dataclass(frozen=True)
class TreeUnit:
    """A unit as the lines need it; `form` is the form key it answers, None if not asked."""

    id: int
    code: str
    name: str
    kind: str
    path: str  # "/HP/X-ANLAO/TH-ANLAO/"
    form: str | None = None

    def above(self) -> list[str]:
        """Codes of the units above, nearest first."""
        return [c for c in self.path.strip("/").split("/") if c][:-1][::-1]


@dataclass(frozen=True)
class Placement:
    direct: bool
    recipient: TreeUnit | None  # the unit whose report covers this one (when covered)


def recipient_of(unit: TreeUnit, by_code: Mapping[str, TreeUnit],
                 lines: Mapping[str, Sequence[str]]) -> TreeUnit | None:
    """The unit this unit's report goes to and is part of, if any is known."""
    kinds = lines.get(unit.kind)
    above = unit.above()
    if kinds:
        if PARENT in kinds:
            return by_code.get(above[0]) if above else None
        for code in above:
            candidate = by_code.get(code)
            if candidate is not None and candidate.kind in kinds:
                return candidate
        return None
    for code in above:
        candidate = by_code.get(code)
        if candidate is not None and candidate.form is not None and candidate.form == unit.form:
            return candidate
    return None


def place(units: Iterable[TreeUnit], lines: Mapping[str, Sequence[str]],
          in_scope: Callable[[TreeUnit], bool]) -> dict[int, Placement]:
    """Where each asked unit's report belongs for a coordinator whose scope is `in_scope`.

    `units` must hold every unit of the scope (the recipients are looked up among them)."""
    unit_list = list(units)
    by_code = {u.code: u for u in unit_list}
    placed: dict[int, Placement] = {}
    for unit in unit_list:
        if unit.form is None or not in_scope(unit):
            continue
        recipient = recipient_of(unit, by_code, lines)
        covered = recipient is not None and recipient.form is not None and in_scope(recipient)
        placed[unit.id] = Placement(not covered, recipient if covered else None)
    return placed


def kind_names(kinds: Iterable[str]) -> Text:
    """“xã, phường” / “communes, wards” for unit kinds, highest level first."""
    order = list(KIND_NAMES)
    seen = sorted(set(kinds), key=lambda k: (order.index(k) if k in order else len(order), k))
    vi = ", ".join(KIND_NAMES[k].vi if k in KIND_NAMES else k for k in seen)
    en = ", ".join(KIND_NAMES[k].en if k in KIND_NAMES else k for k in seen)
    return Text(vi, en)


def group_name(kinds: Iterable[str]) -> Text:
    """“Các xã, phường” / “Communes, wards”: the title of a block of units of these kinds."""
    names = kind_names(kinds)
    return Text(f"Các {names.vi}", names.en[:1].upper() + names.en[1:])


@dataclass(frozen=True)
class StateCounts:
    """Every asked unit in exactly one state, so the parts always add up to the total.

    `accepted` is a part of `on_time + late` (an accepted report was submitted)."""

    total: int = 0
    on_time: int = 0
    late: int = 0
    accepted: int = 0
    returned: int = 0
    drafts: int = 0
    not_started: int = 0

    @property
    def submitted(self) -> int:
        return self.on_time + self.late

    @property
    def missing(self) -> int:
        """Not submitted: returned, drafts and not started."""
        return self.total - self.submitted

    def plus(self, status: str, on_time: bool | None) -> StateCounts:
        """These counts with one more unit in `status` (none, draft, submitted, returned,
        accepted)."""
        values = dict(self.__dict__)
        values["total"] += 1
        if status in ("submitted", "accepted"):
            values["on_time" if on_time else "late"] += 1
            if status == "accepted":
                values["accepted"] += 1
        elif status == "returned":
            values["returned"] += 1
        elif status == "draft":
            values["drafts"] += 1
        else:
            values["not_started"] += 1
        return StateCounts(**values)

    def __add__(self, other: StateCounts) -> StateCounts:
        return StateCounts(*(a + b for a, b in zip(self.__dict__.values(),
                                                   other.__dict__.values(), strict=True)))


COUNTED_STATUSES = ("submitted", "accepted")  # reports whose figures are in the totals
