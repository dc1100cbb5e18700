"""A frozen-clock run through a whole campaign calendar, delivered through the outbox to the
fake Telegram server: 20 communes with 2 reporters each, 15 submitting at scattered times (3 of
them late), one reporter who blocked the bot, the bot down for 10 hours and restarted 5 times.
Every reminder and digest is checked against the calendar worked out by hand."""

from __future__ import annotations

import asyncio
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from bot import admin
from bot.app import App, build_app
from bot.runtime import Running, start
from bot.settings import Settings
from bot.storage.models import (
    CampaignForm,
    Contact,
    ContactUnit,
    Identity,
    OutboxMessage,
    Period,
    Submission,
    Unit,
)
from conversations.campaigns import bundled_campaign_files, load_campaign_file
from conversations.forms import bundled_form_files, load_form_file

from .conftest import VN
from .fake_telegram import FakeTelegram

pytestmark = pytest.mark.slow

COMMUNES = [f"X{i:02d}" for i in range(1, 21)]
COORDINATOR = 9000


@dataclass(frozen=True)
class Calendar:
    campaign: str
    first: str
    last: str
    reminders: tuple[tuple[str, str], ...]  # (kind, local time) of the reporter reminders
    digests: tuple[str, ...]
    down: tuple[str, str]  # the 10 hours the bot is stopped
    submissions: dict[str, str]  # commune → when it submits (3 after the deadline)


WEEK = Calendar(
    "tuan-le-htsd-2023", "2023-10-01T12:00", "2023-10-16T12:00",
    (("opening", "2023-10-02T07:00"), ("before", "2023-10-10T07:00"),
     ("before", "2023-10-12T08:00"), ("overdue", "2023-10-13T08:00"),
     ("overdue", "2023-10-14T08:00"), ("overdue", "2023-10-15T08:00")),
    ("2023-10-12T08:00", "2023-10-13T08:00"),
    ("2023-10-11T22:30", "2023-10-12T08:30"),
    {"X01": "2023-10-02T10:10", "X02": "2023-10-03T15:40", "X03": "2023-10-05T09:20",
     "X04": "2023-10-06T16:50", "X05": "2023-10-09T08:15", "X06": "2023-10-10T07:50",
     "X07": "2023-10-10T14:05", "X08": "2023-10-11T10:35", "X09": "2023-10-11T20:40",
     "X10": "2023-10-12T09:55", "X11": "2023-10-12T16:25", "X12": "2023-10-12T23:45",
     "X13": "2023-10-13T10:10", "X14": "2023-10-14T09:20", "X15": "2023-10-15T15:05"},
)
MONTH = Calendar(
    "thang-khuyen-hoc-2024", "2024-09-04T12:00", "2024-10-09T12:00",
    (("opening", "2024-09-05T07:00"), ("before", "2024-10-03T07:00"),
     ("before", "2024-10-05T08:00"), ("overdue", "2024-10-06T08:00"),
     ("overdue", "2024-10-07T08:00"), ("overdue", "2024-10-08T08:00")),
    ("2024-10-05T08:00", "2024-10-06T08:00"),
    ("2024-10-04T22:30", "2024-10-05T08:30"),
    {"X01": "2024-09-06T10:10", "X02": "2024-09-10T15:40", "X03": "2024-09-20T09:20",
     "X04": "2024-09-28T16:50", "X05": "2024-10-01T08:15", "X06": "2024-10-03T07:50",
     "X07": "2024-10-03T14:05", "X08": "2024-10-04T10:35", "X09": "2024-10-04T20:40",
     "X10": "2024-10-05T09:55", "X11": "2024-10-05T16:25", "X12": "2024-10-05T23:45",
     "X13": "2024-10-06T10:10", "X14": "2024-10-07T09:20", "X15": "2024-10-08T15:05"},
)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=VN)


class SteppedClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def reporter_id(commune: str, n: int) -> int:
    return 1000 + int(commune[1:]) * 10 + n




async def seed(app: App, tmp_path: Path, campaign: str) -> None:
    rows = ["code,name,kind,parent_code", "P,Thành phố Hải Phòng,province,"]
    rows += [f"{c},Xã {c},commune,P" for c in COMMUNES]
    (tmp_path / "units.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    now = app.clock()
    async with app.sessions() as session, session.begin():
        await admin.import_units(session, tmp_path / "units.csv")
        for path in bundled_form_files():
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
            await admin.load_form(session, load_form_file(path), raw, now)
        spec = next(load_campaign_file(p) for p in bundled_campaign_files() if p.stem == campaign)
        await admin.load_campaign(session, spec, now)
        units = {u.code: u.id for u in (await session.scalars(select(Unit))).all()}
        people = [(COORDINATOR, "Chủ tịch Hội", "P", "coordinator")]
        people += [(reporter_id(c, n), f"Cán bộ {c}-{n}", c, "reporter")
                   for c in COMMUNES for n in (1, 2)]
        for uid, name, unit, role in people:
            contact = Contact(name=name, role=role, language="vi", active=True, created_at=now)
            session.add(contact)
            await session.flush()
            session.add(ContactUnit(contact_id=contact.id, unit_id=units[unit]))
            session.add(Identity(channel="telegram", external_user_id=str(uid),
                                 chat_id=str(uid), display_name=name, contact_id=contact.id,
                                 created_at=now))


async def submit(app: App, commune: str, when: datetime) -> None:
    async with app.sessions() as session, session.begin():
        unit_id = await session.scalar(select(Unit.id).where(Unit.code == commune))
        period = await session.scalar(select(Period))
        form_id = await session.scalar(select(CampaignForm.form_id).where(
            CampaignForm.unit_kind == "commune"))
        session.add(Submission(unit_id=unit_id, period_id=period.id, form_id=form_id,
                               status="submitted", revision=1, submitted_at=when,
                               on_time=when < period.deadline, return_comment="",
                               created_at=when, updated_at=when))


async def drained(app: App, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with app.sessions() as session:
            left = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.sent_at.is_(None), OutboxMessage.failed.is_(None)))
        if not left:
            return
        assert asyncio.get_running_loop().time() < deadline, f"{left} messages not delivered"
        await asyncio.sleep(0.05)


def kind_of(text: str) -> str:
    if text.startswith("Kính báo"):
        return "opening"
    if "quá hạn" in text:
        return "overdue"
    return "before"


@pytest.mark.parametrize("calendar", [WEEK, MONTH], ids=["week-2023", "month-2024"])
async def test_a_whole_campaign_calendar(calendar: Calendar, tg: FakeTelegram, db_url: str,
                                         tmp_path: Path):
    clock = SteppedClock(local(calendar.first))
    settings = Settings(database_url=db_url, telegram_bot_token=tg.token,
                        telegram_api_base=tg.base_url, telegram_rate_per_chat=50,
                        reminder_tick_seconds=3600)
    app = await build_app(settings, clock=clock)
    await seed(app, tmp_path, calendar.campaign)
    await app.close()
    blocked = reporter_id("X20", 2)
    tg.blocked_by.add(blocked)

    rng = random.Random(calendar.campaign)
    steps = []
    t = local(calendar.first)
    while t <= local(calendar.last):
        steps.append(t)
        t += timedelta(minutes=30)
    down_from, down_to = local(calendar.down[0]), local(calendar.down[1])
    restarts = set(rng.sample([s for s in steps if not down_from <= s < down_to], 5))
    pending = sorted((local(when), commune) for commune, when in calendar.submissions.items())
    submitted_at: dict[str, datetime] = {}
    sent_at: dict[str, datetime] = {}  # slot → when the bot actually sent it

    running: Running | None = await start(settings, clock=clock)
    try:
        for step in steps:
            clock.now = step
            while pending and pending[0][0] <= step:
                when, commune = pending.pop(0)
                clock.now = when
                await submit(running.app if running else app, commune, when)
                submitted_at[commune] = when
                clock.now = step
            if down_from <= step < down_to:
                if running is not None:
                    await running.stop()
                    running = None
                continue
            if running is None or step in restarts:
                if running is not None:
                    await running.stop()
                running = await start(settings, clock=clock)
            await running.reminder_tick()
            await running.reminder_tick()  # a tick that runs twice sends nothing twice
            await drained(running.app)
            for _kind, slot in calendar.reminders + tuple(("digest", d) for d in
                                                         calendar.digests):
                if local(slot) <= step and slot not in sent_at:
                    sent_at[slot] = step
    finally:
        if running is not None:
            await running.stop()

    # The slot covered by the downtime went out once, when the bot came back.
    assert sent_at[calendar.reminders[2][1]] == down_to
    # Every reporter got exactly the reminders due while their commune had not submitted.
    for commune in COMMUNES:
        for n in (1, 2):
            uid = reporter_id(commune, n)
            got = [(kind_of(m.text), m.date) for m in tg.sent_to(uid)]
            if uid == blocked:
                assert got == []
                continue
            expected = [kind for kind, slot in calendar.reminders
                        if commune not in submitted_at or submitted_at[commune] > sent_at[slot]]
            assert [k for k, _ in got] == expected, (commune, n)
    # The coordinator: one note about the reporter who blocked the bot, and two digests.
    boss = [m.text for m in tg.sent_to(COORDINATOR)]
    assert sum("Không gửi được tin nhắn cho Cán bộ X20-2" in t for t in boss) == 1
    digests = [t for t in boss if t.startswith("Tổng hợp")]
    assert len(digests) == 2
    first_digest = sent_at[calendar.digests[0]]
    missing = sorted(c for c in COMMUNES
                     if c not in submitted_at or submitted_at[c] > first_digest)
    parts = re.search(r"đã nộp (\d+) .* trả lại (\d+) · đang soạn (\d+) · chưa bắt đầu (\d+) · "
                      r"tổng 20 đơn vị", digests[0])
    assert parts, digests[0]
    assert sum(int(n) for n in parts.groups()[1:]) == len(missing)
    assert int(parts.group(1)) == 20 - len(missing)
    for commune in missing:
        assert f"• Xã {commune} (" in digests[0]
    second = sent_at[calendar.digests[1]]
    on_time = sum(1 for when in submitted_at.values() if when < local(calendar.reminders[3][1]))
    assert f"đã nộp {on_time} (đúng hạn {on_time}, muộn 0;" in digests[1]
    parts = re.search(r"trả lại (\d+) · đang soạn (\d+) · chưa bắt đầu (\d+) · tổng 20 đơn vị",
                      digests[1])
    assert parts and sum(int(n) for n in parts.groups()) == 20 - on_time
    assert second == local(calendar.digests[1])
    # Nothing was queued in quiet hours, and no reminder twice.
    app = await build_app(settings, clock=clock)
    async with app.sessions() as session:
        rows = (await session.execute(select(OutboxMessage.created_at, OutboxMessage.dedupe_key)
                                      .where(OutboxMessage.dedupe_key.is_not(None)))).all()
    await app.close()
    assert rows and all(7 <= created.astimezone(VN).hour < 21 for created, _ in rows)
