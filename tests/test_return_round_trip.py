"""The coordinator's round trip: a report returned comes back, and whoever returned it is told
in chat, with the rows that changed and a way to accept it at once (a button; on a channel
without buttons, the command to type)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.app import App

from .conftest import Clock, Person
from .filing import SCHOOL, file_report, sign_in
from .test_report_conversation import stored_report

pytestmark = pytest.mark.slow


async def _press(app: App, person: Person, token: str) -> str:
    """A button pressed in the chat (as Telegram sends a callback), its replies as shown."""
    event = replace(person.chat.event(""), kind="button", payload=token)
    await app.dispatcher.handle(event)
    await app.dispatcher.settle()
    return "\n---\n".join(await person.chat.deliver())


async def test_the_coordinator_who_returned_a_report_is_told_when_it_comes_back(
        app: App, clock: Clock):
    school = await file_report(app, "TH-ANLAO", SCHOOL, {"4.2": 1250})
    commune = await sign_in(app, "X-ANLAO", role="coordinator", user="ubnd-anlao")
    other = await sign_in(app, "X-ANTHANG", role="coordinator", user="ubnd-anthang")
    clock.now += timedelta(hours=1)
    await commune.say("/tralai TH-ANLAO Mục 4.2 chưa khớp với danh sách")
    await school.chat.deliver()
    assert "chưa khớp" in await school.say("/baocao")
    await school.say("4.2 1025")
    clock.now += timedelta(hours=1)
    reply = await school.say("Nộp báo cáo")
    assert "đã được nộp" in reply
    told = "\n".join(await commune.chat.deliver())
    assert "Trường Tiểu học An Lão đã nộp lại báo cáo" in told, told
    assert "4.2 1.250 người → 1.025 người" in told
    assert "/duyet TH-ANLAO" in told  # the local chat, as Zalo, has no buttons: typed
    assert await other.chat.deliver() == []  # nobody else is told
    assert "/duyet" not in "\n".join(await school.chat.deliver())

    reply = await _press(app, commune, "/duyet TH-ANLAO")
    assert "đã duyệt" in reply.lower(), reply
    assert (await stored_report(app, "TH-ANLAO", "tuan-le-htsd-2023")).status == "accepted"
    assert "đã được duyệt" in "\n".join(await school.chat.deliver())
    # pressed again, the same code as /duyet answers
    assert "đã được duyệt" in (await _press(app, commune, "/duyet TH-ANLAO")).lower()


async def test_a_note_changed_is_listed_in_the_notice(app: App, clock: Clock):
    school = await file_report(app, "TH-ANLAO", SCHOOL, {"4.2": 30})
    commune = await sign_in(app, "X-ANLAO", role="coordinator", user="ubnd-anlao")
    await commune.say("/tralai TH-ANLAO Xin bổ sung ghi chú mục 8")
    await school.say("/baocao")
    await school.say("8.1 2 ghi chú: tập thể lớp 5A")
    await school.say("Nộp báo cáo")
    told = "\n".join(await commune.chat.deliver())
    assert "đã nộp lại báo cáo" in told and "8.1" in told, told
