"""The words of the board: a report's state as a badge, and the one line that says what is
going on with it (how much of a draft is left, the return's reason, how late)."""

from __future__ import annotations

from datetime import timedelta

from bot.web.board import Row
from conversations.i18n import Tr


def badge(status: str, on_time: bool | None, tr: Tr) -> str:
    if status == "accepted":
        return tr("Accepted")
    if status == "submitted":
        return tr("Submitted on time") if on_time else tr("Submitted late")
    if status == "returned":
        return tr("Returned")
    if status == "draft":
        return tr("Draft")
    return tr("Not started")


def late_text(late: timedelta, tr: Tr) -> str:
    """'3 days late', '5 hours late' (whole days once there is one)."""
    hours = int(late.total_seconds() // 3600)
    if hours >= 24:
        days = hours // 24
        return tr.plural("{n} day late", "{n} days late", days)
    return tr.plural("{n} hour late", "{n} hours late", max(hours, 1))


def row_detail(row: Row, tr: Tr, zone: str) -> str:
    parts = []
    if row.status == "draft":
        parts.append(tr("{left} of {total} questions left", left=row.left, total=row.questions))
    elif row.status == "returned":
        parts.append(tr("“{reason}”", reason=row.return_comment))
        if row.correct_by is not None:
            parts.append(tr("correction due {time}", time=tr.datetime(row.correct_by, zone)))
        if row.first_submitted_at is not None:
            parts.append(tr("first submitted {time}",
                            time=tr.datetime(row.first_submitted_at, zone)))
            if row.on_time:
                parts.append(tr("on time"))
    elif row.counted and row.submitted_at is not None:
        first = row.first_submitted_at or row.submitted_at
        if first != row.submitted_at:  # the first decided on time or late; the last apart
            parts.append(tr("first submitted {time}", time=tr.datetime(first, zone)))
            parts.append(tr("submitted again {time}",
                            time=tr.datetime(row.submitted_at, zone)))
        else:
            parts.append(tr("submitted {time}", time=tr.datetime(row.submitted_at, zone)))
    if row.late_by is not None:
        parts.append(late_text(row.late_by, tr))
    return " · ".join(parts)
