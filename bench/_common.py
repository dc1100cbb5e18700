"""Shared pieces of the benchmarks: the clock, bulk seeding, machine facts, tables, results.

Nothing here is part of the test run; the benchmarks import the bot, never change it."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
VN = ZoneInfo("Asia/Ho_Chi_Minh")
WEEK_CAMPAIGN = "tuan-le-htsd-2023"
# A day inside the Week 2023 period (02/10-08/10, due before 13/10), during working hours.
WEEK_OPEN = datetime(2023, 10, 5, 9, 0, tzinfo=VN)

if str(ROOT) not in sys.path:  # `python bench/x.py` as well as `python -m bench.x`
    sys.path.insert(0, str(ROOT))


class FlowingClock:
    """Starts at a chosen instant and runs with real time (leases and delays pass)."""

    def __init__(self, start: datetime) -> None:
        self.start, self.t0 = start, time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.t0)


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


# ----------------------------------------------------------------------------- machine

def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    with contextlib.suppress(OSError, IndexError):
        mem = subprocess.run(["free", "-h"], capture_output=True, text=True,
                             check=False).stdout.splitlines()[1].split()[1]
    return {"nproc": os.cpu_count(), "memory_total": mem, "cpu": cpu,
            "python": platform.python_version(), "platform": platform.platform()}


# ----------------------------------------------------------------------------- output

def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    if ordered[hi] == float("inf"):  # an update never answered: no interpolating with it
        return ordered[lo] if k == lo else float("inf")
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def print_table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # nan
            return "-"
        if value == float("inf"):
            return "never"
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


def _jsonable(value: Any) -> Any:
    """inf (an update never answered) and nan become null: JSON has neither."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = _jsonable({"benchmark": name,
                         "at": datetime.now(UTC).isoformat(timespec="seconds"),
                         "machine": machine(), **data})
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n",
                    encoding="utf-8")
    print(f"\nresults: {path.relative_to(ROOT)}", flush=True)
    return path


def rss_mb_of(pid: int) -> float:
    """Resident set size now (VmRSS), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# ----------------------------------------------------------------------------- seeding

async def seed_forms_and_campaign(app: Any, now: datetime,
                                  campaign_key: str = WEEK_CAMPAIGN) -> None:
    """Every bundled form and one campaign (the Week 2023 by default)."""
    from bot import admin
    from conversations.campaigns import bundled_campaign_files, load_campaign_file
    from conversations.forms import bundled_form_files, load_form_file

    async with app.sessions() as session, session.begin():
        for path in bundled_form_files():
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
            await admin.load_form(session, load_form_file(path), raw, now)
        spec = next(load_campaign_file(p) for p in bundled_campaign_files()
                    if p.stem == campaign_key)
        await admin.load_campaign(session, spec, now)


async def seed_units(app: Any, count: int, *, kind: str = "commune", prefix: str = "X",
                     root_code: str = "P", parents: int = 0) -> list[tuple[int, str]]:
    """A province with `count` units of `kind` below it (optionally grouped under `parents`
    districts), in bulk. Returns (id, code) of the leaf units, in order."""
    from bot.storage.models import Unit

    async with app.sessions() as session, session.begin():
        next_id = (await session.scalar(select(func.max(Unit.id))) or 0) + 1
        root_id = next_id
        rows: list[dict[str, Any]] = [{"id": root_id, "code": root_code,
                                       "name": "Thành phố Hải Phòng", "kind": "province",
                                       "parent_id": None, "path": f"/{root_code}/"}]
        next_id += 1
        groups: list[tuple[int, str]] = []
        for g in range(parents):
            code = f"{root_code}-H{g + 1:03d}"
            rows.append({"id": next_id, "code": code, "name": f"Huyện {g + 1:03d}",
                         "kind": "district", "parent_id": root_id,
                         "path": f"/{root_code}/{code}/"})
            groups.append((next_id, f"/{root_code}/{code}/"))
            next_id += 1
        leaves = []
        width = max(5, len(str(count)))
        for i in range(count):
            code = f"{prefix}{i + 1:0{width}d}"
            parent_id, parent_path = (groups[i % len(groups)] if groups
                                      else (root_id, f"/{root_code}/"))
            rows.append({"id": next_id, "code": code, "name": f"Xã {code}", "kind": kind,
                         "parent_id": parent_id, "path": f"{parent_path}{code}/"})
            leaves.append((next_id, code))
            next_id += 1
        for i in range(0, len(rows), 5000):
            await session.execute(insert(Unit), rows[i:i + 5000])
    return leaves


async def seed_people(app: Any, unit_ids: Sequence[int], first_user_id: int, now: datetime,
                      *, per_unit: int = 1, role: str = "reporter",
                      with_identity: bool = True) -> list[int]:
    """Contacts linked to the units, each with a Telegram identity whose user id = chat id.
    Returns the Telegram user ids, in order."""
    from bot.storage.models import Contact, ContactUnit, Identity

    async with app.sessions() as session, session.begin():
        next_id = (await session.scalar(select(func.max(Contact.id))) or 0) + 1
        next_identity = (await session.scalar(select(func.max(Identity.id))) or 0) + 1
        contacts, links, identities, users = [], [], [], []
        uid = first_user_id
        for unit_id in unit_ids:
            for _ in range(per_unit):
                name = f"Cán bộ {uid}"
                contacts.append({"id": next_id, "name": name, "phone": None, "role": role,
                                 "language": "vi", "active": True, "created_at": now})
                links.append({"contact_id": next_id, "unit_id": unit_id})
                if with_identity:
                    identities.append({"id": next_identity, "channel": "telegram",
                                       "external_user_id": str(uid), "chat_id": str(uid),
                                       "display_name": name, "contact_id": next_id,
                                       "created_at": now, "unreachable_at": None})
                    next_identity += 1
                users.append(uid)
                uid += 1
                next_id += 1
        for table, rows in ((Contact, contacts), (ContactUnit, links), (Identity, identities)):
            for i in range(0, len(rows), 5000):
                await session.execute(insert(table), rows[i:i + 5000])
    return users


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


# ----------------------------------------------------------------------------- profiles

CATEGORIES = (
    ("idle (waiting in epoll)", ("select.epoll", "epoll.poll", "selectors.py")),
    ("pydantic (aiogram models)", ("pydantic",)),
    ("aiogram", ("aiogram/",)),
    ("aiohttp/yarl/multidict", ("aiohttp/", "yarl/", "multidict/")),
    ("sqlalchemy", ("sqlalchemy",)),
    ("aiosqlite + greenlet", ("aiosqlite/", "greenlet")),
    ("asyncio", ("asyncio/",)),
    ("json", ("json/",)),
    ("openpyxl", ("openpyxl/",)),
    ("python-docx / lxml", ("docx/", "lxml")),
    ("babel", ("babel/",)),
    ("bench instrumentation", ("bench/",)),
    ("bot/", ("/bot/", "bot/")),
    ("conversations/ + scheduler/", ("conversations/", "scheduler/")),
)


def _category(frame: Any) -> str:
    """The library a frame's self time belongs to; a C builtin (dict.get, isinstance,
    queue.put…) counts for the Python code that called it."""
    path = frame.file_path or ""
    if ("poll" in frame.function and "built-in" in path) or "selectors.py" in path:
        return CATEGORIES[0][0]
    while ("built-in" in path or not path) and frame.parent is not None:
        frame = frame.parent
        path = frame.file_path or ""
    where = f"{path} {frame.function}"
    for name, needles in CATEGORIES:
        if any(n in where for n in needles):
            return name
    return "other (stdlib, …)"


def profile_summary(session: Any, top: int = 25) -> dict[str, Any]:
    """CPU of the event-loop thread, sampled: self time by library and by function, and the
    inclusive time of the bot's own coroutines (SQLAlchemy's greenlets are separate roots, so a
    coroutine's inclusive time leaves out the ORM work it awaited)."""
    root = session.root_frame()
    self_by_cat: dict[str, float] = {}
    self_by_fn: dict[str, float] = {}
    inclusive: dict[str, float] = {}

    def walk(frame: Any, on_stack: frozenset[str]) -> None:
        target = frame.parent if frame.is_synthetic and frame.parent is not None else frame
        key = (f"{target.function} ({target.file_path_short or target.file_path}:"
               f"{target.line_no})")
        own = max(0.0, frame.time - sum(c.time for c in frame.children))
        cat = _category(target)
        self_by_cat[cat] = self_by_cat.get(cat, 0.0) + own
        self_by_fn[key] = self_by_fn.get(key, 0.0) + own
        if key not in on_stack:
            inclusive[key] = inclusive.get(key, 0.0) + frame.time
        for child in frame.children:
            walk(child, on_stack | {key})

    if root is not None:
        walk(root, frozenset())
    ours = sorted(((k, v) for k, v in inclusive.items()
                   if any(p in k for p in ("bot/", "conversations/", "scheduler/"))
                   and "bench/" not in k), key=lambda kv: -kv[1])[:30]
    return {"sampled_seconds": root.time if root else 0.0,
            "self_by_category": {k: round(v, 3) for k, v in sorted(
                self_by_cat.items(), key=lambda kv: -kv[1])},
            "top_self": [{"function": k, "seconds": round(v, 3)} for k, v in sorted(
                self_by_fn.items(), key=lambda kv: -kv[1])[:top]],
            "bot_inclusive": [{"function": k, "seconds": round(v, 3)} for k, v in ours]}
