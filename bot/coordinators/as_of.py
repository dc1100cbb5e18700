"""A period's reports as they were at a past moment, for `baocao remind preview --at`: a
preview of 12/10 must not count a report first sent on 14/10, nor call it late.

Read from what the database keeps of each report's life: its events (submitted, returned,
accepted, each with its time), when it was started, and when each answer was last given. An
answer changed after that moment is not counted as given then (its earlier time is not kept)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Answer, ReportEvent, Submission

EVENT_STATUS = {"submitted": "submitted", "returned": "returned", "accepted": "accepted"}


@dataclass(frozen=True)
class PastState:
    status: str  # none | draft | submitted | returned | accepted
    answered: int


async def states_at(session: AsyncSession, period_id: int, at: datetime
                    ) -> dict[int, PastState]:
    """Per unit with a report in the period: its state and answers given by `at`."""
    reports = (await session.execute(
        select(Submission.id, Submission.unit_id, Submission.created_at,
               Submission.first_submitted_at)
        .where(Submission.period_id == period_id))).all()
    ids = [r.id for r in reports]
    last: dict[int, str] = {}
    for submission_id, kind in (await session.execute(
            select(ReportEvent.submission_id, ReportEvent.kind)
            .where(ReportEvent.submission_id.in_(ids), ReportEvent.at <= at)
            .order_by(ReportEvent.at, ReportEvent.id))).all():
        if kind in EVENT_STATUS:
            last[submission_id] = EVENT_STATUS[kind]
    answered = dict((await session.execute(
        select(Answer.submission_id, func.count(Answer.question_id))
        .where(Answer.submission_id.in_(ids), Answer.answered_at <= at)
        .group_by(Answer.submission_id))).all())
    states = {}
    for r in reports:
        status = last.get(r.id)
        if status is None:  # no event by then (a report older than its events: its first time)
            first = r.first_submitted_at
            status = "submitted" if first is not None and first <= at else \
                "draft" if r.created_at <= at else "none"
        states[r.unit_id] = PastState(status, answered.get(r.id, 0) if status != "none" else 0)
    return states
