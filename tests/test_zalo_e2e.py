"""Zalo end to end, with Telegram running in the same process: a Zalo-only reporter signs in
with a code and reports by typing only; reminders reach Zalo; a Zalo coordinator gets the missing
list and a one-time download link; faults and a webhook without its secret."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from openpyxl import load_workbook

from bot.channels.zalo.channel import SECRET_HEADER, webhook_secret
from bot.runtime import Running, start
from bot.settings import Settings

from .conftest import VN, invite, seed_reference_data
from .fake_telegram import FakeTelegram
from .fake_zalo import FakeZalo, FakeZaloUser
from .test_report_conversation import COMMUNE_FORM, stored_report, typed_answer
from .test_telegram_e2e import FlowingClock, free_port

pytestmark = pytest.mark.slow




@pytest.fixture
async def zl() -> AsyncIterator[FakeZalo]:
    async with FakeZalo() as fake:
        yield fake
        assert fake.spec_errors == [], "the bot sent requests the Zalo Bot API refuses"


@pytest.fixture
def clock() -> FlowingClock:
    return FlowingClock(datetime(2023, 10, 9, 9, 0, tzinfo=VN))


@pytest.fixture
async def settings(tg: FakeTelegram, zl: FakeZalo, db_url: str, tmp_path: Path,
                   clock: FlowingClock) -> Settings:
    port = free_port()
    settings = Settings(database_url=db_url, telegram_bot_token=tg.token,
                        telegram_api_base=tg.base_url, zalo_bot_token=zl.token,
                        zalo_api_base=zl.base_url, zalo_rate_per_chat=50,
                        public_url=f"http://127.0.0.1:{port}", webhook_port=port,
                        files_dir=str(tmp_path / "files"), reminder_tick_seconds=0,
                        outbox_lease_seconds=1)
    from bot.app import build_app

    app = await build_app(settings, clock=clock)
    await seed_reference_data(app, tmp_path)
    await app.close()
    return settings


@pytest.fixture
async def bot(settings: Settings, clock: FlowingClock) -> AsyncIterator[Running]:
    running = await start(settings, clock=clock)
    yield running
    await running.stop()


async def sign_in(bot: Running, user: FakeZaloUser, unit: str = "X-ANLAO",
                  role: str = "reporter") -> None:
    code = await invite(bot.app, unit, role=role)
    await user.send("xin chào")
    hello = await user.wait_for("mã mời")
    assert "Chia sẻ số điện thoại" not in hello.text  # Zalo cannot share a phone number
    await user.send(code.lower())
    await user.wait_for("đã được đăng ký")  # "anh/chị", or "thầy/cô" at a school


async def test_a_zalo_reporter_submits_the_whole_form_by_typing_only(
        bot: Running, zl: FakeZalo, tg: FakeTelegram):
    assert bot.telegram_username  # Telegram runs in the same process
    thu = zl.user("a1b2c3d4e5f6a7b8c9d0", "Nguyễn Thị Thu")
    await sign_in(bot, thu)
    await thu.send("/baocao")
    question = await thu.wait_for("Mục 1 · câu 1/40")
    assert "1. Có\n2. Không\nTrả lời 1 hoặc 2." in question.text
    for n, q in enumerate(COMMUNE_FORM.questions, start=1):
        await thu.wait_for(f"{q.id}. {q.label.vi}", fresh=False)
        if q.type == "yes_no":
            await thu.send("1")
        else:
            await thu.send(typed_answer(q, n)[0])
    review = await thu.wait_for("Xem lại báo cáo")
    pieces = [m for m in thu.messages() if m.version >= review.version]
    assert all(len(m.text) <= 2000 for m in thu.messages())
    assert any("Trả lời 1." in m.text or "Trả lời 1 hoặc 2." in m.text for m in pieces)
    await thu.send("4.2 250")
    await thu.wait_for("4.2 = 250 người")
    await thu.send("nộp")
    await thu.wait_for("đúng hạn")
    report = await stored_report(bot.app, "X-ANLAO")
    expected = {q.id: typed_answer(q, n)[1] for n, q in enumerate(COMMUNE_FORM.questions, 1)}
    expected["4.2"] = 250
    assert report.status == "submitted" and report.answers == expected
    # A message delivered twice is handled once.
    before = len(thu.messages())
    zl.redeliver_last(thu.id)
    await asyncio.sleep(1.0)
    assert len(thu.messages()) == before


async def test_reminders_and_a_coordinators_one_time_export_link(
        bot: Running, zl: FakeZalo, clock: FlowingClock, settings: Settings):
    lan = zl.user("0000000000000000aaa1", "Cô Lan")
    await sign_in(bot, lan, "TH-ANLAO")
    boss = zl.user("0000000000000000bbb2", "Chủ tịch xã")
    await sign_in(bot, boss, "X-ANLAO", role="coordinator")
    # 10/10 07:00 is a reminder slot of the Week 2023: Zalo reporters get it.
    clock.set(datetime(2023, 10, 10, 7, 5, tzinfo=VN))
    await bot.reminder_tick()
    reminder = await lan.wait_for("Kính nhắc", timeout=10)
    assert "gửi /baocao" in reminder.text and "Trả lời" not in reminder.text
    await boss.send("/chuanop")
    missing = await boss.wait_for("chưa nộp")
    assert "Trường Tiểu học An Lão (TH-ANLAO" in missing.text and "Cô Lan" in missing.text
    await boss.send("/xuat")
    link_message = await boss.wait_for("dùng được một lần", timeout=15)
    url = next(w for w in link_message.text.split() if w.startswith("http"))
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as page:  # a page with the download button
            assert page.status == 200 and "Tải xuống" in await page.text()
        async with http.get(f"{url}&dl=1") as response:  # the button
            assert response.status == 200
            book = load_workbook(io.BytesIO(await response.read()))
            assert "Báo cáo" in book.sheetnames
        async with http.get(f"{url}&dl=1") as again:
            assert again.status == 410  # works once
        async with http.get(url.replace("sig=", "sig=0")) as forged:
            assert forged.status == 403
        await boss.send("/xuat csv")
        second = await boss.wait_for("dùng được một lần", timeout=15)
        url2 = next(w for w in second.text.split() if w.startswith("http"))
        clock.start += timedelta(hours=25)  # a day later, unused: expired
        async with http.get(url2) as expired:
            assert expired.status == 410
    # The chart goes through sendPhoto by URL; the platform fetched it.
    clock.start -= timedelta(hours=25)
    await boss.send("/bieudo")
    photo = await boss.wait_for(lambda m: m.kind == "photo", timeout=15)
    assert photo.photo_bytes and photo.photo_bytes.startswith(b"\x89PNG")
    assert settings.public_url in photo.photo_url


async def test_429_and_5xx_from_zalo_lose_nothing(bot: Running, zl: FakeZalo,
                                                 monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("bot.channels.zalo.transport.QUOTA_BACKOFF", 0.5)
    an = zl.user("00000000000000000cc3", "An")
    await sign_in(bot, an)
    zl.fail_next(2, 429)
    zl.fail_next(1, 200, error_code=429)
    await an.send("/trangthai")
    await an.wait_for("trước ngày 13/10/2023", timeout=15)
    zl.fail_next(2, 502)
    await an.send("/trogiup")
    await an.wait_for("/baocao", timeout=15)
    texts = [m.text for m in an.messages()]
    assert len(texts) == len(set(texts))


async def test_a_zalo_webhook_without_the_secret_is_refused(settings: Settings, zl: FakeZalo,
                                                            clock: FlowingClock):
    url = f"{settings.public_url}/zalo/hook"
    running = await start(settings.model_copy(update={"zalo_webhook_url": url}), clock=clock)
    try:
        assert zl.webhook_url == url
        update = {"event_name": "message.text.received",
                  "message": {"message_id": "ff00", "date": 0, "text": "/trogiup",
                              "chat": {"id": "dd", "chat_type": "PRIVATE"},
                              "from": {"id": "dd", "display_name": "X", "is_bot": False}}}
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=update) as r:
                assert r.status == 401
            async with http.post(url, json=update, headers={SECRET_HEADER: "x" * 64}) as r:
                assert r.status == 401
        assert zl.sent.get("dd") is None
        assert zl.webhook_secret == webhook_secret(zl.token)
        minh = zl.user("0000000000000000dd44", "Minh")
        await minh.send("xin chào")  # posted bare by the platform, with the secret
        await minh.wait_for("mã mời")
        zl.webhook_wrapped = True
        await minh.send("/trogiup")  # and wrapped in {ok, result}
        await minh.wait_for("mã mời")
    finally:
        await running.stop()


async def test_a_pasted_multi_section_message_on_zalo(bot: Running, zl: FakeZalo):
    from .test_telegram_e2e import PASTED_REPORT, PASTED_STORED

    mai = zl.user("0000000000000000ccc3", "Mai")
    await sign_in(bot, mai)
    await mai.send("/baocao")
    await mai.wait_for("1.1. ")
    await mai.send(PASTED_REPORT)
    reply = await mai.wait_for("Đã lưu 16 câu")
    assert "Chưa lưu" not in reply.text and "5.1. " in reply.text
    report = await stored_report(bot.app, "X-ANLAO")
    assert report.answers == PASTED_STORED
async def test_a_zalo_sticker_or_captioned_image_mid_form_is_not_an_answer(
        bot: Running, zl: FakeZalo):
    thu = zl.user("f0e1d2c3b4a5f6e7d8c9", "Trần Thị Thu")
    await sign_in(bot, thu)
    await thu.send("/baocao")
    await thu.wait_for("1.1. ")
    await thu.send("1")
    await thu.wait_for("1.2. ")
    await thu.send("Bỏ qua")
    await thu.wait_for("2.1. ")
    await thu.send_sticker()
    reply = await thu.wait_for("chỉ đọc được tin nhắn chữ")
    assert "2.1. " in reply.text and "Chưa đọc được số" not in reply.text
    await thu.send_image("https://example.com/anh.jpg", caption="12")
    await thu.wait_for("“12”")
    assert "2.1" not in (await stored_report(bot.app, "X-ANLAO")).answers
    await thu.send("Dùng nội dung này")  # Zalo has no buttons: the choice is typed
    await thu.wait_for("2.2. ")
    assert (await stored_report(bot.app, "X-ANLAO")).answers["2.1"] == 12


async def test_a_cut_off_answer_to_a_zalo_send_counts_as_sent(bot: Running, zl: FakeZalo):
    from sqlalchemy import select

    from bot.storage.models import OutboxMessage

    lan = zl.user("0a1b2c3d4e5f6a7b8c9d", "Lê Thị Lan")
    await sign_in(bot, lan)
    zl.garble_next(1, method="sendMessage")
    await lan.send("/trangthai")
    await lan.wait_for("13/10/2023")
    await asyncio.sleep(2.5)  # more than two leases (1 s here): nothing comes again
    assert sum("13/10/2023" in (m.text or "") for m in lan.messages()) == 1
    async with bot.app.sessions() as session:
        rows = (await session.scalars(select(OutboxMessage).where(
            OutboxMessage.chat_id == lan.id))).all()
    assert rows and all(r.sent_at is not None and r.failed is None for r in rows)


async def test_a_zalo_school_typing_rows_of_the_commune_paper_form(bot: Running, zl: FakeZalo):
    """Issue 22, 3: the rows the school's form has are stored, the others named."""
    lan = zl.user("0000000000000000ccc4", "Cô Lan")
    await sign_in(bot, lan, "TH-ANLAO")
    await lan.send("/baocao")
    await lan.wait_for("1.1. ")
    await lan.send("2.1 = 3\n2.2 = 5\n2.3 = 4")
    reply = await lan.wait_for("Báo cáo của trường không có câu 2.2 nên chưa lưu")
    assert "Đã lưu 2 câu" in reply.text and "Các câu của mục 2: 2.1, 2.3, 2.4" in reply.text
    report = await stored_report(bot.app, "TH-ANLAO")
    assert report.answers == {"2.1": 3, "2.3": 4}


async def test_ten_thousand_digits_typed_mid_form_get_the_polite_answer(bot: Running,
                                                                       zl: FakeZalo):
    """Issue 23, defect 5: Python's int limit (4,300 digits) is never reached on the way."""
    hoa = zl.user("9a8b7c6d5e4f3a2b1c0d", "Phạm Thị Hoa")
    await sign_in(bot, hoa)
    await hoa.send("/baocao")
    await hoa.wait_for("1.1. ")
    await hoa.send("9" * 10_000)  # at a yes/no question: "1. Có 2. Không" are offered
    reply = await hoa.wait_for("1.1. ")
    assert "sự cố" not in reply.text and "“có”" in reply.text, reply.text
    await hoa.send("1")
    await hoa.wait_for("1.2. ")
    await hoa.send("Bỏ qua")
    await hoa.wait_for("2.1. ")
    await hoa.send("9" * 10_000)  # at a count
    reply = await hoa.wait_for("2.1. ")
    assert "sự cố" not in reply.text and "Số này quá lớn" in reply.text, reply.text
    assert all("sự cố" not in m.text for m in hoa.messages())
    answers = (await stored_report(bot.app, "X-ANLAO")).answers
    assert "2.1" not in answers and answers["1.1"] is True


async def test_a_zalo_coordinator_is_told_a_returned_report_came_back_and_types_the_accept(
        bot: Running, zl: FakeZalo):
    """Zalo has no buttons: the notice names the command to type, and typing it accepts."""
    from .filing import SCHOOL, file_report

    school = await file_report(bot.app, "TH-ANLAO", SCHOOL, {"4.2": 1250})
    boss = zl.user("0000000000000000ccc3", "Chủ tịch xã")
    await sign_in(bot, boss, "X-ANLAO", role="coordinator")
    await boss.send("/tralai TH-ANLAO 4.2: chưa khớp với danh sách")
    await boss.wait_for("Đã trả lại báo cáo của Trường Tiểu học An Lão")
    reply = await school.say("/baocao")
    assert "Ý kiến của cán bộ tổng hợp: chưa khớp với danh sách" in reply
    await school.say("1025")
    assert "đã được nộp" in await school.say("Nộp báo cáo")
    notice = await boss.wait_for("đã nộp lại báo cáo")
    assert "4.2 1.250 người → 1.025 người" in notice.text
    assert "Duyệt báo cáo: gõ /duyet TH-ANLAO" in notice.text
    await boss.send("/duyet TH-ANLAO")
    await boss.wait_for("Đã duyệt báo cáo của Trường Tiểu học An Lão")
    assert (await stored_report(bot.app, "TH-ANLAO")).status == "accepted"
