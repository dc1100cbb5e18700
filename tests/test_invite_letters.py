"""Invite letters and who has signed in, from the web console over real HTTP (the real bot on
the fake Telegram server): a commune's letters as .docx (a page per unit, each with its code and
a QR image) and as PDF (read back with pdftotext), a code from a letter signing a reporter in
who then gets the campaign's /baocao, the sign-in list, "new code" (the old code refused, the
new one works, both recorded), letters made twice keep their codes, and a coordinator's probes
outside their commune not found. Also `baocao invite letters` and `invite create`."""

from __future__ import annotations

import asyncio
import io
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import select

from bot.runtime import Running, start
from bot.settings import Settings
from bot.storage.models import ChangeRecord, Invite, Unit

from .conftest import seed_reference_data
from .fake_telegram import FakeTelegram
from .test_telegram_e2e import FlowingClock, free_port
from .test_web_console import text_of
from .web_console import base_url, client, coordinator, csrf_of, link_from_chat, sign_in

pytestmark = pytest.mark.slow

CAMPAIGN = "tuan-le-htsd-2023"
# Xã An Lão and the units below it that report in the Week 2023 (the commune's form, the
# schools' and centres' form): every one of them gets a page.
AN_LAO = {"X-ANLAO", "TTHTCD-ANLAO", "TH-ANLAO", "THCS-ANLAO"}
CODE = re.compile(r"\b([A-Z2-9]{5})-([A-Z2-9]{5})\b")
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def letter_pages(docx: bytes) -> list[tuple[str, int]]:
    """Each section of the document (a page per unit): its text and how many pictures."""
    body = Document(io.BytesIO(docx)).element.body
    pages: list[tuple[str, int]] = []
    text, pictures = [], 0
    for element in body.iterchildren():
        text.append("".join(t.text or "" for t in element.iter(f"{W}t")))
        pictures += sum(1 for e in element.iter() if e.tag.endswith("}blip"))
        ends = element.tag == f"{W}sectPr" or element.find(f"{W}pPr/{W}sectPr") is not None
        if ends:
            pages.append((" ".join(text), pictures))
            text, pictures = [], 0
    return pages


async def codes_of(bot: Running) -> dict[str, list[tuple[str, bool]]]:
    """Each unit's reporter codes, oldest first, with whether each still works."""
    now = bot.clock()
    result: dict[str, list[tuple[str, bool]]] = {}
    async with bot.app.sessions() as session:
        for invite, code in (await session.execute(
                select(Invite, Unit.code).join(Unit, Unit.id == Invite.unit_id)
                .where(Invite.role == "reporter").order_by(Invite.id))).all():
            good = invite.uses < invite.max_uses and (
                invite.expires_at is None or invite.expires_at > now)
            result.setdefault(code, []).append((invite.code, good))
    return result


async def signed_in_console(bot: Running, tg: FakeTelegram, unit: str = "X-ANLAO",
                            user_id: int = 4200):
    boss = await coordinator(bot, tg, unit, user_id, "Chủ tịch xã")
    http = client()
    await sign_in(http, await link_from_chat(boss))
    return http


async def letters(http, bot: Running, fmt: str, unit: str = "X-ANLAO",  # noqa: ANN001
                  campaign: str = CAMPAIGN):
    async with http.get(base_url(bot) + "/web/invites") as page:
        csrf = csrf_of(await page.text())
    return await http.post(base_url(bot) + "/web/invites/letters",
                           data={"csrf": csrf, "unit": unit, "campaign": campaign, "fmt": fmt})


async def test_a_communes_letters_have_a_page_per_unit_and_a_code_from_one_signs_in(
        console: Running, tg: FakeTelegram):
    async with await signed_in_console(console, tg) as http:
        async with http.get(base_url(console) + "/web/") as board:
            assert 'href="/web/invites"' in await board.text()
        async with await letters(http, console, "docx") as response:
            assert response.status == 200, await response.text()
            assert "wordprocessingml" in response.headers["Content-Type"]
            assert "attachment" in response.headers["Content-Disposition"]
            docx = await response.read()
        pages = letter_pages(docx)
        stored = await codes_of(console)
        assert set(stored) == AN_LAO  # codes made now, for these units and no others
        assert len(pages) == len(AN_LAO)
        names = {"X-ANLAO": "Xã An Lão", "TH-ANLAO": "Trường Tiểu học An Lão",
                 "THCS-ANLAO": "Trường THCS An Lão",
                 "TTHTCD-ANLAO": "Trung tâm học tập cộng đồng xã An Lão"}
        on_letters = {}
        for text, pictures in pages:
            found = CODE.findall(text)
            unit = next(u for u in AN_LAO if f"mã đơn vị {u})" in text)
            assert f"Kính gửi: {names[unit]}" in text
            assert "Tuần lễ hưởng ứng học tập suốt đời năm 2023" in text
            assert "trước ngày 13/10/2023" in text
            assert pictures == 1  # the QR code
            code = "".join(found[0])
            assert {"".join(f) for f in found} == {code}
            assert f"t.me/{tg.bot_user()['username']}?start={code}" in text
            assert "Zalo" in text and "/baocao" in text
            assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Nơi nhận:" in text
            on_letters[unit] = code
        assert on_letters == {u: c[0][0] for u, c in stored.items()}

        # A teacher types the code from the letter (as printed, with its hyphen).
        teacher = tg.user(4300, "Cô Hạnh")
        code = on_letters["TH-ANLAO"]
        await teacher.send(f"{code[:5]}-{code[5:]}")
        await teacher.wait_for("Thầy/cô đã được đăng ký báo cáo cho Trường Tiểu học An Lão")
        await teacher.send("/baocao")
        first = await teacher.wait_for("câu 1/")
        assert "Tuần lễ" in first.text or "Mục 1" in first.text

        async with http.get(base_url(console) + "/web/invites") as page:
            html = await page.text()
        words = text_of(html)
        assert page.status == 200
        # The campaign due next is the one picked for the letters.
        assert f'<option value="{CAMPAIGN}" selected>' in html
        block = re.search(r'id="unit-TH-ANLAO">(.*?)</li>', html, re.S)
        assert block and "Cô Hạnh (Telegram)" in text_of(block.group(1))
        other = re.search(r'id="unit-THCS-ANLAO">(.*?)</li>', html, re.S)
        assert other and "Chưa có người báo cáo đăng nhập" in text_of(other.group(1))
        assert "Xã An Thắng" not in words and "MN-ANTHANG" not in words

        # The letters made again: the same codes (a printed letter keeps working).
        async with await letters(http, console, "docx") as again:
            pages_again = letter_pages(await again.read())
        assert {"".join(CODE.findall(t)[0]) for t, _ in pages_again} == set(on_letters.values())
        assert await codes_of(console) == stored


async def test_new_code_stops_the_old_one_and_the_new_one_signs_in(
        console: Running, tg: FakeTelegram):
    async with await signed_in_console(console, tg) as http:
        async with await letters(http, console, "docx"):
            pass
        old = (await codes_of(console))["THCS-ANLAO"][0][0]
        async with http.get(base_url(console) + "/web/invites") as page:
            csrf = csrf_of(await page.text())
        async with http.post(base_url(console) + "/web/invites/THCS-ANLAO/new",
                             data={"csrf": csrf}, allow_redirects=False) as made:
            assert made.status == 303
        codes = (await codes_of(console))["THCS-ANLAO"]
        assert [(old, False)] == codes[:1] and len(codes) == 2 and codes[1][1]
        new = codes[1][0]
        async with http.get(base_url(console) + "/web/invites") as page:
            words = text_of(await page.text())
        assert f"mã mới là {new[:5]}-{new[5:]}" in words
        # The other units' codes are untouched.
        assert all(c[0][1] for u, c in (await codes_of(console)).items() if u != "THCS-ANLAO")

    late = tg.user(4301, "Thầy Minh")
    await late.send(old)
    await late.wait_for("đã hết hạn")
    await late.send(new)
    await late.wait_for("Thầy/cô đã được đăng ký báo cáo cho Trường THCS An Lão")
    async with console.app.sessions() as session:
        history = (await session.scalars(select(ChangeRecord).where(
            ChangeRecord.subject == "THCS-ANLAO", ChangeRecord.action.like("invite.%"))
            .order_by(ChangeRecord.id))).all()
    actions = [(h.action, (h.before or {}).get("code"), (h.after or {}).get("code"))
               for h in history]
    assert actions == [("invite.create", None, old), ("invite.revoke", old, old),
                       ("invite.create", None, new)]
    assert all(h.actor.startswith("Chủ tịch xã") for h in history[1:])


async def test_a_coordinator_probing_another_communes_letters_gets_not_found(
        console: Running, tg: FakeTelegram):
    async with await signed_in_console(console, tg) as http:
        base = base_url(console)
        for path in ("/web/invites?unit=X-ANTHANG", "/web/invites?unit=MN-ANTHANG",
                     "/web/invites?unit=HP"):
            async with http.get(base + path) as page:
                assert page.status == 404, path
        for unit in ("X-ANTHANG", "MN-ANTHANG", "HP", "NO-SUCH"):
            async with await letters(http, console, "docx", unit=unit) as refused:
                assert refused.status == 404, unit
        async with await letters(http, console, "docx", campaign="no-such") as refused:
            assert refused.status == 404
        async with http.get(base + "/web/invites") as page:
            csrf = csrf_of(await page.text())
        async with http.post(base + "/web/invites/MN-ANTHANG/new", data={"csrf": csrf},
                             allow_redirects=False) as refused:
            assert refused.status == 404
        async with http.post(base + "/web/invites/TH-ANLAO/new", data={"csrf": "forged"},
                             allow_redirects=False) as refused:
            assert refused.status == 403
    assert await codes_of(console) == {}  # nothing made for anyone


@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                    reason="LibreOffice and poppler are needed to make and read the PDF")
async def test_the_pdf_letters_carry_every_units_code(console: Running, tg: FakeTelegram,
                                                      tmp_path: Path):
    async with await signed_in_console(console, tg) as http, \
            await letters(http, console, "pdf") as response:
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"] == "application/pdf"
        pdf = await response.read()
    path = tmp_path / "thu-moi.pdf"
    path.write_bytes(pdf)
    shutil.copy(path, "/tmp/letters.pdf")  # to look at: pdftoppm -png -r 60 -f 1 -l 1
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    pages = text.split("\f")
    assert len([p for p in pages if p.strip()]) == len(AN_LAO)
    for unit, codes in (await codes_of(console)).items():
        code = codes[0][0]
        assert f"{code[:5]}-{code[5:]}" in text, unit
    assert "THƯ MỜI" in text and "Kính gửi" in text


async def test_without_libreoffice_the_pdf_button_says_so_and_the_docx_works(
        console: Running, tg: FakeTelegram, monkeypatch: pytest.MonkeyPatch):
    from bot.offices import letters as module

    monkeypatch.setattr(module, "_soffice", lambda: None)
    async with await signed_in_console(console, tg) as http:
        async with http.get(base_url(console) + "/web/invites") as page:
            html = await page.text()
        assert 'id="letters-pdf" disabled' in html and "LibreOffice" in text_of(html)
        async with await letters(http, console, "pdf") as refused:
            assert refused.status == 409
            assert "LibreOffice" in text_of(await refused.text())
        async with await letters(http, console, "docx") as response:
            assert response.status == 200
            assert len(letter_pages(await response.read())) == len(AN_LAO)


async def test_the_cli_writes_letters_and_invite_create_is_recorded(
        console: Running, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from typer.testing import CliRunner

    from bot.cli import app

    assert console.settings is not None
    monkeypatch.setenv("BAOCAO_DATABASE_URL", console.settings.database_url)
    monkeypatch.setenv("BAOCAO_TELEGRAM_BOT_USERNAME", "baocao_test_bot")
    monkeypatch.chdir(tmp_path)

    def baocao(*args: str):  # noqa: ANN202
        return CliRunner().invoke(app, list(args), catch_exceptions=False)

    made = await asyncio.to_thread(baocao, "invite", "create", "--unit", "MN-ANTHANG")
    assert made.exit_code == 0, made.output
    code = made.output.split()[0]
    out = tmp_path / "letters"
    written = await asyncio.to_thread(baocao, "invite", "letters", "--unit", "X-ANTHANG",
                                      "--campaign", CAMPAIGN, "--out", str(out), "--no-pdf")
    assert written.exit_code == 0, written.output
    docx = out / f"thu-moi-{CAMPAIGN}-X-ANTHANG.docx"
    pages = letter_pages(docx.read_bytes())
    # Xã An Thắng, its preschool and its centre; the preschool keeps the code it had.
    assert len(pages) == 3
    assert any(f"{code[:5]}-{code[5:]}" in t and "t.me/baocao_test_bot?start=" + code in t
               for t, _ in pages)
    if shutil.which("soffice"):
        printed = await asyncio.to_thread(baocao, "invite", "letters", "--unit", "MN-ANTHANG",
                                          "--campaign", CAMPAIGN, "--out", str(out))
        assert printed.exit_code == 0, printed.output
        pdf = out / f"thu-moi-{CAMPAIGN}-MN-ANTHANG.pdf"
        assert pdf.read_bytes().startswith(b"%PDF")
        assert f"{code[:5]}-{code[5:]}" in subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    refused = await asyncio.to_thread(baocao, "invite", "letters", "--unit", "NO-SUCH",
                                      "--out", str(out))
    assert refused.exit_code == 1 and "NO-SUCH" in refused.output
    async with console.app.sessions() as session:
        history = (await session.scalars(select(ChangeRecord).where(
            ChangeRecord.action == "invite.create").order_by(ChangeRecord.id))).all()
    assert [(h.subject, h.actor) for h in history][:1] == [("MN-ANTHANG", "CLI")]
    assert {(h.subject, h.actor) for h in history[1:]} == {("X-ANTHANG", "CLI"),
                                                          ("GDNN-ANTHANG", "CLI")}


async def test_an_admin_makes_the_whole_campaigns_letters(console: Running, tg: FakeTelegram):
    """An admin's scope is the whole tree: a letter for every unit that reports in the
    campaign (the Week's 3 communes and ward, its 6 schools and centres), none for the
    province or its department, which do not report in it."""
    from .conftest import invite

    admin = tg.user(4400, "Quản trị")
    await admin.send(f"/start {await invite(console.app, 'HP', role='admin')}")
    await admin.wait_for("Thành phố Hải Phòng")
    async with client() as http:
        await sign_in(http, await link_from_chat(admin))
        async with await letters(http, console, "docx", unit="") as response:
            assert response.status == 200, await response.text()
            assert "tat-ca" in response.headers["Content-Disposition"]
            pages = letter_pages(await response.read())
        async with http.get(base_url(console) + "/web/invites") as page:
            words = text_of(await page.text())
    assert len(pages) == 9 == sum(len(c) for c in (await codes_of(console)).values() if c)
    assert set(await codes_of(console)) == AN_LAO | {"X-ANTHANG", "MN-ANTHANG", "GDNN-ANTHANG",
                                                     "P-VINHBAO", "THPT-VINHBAO"}
    assert "Sở Giáo dục và Đào tạo Hải Phòng" in words  # listed, though it has no letter
    assert all("ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG" in t.replace("\n", " ") or
               "THÀNH PHỐ HẢI PHÒNG" in t for t, _ in pages)


async def test_a_unit_that_does_not_report_in_the_campaign_gets_no_letter_and_is_told(
        console: Running, tg: FakeTelegram):
    """The Study Promotion Month 2024 asks the communes only: a school's letters for it are
    refused with what to do, and no code is made."""
    async with await signed_in_console(console, tg) as http, \
            await letters(http, console, "docx", unit="TH-ANLAO",
                          campaign="thang-khuyen-hoc-2024") as refused:
        assert refused.status == 409
        words = text_of(await refused.text())
    assert "Không có đơn vị nào ở đây báo cáo trong đợt này" in words
    assert "No unit here reports in this campaign" in words
    assert await codes_of(console) == {}


async def test_a_code_about_to_run_out_is_not_printed_again(console: Running,
                                                            tg: FakeTelegram):
    """Letters made again 80 days later: the 90-day codes have under two weeks left, so each
    unit gets a new one on its letter; the old ones keep working until they run out."""
    async with await signed_in_console(console, tg) as http:
        async with await letters(http, console, "docx"):
            pass
        first = {u: c[0][0] for u, c in (await codes_of(console)).items()}
        console.clock.set(console.clock() + timedelta(days=80))
        boss_again = await link_from_chat(tg.user(4200, "Chủ tịch xã"))
    async with client() as http:
        await sign_in(http, boss_again)
        async with await letters(http, console, "docx") as response:
            printed = {"".join(CODE.findall(t)[0]) for t, _ in letter_pages(await response.read())}
    now = await codes_of(console)
    assert printed.isdisjoint(first.values()) and len(printed) == len(AN_LAO)
    assert all(codes == [(first[u], True), (codes[1][0], True)] for u, codes in now.items())


async def test_a_code_from_the_letter_signs_in_on_zalo(tg: FakeTelegram, db_url: str,
                                                       tmp_path: Path):
    from .fake_zalo import FakeZalo
    from .web_console import SECRET, START

    async with FakeZalo() as zl:
        port = free_port()
        clock = FlowingClock(START)
        settings = Settings(database_url=db_url, telegram_bot_token=tg.token,
                            telegram_api_base=tg.base_url, zalo_bot_token=zl.token,
                            zalo_api_base=zl.base_url, zalo_rate_per_chat=50,
                            files_dir=str(tmp_path / "files"), reminder_tick_seconds=0,
                            public_url=f"http://127.0.0.1:{port}", webhook_listen="127.0.0.1",
                            webhook_port=port, web_secret=SECRET)
        bot = await start(settings, clock=clock)
        bot.clock = clock
        try:
            await seed_reference_data(bot.app, tmp_path)
            async with await signed_in_console(bot, tg) as http:
                async with await letters(http, bot, "docx") as response:
                    pages = letter_pages(await response.read())
                page = next(t for t, _ in pages if "mã đơn vị THCS-ANLAO)" in t)
                code = "-".join(CODE.findall(page)[0])
                teacher = zl.user("f0e1d2c3b4a5968778695a4b", "Thầy Quang")
                await teacher.send("xin chào")
                await teacher.wait_for("mã mời")
                await teacher.send(f"Mã: {code}")
                await teacher.wait_for("Thầy/cô đã được đăng ký báo cáo cho Trường THCS An Lão")
                await teacher.send("/baocao")
                await teacher.wait_for("câu 1/")
                async with http.get(base_url(bot) + "/web/invites") as listing:
                    html = await listing.text()
            block = re.search(r'id="unit-THCS-ANLAO">(.*?)</li>', html, re.S)
            assert block and "Thầy Quang (Zalo)" in text_of(block.group(1))
            assert zl.spec_errors == []
        finally:
            await bot.stop()


@pytest.mark.parametrize(("issuer", "sender", "written"), [
    ("THÀNH PHỐ HẢI PHÒNG", "Thành phố Hải Phòng", "Thành phố Hải Phòng mời đơn vị"),
    ("UBND xã An Lão", "", "UBND xã An Lão mời đơn vị"),
    ("Phòng Giáo dục và Đào tạo", "Xã An Lão", "Phòng Giáo dục và Đào tạo mời đơn vị")])
def test_the_letter_names_the_office_as_it_is_written(issuer: str, sender: str, written: str):
    """An office's name is printed as written ("UBND xã", never "Ubnd Xã") in the letter's text;
    only the letterhead is in capitals."""
    from datetime import datetime

    from bot.exports.letterhead import Letterhead
    from bot.offices.letters import LetterPage, Letters, write_docx

    page = LetterPage("Xã An Hòa", "X-ANHOA", "BACWXS3TU5", "", "", None, 5)
    letters = Letters(Letterhead(issuer=issuer), "Tháng Khuyến học năm 2026",
                      "trước ngày 06/10/2026", "Asia/Ho_Chi_Minh", datetime(2026, 9, 20), [page],
                      sender)
    text = "\n".join(p.text for p in Document(io.BytesIO(write_docx(letters))).paragraphs)
    assert written in text, text
    assert issuer.upper() in "\n".join(
        c.text for t in Document(io.BytesIO(write_docx(letters))).tables
        for row in t.rows for c in row.cells)
