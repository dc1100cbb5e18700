"""The coordinator's round trip: a report returned comes back, and whoever returned it is told
in chat, with the rows that changed and a way to accept it at once (a button; on a channel
without buttons, the command to type)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.app import App
from bot.runtime import Running, start
from bot.settings import Settings

from .conftest import Clock, Person, invite
from .fake_telegram import FakeTelegram
from .filing import SCHOOL, file_report, sign_in
from .test_coordinators_e2e import known_values, school_form, submit_known_values
from .test_report_conversation import stored_report
from .test_telegram_e2e import FlowingClock, deep_link_sign_in
from .test_web_console import text_of

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
    told = "\n".join(await school.chat.deliver())
    assert "Thầy/cô vui lòng sửa" in told and "Anh/chị" not in told, told  # a school
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
    told = "\n".join(await school.chat.deliver())
    assert "đã được duyệt. Cảm ơn thầy/cô!" in told, told
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


@pytest.fixture
async def telegram_bot(tg, db_url: str, tmp_path: Path) -> AsyncIterator[Running]:  # noqa: ANN001
    from .conftest import VN, seed_reference_data

    clock = FlowingClock(datetime(2023, 10, 9, 9, 0, tzinfo=VN))
    settings = Settings(database_url=db_url, telegram_bot_token=tg.token,
                        telegram_api_base=tg.base_url, telegram_rate_per_chat=50,
                        files_dir=str(tmp_path / "files"), reminder_tick_seconds=0)
    running = await start(settings, clock=clock)
    await seed_reference_data(running.app, tmp_path)
    yield running
    await running.stop()


async def test_on_telegram_the_notice_has_an_accept_button_that_accepts(
        telegram_bot: Running, tg: FakeTelegram):
    form = school_form()
    values = known_values(1, form)
    teacher = tg.user(4000, "Cô Lan")
    await deep_link_sign_in(telegram_bot, teacher, "TH-ANLAO")
    await submit_known_values(teacher, form, values)
    chairman = tg.user(4100, "Chủ tịch xã An Lão")
    await chairman.send(f"/start {await invite(telegram_bot.app, 'X-ANLAO', role='coordinator')}")
    await chairman.wait_for("cán bộ tổng hợp")
    group = tg.group()
    await group.send(chairman, "/tonghop")  # a group the coordinator is in learns nothing

    await chairman.send("/tralai TH-ANLAO Mục 4.2 chưa khớp với danh sách")
    await teacher.wait_for("Mục 4.2 chưa khớp với danh sách")
    await teacher.press("Sửa báo cáo")
    await teacher.wait_for("Xem lại báo cáo")
    await teacher.send("4.2 1025")
    await teacher.wait_for("4.2 = 1.025")
    await teacher.press("Nộp báo cáo")
    await teacher.wait_for("Cảm ơn")

    notice = await chairman.wait_for("đã nộp lại báo cáo")
    assert "Trường Tiểu học An Lão" in notice.text
    assert f"4.2 {values['4.2']} người → 1.025 người" in notice.text
    assert [b.get("text") for b in notice.buttons] == ["Duyệt báo cáo"]
    assert "/duyet" not in notice.text  # a button, not a command to type
    await chairman.press("Duyệt báo cáo")
    await chairman.wait_for("Đã duyệt báo cáo của Trường Tiểu học An Lão")
    await teacher.wait_for("đã được duyệt")
    assert not any("nộp lại" in m.text for m in group.messages())


async def test_a_return_with_a_comment_on_each_row_asks_those_rows_first(app: App, clock: Clock):
    school = await file_report(app, "TH-ANLAO", SCHOOL, {"4.2": 1250, "8.3": 2000000})
    commune = await sign_in(app, "X-ANLAO", role="coordinator", user="ubnd-anlao")
    reply = await commune.say("/tralai TH-ANLAO 8.3: thiếu chứng từ; 4.2: chưa khớp với danh "
                              "sách")
    assert "Ý kiến cho 2 câu: 4.2, 8.3" in reply, reply
    told = "\n".join(await school.chat.deliver())
    assert "4.2: chưa khớp với danh sách" in told
    view = await commune.say("/xem TH-ANLAO")  # the coordinator reads them beside the rows
    assert "4.2  1.250 người — 💬 ý kiến: “chưa khớp với danh sách” (chưa trả lời)" in view, view

    reply = await school.say("/baocao")
    # the first row asked about, in form order, with its comment beside it
    assert "4.2. " in reply and "Ý kiến của cán bộ tổng hợp: chưa khớp với danh sách" in reply
    assert "Câu trả lời hiện tại: 1.250 người" in reply
    reply = await school.say("1025")
    assert "8.3. " in reply and "Ý kiến của cán bộ tổng hợp: thiếu chứng từ" in reply, reply
    reply = await school.say("giữ nguyên")
    assert "Xem lại báo cáo" in reply, reply
    line_42 = next(x for x in reply.splitlines() if x.startswith("4.2 "))
    line_83 = next(x for x in reply.splitlines() if x.startswith("8.3 "))
    assert "ý kiến: “chưa khớp với danh sách” (đã trả lời)" in line_42
    assert "ý kiến: “thiếu chứng từ” (chưa trả lời)" in line_83
    assert "Đã trả lời 1/2 ý kiến của cán bộ tổng hợp; còn: 8.3." in reply
    reply = await school.say("8.3 2000000 ghi chú: chứng từ gửi kèm bản giấy")
    reply = await school.say("Xem lại")
    assert "Đã trả lời đủ 2 ý kiến của cán bộ tổng hợp." in reply, reply
    reply = await school.say("Nộp báo cáo")
    assert "đã được nộp" in reply
    report = await stored_report(app, "TH-ANLAO")
    assert report.answers["4.2"] == 1025 and report.status == "submitted"

    told = "\n".join(await commune.chat.deliver())  # the notice says the comments are answered
    assert "4.2 1.250 người → 1.025 người" in told
    assert "Đã trả lời đủ 2 ý kiến của cán bộ tổng hợp." in told, told
    view = await commune.say("/xem TH-ANLAO")  # the history keeps the comments
    assert "8.3: thiếu chứng từ; 4.2: chưa khớp với danh sách" in view, view
    assert "4.2 1.250 người → 1.025 người" in view
    # once sent again, the comments no longer show to the reporter
    assert "Ý kiến của cán bộ tổng hợp" not in await school.say("/baocao")


async def test_a_comment_on_a_row_the_form_lacks_is_refused_and_nothing_returned(
        app: App, clock: Clock):
    school = await file_report(app, "TH-ANLAO", SCHOOL)
    commune = await sign_in(app, "X-ANLAO", role="coordinator", user="ubnd-anlao")
    reply = await commune.say("/tralai TH-ANLAO 4.2: chưa khớp; 9.9: thiếu")
    assert "không có câu 9.9" in reply and "/tralai TH-ANLAO 4.2:" in reply, reply
    assert (await stored_report(app, "TH-ANLAO")).status == "submitted"
    assert await school.chat.deliver() == []
    # a reason without row numbers is a general reason, as before
    reply = await commune.say("/tralai TH-ANLAO Mục 4: thiếu số liệu")
    assert "trả lại" in reply.lower() and "Ý kiến cho" not in reply
    assert "Ý kiến của cán bộ tổng hợp" not in await school.say("/baocao")


async def test_the_web_console_returns_with_a_comment_beside_each_row(console: Running,
                                                                       tg: FakeTelegram):
    from .web_console import (
        base_url,
        client,
        coordinator,
        csrf_of,
        link_from_chat,
        report_through_chat,
    )
    from .web_console import sign_in as web_sign_in

    people = await report_through_chat(console, tg)
    chairman = await coordinator(console, tg, "X-ANLAO", 4104, "Chủ tịch xã")
    base = base_url(console)
    async with client() as http:
        await web_sign_in(http, await link_from_chat(chairman))
        async with http.get(base + "/web/unit/TH-ANLAO") as page:
            html = await page.text()
        assert 'name="row:4.2"' in html and 'name="row:8.3"' in html  # a field beside each row
        period = re.search(r'name="period" value="(\d+)"', html).group(1)
        data = {"csrf": csrf_of(html), "period": period, "reason": "",
                "row:4.2": "chưa khớp với danh sách; xem lại", "row:8.3": "",
                "row:5.1": "  "}
        async with http.post(base + "/web/unit/TH-ANLAO/return", data=data) as after:
            words = text_of(await after.text())
        assert "Đã trả lại báo cáo của Trường Tiểu học An Lão" in words, words
        assert "Ý kiến cho 1 câu: 4.2" in words
        teacher = people["TH-ANLAO"]
        await teacher.wait_for("4.2: chưa khớp với danh sách, xem lại")
        await teacher.press("Sửa báo cáo")
        asked = await teacher.wait_for("Ý kiến của cán bộ tổng hợp: chưa khớp với danh sách")
        assert "4.2. " in asked.text
        await teacher.send("777")
        review = await teacher.wait_for("Xem lại báo cáo")
        assert "Đã trả lời đủ 1 ý kiến của cán bộ tổng hợp." in review.text
        await teacher.press("Nộp báo cáo")
        await teacher.wait_for("Cảm ơn")
        notice = await chairman.wait_for("đã nộp lại báo cáo")
        assert "→ 777 người" in notice.text
        async with http.get(base + "/web/unit/TH-ANLAO") as page:
            history = text_of(await page.text())
        assert "4.2: chưa khớp với danh sách, xem lại" in history  # the history keeps it
        # a return with neither a reason nor a comment is refused, saying what is expected
        async with http.get(base + "/web/unit/TH-ANLAO") as page:
            html = await page.text()
        data = {"csrf": csrf_of(html), "period": period, "reason": " ", "row:4.2": ""}
        async with http.post(base + "/web/unit/TH-ANLAO/return", data=data) as after:
            words = text_of(await after.text())
        assert "lý do" in words
        assert await _status(console, "TH-ANLAO") == "submitted"


async def _status(bot: Running, code: str) -> str:
    report = await stored_report(bot.app, code)
    return report.status if report else "none"


async def test_the_level_the_reports_go_to_is_told_once_its_whole_line_is_in(
        app: App, clock: Clock):
    """The province returns a school's report; the school sends it again. The province (who
    returned it) is told; the commune the schools report to is told too, but only once every
    unit reporting to it has submitted."""
    school = await file_report(app, "TH-ANLAO", SCHOOL, {"4.2": 40})
    await file_report(app, "THCS-ANLAO", SCHOOL)
    province = await sign_in(app, "HP", role="coordinator", user="so-gd")
    commune = await sign_in(app, "X-ANLAO", role="coordinator", user="ubnd-anlao")
    await province.say("/tralai TH-ANLAO 4.2: chưa khớp với danh sách")
    await school.say("/baocao")
    await school.say("41")
    await school.say("Nộp báo cáo")
    assert "đã nộp lại báo cáo" in "\n".join(await province.chat.deliver())
    assert await commune.chat.deliver() == []  # the learning centre has not reported yet

    await file_report(app, "TTHTCD-ANLAO", SCHOOL)
    await province.say("/tralai TH-ANLAO 4.2: vẫn chưa khớp")
    await school.say("/baocao")
    await school.say("42")
    await school.say("Nộp báo cáo")
    told = "\n".join(await commune.chat.deliver())
    assert "Trường Tiểu học An Lão đã nộp lại báo cáo" in told, told
    assert "4.2 41 người → 42 người" in told
    assert "Xã An Lão đã nhận đủ báo cáo của 3/3 đơn vị" in told
    assert "/duyet TH-ANLAO" in told
    assert "đã nộp lại báo cáo" in "\n".join(await province.chat.deliver())
    assert "đã duyệt" in (await commune.say("/duyet TH-ANLAO")).lower()
