"""The life of a report: submitted on time or late by when it was received, returned with a
reason (reopened after the lock until a correction deadline), corrected, accepted; the history
says who did what and why."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot import admin
from bot.app import App
from conversations.campaigns import parse_campaign
from conversations.events import InboundEvent

from .conftest import VN, Clock
from .filing import COMMUNE, file_report, sign_in
from .test_report_conversation import stored_report

pytestmark = pytest.mark.slow

LOCKED_WEEK = {
    "id": "tuan-le-khoa",
    "title": {"vi": "Tuần lễ có khóa sổ", "en": "A week with a lock"},
    "forms": [{"form": "tuan-le-htsd", "kinds": ["commune", "ward", "town"]},
              {"form": "tuan-le-htsd-truong", "kinds": ["school", "centre", "learning_centre"],
               "reports_to": ["commune", "ward", "town"]}],
    "periods": [{"key": "2023", "label": "Tuần lễ 2023", "start": "2023-10-02",
                 "end": "2023-10-08", "due_before": "2023-10-13",
                 "lock_at": "2023-10-15 00:00"}],
}


async def _only_locked_week(app: App) -> None:
    """The bundled 2023 Week replaced by the same week with a lock on 15/10."""
    from sqlalchemy import delete, select

    from bot.storage.models import Campaign, Period

    async with app.sessions() as session, session.begin():
        old = await session.scalar(select(Campaign).where(Campaign.key == "tuan-le-htsd-2023"))
        await session.execute(delete(Period).where(Period.campaign_id == old.id))
        await session.delete(old)
        await admin.load_campaign(session, parse_campaign(LOCKED_WEEK), app.clock())


async def test_a_report_returned_after_the_lock_is_reopened_for_that_unit_alone(
        app: App, clock: Clock):
    await _only_locked_week(app)
    thu = await file_report(app, "X-ANLAO", COMMUNE, {"4.2": 150})
    late_one = await sign_in(app, "X-ANTHANG")
    boss = await sign_in(app, "HP", role="coordinator")
    clock.set("2023-10-16 10:00")
    reply = await boss.say("/tralai X-ANLAO Số người mục 4.2 chưa khớp danh sách")
    assert "19/10/2023" in reply  # reopened for three days, said to the coordinator
    told = "\n".join(await thu.chat.deliver())
    assert "Số người mục 4.2 chưa khớp danh sách" in told
    assert "10:00 ngày 19/10/2023" in told  # and to the unit

    assert "chưa có báo cáo nào" in await late_one.say("/baocao")  # the others stay locked
    reply = await thu.say("/baocao")
    assert "Trả lại để chỉnh sửa" in reply or "trả lại" in reply.lower()
    reply = await thu.say("4.2 180")
    reply = await thu.say("Nộp báo cáo")
    assert "đã được nộp" in reply and "đúng hạn" in reply
    report = await stored_report(app, "X-ANLAO", "tuan-le-khoa")
    assert report.status == "submitted" and report.on_time is True
    assert report.answers["4.2"] == 180
    summary = await boss.say("/tonghop")
    assert "tọa đàm: 180 người" in summary

    # Once the correction deadline has passed, the report is closed again.
    await boss.say("/tralai X-ANLAO Xin bổ sung ghi chú mục 8")
    clock.set("2023-10-20 10:00")
    reply = await thu.say("/baocao")
    assert "chưa có báo cáo nào" in reply or "đã khóa" in reply


async def test_on_time_is_decided_by_when_the_message_was_received(app: App, clock: Clock):
    thu = await sign_in(app, "X-ANLAO")
    from .filing import fill

    reply = await fill(thu, COMMUNE)
    assert "Nộp báo cáo" in reply
    # Sent at 23:59:58 on the last day; the bot handles it at 00:00:02 after a restart.
    clock.set("2023-10-13 00:00:02")
    event = InboundEvent(channel="local", chat_id=thu.chat.user, user_id=thu.chat.user,
                         message_id="late-but-not-really", kind="text", text="Nộp báo cáo",
                         received_at=datetime(2023, 10, 12, 23, 59, 58, tzinfo=VN))
    await app.dispatcher.handle(event)
    reply = "\n".join(await thu.chat.deliver())
    assert "đúng hạn" in reply and "23:59 ngày 12/10/2023" in reply
    report = await stored_report(app, "X-ANLAO")
    assert report.status == "submitted" and report.on_time is True


async def test_a_correction_keeps_the_first_status_whoever_asked_for_it(app: App, clock: Clock):
    returned = await file_report(app, "X-ANLAO", COMMUNE, {"4.2": 150})
    own = await file_report(app, "X-ANTHANG", COMMUNE, {"4.2": 70})
    boss = await sign_in(app, "HP", role="coordinator")
    clock.set("2023-10-14 09:00")  # after the deadline
    await boss.say("/tralai X-ANLAO Mục 4 thiếu số liệu")
    await returned.say("/baocao")
    await returned.say("4.2 160")
    reply = await returned.say("Nộp báo cáo")
    assert "đúng hạn" in reply and "muộn" not in reply
    await own.say("/baocao")
    await own.say("4.2 75")
    reply = await own.say("Nộp báo cáo")
    assert "muộn" not in reply
    assert (await stored_report(app, "X-ANLAO")).on_time is True
    assert (await stored_report(app, "X-ANTHANG")).on_time is True


async def test_a_late_report_stays_late_after_a_correction(app: App, clock: Clock):
    clock.set("2023-10-13 09:00")
    late = await file_report(app, "X-ANLAO", COMMUNE)
    boss = await sign_in(app, "HP", role="coordinator")
    await boss.say("/tralai X-ANLAO Mục 4 thiếu số liệu")
    await late.say("/baocao")
    await late.say("4.2 160")
    reply = await late.say("Nộp báo cáo")
    assert "muộn" in reply
    assert (await stored_report(app, "X-ANLAO")).on_time is False


async def test_accepting_a_report_and_its_history(app: App, clock: Clock):
    thu = await file_report(app, "X-ANLAO", COMMUNE, {"4.2": 150})
    boss = await sign_in(app, "HP", role="coordinator", user="so-gd")
    clock.now += timedelta(hours=1)
    reply = await boss.say("/tralai X-ANLAO Mục 4 thiếu số liệu")
    assert "trả lại" in reply.lower()
    await thu.say("/baocao")
    await thu.say("4.2 160")
    await thu.say("Nộp báo cáo")
    clock.now += timedelta(hours=1)
    reply = await boss.say("/duyet X-ANLAO")
    assert "đã duyệt" in reply.lower()
    told = "\n".join(await thu.chat.deliver())
    assert "đã được duyệt" in told
    assert (await stored_report(app, "X-ANLAO")).status == "accepted"

    # An accepted report changes only when it is returned.
    reply = await thu.say("/baocao")
    assert "đã được duyệt" in reply
    reply = await thu.say("4.2 999")
    assert (await stored_report(app, "X-ANLAO")).answers["4.2"] == 160
    summary = await boss.say("/tonghop")
    assert "đã duyệt 1" in summary.lower() and "tọa đàm: 160 người" in summary

    view = await boss.say("/xem X-ANLAO")
    assert "Đã duyệt" in view
    history = view[view.index("Lịch sử"):]
    assert "trả lại" in history.lower() and "Mục 4 thiếu số liệu" in history
    assert "so-gd" in history  # who returned and who accepted
    assert "duyệt" in history.lower()
    assert "4.2 150 người → 160 người" in history

    assert "chưa nộp" in (await boss.say("/duyet X-ANTHANG")).lower()  # nothing to accept
    assert "không thuộc" in (await boss.say("/duyet NOWHERE")).lower()


async def test_a_commune_coordinator_views_the_communes_own_report(app: App):
    await file_report(app, "X-ANLAO", COMMUNE, {"4.2": 150})
    chief = await sign_in(app, "X-ANLAO", role="coordinator", user="chu-tich-xa")
    view = await chief.say("/xem X-ANLAO")
    assert "Xã An Lão (X-ANLAO)" in view and "4.2  150 người" in view
    # but cannot accept or return the commune's own report: that is for the level above
    reply = await chief.say("/duyet X-ANLAO")
    assert (await stored_report(app, "X-ANLAO")).status == "submitted"
    assert "không thuộc" in reply.lower() or "cấp trên" in reply.lower()


def test_a_telegram_message_is_timed_by_its_own_date_a_button_press_by_its_arrival():
    from aiogram.types import Update

    from bot.channels.telegram.translate import received

    handled = datetime(2023, 10, 13, 0, 0, 2, tzinfo=VN)
    sent = datetime(2023, 10, 12, 23, 59, 58, tzinfo=VN)
    user = {"id": 7, "is_bot": False, "first_name": "Thu"}
    chat = {"id": 7, "type": "private", "first_name": "Thu"}
    message = Update.model_validate({"update_id": 1, "message": {
        "message_id": 5, "date": int(sent.timestamp()), "chat": chat, "from": user,
        "text": "Nộp báo cáo"}})
    assert received(message, handled).event.received_at == sent
    future = Update.model_validate({"update_id": 2, "message": {
        "message_id": 6, "date": int((handled + timedelta(hours=1)).timestamp()), "chat": chat,
        "from": user, "text": "x"}})
    assert received(future, handled).event.received_at == handled  # a clock ahead: not trusted
    press = Update.model_validate({"update_id": 3, "callback_query": {
        "id": "q1", "from": user, "chat_instance": "c", "data": "submit",
        "message": {"message_id": 4, "date": int(sent.timestamp()) - 3600, "chat": chat,
                    "text": "Xem lại"}}})
    assert received(press, handled).event.received_at == handled
