"""`baocao demo seed`: a small province to try the bot at once, with a Week open today."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from bot import admin
from bot.storage.models import Unit
from conversations.campaigns import (
    DEFAULT_TIMEZONE,
    bundled_campaign_files,
    load_campaign_file,
    parse_campaign,
)
from conversations.forms import bundled_form_files, load_form_file

DEMO_UNITS: list[tuple[str, str, str, str]] = [
    # code, name, kind, parent code
    ("HP", "Thành phố Hải Phòng", "province", ""),
    ("SGD-HP", "Sở Giáo dục và Đào tạo Hải Phòng", "department", "HP"),
    ("X-ANLAO", "Xã An Lão", "commune", "HP"),
    ("TTHTCD-ANLAO", "Trung tâm học tập cộng đồng xã An Lão", "learning_centre", "X-ANLAO"),
    ("TH-ANLAO", "Trường Tiểu học An Lão", "school", "X-ANLAO"),
    ("THCS-ANLAO", "Trường THCS An Lão", "school", "X-ANLAO"),
    ("X-ANTHANG", "Xã An Thắng", "commune", "HP"),
    ("MN-ANTHANG", "Trường Mầm non An Thắng", "school", "X-ANTHANG"),
    ("GDNN-ANTHANG", "Trung tâm GDNN-GDTX An Thắng", "centre", "X-ANTHANG"),
    ("P-VINHBAO", "Phường Vĩnh Bảo", "ward", "HP"),
    ("THPT-VINHBAO", "Trường THPT Vĩnh Bảo", "school", "P-VINHBAO"),
]
COORDINATOR_UNITS = ("HP", "X-ANLAO", "X-ANTHANG", "P-VINHBAO")
DEMO_CAMPAIGN = "tuan-le-htsd-demo"


def demo_units_csv(path: Path) -> Path:
    lines = ["code,name,kind,parent_code"]
    lines += [",".join(row) for row in DEMO_UNITS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def seed(session: AsyncSession, now: datetime, workdir: Path) -> list[admin.InviteInfo]:
    """Units, the bundled forms and campaigns, a Week open today, and an invite per unit."""
    await admin.import_units(session, demo_units_csv(workdir / "demo-units.csv"))
    for path in bundled_form_files():
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        await admin.load_form(session, load_form_file(path), raw, now)
    week_raw = None
    for path in bundled_campaign_files():
        spec = load_campaign_file(path)
        await admin.load_campaign(session, spec, now)
        if spec.key == "tuan-le-htsd-2023":
            week_raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert week_raw is not None
    await admin.load_campaign(session, parse_campaign(open_today(week_raw, now)), now)
    invites = []
    units = await admin.list_units(session)
    for unit in units:
        if unit.kind in ("province", "department"):
            continue
        invites.append(await admin.create_invite(session, unit.code, "reporter", 5, 30, now))
    for code in COORDINATOR_UNITS:
        invites.append(await admin.create_invite(session, code, "coordinator", 3, 30, now))
    return invites


def open_today(week: dict, now: datetime) -> dict:
    """A copy of the Week 2023 campaign whose one period runs around today."""
    today = now.astimezone(ZoneInfo(week.get("timezone") or DEFAULT_TIMEZONE)).date()
    start, end = today - timedelta(days=2), today + timedelta(days=4)
    due = today + timedelta(days=9)
    copy = dict(week)
    copy["id"] = DEMO_CAMPAIGN
    copy["title"] = {"vi": f"{week['title']['vi']} (bản thử)",
                     "en": f"{week['title']['en']} (demo)"}
    copy["periods"] = [{
        "key": today.strftime("%Y-%m-%d"),
        "label": {"vi": f"Tuần lễ {start:%d/%m} - {end:%d/%m/%Y}",
                  "en": f"Week {start:%d/%m} - {end:%d/%m/%Y}"},
        "start": start, "end": end, "due_before": due,
    }]
    return copy


__all__ = ["seed", "Unit"]
