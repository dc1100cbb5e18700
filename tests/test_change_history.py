"""The change history (bot/offices/history.py) against a real database: a change is one row
with who, when, what, before → after; no change, no row; a subtree sees only its own."""

from __future__ import annotations

from datetime import timedelta

from bot.app import App
from bot.offices import history
from bot.offices.history import Actor


async def test_changes_are_recorded_newest_first_and_read_within_a_subtree(app: App):
    now = app.clock()
    async with app.sessions() as session:  # the tree the fixture loaded, recorded by the CLI
        seeded = {r.id for r in await history.recent(session)}
    async with app.sessions() as session, session.begin():
        await history.record(session, actor=Actor(), action="campaign.publish",
                             subject="tuan-le-2026", at=now, after={"deadline": "2026-10-13"})
        await history.record(session, actor=Actor("Nguyễn Văn A (0904200040)", None),
                             action="unit.rename", subject="TH-ANLAO",
                             at=now + timedelta(minutes=1), scope_path="/HP/X-ANLAO/TH-ANLAO/",
                             before={"name": "Trường TH An Lão"},
                             after={"name": "Trường Tiểu học An Lão"})
        unchanged = await history.record(session, actor=Actor(), action="unit.rename",
                                         subject="THCS-ANLAO", at=now,
                                         scope_path="/HP/X-ANLAO/THCS-ANLAO/",
                                         before={"name": "x"}, after={"name": "x"})
        await history.record(session, actor=Actor(), action="unit.rename", subject="MN-ANTHANG",
                             at=now, scope_path="/HP/X-ANTHANG/MN-ANTHANG/",
                             before={"name": "a"}, after={"name": "b"})
    assert unchanged is None
    async with app.sessions() as session:
        everything = [r for r in await history.recent(session) if r.id not in seeded]
        commune = [r for r in await history.recent(session, within="/HP/X-ANLAO/")
                   if r.id not in seeded]
    assert [r.subject for r in everything][:1] == ["TH-ANLAO"]
    assert {r.subject for r in everything} == {"tuan-le-2026", "TH-ANLAO", "MN-ANTHANG"}
    assert [(r.actor, r.before, r.after) for r in commune] == [
        ("Nguyễn Văn A (0904200040)", {"name": "Trường TH An Lão"},
         {"name": "Trường Tiểu học An Lão"})]
