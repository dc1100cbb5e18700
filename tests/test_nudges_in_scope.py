"""`/nhac` reminds only the coordinator's own subtree, whatever the unit codes hold, never in
quiet hours, and at most once an hour per reporter whoever asks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import App
from bot.storage.models import OutboxMessage, Unit

from .conftest import Clock
from .filing import sign_in

pytestmark = pytest.mark.slow


async def _legacy_units(app: App) -> None:
    """Codes with `_` and `%`, as an older database may hold them (imports refuse them now)."""
    async with app.sessions() as session, session.begin():
        root = await session.scalar(select(Unit).where(Unit.code == "HP"))
        for code, name, kind, parent in [
            ("NB_1", "Xã Nam Bình 1", "commune", root),
            ("NBX1", "Xã Nam Bình X", "commune", root),
            ("N%", "Xã Phần trăm", "commune", root),
        ]:
            unit = Unit(code=code, name=name, kind=kind, parent_id=parent.id,
                        path=f"{parent.path}{code}/")
            session.add(unit)
            await session.flush()
            session.add(Unit(code=f"{code}-MN", name=f"Trường Mầm non {name}", kind="school",
                             parent_id=unit.id, path=f"{unit.path}{code}-MN/"))


async def _nudges(app: App) -> list[OutboxMessage]:
    async with app.sessions() as session:
        return list((await session.scalars(select(OutboxMessage).where(
            OutboxMessage.dedupe_key.like("nudge:%")))).all())


async def test_nhac_reaches_only_the_coordinators_subtree(app: App):
    await _legacy_units(app)
    inside = await sign_in(app, "NB_1-MN", user="mn-nb1")
    outside = await sign_in(app, "NBX1-MN", user="mn-nbx1")
    percent = await sign_in(app, "N%-MN", user="mn-percent")
    chief = await sign_in(app, "NB_1", role="coordinator", user="chu-tich-nb1")
    reply = await chief.say("/nhac")
    assert "1 người" in reply and "1 đơn vị" in reply
    assert "Kính nhắc" in "\n".join(await inside.chat.deliver())
    assert not await outside.chat.deliver()
    assert not await percent.chat.deliver()
    chief_p = await sign_in(app, "N%", role="coordinator", user="chu-tich-percent")
    reply = await chief_p.say("/nhac")
    assert "1 người" in reply
    assert "Kính nhắc" in "\n".join(await percent.chat.deliver())
    assert not await outside.chat.deliver()


async def test_nhac_in_quiet_hours_waits_for_the_morning(app: App, clock: Clock):
    reporter = await sign_in(app, "TH-ANLAO")
    chief = await sign_in(app, "X-ANLAO", role="coordinator")
    clock.set("2023-10-09 22:30")
    reply = await chief.say("/nhac")
    assert "07:00 ngày 10/10/2023" in reply
    assert not await reporter.chat.deliver()  # not at night
    rows = await _nudges(app)
    assert rows and all(r.not_before is not None for r in rows)
    assert rows[0].not_before.astimezone(clock.now.tzinfo).strftime("%d/%m %H:%M") \
        == "10/10 07:00"


async def test_one_nudge_an_hour_per_reporter_whoever_asks(app: App, clock: Clock):
    reporter = await sign_in(app, "TH-ANLAO")
    commune = await sign_in(app, "X-ANLAO", role="coordinator", user="xa")
    province = await sign_in(app, "HP", role="coordinator", user="tinh")
    await commune.say("/nhac")
    assert "Kính nhắc" in "\n".join(await reporter.chat.deliver())
    clock.now += timedelta(minutes=20)
    reply = await province.say("/nhac")
    assert not any("Trường Tiểu học An Lão" in t for t in await reporter.chat.deliver())
    assert "vừa được nhắc" in reply or "đã được nhắc" in reply
    assert len([r for r in await _nudges(app) if r.chat_id == reporter.chat.user]) == 1
    clock.now += timedelta(minutes=50)
    await province.say("/nhac")
    assert "Kính nhắc" in "\n".join(await reporter.chat.deliver())
