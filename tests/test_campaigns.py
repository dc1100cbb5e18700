"""Campaign files: deadlines worded as the documents word them, recurring periods, errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from conversations.campaigns import (
    CampaignError,
    bundled_campaign_files,
    load_campaign_file,
    parse_campaign,
)

BASE = {"id": "c", "title": {"vi": "Đợt", "en": "Round"},
        "forms": [{"form": "f", "kinds": ["commune"]}]}


def test_before_13_10_is_midnight_local_time():
    week = next(load_campaign_file(p) for p in bundled_campaign_files()
                if p.stem == "tuan-le-htsd-2023")
    period = week.periods[0]
    assert period.deadline.astimezone(UTC) == datetime(2023, 10, 12, 17, 0, tzinfo=UTC)
    assert period.lock_at is None
    assert week.forms_by_kind["commune"] == "tuan-le-htsd"
    assert week.forms_by_kind["school"] == "tuan-le-htsd-truong"
    month = next(load_campaign_file(p) for p in bundled_campaign_files()
                 if p.stem == "thang-khuyen-hoc-2024")
    assert month.periods[0].deadline.astimezone(UTC) == datetime(2024, 10, 5, 17, tzinfo=UTC)


def test_yearly_reports_due_before_15_november_repeat():
    spec = parse_campaign({**BASE, "periods": [
        {"key": "2023", "start": "2023-01-01", "end": "2023-12-31",
         "due_before": "2023-11-15", "lock_at": "2023-11-30 00:00"}],
        "recurrence": {"every": "year", "count": 8}})
    assert [p.key for p in spec.periods] == [str(y) for y in range(2023, 2031)]
    last = spec.periods[-1]
    assert (last.deadline.year, last.deadline.month, last.deadline.day) == (2030, 11, 15)
    assert last.lock_at.day == 30


@pytest.mark.parametrize(("change", "message"), [
    ({"periods": []}, "at least one period"),
    ({"periods": [{"key": "a", "start": "2023-10-08", "end": "2023-10-02",
                   "due_before": "2023-10-13"}]}, "end is before start"),
    ({"periods": [{"key": "a", "start": "2023-10-02", "end": "2023-10-08"}]}, "due_before"),
    ({"periods": [{"key": "a", "start": "2023-10-02", "end": "2023-10-08",
                   "due_before": "2023-10-13", "lock_at": "2023-10-10"}]}, "lock_at"),
    ({"timezone": "Mars/Base", "periods": [{"key": "a", "start": "2023-10-02",
                                             "end": "2023-10-08", "due_before": "2023-10-13"}]},
     "time zone"),
])
def test_bad_campaigns_are_refused_with_a_reason(change: dict, message: str):
    with pytest.raises(CampaignError, match=message):
        parse_campaign({**BASE, **change})
