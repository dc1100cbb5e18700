"""What a report is called in replies: its campaign and unit, and its period as well when the
unit has another period of the same campaign (two open weeks would otherwise read the same)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from conversations.context import Assignment, Context
from conversations.i18n import Tr


def period_name(ctx: Context, tr: Tr, a: Assignment) -> str:
    """The period's label where another period of the campaign shares it for this unit, with
    its start date as well when even the labels are the same; else ""."""
    siblings = [b for b in ctx.assignments if b.campaign_key == a.campaign_key
                and b.unit.code == a.unit.code and b.period_id != a.period_id]
    if not siblings:
        return ""
    label = a.period_label.get(tr.language) or ""
    if not label or any(b.period_label.get(tr.language) == label for b in siblings):
        day = a.starts_at.astimezone(ZoneInfo(a.timezone)).date()
        start = tr("from {date}", date=tr.date(day))
        label = f"{label} ({start})" if label else start
    return label


def report_title(ctx: Context, tr: Tr, a: Assignment) -> str:
    """`Tuần lễ … — Đợt 2 (04/10–10/10) — Xã An Lão`; without the period when it is the only one."""
    period = period_name(ctx, tr, a)
    parts = [a.campaign_title.get(tr.language), period, a.unit.name]
    return " — ".join(p for p in parts if p)

