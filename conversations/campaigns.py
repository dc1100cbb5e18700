"""Campaign files: which units report on which form, for which periods, due when."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from conversations.forms import DATA_DIR, Text

CAMPAIGNS_DIR = DATA_DIR / "campaigns"
DEFAULT_CORRECTION_DAYS = 3  # a report returned after the lock may be corrected this long
PLACEHOLDERS = ("{year}", "{start}", "{end}", "{key}")


class CampaignError(ValueError):
    """A campaign file that does not follow the format; the message names the place."""


@dataclass(frozen=True)
class PeriodSpec:
    key: str
    label: Text
    start: date
    end: date
    deadline: datetime  # aware
    lock_at: datetime | None  # aware
    title: Text = Text("", "")  # the campaign's title for this occurrence

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.start, time(0), self.deadline.tzinfo)


@dataclass(frozen=True)
class CampaignSpec:
    key: str
    title: Text
    description: Text
    timezone: str
    forms_by_kind: Mapping[str, str]
    unit_codes: tuple[str, ...]
    periods: tuple[PeriodSpec, ...]
    source: str = ""
    raw: Mapping[str, Any] | None = None
    # Reporting lines: per unit kind, the kinds of the unit its reports go to (schools → their
    # commune). Empty: the campaign does not say (see conversations/reporting_lines.py).
    reports_to: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    correction_days: int = DEFAULT_CORRECTION_DAYS


def _date(raw: Any, where: str) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError as exc:
        raise CampaignError(f"{where}: expected a date YYYY-MM-DD, got {raw!r}") from exc


def _instant(raw: Any, tz: ZoneInfo, where: str) -> datetime:
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=tz)
    if isinstance(raw, date):
        return datetime.combine(raw, time(0), tz)
    try:
        parsed = datetime.fromisoformat(str(raw))
    except ValueError as exc:
        raise CampaignError(f"{where}: expected 'YYYY-MM-DD HH:MM', got {raw!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def _period(raw: Any, tz: ZoneInfo, where: str) -> PeriodSpec:
    if not isinstance(raw, Mapping):
        raise CampaignError(f"{where}: a period must be a mapping")
    key = str(raw.get("key", "")).strip()
    if not key:
        raise CampaignError(f"{where}: period without key")
    start, end = _date(raw.get("start"), f"{where} start"), _date(raw.get("end"), f"{where} end")
    if end < start:
        raise CampaignError(f"{where}: end is before start")
    if "due_before" in raw:
        # "trước ngày 13/10" — the instant 13/10 00:00 local time.
        deadline = datetime.combine(_date(raw["due_before"], f"{where} due_before"), time(0), tz)
    elif "due_at" in raw:
        deadline = _instant(raw["due_at"], tz, f"{where} due_at")
    else:
        raise CampaignError(f"{where}: a period needs due_before (a date) or due_at")
    lock = _instant(raw["lock_at"], tz, f"{where} lock_at") if raw.get("lock_at") else None
    if lock is not None and lock < deadline:
        raise CampaignError(f"{where}: lock_at is before the deadline")
    label = Text.parse(raw.get("label") or key, f"{where} label")
    return PeriodSpec(key, label, start, end, deadline, lock)


def _shift(value: date, every: str, n: int) -> date:
    if every == "week":
        return value + timedelta(weeks=n)
    if every == "year":
        try:
            return value.replace(year=value.year + n)
        except ValueError:  # 29 February
            return value.replace(year=value.year + n, day=28)
    months = value.month - 1 + n
    year, month = value.year + months // 12, months % 12 + 1
    day = min(value.day, 28 if month == 2 else 30 if month in (4, 6, 9, 11) else 31)
    return value.replace(year=year, month=month, day=day)


def _repeat(first: PeriodSpec, every: str, count: int, tz: ZoneInfo) -> list[PeriodSpec]:
    """Recurring periods: the first one shifted by a week, a month or a year each time, each
    with its own label and title (see `occurrence_text`)."""
    periods = [first]
    for n in range(1, count):
        start = _shift(first.start, every, n)
        deadline_day = _shift(first.deadline.astimezone(tz).date(), every, n)
        deadline = datetime.combine(deadline_day, first.deadline.astimezone(tz).timetz())
        lock = None
        if first.lock_at:
            lock_day = _shift(first.lock_at.astimezone(tz).date(), every, n)
            lock = datetime.combine(lock_day, first.lock_at.astimezone(tz).timetz())
        key = start.strftime({"week": "%G-W%V", "month": "%Y-%m", "year": "%Y"}[every])
        end = _shift(first.end, every, n)
        periods.append(PeriodSpec(key, first.label, start, end, deadline, lock, first.title))
    return periods


def occurrence_text(template: Text, first: PeriodSpec, period: PeriodSpec, every: str | None,
                    *, is_label: bool) -> Text:
    """A label or title for one occurrence. `{year}`, `{start}`, `{end}` and `{key}` are
    filled in; without them, a yearly campaign's first year written out ("Năm 2025") becomes
    this occurrence's year, and another label gets the period key after it."""
    def one(text: str) -> str:
        if any(p in text for p in PLACEHOLDERS):
            return (text.replace("{year}", str(period.start.year))
                    .replace("{start}", period.start.strftime("%d/%m/%Y"))
                    .replace("{end}", period.end.strftime("%d/%m/%Y"))
                    .replace("{key}", period.key))
        if period is first:
            return text
        if every == "year" and str(first.start.year) in text:
            return text.replace(str(first.start.year), str(period.start.year))
        return f"{text} ({period.key})" if is_label else text

    return Text(one(template.vi), one(template.en))


DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


def parse_campaign(raw: Any, source: str = "", default_timezone: str = DEFAULT_TIMEZONE,
                   ) -> CampaignSpec:
    if not isinstance(raw, Mapping):
        raise CampaignError(f"{source}: a campaign must be a mapping")
    key = str(raw.get("id", "")).strip()
    if not key:
        raise CampaignError(f"{source}: campaign without id")
    tz_name = str(raw.get("timezone") or default_timezone)
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CampaignError(f"{key}: unknown time zone {tz_name}") from exc
    forms_by_kind: dict[str, str] = {}
    reports_to: dict[str, tuple[str, ...]] = {}
    for i, item in enumerate(raw.get("forms") or [], start=1):
        if not isinstance(item, Mapping) or not item.get("form"):
            raise CampaignError(f"{key} forms {i}: needs form and kinds")
        line = _reports_to(item.get("reports_to"), f"{key} forms {i}")
        for kind in item.get("kinds") or []:
            if kind in forms_by_kind:
                raise CampaignError(f"{key}: unit kind {kind} has two forms")
            forms_by_kind[str(kind)] = str(item["form"])
            if line:
                reports_to[str(kind)] = line
    if not forms_by_kind:
        raise CampaignError(f"{key}: a campaign needs forms with unit kinds")
    periods = [_period(p, tz, f"{key} period {i}")
               for i, p in enumerate(raw.get("periods") or [], start=1)]
    if not periods:
        raise CampaignError(f"{key}: a campaign needs at least one period")
    recurrence = raw.get("recurrence")
    if recurrence:
        every, count = recurrence.get("every"), int(recurrence.get("count", 1))
        if every not in ("week", "month", "year") or count < 1:
            raise CampaignError(f"{key}: recurrence needs every: week|month|year and count")
        periods = _repeat(periods[0], every, count, tz) + periods[1:]
    if len({p.key for p in periods}) != len(periods):
        raise CampaignError(f"{key}: two periods share a key")
    title = Text.parse(raw.get("title"), f"{key} title")
    every = recurrence.get("every") if recurrence else None
    first = periods[0]
    periods = [replace(p, label=occurrence_text(p.label, first, p, every, is_label=True),
                       title=occurrence_text(title, first, p, every, is_label=False))
               for p in periods]
    _report(raw.get("report"), key)
    correction_days = raw.get("correction_days", DEFAULT_CORRECTION_DAYS)
    if not isinstance(correction_days, int) or isinstance(correction_days, bool) \
            or correction_days < 0:
        raise CampaignError(f"{key}: correction_days must be a whole number of days, "
                            f"got {correction_days!r}")
    return CampaignSpec(
        key=key,
        title=title,
        description=Text.parse(raw.get("description"), f"{key} description", required=False),
        timezone=tz_name,
        forms_by_kind=forms_by_kind,
        unit_codes=tuple(str(c) for c in raw.get("units") or []),
        periods=tuple(periods),
        source=str(raw.get("source", "")),
        raw=dict(raw),
        reports_to=reports_to,
        correction_days=correction_days,
    )


REPORT_KEYS = ("template", "issuer", "place", "signer", "signer_name", "recipients", "symbol")


def _report(raw: Any, where: str) -> dict[str, Any]:
    """`report:` — the consolidated report's template and letterhead for this campaign:
    each value a text, or (issuer, signer, recipients) a list of lines."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise CampaignError(f"{where}: report must be a mapping of {', '.join(REPORT_KEYS)}")
    unknown = sorted(str(k) for k in raw if k not in REPORT_KEYS)
    if unknown:
        raise CampaignError(f"{where}: report has unknown {', '.join(unknown)}; "
                            f"it takes {', '.join(REPORT_KEYS)}")
    for name, value in raw.items():
        lines = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) and v.strip() for v in lines) or (
                isinstance(value, list) and name not in ("issuer", "signer", "recipients")):
            raise CampaignError(f"{where}: report {name} must be a text"
                                + (" or a list of lines" if name in ("issuer", "signer",
                                                                    "recipients") else ""))
    return dict(raw)


def _reports_to(raw: Any, where: str) -> tuple[str, ...]:
    """`reports_to: [commune, ward]` (or one kind, or `parent`): where this form's reports go."""
    if raw is None:
        return ()
    kinds = [raw] if isinstance(raw, str) else raw
    if not isinstance(kinds, list) or not all(isinstance(k, str) and k for k in kinds):
        raise CampaignError(f"{where}: reports_to must be a unit kind or a list of kinds")
    return tuple(kinds)


def reports_to_of(definition: Mapping[str, Any] | None) -> dict[str, tuple[str, ...]]:
    """The reporting lines of a stored campaign definition (the loaded YAML), by unit kind."""
    lines: dict[str, tuple[str, ...]] = {}
    for item in (definition or {}).get("forms") or []:
        if not isinstance(item, Mapping):
            continue
        line = _reports_to(item.get("reports_to"), "forms")
        for kind in item.get("kinds") or []:
            if line:
                lines[str(kind)] = line
    return lines


def load_campaign_file(path: Path, default_timezone: str = DEFAULT_TIMEZONE) -> CampaignSpec:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CampaignError(f"{path}: not valid YAML: {exc}") from exc
    report = raw.get("report") if isinstance(raw, dict) else None
    if isinstance(report, dict) and isinstance(report.get("template"), str):
        # a template beside the campaign file is stored by its full path
        beside = path.parent / report["template"]
        if not Path(report["template"]).is_absolute() and beside.is_file():
            raw = {**raw, "report": {**report, "template": str(beside.resolve())}}
    return parse_campaign(raw, str(path), default_timezone)


def bundled_campaign_files() -> list[Path]:
    return sorted(CAMPAIGNS_DIR.glob("*.yaml"))
