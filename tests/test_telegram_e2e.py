"""Telegram end to end: the real `baocao run` wiring against a fake Bot API server on 127.0.0.1,
with people tapping buttons and typing, and Telegram misbehaving."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot import admin
from bot.app import build_app
from bot.channels.telegram.channel import SECRET_HEADER, webhook_secret
from bot.delivery import outbox
from bot.runtime import Running, start
from bot.settings import Settings
from bot.storage.models import Identity, OutboxMessage
from conversations.events import Button, OutboundMessage

from .conftest import VN, invite, seed_reference_data
from .fake_telegram import FakeTelegram, FakeUser
from .test_report_conversation import COMMUNE_FORM, stored_report, typed_answer

pytestmark = pytest.mark.slow


class FlowingClock:
    """Starts on a chosen day of the Week 2023 and runs with real time, so delivery leases and
    retry delays pass as they would."""

    def __init__(self, start: datetime) -> None:
        self.start, self.t0 = start, time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.t0)

    def set(self, when: datetime) -> None:
        self.start, self.t0 = when, time.monotonic()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]




@pytest.fixture
def flowing_clock() -> FlowingClock:
    return FlowingClock(datetime(2023, 10, 5, 9, 0, tzinfo=VN))


@pytest.fixture
def settings(tg: FakeTelegram, db_url: str) -> Settings:
    return Settings(database_url=db_url, telegram_bot_token=tg.token,
                    telegram_api_base=tg.base_url, telegram_rate_per_chat=50,
                    outbox_lease_seconds=1)


@pytest.fixture
async def seeded(settings: Settings, flowing_clock: FlowingClock, tmp_path: Path) -> Settings:
    app = await build_app(settings, clock=flowing_clock)
    await seed_reference_data(app, tmp_path)
    await app.close()
    return settings


@pytest.fixture
async def bot(seeded: Settings, flowing_clock: FlowingClock) -> AsyncIterator[Running]:
    running = await start(seeded, clock=flowing_clock)
    yield running
    await running.stop()


@contextlib.asynccontextmanager
async def seeded_bot(tg: FakeTelegram, db_url: str, tmp_path: Path, now: datetime
                     ) -> AsyncIterator[Running]:
    """The real wiring on a seeded database, long polling the fake Bot API, its clock flowing
    from `now`; stopped on the way out."""
    clock = FlowingClock(now)
    settings = Settings(database_url=db_url, telegram_bot_token=tg.token,
                        telegram_api_base=tg.base_url, telegram_rate_per_chat=50,
                        outbox_lease_seconds=1, files_dir=str(tmp_path / "files"),
                        reminder_tick_seconds=0)
    app = await build_app(settings, clock=clock)
    await seed_reference_data(app, tmp_path)
    await app.close()
    running = await start(settings, clock=clock)
    try:
        yield running
    finally:
        await running.stop()


async def deep_link_sign_in(bot: Running, user: FakeUser, unit: str = "X-ANLAO") -> None:
    code = await invite(bot.app, unit)
    await user.send(f"/start {code}")
    # A community learning centre (TTHTCD-…) is run by commune staff: anh/chị.
    address = "Thầy/cô" if unit.startswith(("TH", "MN", "GDNN")) else "Anh/chị"
    await user.wait_for(f"{address} đã được đăng ký báo cáo cho")


async def answer_everything(user: FakeUser, skip_until: int = 0) -> None:
    """Answer the commune form from question `skip_until` on: buttons where there are some."""
    questions = COMMUNE_FORM.questions
    for n, q in enumerate(questions, start=1):
        if n <= skip_until or (q.section_id == "7" and q.id != "7.1"):
            continue  # 7.2-7.5 are zeroed with 7.1
        await user.wait_for(f"{q.id}. {q.label.vi}")
        if q.type == "yes_no":
            await user.press("Có")
        elif q.id == "7.1":
            await user.press("0 cho cả mục này")
        else:
            await user.send(typed_answer(q, n)[0])


async def test_sign_in_by_deep_link_and_report_the_whole_form(bot: Running, tg: FakeTelegram):
    thu = tg.user(1001, "Thu")
    await deep_link_sign_in(bot, thu)
    assert bot.telegram_username == "baocao_test_bot"
    await thu.press("Bắt đầu báo cáo")
    question = await thu.wait_for("Mục 1 · câu 1/40")
    await answer_everything(thu)
    review = await thu.wait_for("Xem lại báo cáo")
    assert "8.3  2.500.000 đồng" in "\n".join(m.text for m in thu.messages()[-3:])
    await thu.press("Nộp báo cáo")
    await thu.wait_for("đúng hạn")

    # The pressed question shows the answer chosen, and its buttons are gone.
    first = next(m for m in thu.messages() if m.message_id == question.message_id)
    assert first.text.endswith("→ Có") and not first.inline_keyboard
    assert not next(m for m in thu.messages() if m.message_id == review.message_id
                    ).inline_keyboard

    report = await stored_report(bot.app, "X-ANLAO")
    assert report.status == "submitted" and report.on_time
    expected = {q.id: typed_answer(q, n)[1] for n, q in enumerate(COMMUNE_FORM.questions, 1)}
    expected.update({f"7.{i}": 0 for i in range(1, 6)})
    assert report.answers == expected

    # A correction after submitting, typed, then confirmed with the button.
    await thu.send("/baocao")
    await thu.wait_for("đã được nộp")
    await thu.send("4.2 250")
    await thu.wait_for("4.2 = 250 người")
    await thu.press("Nộp lại báo cáo")  # the correction is pending until submitted again
    await thu.wait_for("thay đổi 1 câu trả lời")
    report = await stored_report(bot.app, "X-ANLAO")
    assert report.revision == 2 and report.answers["4.2"] == 250
    # A question's line, after the acknowledgement of the answer before it.
    asked = [line for m in thu.messages() for line in m.text.split("\n")[:2]
             if line.startswith("Mục ")]
    assert len(asked) == len(set(asked)), "a question was sent twice"


async def test_fast_entry_and_menu_commands_in_both_languages(bot: Running, tg: FakeTelegram):
    deadline = time.monotonic() + 10  # the menu is set once polling runs (issue 23)
    while len(tg.commands) < 3 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert [c["command"] for c in tg.commands[("default", "vi")]] == [
        "baocao", "mau", "excel", "trangthai", "huy", "trogiup", "ngonngu"]
    assert tg.commands[("default", "en")][0]["description"] == "Fill in or correct a report"
    assert tg.commands[("default", "vi")][0]["description"] == "Làm hoặc sửa báo cáo"
    lan = tg.user(1002, "Lan")
    await deep_link_sign_in(bot, lan)
    await lan.send("/baocao")
    await lan.wait_for("1.1. ")
    await lan.send("mục 1: có; Số 12/KH-UBND")
    await lan.wait_for("Đã lưu 2 câu")
    await lan.send("mục 2: 3, 1, 12, 4")
    await lan.wait_for("Mục 3 · câu 7/40")
    report = await stored_report(bot.app, "X-ANLAO")
    assert report.answers["2.4"] == 4 and report.answers["1.1"] is True


async def test_sign_in_by_sharing_ones_own_phone(bot: Running, tg: FakeTelegram, tmp_path: Path):
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("name,phone,unit_code,role\nNguyễn Văn Minh,0912345678,TH-ANLAO,"
                        "reporter\n", encoding="utf-8")
    async with bot.app.sessions() as session, session.begin():
        await admin.import_contacts(session, contacts, bot.app.clock())
    minh = tg.user(1003, "Minh")
    await minh.send("xin chào")
    hello = await minh.wait_for("chia sẻ số điện thoại")
    assert hello.reply_keyboard["keyboard"][0][0]["request_contact"] is True
    await minh.share_contact("+84 91 234 5678", own=False)
    await minh.wait_for("của chính mình")
    await minh.share_contact("84912345678", own=True)
    await minh.wait_for("Chào mừng Nguyễn Văn Minh")
    await minh.send("/baocao")
    await minh.wait_for("câu 1/27")


async def test_a_webhook_without_the_secret_is_refused(seeded: Settings, tg: FakeTelegram,
                                                       flowing_clock: FlowingClock):
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    settings = seeded.model_copy(update={"webhook_url": url, "webhook_port": port})
    running = await start(settings, clock=flowing_clock)
    try:
        assert tg.webhook_url == url
        secret = webhook_secret(tg.token)
        assert tg.webhook_secret == secret
        update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "/trogiup",
                                              "chat": {"id": 5, "type": "private"},
                                              "from": {"id": 5, "is_bot": False,
                                                       "first_name": "X"}}}
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=update) as response:
                assert response.status == 401
            async with http.post(url, json=update, headers={SECRET_HEADER: "wrong"}) as r:
                assert r.status == 401
        assert tg.sent_to(5) == []
        # Updates posted by Telegram itself (with the secret) are handled.
        tuan = tg.user(1004, "Tuấn")
        await deep_link_sign_in(running, tuan)
        await tuan.send("/trangthai")
        await tuan.wait_for("trước ngày 13/10/2023")
        assert set(tg.webhook_statuses) == {200}
    finally:
        await running.stop()


async def test_storms_of_429_and_5xx_lose_nothing_and_double_nothing(bot: Running,
                                                                    tg: FakeTelegram):
    hoa = tg.user(1005, "Hoa")
    await deep_link_sign_in(bot, hoa)
    await hoa.send("/baocao")
    await hoa.wait_for("1.1. ")
    tg.fail_next(6, 429, method="sendMessage", retry_after=1)
    await hoa.send("có")
    await hoa.wait_for("1.2. ", timeout=15)
    tg.fail_next(5, 502, method=None)
    await hoa.send("Bỏ qua")
    await hoa.wait_for("2.1. ", timeout=20)
    await hoa.send("3")
    await hoa.wait_for("2.2. ", timeout=10)
    questions = [m.text for m in hoa.messages() if "Mục " in m.text]
    assert len(questions) == len(set(questions)) == 4  # 1.1, 1.2, 2.1, 2.2: once each
    report = await stored_report(bot.app, "X-ANLAO")
    assert report.answers == {"1.1": True, "1.2": None, "2.1": 3}


async def test_the_bot_keeps_to_telegrams_flood_limits(seeded: Settings, tg: FakeTelegram,
                                                       flowing_clock: FlowingClock):
    tg.enforce_flood_limits(per_second=30, per_chat_per_second=1.0, burst=3)
    settings = seeded.model_copy(update={"telegram_rate_per_chat": 1.0})
    running = await start(settings, clock=flowing_clock)
    try:
        people = [tg.user(2000 + i, f"Người {i}") for i in range(40)]
        for person in people:
            await person.send("xin chào")
        for person in people:
            await person.wait_for("mã mời", timeout=15)
        # One person typing fast gets every reply, spaced to 1/s after a burst.
        one = people[0]
        for _ in range(6):
            await one.send("alo")
        await one.wait_for_messages(7, timeout=15)
    finally:
        await running.stop()
    refused = [(r.method, r.params.get("chat_id"), round(r.at, 3)) for r in tg.requests
               if r.status == 429]
    assert tg.flood_429s == 0, refused


async def test_a_restart_in_the_middle_of_a_form(seeded: Settings, tg: FakeTelegram,
                                                 flowing_clock: FlowingClock):
    running = await start(seeded, clock=flowing_clock)
    nam = tg.user(1006, "Nam")
    await deep_link_sign_in(running, nam)
    await nam.send("/baocao")
    await nam.wait_for("1.1. ")
    await nam.press("Có")
    await nam.wait_for("1.2. ")
    await nam.send("Bỏ qua")
    await nam.wait_for("2.1. ")
    await running.stop()

    await nam.send("7")  # arrives while the bot is down
    running = await start(seeded, clock=flowing_clock)
    try:
        await nam.wait_for("2.2. ", timeout=10)
        report = await stored_report(running.app, "X-ANLAO")
        assert report.answers == {"1.1": True, "1.2": None, "2.1": 7}
    finally:
        await running.stop()


async def test_a_redelivered_update_changes_nothing(bot: Running, tg: FakeTelegram):
    an = tg.user(1007, "An")
    await deep_link_sign_in(bot, an)
    await an.send("/baocao")
    await an.wait_for("1.1. ")
    await an.press("Có")
    await an.wait_for("1.2. ")
    update_id = await an.send("Số 7/KH")
    await an.wait_for("2.1. ")
    before = len(an.messages())
    tg.redeliver(update_id)
    await asyncio.sleep(1.0)
    assert len(an.messages()) == before
    assert (await stored_report(bot.app, "X-ANLAO")).answers["1.2"] == "Số 7/KH"


async def test_someone_who_blocks_the_bot_is_reported_to_their_coordinator(bot: Running,
                                                                           tg: FakeTelegram):
    boss = tg.user(1100, "Chủ tịch")
    code = await invite(bot.app, "HP", role="coordinator")
    await boss.send(f"/start {code}")
    await boss.wait_for("cán bộ tổng hợp")
    binh = tg.user(1008, "Bình")
    await deep_link_sign_in(bot, binh)
    await binh.block()
    async with bot.app.sessions() as session, session.begin():  # e.g. a reminder
        outbox.enqueue_payload(session, "telegram", "1008",
                               {"kind": "message", "text": "Kính nhắc…", "buttons": []},
                               bot.app.clock())
    bot.senders[0].wake()
    await boss.wait_for("Không gửi được tin nhắn cho Bình", timeout=10)
    async with bot.app.sessions() as session:
        identity = await session.scalar(select(Identity).where(
            Identity.external_user_id == "1008"))
        assert identity.unreachable_at is not None
        failed = (await session.scalars(select(OutboxMessage).where(
            OutboxMessage.chat_id == "1008", OutboxMessage.failed.is_not(None)))).all()
        assert failed


async def test_long_texts_are_split_and_files_can_be_sent(bot: Running, tg: FakeTelegram):
    thu = tg.user(1009, "Thu")
    await deep_link_sign_in(bot, thu)
    long_text = "\n".join(f"Dòng {i}: " + " ".join(["nội dung báo cáo"] * 5)
                          for i in range(120))
    async with bot.app.sessions() as session, session.begin():
        outbox.enqueue(session, "telegram", "1009",
                       [OutboundMessage(long_text, (Button("review", "Xem lại"),))],
                       bot.app.clock())
        outbox.enqueue_payload(session, "telegram", "1009",
                               {"kind": "document", "filename": "bao-cao.csv",
                                "data_b64": base64.b64encode(b"a;b\n1;2\n").decode(),
                                "caption": "Tổng hợp"}, bot.app.clock())
    bot.senders[0].wake()
    document = await thu.wait_for(lambda m: m.kind == "document", timeout=10)
    assert document.filename == "bao-cao.csv" and document.data == b"a;b\n1;2\n"
    pieces = [m for m in thu.messages() if (m.text or "").startswith("Dòng")]
    assert len(pieces) == 3 and all(len(m.text) <= 4096 for m in pieces)
    assert "\n".join(m.text for m in pieces) == long_text
    assert [bool(m.inline_keyboard) for m in pieces] == [False, False, True]


PASTED_REPORT = ("mục 1: có; Số 125/KH-UBND ngày 25/9/2023\n"
                 "mục 2: 5, 2, 30, 12 ghi chú: 2 tờ báo tường, 10 bài viết\n"
                 "mục 3: 1.500, 20, 12\n"
                 "mục 4: 2, 150, 1, 300, 3\n"
                 "I: UBND xã ban hành kế hoạch, khai mạc ngày 02/10/2023.\n"
                 "Các trường tổ chức nhiều hoạt động.\n"
                 "IV: Đề nghị hỗ trợ sách cho thư viện.")
PASTED_STORED = {"1.1": True, "1.2": "Số 125/KH-UBND ngày 25/9/2023", "2.1": 5, "2.2": 2,
                 "2.3": 30, "2.4": 12, "3.1": 1500, "3.2": 20, "3.3": 12, "4.1": 2, "4.2": 150,
                 "4.3": 1, "4.4": 300, "4.5": 3,
                 "I": "UBND xã ban hành kế hoạch, khai mạc ngày 02/10/2023.\n"
                      "Các trường tổ chức nhiều hoạt động.",
                 "IV": "Đề nghị hỗ trợ sách cho thư viện."}


async def test_a_pasted_multi_section_message(bot: Running, tg: FakeTelegram):
    mai = tg.user(1010, "Mai")
    await deep_link_sign_in(bot, mai)
    await mai.send("/baocao")
    await mai.wait_for("1.1. ")
    await mai.send(PASTED_REPORT)
    reply = await mai.wait_for("Đã lưu 16 câu")
    assert "Chưa lưu" not in reply.text and "5.1. " in reply.text
    report = await stored_report(bot.app, "X-ANLAO")
    assert report.answers == PASTED_STORED
    assert report.notes == {"2.4": "2 tờ báo tường, 10 bài viết"}


async def test_the_template_button_and_a_filled_template(bot: Running, tg: FakeTelegram):
    from .test_whole_report import EXPECTED, FIGURES, fill

    vy = tg.user(1011, "Vy")
    await deep_link_sign_in(bot, vy)
    await vy.send("/baocao")
    await vy.wait_for("1.1. ")
    await vy.press("Mẫu điền nhanh")
    template = await vy.wait_for(lambda m: (m.text or "").startswith("1.1 "))
    assert len(template.text) <= 4096 and template.text.count("\n") == 39
    await vy.send(fill(template.text, FIGURES))
    await vy.wait_for("Đã lưu 40 câu")
    await vy.press("Nộp báo cáo")
    await vy.wait_for("đúng hạn")
    report = await stored_report(bot.app, "X-ANLAO")
    assert report.status == "submitted" and report.answers == EXPECTED


async def test_a_school_typing_rows_of_the_commune_paper_form(bot: Running, tg: FakeTelegram):
    """Issue 22, 3: the rows the school's form has are stored, the others named."""
    lan = tg.user(1012, "Lan")
    await deep_link_sign_in(bot, lan, "TH-ANLAO")
    await lan.send("/baocao")
    await lan.wait_for("1.1. ")
    await lan.send("4.1=2 4.3=1\n4.2=300 4.4=250")
    reply = await lan.wait_for("Báo cáo của trường không có câu 4.3, 4.4 nên chưa lưu")
    assert "Đã lưu 2 câu" in reply.text and "Các câu của mục 4: 4.1, 4.2, 4.5" in reply.text
    report = await stored_report(bot.app, "TH-ANLAO")
    assert report.answers == {"4.1": 2, "4.2": 300}
