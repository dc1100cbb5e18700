"""A progress chart (.png) a coordinator can read on a phone.

One horizontal stacked bar per sub-unit of the scope: on time (green), late (orange), not
submitted (grey; drafts are part of it), each as a share of the sub-unit's units, with the
counts written on the bars. Drawn with matplotlib's object API and the Agg canvas,
so nothing touches pyplot's global state; DejaVu Sans (bundled with matplotlib) has every
Vietnamese letter.
"""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.exports.model import ExportData, ProgressRow

Progress = Callable[[int, int], None]

MAX_BARS = 40
OTHERS = "Các đơn vị khác"
WIDTH_IN = 8.0
DPI = 150
BAR_IN = 0.36  # height per bar (room for a two-line label)
BASE_IN = 1.9  # title, axis and legend
LABEL_CHARS = 26  # wrap unit names after this many characters

COLORS = {"on_time": "#2e7d32", "late": "#ef8f00", "missing": "#b0b0b0"}
LABELS = {"on_time": "Đúng hạn", "late": "Muộn", "missing": "Chưa nộp"}
FONT = "DejaVu Sans"


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


def _bars(progress: Sequence[ProgressRow]) -> list[tuple[str, int, int, int]]:
    """(label, on time, late, not submitted) per bar; beyond MAX_BARS the rest are summed."""
    rows = list(progress)
    shown = rows if len(rows) <= MAX_BARS else rows[: MAX_BARS - 1]
    bars = [(_label(r.name), r.on_time, r.late, _missing(r)) for r in shown]
    rest = rows[len(shown) :]
    if rest:
        bars.append(
            (
                f"{OTHERS} ({len(rest)})",
                sum(r.on_time for r in rest),
                sum(r.late for r in rest),
                sum(_missing(r) for r in rest),
            )
        )
    return bars


def _missing(row: ProgressRow) -> int:
    return max(row.missing, row.total - row.on_time - row.late, 0)


def write_chart_png(
    data: ExportData, out: BinaryIO | Path, progress: Progress | None = None
) -> None:
    """Draw the progress chart of ``data.progress`` as a PNG."""
    bars = _bars(data.progress)
    height = BASE_IN + BAR_IN * max(len(bars), 2)
    with matplotlib.rc_context({"font.family": FONT, "font.size": 9}):
        figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        title = textwrap.fill(f"Tiến độ nộp báo cáo — {_printable(data.campaign_title)}", 60)
        axes.set_title(title, fontsize=12, fontweight="bold", loc="left", pad=24)
        if bars:
            _draw(axes, bars)
        else:
            axes.text(
                0.5,
                0.5,
                "Chưa có đơn vị nào trong phạm vi",
                ha="center",
                va="center",
                transform=axes.transAxes,
            )
            axes.set_axis_off()
        figure.tight_layout()
        if isinstance(out, Path | str):
            figure.savefig(str(out), format="png", dpi=DPI)
        else:
            figure.savefig(out, format="png", dpi=DPI)
    if progress is not None:
        progress(len(bars), len(bars))


def _draw(axes: Any, bars: list[tuple[str, int, int, int]]) -> None:
    """Each bar is the sub-unit's units as 100 %, so small and large sub-units compare;
    the segments carry the counts and the right-hand label "submitted/total (share)"."""
    labels = [b[0] for b in bars]
    positions = list(range(len(bars)))
    totals = [b[1] + b[2] + b[3] for b in bars]
    left = [0.0] * len(bars)
    for index, key in enumerate(("on_time", "late", "missing"), start=1):
        counts = [b[index] for b in bars]
        shares = [c / t if t else 0.0 for c, t in zip(counts, totals, strict=True)]
        container = axes.barh(
            positions,
            shares,
            left=left,
            color=COLORS[key],
            label=LABELS[key],
            height=0.72,
            edgecolor="white",
            linewidth=0.5,
        )
        # a count fits inside its segment from about 4 % of the width on
        texts = [
            str(c) if c and share * 100 >= 3 + 1.5 * len(str(c)) else ""
            for c, share in zip(counts, shares, strict=True)
        ]
        axes.bar_label(
            container,
            labels=texts,
            label_type="center",
            fontsize=8,
            color="white" if key != "missing" else "#202020",
        )
        left = [a + b for a, b in zip(left, shares, strict=True)]
    for position, (_name, on_time, late, _not_submitted), total in zip(
        positions, bars, totals, strict=True
    ):
        done = on_time + late
        rate = f" ({done / total:.0%})" if total else ""
        axes.text(1.01, position, f"{done}/{total}{rate}", va="center", fontsize=8, color="#202020")
    axes.set_yticks(positions, labels)
    axes.set_ylim(len(bars) - 0.5, -0.5)  # first sub-unit on top, no empty margins
    axes.set_xlim(0, 1.2)
    axes.set_xticks([0, 0.25, 0.5, 0.75, 1.0], ["0%", "25%", "50%", "75%", "100%"])
    axes.set_xlabel("Tỷ lệ đơn vị (số trên thanh: số đơn vị; bên phải: đã nộp/tổng số)")
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="x", color="#e0e0e0", linewidth=0.6)
    axes.set_axisbelow(True)
    axes.legend(
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncols=3,
        frameon=False,
        fontsize=9,
        borderaxespad=0.2,
    )
