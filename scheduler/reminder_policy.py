"""When a campaign reminds: read from the campaign YAML's `reminders:`, with sensible defaults.

Every slot is an instant in the campaign's time zone. "The last day" is the last day a report is
on time: for "before 13/10/2023" (13/10 00:00) it is 12/10.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

_DURATION = re.compile(r"^\s*(\d+)\s*([dhm])\s*$")


class PolicyError(ValueError):
    """A `reminders:` or `tasks:` entry that cannot be read."""


def parse_duration(raw: Any) -> timedelta:
    match = _DURATION.match(str(raw))
    if not match:
        raise PolicyError(f"expected a duration like 3d, 12h or 30m, got {raw!r}")
    n, unit = int(match.group(1)), match.group(2)
    return {"d": timedelta(days=n), "h": timedelta(hours=n), "m": timedelta(minutes=n)}[unit]


def parse_time(raw: Any) -> time:
    try:
        hours, minutes = str(raw).strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise PolicyError(f"expected a time like 08:00, got {raw!r}") from exc


@dataclass(frozen=True)
class ReminderPolicy:
    opening: bool = True
    before: tuple[timedelta, ...] = (timedelta(days=3), timedelta(days=1))
    last_day_at: time | None = time(8, 0)
    overdue_days: int = 3
    overdue_at: time = time(8, 0)
    quiet_start: time = time(21, 0)
    quiet_end: time = time(7, 0)
    no_sundays: bool = False
    # Coordinator digests: (days after the last day, time); default the last day and the next.
    digests: tuple[tuple[int, time], ...] = ((0, time(8, 0)), (1, time(8, 0)))
    task_before: tuple[timedelta, ...] = (timedelta(days=2),)
    # Slots closer than this (after moving out of quiet hours) merge into the later one.
    merge_within: timedelta = timedelta(hours=6)

    @staticmethod
    def parse(raw: Any) -> ReminderPolicy:
        if raw is None:
            return ReminderPolicy()
        if not isinstance(raw, Mapping):
            raise PolicyError("reminders: expected a mapping")
        base = ReminderPolicy()
        quiet = raw.get("quiet_hours", [base.quiet_start.strftime("%H:%M"),
                                        base.quiet_end.strftime("%H:%M")])
        if quiet in (None, False, []):
            quiet_start = quiet_end = time(0, 0)
        elif isinstance(quiet, list | tuple) and len(quiet) == 2:
            quiet_start, quiet_end = parse_time(quiet[0]), parse_time(quiet[1])
        else:
            raise PolicyError("quiet_hours: expected [start, end], e.g. [\"21:00\", \"07:00\"]")
        digests = raw.get("digests")
        return ReminderPolicy(
            opening=bool(raw.get("opening", base.opening)),
            before=tuple(parse_duration(d) for d in raw.get("before", ["3d", "1d"]) or []),
            last_day_at=(parse_time(raw["last_day_at"]) if raw.get("last_day_at")
                         else None if "last_day_at" in raw else base.last_day_at),
            overdue_days=int(raw.get("overdue_days", base.overdue_days)),
            overdue_at=parse_time(raw.get("overdue_at", "08:00")),
            quiet_start=quiet_start,
            quiet_end=quiet_end,
            no_sundays=bool(raw.get("no_sundays", False)),
            digests=base.digests if digests is None else tuple(
                (int(d.get("day", 0)), parse_time(d.get("at", "08:00"))) for d in digests),
            task_before=tuple(parse_duration(d) for d in raw.get("task_before", ["2d"]) or []),
        )

    def quiet(self, local: datetime) -> bool:
        if self.no_sundays and local.weekday() == 6:
            return True
        start, end, now = self.quiet_start, self.quiet_end, local.time()
        if start == end:
            return False
        if start < end:
            return start <= now < end
        return now >= start or now < end

    def allowed(self, instant: datetime, tz: ZoneInfo) -> datetime:
        """The instant itself, or the next minute outside quiet hours (and Sundays)."""
        local = instant.astimezone(tz)
        for _ in range(8):
            if not self.quiet(local):
                return local
            if self.no_sundays and local.weekday() == 6:
                local = datetime.combine(local.date() + timedelta(days=1), self.quiet_end, tz)
                continue
            end_today = datetime.combine(local.date(), self.quiet_end, tz)
            local = end_today if end_today > local else end_today + timedelta(days=1)
        return local


@dataclass(frozen=True)
class TaskSpec:
    """A dated task from a campaign timetable (seed 003), owned by units of some kinds."""

    key: str
    title_vi: str
    title_en: str
    due_at: datetime
    owner_kinds: tuple[str, ...] = ()
    owner_units: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


def parse_tasks(raw: Any, tz: ZoneInfo) -> tuple[TaskSpec, ...]:
    if not raw:
        return ()
    if not isinstance(raw, list):
        raise PolicyError("tasks: expected a list")
    tasks = []
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, Mapping) or not item.get("id"):
            raise PolicyError(f"tasks {i}: needs an id")
        title = item.get("title") or {}
        if isinstance(title, str):
            title = {"vi": title, "en": title}
        due = item.get("due_before")
        if due is None:
            raise PolicyError(f"tasks {i}: needs due_before (a date)")
        due_day = due if isinstance(due, date) else date.fromisoformat(str(due))
        owners = item.get("owners") or {}
        tasks.append(TaskSpec(
            key=str(item["id"]), title_vi=str(title.get("vi", "")),
            title_en=str(title.get("en") or title.get("vi", "")),
            due_at=datetime.combine(due_day, time(0), tz),
            owner_kinds=tuple(owners.get("kinds") or ()),
            owner_units=tuple(owners.get("units") or ())))
    return tuple(tasks)
