"""A progress chart (.png) a coordinator reads on a phone, at any size of scope.

A panel per reporting line (a province's communes, then their schools), each with its own
legend and counts: two lines are never one list, one legend or one bar. In a panel, up to
`MAX_UNITS` units, one row per unit, coloured by its state; more, one bar per sub-unit one
level down (for the schools' line, a commune's schools; for the communes', the commune's own
report), split into on time, late, drafts, returned and not started. Either way the rows
are sorted by completion, the units furthest behind first, and every row is drawn with its
label: nothing missing hides in an "others" bar. Only sub-units that have every report in are
gathered into one bar when there are too many rows, and past `MAX_BARS` the rows closest to
complete are summed last, saying how many and how far along they are. The title says as of
when and the deadline. `/bieudo CODE` draws one sub-unit's own units.

The image is 1200 px wide with 10 pt text at 200 dpi (28 px letters), within Telegram's photo
limits (width + height ≤ 10,000 px, sides at most 1:20). Drawn with matplotlib's object API
and the Agg canvas, so nothing touches pyplot's global state; DejaVu Sans (bundled with
matplotlib) has every Vietnamese letter.
"""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.exports.model import ExportData, ProgressRow, UnitRow
from bot.exports.xlsx_export import local_naive, zone_of

Progress = Callable[[int, int], None]

MAX_UNITS = 30    # up to this many units: a row per unit; more: a bar per sub-unit
MAX_BARS = 90     # rows drawn at most (the image stays within Telegram's photo limits)
WIDTH_IN = 6.0
DPI = 200
ROW_IN = 0.42     # height per row (room for a two-line label)
BASE_IN = 2.3     # title, axis and legend
PANEL_IN = 1.0    # each further panel: its title, legend and axis
LABEL_CHARS = 24  # wrap unit names after this many characters
FONT = "DejaVu Sans"
FONT_PT = 10

STATES = ("not_started", "returned", "drafts", "late", "on_time")  # furthest behind first
COLORS = {"on_time": "#2e7d32", "late": "#f9a825", "drafts": "#64b5f6",
          "returned": "#d81b60", "not_started": "#bdbdbd"}
TEXT_COLORS = {"on_time": "white", "late": "#202020", "drafts": "#202020",
               "returned": "white", "not_started": "#202020"}
LABELS = {"on_time": "Đúng hạn", "late": "Muộn", "drafts": "Đang soạn",
          "returned": "Trả lại", "not_started": "Chưa bắt đầu"}
UNIT_STATE = {"none": "not_started", "returned": "returned", "draft": "drafts"}


@dataclass(frozen=True)
class Bar:
    label: str
    counts: dict[str, int]  # state → units

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        return self.counts.get("on_time", 0) + self.counts.get("late", 0)

    @property
    def share(self) -> float:
        return self.done / self.total if self.total else 0.0


def _printable(text: str) -> str:
    """Drop characters DejaVu Sans lacks (emoji, private use, controls)."""
    kept = []
    for char in str(text):
        category = unicodedata.category(char)
        if ord(char) > 0xFFFF or category in ("So", "Co", "Cn", "Cs") or category[0] == "C":
            continue
        kept.append(char)
    return " ".join("".join(kept).split())


def _label(name: str) -> str:
    lines = textwrap.wrap(_printable(name), LABEL_CHARS) or [""]
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), LABEL_CHARS, placeholder="…")]
    return "\n".join(lines)


def _unit_state(unit: UnitRow) -> str:
    if unit.counted:
        return "late" if unit.on_time is False else "on_time"
    return UNIT_STATE.get(unit.status, "not_started")


def unit_bars(units: Sequence[UnitRow]) -> list[Bar]:
    """One row per unit, furthest behind first, then by name."""
    rows = [Bar(_label(u.name), {_unit_state(u): 1}) for u in units]
    order = {state: n for n, state in enumerate(STATES)}
    return sorted(rows, key=lambda b: (order[next(iter(b.counts))], b.label))


def group_bars(progress: Sequence[ProgressRow], limit: int = MAX_BARS) -> list[Bar]:
    """One bar per sub-unit, least complete first. Past `limit`, the complete ones become one
    bar, then the rows closest to complete are summed into the last."""
    bars = [Bar(_label(r.name), {"on_time": r.on_time, "late": r.late, "drafts": r.drafts,
                                 "returned": r.returned, "not_started": r.not_started})
            for r in progress if r.total]
    bars.sort(key=lambda b: (b.share, -(b.total - b.done), b.label))
    if len(bars) <= limit:
        return bars
    complete = [b for b in bars if b.done == b.total]
    behind = [b for b in bars if b.done < b.total]
    tail: list[Bar] = []
    if complete:
        tail.append(_summed(f"{len(complete)} đơn vị đã nộp đủ", complete))
    room = limit - len(tail)
    if len(behind) > room:
        rest = behind[room - 1:]
        behind = behind[:room - 1]
        lowest = min(b.share for b in rest)
        tail.insert(0, _summed(f"… {len(rest)} đơn vị khác\n(đã nộp từ {lowest:.0%})", rest))
    return behind + tail


def _summed(label: str, bars: Sequence[Bar]) -> Bar:
    counts: dict[str, int] = {}
    for bar in bars:
        for state, count in bar.counts.items():
            counts[state] = counts.get(state, 0) + count
    return Bar(label, counts)


def _moment(data: ExportData) -> tuple[str, str]:
    zone = zone_of(data)
    now = local_naive(data.generated_at, zone)
    deadline = local_naive(data.deadline, zone)
    as_of = f"{now:%H:%M} {now:%d/%m/%Y}" if now else ""
    if deadline is None:
        due = ""
    elif (deadline.hour, deadline.minute) == (0, 0):
        due = f"trước ngày {deadline:%d/%m/%Y}"
    else:
        due = f"{deadline:%H:%M} {deadline:%d/%m/%Y}"
    return as_of, due


@dataclass(frozen=True)
class Panel:
    """One reporting line's part of the chart: its own rows, legend and counts."""

    title: str
    bars: list[Bar]
    grouped: bool  # a bar per sub-unit (more than MAX_UNITS units on the line)


def panels(data: ExportData) -> list[Panel]:
    """A panel per block with units (the communes reporting to a province, then their
    schools), never two lines in one list or one bar; the rows shared out within MAX_BARS."""
    blocks = [b for b in data.blocks if b.units]
    limit = max(MAX_BARS // max(len(blocks), 1), 10)
    result = []
    for block in blocks:
        grouped = len(block.units) > min(MAX_UNITS, limit)  # many lines: fewer rows each
        if grouped:
            rows = block.progress or (data.progress if len(blocks) == 1 else ())
            bars = group_bars(rows, limit)
        else:
            bars = unit_bars(block.units)
        title = _printable(block.title)
        if not block.direct and block.covered_by:
            title += f" (báo cáo gửi {_printable(block.covered_by)}, không cộng thêm)"
        result.append(Panel(title if len(blocks) > 1 else "", bars, grouped))
    return result


def chart_figure(data: ExportData) -> tuple[Figure, list[Bar], bool]:
    """The figure, its rows (top first, panel by panel) and whether any are sub-units."""
    parts = [p for p in panels(data) if p.bars]
    bars = [bar for p in parts for bar in p.bars]
    grouped = any(p.grouped for p in parts)
    rows = [max(len(p.bars), 2) for p in parts] or [2]
    height = BASE_IN + ROW_IN * sum(rows) + PANEL_IN * (len(rows) - 1)
    figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(len(rows), 1, height_ratios=rows)
    as_of, due = _moment(data)
    title = textwrap.fill(f"Tiến độ nộp báo cáo — {_printable(data.campaign_title)}", 44)
    scope = _printable(data.scope_name)
    detail = f"{scope} · đến {as_of}" if scope else f"Đến {as_of}"
    if due:
        detail += f"\nHạn nộp: {due}"
    figure.text(0.02, 1 - 0.1 / height, title, ha="left", va="top", fontsize=12,
                fontweight="bold")
    figure.text(0.02, 1 - 0.62 / height, detail, ha="left", va="top", fontsize=FONT_PT - 1,
                color="#303030")
    if parts:
        for index, part in enumerate(parts):
            _draw(figure.add_subplot(grid[index]), part.bars, part.grouped, part.title)
    else:
        axes = figure.add_subplot(grid[0])
        axes.text(0.5, 0.5, "Chưa có đơn vị nào trong phạm vi", ha="center", va="center",
                  transform=axes.transAxes)
        axes.set_axis_off()
    if grouped:
        figure.text(0.02, 0.004, "Mỗi thanh: các đơn vị thuộc một đơn vị. /bieudo MÃ: xem "
                    "riêng từng đơn vị.", fontsize=FONT_PT - 2, color="#505050", va="bottom")
    figure.tight_layout(rect=(0, 0.25 / height if grouped else 0, 1, 1 - 1.0 / height),
                        h_pad=1.5)
    return figure, bars, grouped


def write_chart_png(
    data: ExportData, out: BinaryIO | Path, progress: Progress | None = None
) -> None:
    """Draw the progress chart of `data` as a PNG."""
    with matplotlib.rc_context({"font.family": FONT, "font.size": FONT_PT}):
        figure, bars, _ = chart_figure(data)
        if isinstance(out, Path | str):
            figure.savefig(str(out), format="png", dpi=DPI)
        else:
            figure.savefig(out, format="png", dpi=DPI)
    if progress is not None:
        progress(len(bars), len(bars))


def _draw(axes: Any, bars: list[Bar], grouped: bool, title: str = "") -> None:
    """Each bar is its units as 100 %, so small and large sub-units compare; the segments
    carry the counts (a unit's row, its state) and the right-hand label submitted/total."""
    positions = list(range(len(bars)))
    left = [0.0] * len(bars)
    totals_by_state = {state: sum(b.counts.get(state, 0) for b in bars) for state in STATES}
    for state in reversed(STATES):  # on time first, from the left
        counts = [b.counts.get(state, 0) for b in bars]
        shares = [c / b.total if b.total else 0.0 for c, b in zip(counts, bars, strict=True)]
        if not any(counts):
            continue
        container = axes.barh(positions, shares, left=left, color=COLORS[state],
                              label=f"{LABELS[state]} ({totals_by_state[state]})", height=0.72,
                              edgecolor="white", linewidth=0.6)
        if grouped:  # a count fits inside its segment from about 5 % of the width on
            texts = [str(c) if c and share * 100 >= 4 + 2 * len(str(c)) else ""
                     for c, share in zip(counts, shares, strict=True)]
        else:
            texts = [LABELS[state] if c else "" for c in counts]
        axes.bar_label(container, labels=texts, label_type="center", fontsize=FONT_PT - 1,
                       color=TEXT_COLORS[state])
        left = [a + b for a, b in zip(left, shares, strict=True)]
    if grouped:
        for position, bar in zip(positions, bars, strict=True):
            axes.text(1.015, position, f"{bar.done}/{bar.total}\n({bar.share:.0%})",
                      va="center", fontsize=FONT_PT - 1, color="#202020", linespacing=0.95)
    axes.set_yticks(positions, [b.label for b in bars])
    axes.tick_params(axis="y", labelsize=FONT_PT, length=0)
    axes.set_ylim(len(bars) - 0.5, -0.5)  # the furthest behind on top, no empty margins
    axes.set_xlim(0, 1.0)
    axes.set_xticks([0, 0.5, 1.0], ["0%", "50%", "100%"])
    axes.tick_params(axis="x", labelsize=FONT_PT - 1)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="x", color="#e0e0e0", linewidth=0.6)
    axes.set_axisbelow(True)
    axes.legend(loc="lower left", bbox_to_anchor=(-0.02, 1.0), ncols=3, frameon=False,
                fontsize=FONT_PT - 1, borderaxespad=0.2, handlelength=1.0,
                columnspacing=0.8, title=textwrap.fill(title, 60) or None,
                alignment="left", title_fontproperties={"weight": "bold",
                                                         "size": FONT_PT - 1})
