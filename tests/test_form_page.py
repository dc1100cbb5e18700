"""The form page (issue 26): the whole report on one screen, from a one-time link the local
chat prints under /baocao; saved and submitted through the chat's engine, so a report filled
in on the page is stored exactly as the same answers typed in chat."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
from sqlalchemy import select

from bot.channels.local_chat import LocalChat
from bot.runtime import Running
from bot.storage.models import Answer, OutboxMessage, Submission, Unit

from .conftest import invite
from .test_coordinators_e2e import known_values, school_form, typed
from .web_console import base_url, client, csrf_of, sign_in

LINK = re.compile(r"http://127\.0\.0\.1:\d+/web/l/[A-Za-z0-9_-]+")
FORM = school_form()
# The first-time reporter's special answers; every other row takes known_values(1).
REFUSED = {"4.1": "3", "4.2": "1"}           # the hard rule: participants ≥ seminars
UNUSUAL = {"2.1": "500"}                       # over the usual maximum: kept with its flag
MONEY = ("8.3", "5tr", "tiền mặt")             # typed as 5tr, with a note


async def reporter(bot: Running, name: str, unit: str) -> tuple[LocalChat, str]:
    """A reporter in the local chat: signs in with an invite, sends /baocao; the reply."""
    chat = LocalChat(bot.app, name)
    await chat.send(f"/start {await invite(bot.app, unit)}")
    return chat, "\n".join(await chat.send("/baocao"))


async def stored(bot: Running, unit: str) -> tuple[dict[str, tuple[Any, str, str]], Any]:
    async with bot.app.sessions() as session:
        sub = await session.scalar(select(Submission).join(Unit, Unit.id == Submission.unit_id)
                                   .where(Unit.code == unit)
                                   .order_by(Submission.id.desc()).limit(1))  # this period's
        if sub is None:
            return {}, None
        rows = (await session.scalars(select(Answer).where(
            Answer.submission_id == sub.id))).all()
        return ({a.question_id: (a.value, a.note, a.flag) for a in rows},
                (sub.status, sub.on_time))


def rest_of(section_id: str) -> dict[str, str]:
    values = known_values(1, FORM)
    return {f"v:{q.id}": typed(values[q.id]) for s in FORM.sections if s.id == section_id
            for q in s.questions}


async def post_section(http: aiohttp.ClientSession, page_url: str, html: str, section: str,
                       fields: dict[str, str]) -> str:
    data = {"csrf": csrf_of(html), "section": section, **fields}
    async with http.post(f"{page_url}/save", data=data) as response:
        assert response.status == 200, await response.text()
        return await response.text()


def row_html(html: str, qid: str) -> str:
    found = re.search(rf'<div class="row[^"]*" id="q-{re.escape(qid)}">(.*?)\n</div>\n(?=<div|'
                      r'<button)', html, re.DOTALL)
    assert found, qid
    return found.group(1)


async def fill_on_the_page(bot: Running, http: aiohttp.ClientSession) -> tuple[str, str]:
    """What a first-time reporter does on the page; returns the page's address and HTML."""
    async with http.get(f"{base_url(bot)}/web/form/") as page:
        assert page.status == 200
        page_url, html = str(page.url), await page.text()
    assert re.search(r"/web/form/\d+$", page_url)
    assert 'inputmode="numeric"' in html and 'type="number"' not in html
    assert "Hạn nộp trước ngày 13/10/2023" in html  # the deadline as the chat says it
    for section in FORM.sections:
        fields = rest_of(section.id)
        if section.id == "4":
            html = await post_section(http, page_url, html, "4", {**fields, "v:4.1": "3",
                                                                  "v:4.2": "1"})
            # The rule's own words beside both rows; nothing of the pair stored.
            for qid in ("4.1", "4.2"):
                assert "không thể ít hơn số buổi" in row_html(html, qid)
            assert "4.1" not in (await stored(bot, "TH-ANLAO"))[0]
        if section.id == "2":
            html = await post_section(http, page_url, html, "2", {**fields, "v:2.1": "500"})
            assert 'name="k:2.1"' in row_html(html, "2.1")  # "Đúng, giữ nguyên?" in place
            assert "2.1" not in (await stored(bot, "TH-ANLAO"))[0]
            fields = {**fields, "v:2.1": "500", "k:2.1": "1"}
        if section.id == "8":
            fields = {**fields, "v:8.3": "5tr", "n:8.3": "tiền mặt"}
        html = await post_section(http, page_url, html, section.id, fields)
        if section.id == "8":  # stored, and shown as stored, with its note
            assert 'name="v:8.3" value="5.000.000"' in html
            assert 'name="n:8.3" value="tiền mặt"' in html
            assert "Đã lưu" in html and "Mục 1 · câu" not in html
    assert "Đã lưu" in html and "Xem lại báo cáo" not in html  # the chat's review: not here
    return page_url, html


async def type_in_chat(chat: LocalChat) -> list[str]:
    """The same answers typed in chat, section by section, as fast entry."""
    replies = []
    for section in FORM.sections:
        fields = rest_of(section.id)
        if section.id == "4":
            replies += await chat.send("4.1 = 3\n4.2 = 1")
        if section.id == "2":
            replies += await chat.send("2.1 = 500")
            replies += await chat.send("có")
            fields.pop("v:2.1")
        if section.id == "8":
            fields["v:8.3"] = "5tr ghi chú: tiền mặt"
        lines = [f"{k[2:]} = {v}" for k, v in fields.items()]
        replies += await chat.send("\n".join(lines))
    replies += await chat.send("xem lại")
    replies += await chat.send("nộp")
    return replies


async def test_the_page_stores_what_the_chat_stores_row_by_row(console: Running):
    chat, reply = await reporter(console, "co-lan", "TH-ANLAO")
    link = LINK.search(reply)
    assert link, reply
    assert "Mục 1 · câu 1/27" in reply  # the chat goes on as before, below the link
    async with client() as http:
        signed = await sign_in(http, link.group(0))
        assert signed.status == 303 and signed.headers["Location"] == "/web/form/"
        async with http.get(f"{base_url(console)}/web/", allow_redirects=False) as board:
            assert board.status == 404  # a reporter's session never opens the console
        page_url, html = await fill_on_the_page(console, http)
        async with http.post(f"{page_url}/submit", data={"csrf": csrf_of(html)}) as done:
            html = await done.text()
        assert "đúng hạn" in html, html
    web_rows, web_state = await stored(console, "TH-ANLAO")
    assert web_rows["8.3"] == (5_000_000, "tiền mặt", "")
    assert web_rows["2.1"][0] == 500 and web_rows["2.1"][2]  # kept, with its flag
    assert web_state == ("submitted", True)

    other, _reply = await reporter(console, "thay-binh", "THCS-ANLAO")
    await type_in_chat(other)
    chat_rows, chat_state = await stored(console, "THCS-ANLAO")
    assert chat_state == web_state
    assert sorted(chat_rows) == sorted(web_rows)
    for qid in chat_rows:
        assert web_rows[qid] == chat_rows[qid], qid


async def test_the_school_report_through_the_page_takes_at_most_3_chat_messages(
        console: Running):
    chat, reply = await reporter(console, "co-lan", "TH-ANLAO")
    sent = 2  # /start with the invite, /baocao
    async with client() as http:
        await sign_in(http, LINK.search(reply).group(0))  # type: ignore[union-attr]
        page_url, html = await fill_on_the_page(console, http)
        async with http.post(f"{page_url}/submit", data={"csrf": csrf_of(html)}) as done:
            assert "đúng hạn" in await done.text()
    told = "\n".join(await chat.deliver())
    assert "Đã nộp qua biểu mẫu web" in told and "đúng hạn" in told
    assert sent <= 3
    async with console.app.sessions() as session:  # saves told the chat nothing
        queued = (await session.scalars(select(OutboxMessage).where(
            OutboxMessage.chat_id == "co-lan"))).all()
    # the welcome, the link above the first question, the submission: nothing for the saves
    assert len(queued) == 3


async def test_a_link_signs_in_once(console: Running):
    _chat, reply = await reporter(console, "co-lan", "TH-ANLAO")
    link = LINK.search(reply).group(0)  # type: ignore[union-attr]
    async with client() as http:
        async with http.get(link) as page:  # a reporter's sign-in says what it opens
            html = await page.text()
        assert "Mở biểu mẫu báo cáo" in html and "cán bộ tổng hợp" not in html
        assert (await sign_in(http, link)).status == 303
    async with client() as other, other.get(link) as again:
        assert again.status == 410
        assert "Liên kết này đã được sử dụng" in await again.text()


async def test_with_two_reports_each_page_saves_into_its_own(console: Running):
    """One person reports for a commune and its learning centre: a value saved on the centre's
    page lands in the centre's report, whatever the chat was on, and never in the other."""
    chat = LocalChat(console.app, "thu")
    await chat.send(f"/start {await invite(console.app, 'X-ANLAO')}")
    await chat.send(await invite(console.app, "TTHTCD-ANLAO"))
    reply = "\n".join(await chat.send("/baocao"))
    assert "Trung tâm học tập cộng đồng" in reply  # the chat asks which report
    await chat.send("1")  # and goes on with the first
    link = LINK.search(reply)
    assert link, reply
    async with client() as http:
        await sign_in(http, link.group(0))
        async with http.get(f"{base_url(console)}/web/form/") as listing:
            html = await listing.text()
        pages = dict((unit, href) for href, unit in re.findall(
            r'href="(/web/form/\d+\?unit=([A-Z-]+))"', html))
        assert sorted(pages) == ["TTHTCD-ANLAO", "X-ANLAO"]
        for unit, typed_value in (("TTHTCD-ANLAO", "5tr"), ("X-ANLAO", "2tr")):
            async with http.get(f"{base_url(console)}{pages[unit]}") as page:
                html = await page.text()
            url = f"{base_url(console)}{pages[unit].split('?')[0]}"
            data = {"csrf": csrf_of(html), "section": "8", "v:8.3": typed_value}
            async with http.post(f"{url}/save?unit={unit}", data=data) as saved:
                assert saved.status == 200
    assert (await stored(console, "TTHTCD-ANLAO"))[0]["8.3"][0] == 5_000_000
    assert (await stored(console, "X-ANLAO"))[0]["8.3"][0] == 2_000_000


async def test_a_note_or_a_text_naming_another_row_never_writes_that_row(console: Running):
    """Text typed on the page is stored as typed: a text part keeps its lines, and a note
    that reads like another row ("4.2 = 10") is refused rather than written into 4.2."""
    chat, reply = await reporter(console, "co-lan", "TH-ANLAO")
    async with client() as http:
        await sign_in(http, LINK.search(reply).group(0))  # type: ignore[union-attr]
        async with http.get(f"{base_url(console)}/web/form/") as page:
            url, html = str(page.url), await page.text()
        html = await post_section(http, url, html, "8", {"v:8.3": "5tr",
                                                         "n:8.3": "xem 4.2 = 10"})
        assert 'name="v:8.3" value="5tr"' in html  # kept to correct, with why
        text = "Tổ chức 2 buổi; 4.2 = 150 người dự.\nDuy trì lớp học."
        html = await post_section(http, url, html, "III", {"v:III": text})
    rows, _state = await stored(console, "TH-ANLAO")
    assert "4.2" not in rows and "8.3" not in rows
    assert rows["III"][0] == text


async def test_a_returned_report_shows_the_comment_beside_its_row_and_goes_back(
        console: Running):
    chat, reply = await reporter(console, "co-lan", "TH-ANLAO")
    async with client() as http:
        await sign_in(http, LINK.search(reply).group(0))  # type: ignore[union-attr]
        url, html = await fill_on_the_page(console, http)
        async with http.post(f"{url}/submit", data={"csrf": csrf_of(html)}) as done:
            assert "đúng hạn" in await done.text()
        boss = LocalChat(console.app, "chu-tich")
        await boss.send(f"/start {await invite(console.app, 'X-ANLAO', role='coordinator')}")
        await boss.send("/tralai TH-ANLAO 8.3: thiếu chứng từ")
        async with http.get(url) as page:
            html = await page.text()
        assert "Đã bị trả lại" in html
        assert "thiếu chứng từ" in row_html(html, "8.3")
        html = await post_section(http, url, html, "8", {"v:8.3": "6tr", "n:8.3": "có chứng từ"})
        async with http.post(f"{url}/submit", data={"csrf": csrf_of(html)}) as done:
            html = await done.text()
        assert "8.3" in html
    rows, state = await stored(console, "TH-ANLAO")
    assert rows["8.3"][:2] == (6_000_000, "có chứng từ")
    assert state == ("submitted", True)  # on time: the first submission decides


async def school_last_year(bot: Running, values: dict[str, int]) -> None:
    """TH-ANLAO's submitted report of the Week 2022 (same form, an earlier period)."""
    from datetime import datetime
    from decimal import Decimal

    from bot.storage.models import Campaign, FormVersion, Period

    from .conftest import VN

    async with bot.app.sessions() as session, session.begin():
        unit_id = await session.scalar(select(Unit.id).where(Unit.code == "TH-ANLAO"))
        period = await session.scalar(select(Period).join(Campaign).where(
            Campaign.key == "tuan-le-htsd-2022-phuc-dong"))
        form_id = await session.scalar(select(FormVersion.id).where(
            FormVersion.key == "tuan-le-htsd-truong"))
        when = datetime(2022, 10, 6, 9, 0, tzinfo=VN)
        submission = Submission(unit_id=unit_id, period_id=period.id, form_id=form_id,
                                status="submitted", revision=1, submitted_at=when,
                                first_submitted_at=when, on_time=True, return_comment="",
                                created_at=when, updated_at=when)
        session.add(submission)
        await session.flush()
        for qid, value in values.items():
            session.add(Answer(submission_id=submission.id, question_id=qid, value=value,
                               num_value=Decimal(value), note="", answered_at=when))


async def test_the_previous_report_is_the_hint_and_the_comparison(console: Running):
    await school_last_year(console, {"4.1": 3, "4.2": 100})
    chat, reply = await reporter(console, "co-lan", "TH-ANLAO")
    async with client() as http:
        await sign_in(http, LINK.search(reply).group(0))  # type: ignore[union-attr]
        async with http.get(f"{base_url(console)}/web/form/") as page:
            url, html = str(page.url), await page.text()
        assert "kỳ trước: 100 người" in row_html(html, "4.2")
        html = await post_section(http, url, html, "4", {"v:4.1": "3", "v:4.2": "2500"})
        assert "gấp 25 lần báo cáo kỳ trước" in row_html(html, "4.2")
        assert 'name="k:4.2"' in row_html(html, "4.2")
        html = await post_section(http, url, html, "4", {"v:4.2": "2500", "k:4.2": "1"})
    rows, _state = await stored(console, "TH-ANLAO")
    assert rows["4.2"][0] == 2500 and "gấp 25 lần báo cáo kỳ trước" in rows["4.2"][2]


async def test_a_page_save_never_turns_the_next_chat_answer_into_another_rows(
        console: Running):
    """The chat shows 2.1; the page saves 2.1 (the engine moves on, quietly): a number typed
    in chat next, meant for the question the chat shows, is never stored in 2.3."""
    chat, reply = await reporter(console, "co-lan", "TH-ANLAO")
    await chat.send("có")
    shown = "\n".join(await chat.send("bỏ qua"))
    assert "2.1. " in shown  # the question the person sees in chat
    async with client() as http:
        await sign_in(http, LINK.search(reply).group(0))  # type: ignore[union-attr]
        async with http.get(f"{base_url(console)}/web/form/") as page:
            url, html = str(page.url), await page.text()
        await post_section(http, url, html, "2", {"v:2.1": "7"})
    answered = "\n".join(await chat.send("9"))
    assert "/baocao" in answered  # a polite way on, since the chat's question moved
    rows, _state = await stored(console, "TH-ANLAO")
    assert "2.3" not in rows, answered
    assert rows["2.1"][0] in (7, 9)
