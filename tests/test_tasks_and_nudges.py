"""Task check-ins from the seed 003 timetable, `/nhac` for coordinators, `remind preview`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from bot import admin
from bot.app import App
from bot.cli import app as cli
from bot.storage.models import OutboxMessage, TaskCheckin
from conversations.campaigns import CAMPAIGNS_DIR, load_campaign_file

from .conftest import Clock, Person, invite


@pytest.fixture
async def phuc_dong(app: App, tmp_path: Path, clock: Clock) -> App:
    """The demo tree, plus the 2022 Week of Phúc Đồng with its timetable of tasks."""
    async with app.sessions() as session, session.begin():
        spec = load_campaign_file(CAMPAIGNS_DIR / "tuan-le-htsd-2022-phuc-dong.yaml")
        await admin.load_campaign(session, spec, app.clock())
    clock.set("2022-09-26T09:00")  # three days before the banners are due
    return app


async def reminders_to(app: App, chat: str) -> list[str]:
    async with app.sessions() as session:
        rows = (await session.scalars(select(OutboxMessage).where(
            OutboxMessage.chat_id == chat, OutboxMessage.dedupe_key.is_not(None))
            .order_by(OutboxMessage.id))).all()
    return [r.payload["text"] for r in rows]


async def test_a_task_reminder_is_answered_in_one_word_and_shows_in_the_digest(
        phuc_dong: App, person, clock: Clock):
    ward = Person(phuc_dong, "can-bo-phuong")
    await ward.say(await invite(phuc_dong, "P-VINHBAO"))
    school = Person(phuc_dong, "hieu-truong")
    await school.say(await invite(phuc_dong, "THPT-VINHBAO"))
    await phuc_dong.dispatcher.reminders.tick(clock())
    texts = await reminders_to(phuc_dong, "can-bo-phuong")
    assert any("Treo băng rôn, khẩu hiệu tại các trục đường chính" in t for t in texts)
    # Two tasks are waiting for the ward: a word answer asks which one.
    reply = await ward.say("đã xong")
    assert "Anh/chị trả lời cho việc nào?" in reply
    reply = await ward.say("1")
    assert "Đã ghi nhận: Phường Vĩnh Bảo đã hoàn thành" in reply
    reply = await school.say("chưa")
    assert "chưa hoàn thành “Treo băng rôn, khẩu hiệu tại trụ sở và các nhà trường”" in reply
    async with phuc_dong.sessions() as session:
        answers = {(c.unit_id, c.done) for c in (await session.scalars(
            select(TaskCheckin))).all()}
    assert len(answers) == 2 and {done for _, done in answers} == {True, False}
    # A tick again the same morning sends no second reminder.
    before = len(await reminders_to(phuc_dong, "can-bo-phuong"))
    clock.now += timedelta(minutes=30)
    await phuc_dong.dispatcher.reminders.tick(clock())
    assert len(await reminders_to(phuc_dong, "can-bo-phuong")) == before


async def test_coordinators_nudge_their_units_at_most_once_an_hour(app: App, person,
                                                                   clock: Clock):
    thu = Person(app, "thu")
    await thu.say(await invite(app, "X-ANLAO"))
    lan = Person(app, "lan")
    await lan.say(await invite(app, "TH-ANLAO"))
    reply = await thu.say("/nhac")
    assert "dành cho cán bộ tổng hợp" in reply
    boss = Person(app, "chu-tich-xa")
    await boss.say(await invite(app, "X-ANLAO", role="coordinator"))
    reply = await boss.say("/nhac")
    assert "Đã gửi lời nhắc" in reply and "1 người của" in reply
    assert len(await reminders_to(app, "lan")) == 1  # the school below the commune
    assert await reminders_to(app, "thu") == []  # the commune itself is not below its own
    reply = await boss.say("/nhac")
    assert "lần nhắc tiếp theo có thể gửi sau" in reply
    clock.now += timedelta(hours=1, minutes=1)
    reply = await boss.say("/nhac")
    assert "Đã gửi lời nhắc" in reply
    assert len(await reminders_to(app, "lan")) == 2


def test_remind_preview_prints_who_gets_what(db_url: str, monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path):
    monkeypatch.setenv("BAOCAO_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["demo", "seed"]).exit_code == 0
    result = runner.invoke(cli, ["remind", "preview", "--campaign", "tuan-le-htsd-2023",
                                 "--at", "2023-10-10 08:00"])
    assert result.exit_code == 0, result.output
    assert "Nothing is due" in result.output  # nobody has signed in yet: no one to remind
    result = runner.invoke(cli, ["remind", "preview", "--campaign", "tuan-le-htsd-2023",
                                 "--at", "2023-13-10 08:00"])
    assert result.exit_code == 1 and "--at expects" in result.output
    assert yaml  # noqa: B018 - keep the import for campaign files above


async def test_the_zalo_budget_warns_admins_at_80_and_100_percent(app: App, clock: Clock):
    from bot.delivery.budget import check_zalo_budget
    from bot.storage.models import Contact, Identity, ProcessedMessage

    now = clock()
    async with app.sessions() as session, session.begin():
        admin_contact = Contact(name="Quản trị", role="admin", language="vi", active=True,
                                created_at=now)
        session.add(admin_contact)
        await session.flush()
        session.add(Identity(channel="local", external_user_id="qt", chat_id="qt",
                             contact_id=admin_contact.id, created_at=now))
        for i in range(79):
            session.add(ProcessedMessage(channel="zalo", chat_id="z", message_id=f"m{i}",
                                         processed_at=now))
    assert await check_zalo_budget(app.sessions, app.catalog, 100, now) == 0
    async with app.sessions() as session, session.begin():
        session.add(ProcessedMessage(channel="zalo", chat_id="z", message_id="m80",
                                     processed_at=now))
    assert await check_zalo_budget(app.sessions, app.catalog, 100, now) == 1
    assert await check_zalo_budget(app.sessions, app.catalog, 100, now) == 0  # once a month
    texts = await reminders_to(app, "qt")
    assert len(texts) == 1 and "đã dùng 80/100 tin" in texts[0]
    async with app.sessions() as session, session.begin():
        for i in range(20):
            session.add(ProcessedMessage(channel="zalo", chat_id="z", message_id=f"n{i}",
                                         processed_at=now))
    assert await check_zalo_budget(app.sessions, app.catalog, 100, now) == 1
