"""Campaigns as an office runs them: a draft written in the console (the same definition a
campaign YAML holds), checked, published through admin.load_campaign (the one path a campaign
is stored by), then extended, closed early or archived. The CLI and the console both call
these functions; every change is recorded in the change history."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import admin
from bot.offices.history import Actor, record
from bot.storage.models import Campaign, CampaignDraft, FormVersion, Period, Unit
from conversations.campaigns import CampaignError, CampaignSpec, parse_campaign
from conversations.forms import Text, bundled_form_files, load_form_file
from conversations.reporting_lines import KIND_NAMES
from scheduler.reminder_plan import PeriodSnapshot, digest_slots, reporter_slots
from scheduler.reminder_policy import PolicyError, ReminderPolicy

STATES = ("draft", "published", "closed", "archived")
EVERY = ("", "week", "month", "year")
FORM_ROWS = 3  # the new-campaign form offers this many "form → kinds" lines


def tr(message: str) -> str:
    """Marks a message for the catalogs (`python -m locales.catalog_tools` extracts `tr("…")`);
    the console translates it when it shows it, the CLI prints the English."""
    return message


class OfficeError(ValueError):
    """A change the office asked for that cannot be made; the message says why."""


@dataclass(frozen=True)
class Problem:
    """One error of a draft: the field it is in and what is expected (an English msgid the
    console translates; `values` fill its placeholders)."""

    field: str
    message: str
    values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Slot:
    """One reminder or digest the campaign will send: what, for which period, when."""

    kind: str
    period: str
    at: datetime


def parse_day(text: str) -> date | None:
    """'13/10/2023', '13-10-2023' or '2023-10-13'; None when it is none of these."""
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    parts = text.replace("-", "/").replace(".", "/").split("/")
    if len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[2]) == 4:
        try:
            return date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            return None
    return None


def _words(text: str) -> list[str]:
    return [w for w in text.replace(";", ",").replace(" ", ",").split(",") if w]


def definition_from_form(form: Mapping[str, str]) -> tuple[dict[str, Any], list[Problem]]:
    """The campaign definition (as a YAML file has it) from the console's form fields, and
    every field that cannot be read. Nothing is guessed: a date that is not a date is named."""
    problems: list[Problem] = []
    get = lambda name: " ".join(str(form.get(name, "")).split())  # noqa: E731
    key = get("key").lower()
    if not key or not all(c.isalnum() or c in "-_" for c in key) or len(key) > 64:
        problems.append(Problem("key", tr("Write a short code of letters, digits and dashes, "
                                       "e.g. tuan-le-htsd-2025.")))
    if not get("title_vi"):
        problems.append(Problem("title_vi", tr("Write the campaign's title in Vietnamese.")))
    forms: list[dict[str, Any]] = []
    for i in range(1, FORM_ROWS + 1):
        form_key, kinds = get(f"form_{i}"), _words(get(f"kinds_{i}"))
        kinds += [k for k in KIND_NAMES if form.get(f"kind_{i}_{k}")]
        if not form_key and not kinds:
            continue
        unknown = [k for k in kinds if k not in KIND_NAMES]
        if unknown:
            problems.append(Problem(f"kinds_{i}", tr("Unknown unit kind {kinds}."),
                                    (("kinds", ", ".join(unknown)),)))
        if not form_key or not kinds:
            problems.append(Problem(f"form_{i}", tr("Choose a form and the unit kinds that "
                                                    "answer it.")))
            continue
        item: dict[str, Any] = {"form": form_key, "kinds": sorted(set(kinds))}
        line = _words(get(f"reports_to_{i}"))
        if line:
            item["reports_to"] = line
        forms.append(item)
    if not forms and not any(p.field.startswith("form_") for p in problems):
        problems.append(Problem("form_1", tr("Choose a form and the unit kinds that answer it.")))
    days: dict[str, date | None] = {}
    for name in ("start", "end", "due_before", "lock_before"):
        text = get(name)
        days[name] = parse_day(text) if text else None
        if text and days[name] is None:
            problems.append(Problem(name, tr("Write a date as day/month/year, e.g. 13/10/2025.")))
        elif not text and name != "lock_before":
            problems.append(Problem(name, tr("This date is needed.")))
    start, end, due = days["start"], days["end"], days["due_before"]
    lock = days["lock_before"]
    if start and end and end < start:
        problems.append(Problem("end", tr("The period ends before it starts.")))
    if start and due and due <= start:
        problems.append(Problem("due_before", tr("The deadline is on or before the first day.")))
    if due and lock and lock < due:
        problems.append(Problem("lock_before", tr("The lock is before the deadline.")))
    period: dict[str, Any] = {"key": get("period_key") or (str(start.year) if start else "1"),
                              "start": start.isoformat() if start else "",
                              "end": end.isoformat() if end else "",
                              "due_before": due.isoformat() if due else ""}
    if get("label_vi"):
        period["label"] = {"vi": get("label_vi"), "en": get("label_en") or get("label_vi")}
    if lock:
        period["lock_at"] = lock.isoformat()
    definition: dict[str, Any] = {
        "id": key,
        "title": {"vi": get("title_vi"), "en": get("title_en") or get("title_vi")},
        "timezone": get("timezone") or "Asia/Ho_Chi_Minh",
        "forms": forms,
        "periods": [period],
    }
    units = _words(get("units"))
    if units:
        definition["units"] = units
    every = get("every")
    if every not in EVERY:
        problems.append(Problem("every", tr("Choose once, weekly, monthly or yearly.")))
    elif every:
        count = get("count") or "1"
        if not count.isdigit() or not 1 <= int(count) <= 60:
            problems.append(Problem("count", tr("Write how many times, 1 to 60.")))
        else:
            definition["recurrence"] = {"every": every, "count": int(count)}
    correction = get("correction_days") or "3"
    if not correction.isdigit():
        problems.append(Problem("correction_days", tr("Write a whole number of days, e.g. 3.")))
    else:
        definition["correction_days"] = int(correction)
    reminders: dict[str, Any] = {"opening": bool(form.get("opening")),
                                 "no_sundays": bool(form.get("no_sundays"))}
    before = _words(get("before"))
    reminders["before"] = [b if b[-1:] in "dhm" else f"{b}d" for b in before]
    overdue = get("overdue_days") or "0"
    if not overdue.isdigit():
        problems.append(Problem("overdue_days", tr("Write a whole number of days, e.g. 3.")))
    else:
        reminders["overdue_days"] = int(overdue)
    quiet = [get("quiet_start"), get("quiet_end")]
    if any(quiet):
        reminders["quiet_hours"] = quiet
    try:
        ReminderPolicy.parse(reminders)
    except (PolicyError, ValueError) as exc:
        problems.append(Problem("reminders", tr("The reminders cannot be read: {why}"),
                                (("why", str(exc)),)))
    definition["reminders"] = reminders
    return definition, problems


def form_of_definition(definition: Mapping[str, Any]) -> dict[str, str]:
    """The console's form fields for a stored definition (to edit a draft, or to copy a
    campaign with `shift_years`)."""
    period = (definition.get("periods") or [{}])[0]
    title = definition.get("title") or {}
    title = title if isinstance(title, Mapping) else {"vi": str(title), "en": str(title)}
    reminders = definition.get("reminders") or {}
    fields = {
        "key": str(definition.get("id", "")), "title_vi": str(title.get("vi", "")),
        "title_en": str(title.get("en", "")),
        "units": ", ".join(definition.get("units") or []),
        "period_key": str(period.get("key", "")),
        "start": _day_text(period.get("start")), "end": _day_text(period.get("end")),
        "due_before": _day_text(period.get("due_before")),
        "lock_before": _day_text(period.get("lock_at")),
        "every": str((definition.get("recurrence") or {}).get("every", "")),
        "count": str((definition.get("recurrence") or {}).get("count", "")),
        "correction_days": str(definition.get("correction_days", 3)),
        "before": ", ".join(str(b) for b in reminders.get("before", ["3d", "1d"])),
        "overdue_days": str(reminders.get("overdue_days", 3)),
        "quiet_start": str((reminders.get("quiet_hours") or ["21:00", "07:00"])[0]),
        "quiet_end": str((reminders.get("quiet_hours") or ["21:00", "07:00"])[1]),
        "opening": "1" if reminders.get("opening", True) else "",
        "no_sundays": "1" if reminders.get("no_sundays") else "",
    }
    label = period.get("label")
    if isinstance(label, Mapping):
        fields["label_vi"], fields["label_en"] = str(label.get("vi", "")), str(label.get("en", ""))
    for i, item in enumerate(definition.get("forms") or [], start=1):
        fields[f"form_{i}"] = str(item.get("form", ""))
        fields[f"kinds_{i}"] = ", ".join(item.get("kinds") or [])
        line = item.get("reports_to") or []
        fields[f"reports_to_{i}"] = line if isinstance(line, str) else ", ".join(line)
    return fields


def _day_text(value: Any) -> str:
    if not value:
        return ""
    day = value if isinstance(value, date) else parse_day(str(value)[:10])
    return day.strftime("%d/%m/%Y") if day else str(value)


def shift_years(fields: dict[str, str], years: int = 1) -> dict[str, str]:
    """'Copy last year's': every date a year later; a year in the code and titles too."""
    moved = dict(fields)
    for name in ("start", "end", "due_before", "lock_before"):
        day = parse_day(moved.get(name, ""))
        if day is not None:
            try:
                day = day.replace(year=day.year + years)
            except ValueError:  # 29 February
                day = day.replace(year=day.year + years, day=28)
            moved[name] = day.strftime("%d/%m/%Y")
    start = parse_day(fields.get("start", ""))
    if start is not None:
        old, new = str(start.year), str(start.year + years)
        for name in ("key", "title_vi", "title_en", "period_key", "label_vi", "label_en"):
            if name in moved:
                moved[name] = moved[name].replace(old, new)
    return moved


def parsed(definition: Mapping[str, Any]) -> CampaignSpec:
    """The CampaignSpec the YAML loader builds from the same definition."""
    return parse_campaign(dict(definition), "console")


async def form_choices(session: AsyncSession) -> list[str]:
    """Forms a campaign may use: those loaded (any version) and the bundled ones."""
    loaded = set((await session.scalars(select(FormVersion.key))).all())
    return sorted(loaded | {load_form_file(p).id for p in bundled_form_files()})


async def check(session: AsyncSession, definition: Mapping[str, Any], scope_path: str,
                ) -> list[Problem]:
    """What stops a definition from being published: forms neither loaded nor bundled,
    units not loaded or outside the office's subtree, a coordinator's campaign that names no
    units (it would ask every unit of a kind in the whole tree), and what the loader refuses."""
    problems: list[Problem] = []
    choices = set(await form_choices(session))
    for i, item in enumerate(definition.get("forms") or [], start=1):
        if item.get("form") not in choices:
            problems.append(Problem(f"form_{i}", tr("Form {form} is not loaded."),
                                    (("form", str(item.get("form"))),)))
    codes = [str(c) for c in definition.get("units") or []]
    paths = dict((await session.execute(select(Unit.code, Unit.path).where(
        Unit.code.in_(codes)))).all()) if codes else {}
    missing = [c for c in codes if c not in paths]
    # a coordinator's campaign asks the units below theirs, not their own (it reports upward)
    outside = [c for c in codes if c in paths and scope_path
               and (not paths[c].startswith(scope_path) or paths[c] == scope_path)]
    if missing:
        problems.append(Problem("units", tr("Unit {codes} is not loaded."),
                                (("codes", ", ".join(missing)),)))
    if outside:
        problems.append(Problem("units", tr("Unit {codes} is not among the units you coordinate."),
                                (("codes", ", ".join(outside)),)))
    if scope_path and not codes:
        problems.append(Problem("units", tr("List the units that report (their codes): a "
                                         "coordinator's campaign asks only units below theirs.")))
    if await session.scalar(select(Campaign.id).where(Campaign.key == definition.get("id"))):
        problems.append(Problem("key", tr("A campaign with this code exists already: choose "
                                          "another code.")))
    try:
        parsed(definition)
    except CampaignError as exc:
        problems.append(Problem("", tr("The campaign cannot be stored: {why}"),
                                (("why", str(exc)),)))
    return problems


def schedule(definition: Mapping[str, Any]) -> list[Slot]:
    """Every reminder and digest the campaign sends, per period and when, computed by the
    scheduler's own slot functions (as `baocao remind preview` does at a given moment)."""
    spec = parsed(definition)
    policy = ReminderPolicy.parse(definition.get("reminders"))
    slots: list[Slot] = []
    for p in spec.periods:
        snapshot = PeriodSnapshot(0, spec.key, spec.title, spec.timezone, p.starts_at,
                                  p.deadline, p.lock_at, policy, ())
        label = p.label.vi
        slots += [Slot(s.kind, label, s.at) for s in reporter_slots(snapshot)]
        slots += [Slot(s.kind, label, s.at) for s in digest_slots(snapshot)]
    return sorted(slots, key=lambda s: s.at)


def stored_schedule(campaign: Campaign, periods: list[Period]) -> list[Slot]:
    """The same for a published campaign, from its stored periods (an extended deadline
    moves its reminders)."""
    policy = ReminderPolicy.parse((campaign.definition or {}).get("reminders"))
    title = parsed(campaign.definition).title if campaign.definition else None
    slots: list[Slot] = []
    for p in periods:
        snapshot = PeriodSnapshot(p.id, campaign.key, title or Text(p.title_vi, p.title_en),
                                  campaign.timezone, p.starts_at, p.deadline, p.lock_at,
                                  policy, ())
        slots += [Slot(s.kind, p.label_vi, s.at) for s in reporter_slots(snapshot)]
        slots += [Slot(s.kind, p.label_vi, s.at) for s in digest_slots(snapshot)]
    return sorted(slots, key=lambda s: s.at)


# ----------------------------------------------------------------------------- drafts

def visible(scope_path: str, reader: str | None) -> bool:
    """An admin (reader None) sees every campaign; a coordinator those of their subtree."""
    return reader is None or (bool(scope_path) and scope_path.startswith(reader))


async def save_draft(session: AsyncSession, definition: dict[str, Any], *, actor: Actor,
                     scope_path: str, now: datetime, draft_id: int | None = None
                     ) -> CampaignDraft:
    key = str(definition.get("id", ""))
    if draft_id is None:
        if await session.scalar(select(Campaign.id).where(Campaign.key == key)) or \
                await session.scalar(select(CampaignDraft.id).where(CampaignDraft.key == key)):
            raise OfficeError(tr("A campaign with this code exists already: choose another code."))
        draft = CampaignDraft(key=key, definition=definition, scope_path=scope_path,
                              created_by=actor.contact_id, updated_at=now)
        session.add(draft)
        before = None
    else:
        found = await session.get(CampaignDraft, draft_id)
        if found is None:
            raise OfficeError(tr("Not found."))
        draft = found
        before = draft.definition
        if key != draft.key and await session.scalar(
                select(CampaignDraft.id).where(CampaignDraft.key == key)):
            raise OfficeError(tr("A campaign with this code exists already: choose another code."))
        draft.key, draft.definition, draft.updated_at = key, definition, now
    await session.flush()
    await record(session, actor=actor, action="campaign.draft", subject=key, at=now,
                 before=before, after=definition, scope_path=scope_path)
    return draft


async def load_bundled_forms(session: AsyncSession, keys: set[str], now: datetime) -> None:
    """Bundled forms a campaign names but nobody has loaded yet are loaded as they ship."""
    loaded = set((await session.scalars(select(FormVersion.key))).all())
    for path in bundled_form_files():
        form = load_form_file(path)
        if form.id in keys and form.id not in loaded:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
            await admin.load_form(session, form, raw, now)


async def load(session: AsyncSession, spec: CampaignSpec, *, actor: Actor, now: datetime,
               scope_path: str = "") -> Campaign:
    """Store a campaign (new or updated) as published, recording before → after."""
    existing = await session.scalar(select(Campaign).where(Campaign.key == spec.key))
    before = existing.definition if existing is not None else None
    campaign = await admin.load_campaign(session, spec, now)
    if existing is None:
        campaign.scope_path = scope_path
    campaign.state = "published"
    await session.flush()
    await record(session, actor=actor, action="campaign.publish", subject=spec.key, at=now,
                 before=before, after=campaign.definition, scope_path=campaign.scope_path)
    return campaign


async def publish(session: AsyncSession, draft: CampaignDraft, *, actor: Actor, now: datetime
                  ) -> Campaign | list[Problem]:
    """The draft's problems, or the campaign stored through the loader (the draft removed)."""
    problems = await check(session, draft.definition, draft.scope_path)
    if problems:
        return problems
    await load_bundled_forms(session, {str(i.get("form")) for i in
                                       draft.definition.get("forms") or []}, now)
    try:
        campaign = await load(session, parsed(draft.definition), actor=actor, now=now,
                              scope_path=draft.scope_path)
    except admin.AdminError as exc:
        return [Problem("", tr("The campaign cannot be stored: {why}"), (("why", str(exc)),))]
    await session.delete(draft)
    await session.flush()
    return campaign


# ----------------------------------------------------------------------------- published

def _period_state(period: Period) -> dict[str, Any]:
    return {"deadline": period.deadline, "lock_at": period.lock_at}


async def extend(session: AsyncSession, campaign: Campaign, period: Period, *,
                 due_before: date | None, lock_before: date | None, actor: Actor,
                 now: datetime) -> None:
    """A later deadline (“trước ngày …”) and/or lock for one period. Never earlier: an
    earlier date would turn reports sent on time into late ones."""
    if campaign.state != "published":
        raise OfficeError(tr("Only a published campaign can be extended."))
    tz = ZoneInfo(campaign.timezone)
    before = _period_state(period)
    deadline, lock = period.deadline, period.lock_at
    if due_before is not None:
        deadline = datetime.combine(due_before, time(0), tz)
        if deadline <= period.deadline:
            raise OfficeError(tr("The new deadline must be later than the current one."))
    if lock_before is not None:
        lock = datetime.combine(lock_before, time(0), tz)
        if period.lock_at is not None and lock <= period.lock_at:
            raise OfficeError(tr("The new lock must be later than the current one."))
    if lock is not None and lock < deadline:
        raise OfficeError(tr("The lock is before the deadline."))
    period.deadline, period.lock_at = deadline, lock
    await session.flush()
    await record(session, actor=actor, action="campaign.extend",
                 subject=f"{campaign.key} {period.key}", at=now, before=before,
                 after=_period_state(period), scope_path=campaign.scope_path)


async def close(session: AsyncSession, campaign: Campaign, *, actor: Actor, now: datetime
                ) -> None:
    """End early: every period still open is locked now (reports are kept and readable)."""
    if campaign.state != "published":
        raise OfficeError(tr("Only a published campaign can be closed."))
    periods = (await session.scalars(select(Period).where(
        Period.campaign_id == campaign.id))).all()
    before = {p.key: _period_state(p) for p in periods}
    for p in periods:
        if p.lock_at is None or p.lock_at > now:
            p.lock_at = now
            p.deadline = min(p.deadline, now)
    campaign.state = "closed"
    await session.flush()
    await record(session, actor=actor, action="campaign.close", subject=campaign.key, at=now,
                 before={"state": "published", **before},
                 after={"state": "closed", **{p.key: _period_state(p) for p in periods}},
                 scope_path=campaign.scope_path)


async def archive(session: AsyncSession, campaign: Campaign, *, actor: Actor, now: datetime
                  ) -> None:
    """Out of the lists; only a closed campaign, or one whose last lock or deadline is past."""
    periods = (await session.scalars(select(Period).where(
        Period.campaign_id == campaign.id))).all()
    ended = all((p.lock_at or p.deadline) <= now for p in periods)
    if campaign.state == "archived" or (campaign.state != "closed" and not ended):
        raise OfficeError(tr("Close the campaign first: it still has an open period."))
    before = campaign.state
    campaign.state = "archived"
    await session.flush()
    await record(session, actor=actor, action="campaign.archive", subject=campaign.key,
                 at=now, before={"state": before}, after={"state": "archived"},
                 scope_path=campaign.scope_path)

