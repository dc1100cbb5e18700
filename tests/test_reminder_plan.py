"""The reminder calendar of the seed 004 Week and the seed 000 Month, planned without a database."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from conversations.forms import Text
from scheduler.reminder_plan import (
    PeriodSnapshot,
    Recipient,
    UnitReport,
    digest_slots,
    plan,
    reporter_slots,
)
from scheduler.reminder_policy import ReminderPolicy

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=VN)


def week(policy: ReminderPolicy | None = None, units=()) -> PeriodSnapshot:  # noqa: ANN001
    return PeriodSnapshot(1, "tuan-le-htsd-2023", Text("Tuần lễ", "Week"), "Asia/Ho_Chi_Minh",
                          at("2023-10-02T00:00"), at("2023-10-13T00:00"), None,
                          policy or ReminderPolicy(), tuple(units))


def month() -> PeriodSnapshot:
    return PeriodSnapshot(2, "thang-khuyen-hoc-2024", Text("Tháng", "Month"), "Asia/Ho_Chi_Minh",
                          at("2024-09-05T00:00"), at("2024-10-06T00:00"), None,
                          ReminderPolicy(), ())


def local(slots) -> list[tuple[str, str]]:  # noqa: ANN001
    return [(s.kind, s.at.astimezone(VN).strftime("%d/%m %H:%M")) for s in slots]


def test_the_week_2023_calendar():
    assert local(reporter_slots(week())) == [
        ("opening", "02/10 07:00"),  # 00:00 is in quiet hours: the next allowed minute
        ("before", "10/10 07:00"),   # three days before "trước ngày 13/10"
        ("before", "12/10 08:00"),   # one day before and 08:00 on the last day, merged
        ("overdue", "13/10 08:00"),
        ("overdue", "14/10 08:00"),
        ("overdue", "15/10 08:00"),
    ]
    assert local(digest_slots(week())) == [("digest", "12/10 08:00"), ("digest", "13/10 08:00")]


def test_the_month_2024_calendar():
    assert local(reporter_slots(month())) == [
        ("opening", "05/09 07:00"), ("before", "03/10 07:00"), ("before", "05/10 08:00"),
        ("overdue", "06/10 08:00"), ("overdue", "07/10 08:00"), ("overdue", "08/10 08:00")]


def test_quiet_hours_and_sundays_move_a_slot_to_the_next_allowed_minute():
    policy = ReminderPolicy.parse({"before": ["2d"], "last_day_at": "22:30",
                                  "quiet_hours": ["21:00", "07:00"], "no_sundays": True})
    # 11/10/2023 00:00 is quiet → 07:00; 12/10 22:30 is quiet → 13/10 07:00, after the deadline:
    # dropped. 08/10/2023 was a Sunday.
    slots = local(reporter_slots(week(policy)))
    assert slots[:2] == [("opening", "02/10 07:00"), ("before", "11/10 07:00")]
    assert policy.allowed(at("2023-10-08T10:00"), VN) == at("2023-10-09T07:00")
    assert policy.allowed(at("2023-10-07T20:59"), VN) == at("2023-10-07T20:59")
    assert policy.allowed(at("2023-10-07T21:00"), VN) == at("2023-10-09T07:00")


def test_a_lock_ends_the_overdue_reminders():
    locked = PeriodSnapshot(1, "c", Text("c", "c"), "Asia/Ho_Chi_Minh", at("2023-10-02T00:00"),
                            at("2023-10-13T00:00"), at("2023-10-14T00:00"), ReminderPolicy(), ())
    assert [s for s in local(reporter_slots(locked)) if s[0] == "overdue"] == [
        ("overdue", "13/10 08:00")]


def reporter(cid: int, name: str = "Thu") -> Recipient:
    return Recipient(cid, name, "vi", "telegram", str(cid))


UNITS = (
    UnitReport(10, "X1", "Xã Một", "none", 0, 40, (reporter(1), reporter(2))),
    UnitReport(11, "X2", "Xã Hai", "submitted", 40, 40, (reporter(3),), on_time=True),
    UnitReport(12, "X3", "Xã Ba", "draft", 28, 40, (reporter(1),)),
)


@pytest.mark.parametrize(("now", "expected"), [
    ("2023-10-01T10:00", []),
    ("2023-10-02T06:59", []),
    ("2023-10-02T07:00", [("opening", 1), ("opening", 2)]),
    ("2023-10-09T12:00", [("opening", 1), ("opening", 2)]),  # still the opening's window
    ("2023-10-10T07:30", [("before", 1), ("before", 2)]),
    ("2023-10-10T22:00", []),  # quiet hours: nothing goes out, whatever is due
    ("2023-10-13T09:00", [("overdue", 1), ("overdue", 2)]),
    ("2023-10-16T09:00", []),  # past the last overdue day
])
def test_only_reporters_of_units_not_yet_submitted_are_reminded(now: str, expected):  # noqa: ANN001
    due = [r for r in plan([week(units=UNITS)], at(now)) if r.kind != "digest"]
    assert [(r.kind, r.recipient.contact_id) for r in due] == expected
    for r in due:  # one message per person, listing every unit they still owe
        assert {u.code for u in r.units} == ({"X1", "X3"} if r.recipient.contact_id == 1
                                             else {"X1"})


def test_a_slot_missed_while_down_is_sent_once_unless_a_later_one_replaced_it():
    snapshot = week(units=UNITS)

    def keys(now: str) -> set[str]:
        return {r.key for r in plan([snapshot], at(now)) if r.kind != "digest"}

    # Down from 09/10 to 12/10 09:00: the 10/10 slot was replaced by 12/10 08:00, sent once.
    back = keys("2023-10-12T09:00")
    assert back and all("20231012T0100Z" in k for k in back)
    assert keys("2023-10-12T23:30") == set()  # quiet hours
    assert keys("2023-10-13T07:00") == back  # the same slot: its keys are already in the outbox
    overdue = keys("2023-10-13T08:30")
    assert overdue.isdisjoint(back) and all(":overdue:" in k for k in overdue)


def test_the_same_moment_plans_the_same_keys():
    snapshot = week(units=UNITS)
    first = [r.key for r in plan([snapshot], at("2023-10-10T08:00"))]
    again = [r.key for r in plan([snapshot], at("2023-10-10T08:00") + timedelta(minutes=5))]
    assert first == again and len(set(first)) == len(first)
