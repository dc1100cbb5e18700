"""Units and contacts from the web console, over real HTTP against the real bot on the fake
Telegram server: an office's Excel files previewed (new, changed, moved, no longer listed,
every bad line) and applied only as previewed; a unit edited; a reporter who left replaced;
two communes merged with both histories readable; every change in the change history; a
coordinator kept to their subtree."""

from __future__ import annotations

import io
import re
from html import unescape
from pathlib import Path

import aiohttp
import pytest
from openpyxl import Workbook
from sqlalchemy import select

from bot.runtime import Running
from bot.storage.models import ChangeRecord, Contact, ContactUnit, Identity, Submission, Unit

from .conftest import invite
from .fake_telegram import FakeTelegram, FakeUser
from .web_console import (
    base_url,
    client,
    coordinator,
    csrf_of,
    link_from_chat,
    report_through_chat,
    sign_in,
)

pytestmark = pytest.mark.slow

UNIT_HEADERS = ["Mã", "Tên", "Loại", "Mã đơn vị cấp trên"]
CONTACT_HEADERS = ["Họ tên", "Số điện thoại", "Mã đơn vị", "Vai trò"]


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def xlsx(headers: list[str], rows: list[list[str]]) -> bytes:
    """A workbook as an office fills it in: Vietnamese headers on the first row."""
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# Units an office adds: a new school under Xã An Lão, the THCS renamed, the MN moved to
# Xã An Lão. The bad file has an unknown kind (line 3) and a parent nobody loaded (line 5).
GOOD_UNITS = [["TH-ANLAO2", "Trường Tiểu học An Lão 2", "trường", "X-ANLAO"],
              ["THCS-ANLAO", "Trường THCS An Lão (mới)", "truong", "X-ANLAO"],
              ["MN-ANTHANG", "Trường Mầm non An Thắng", "Trường", "X-ANLAO"],
              ["X-ANLAO", "Xã An Lão", "xã", "HP"]]
BAD_UNITS = [GOOD_UNITS[0], ["THCS-ANLAO", "Trường THCS An Lão (mới)", "trường học xịn",
                             "X-ANLAO"],
             GOOD_UNITS[2], ["TH-MOI", "Trường Tiểu học Mới", "trường", "X-KHONGCO"]]


async def admin_user(bot: Running, tg: FakeTelegram, user_id: int = 4200) -> FakeUser:
    boss = tg.user(user_id, "Quản trị Sở")
    await boss.send(f"/start {await invite(bot.app, 'HP', role='admin')}")
    await boss.wait_for("Chào mừng")
    return boss


async def signed_in(bot: Running, boss: FakeUser) -> aiohttp.ClientSession:
    http = client()
    response = await sign_in(http, await link_from_chat(boss))
    assert response.status == 303
    return http


async def page(http: aiohttp.ClientSession, bot: Running, path: str) -> tuple[int, str]:
    async with http.get(base_url(bot) + path) as response:
        return response.status, await response.text()


async def upload(http: aiohttp.ClientSession, bot: Running, what: str, body: bytes,
                 name: str = "don-vi.xlsx") -> tuple[int, str]:
    _status, html = await page(http, bot, "/web/office/units")
    form = aiohttp.FormData()
    form.add_field("csrf", csrf_of(html))
    form.add_field("file", body, filename=name,
                   content_type="application/vnd.openxmlformats-officedocument"
                                ".spreadsheetml.sheet")
    async with http.post(base_url(bot) + f"/web/office/upload/{what}", data=form) as response:
        return response.status, await response.text()


async def apply(http: aiohttp.ClientSession, bot: Running, what: str, preview: str
                ) -> aiohttp.ClientResponse:
    token = re.search(r'name="token" value="([^"]+)"', preview)
    digest = re.search(r'name="digest" value="([^"]+)"', preview)
    assert token and digest, preview
    return await http.post(base_url(bot) + f"/web/office/apply/{what}", data={
        "csrf": csrf_of(preview), "token": token.group(1), "digest": digest.group(1)},
        allow_redirects=False)


async def post(http: aiohttp.ClientSession, bot: Running, path: str, form: dict[str, str],
               csrf_page: str = "/web/office/units") -> aiohttp.ClientResponse:
    _status, html = await page(http, bot, csrf_page)
    return await http.post(base_url(bot) + path, data={"csrf": csrf_of(html), **form},
                           allow_redirects=False)


async def units_now(bot: Running) -> dict[str, tuple[str, str, str]]:
    async with bot.app.sessions() as session:
        rows = (await session.scalars(select(Unit))).all()
        codes = {u.id: u.code for u in rows}
        return {u.code: (u.name, u.kind, codes.get(u.parent_id, "")) for u in rows}


async def changes(bot: Running) -> list[ChangeRecord]:
    async with bot.app.sessions() as session:
        return list((await session.scalars(select(ChangeRecord).order_by(ChangeRecord.id)))
                    .all())


async def test_units_upload_names_bad_lines_stores_nothing_then_applies_the_corrected_file(
        console: Running, tg: FakeTelegram):
    boss = await admin_user(console, tg)
    before = await units_now(console)
    seeded = len(await changes(console))  # the tree the tests start from, loaded by the CLI
    async with await signed_in(console, boss) as http:
        status, html = await page(http, console, "/web/")
        assert 'href="/web/office/units"' in html
        status, html = await upload(http, console, "units", xlsx(UNIT_HEADERS, BAD_UNITS))
        words = text_of(html)
        assert status == 422
        assert "dòng 3: không rõ loại đơn vị “trường học xịn”" in words, words
        assert "dòng 5: đơn vị cấp trên X-KHONGCO không có trong tệp và chưa được nạp" in words
        assert "Chưa lưu gì" in words and 'name="token"' not in html
        assert await units_now(console) == before and len(await changes(console)) == seeded

        status, html = await upload(http, console, "units", xlsx(UNIT_HEADERS, GOOD_UNITS))
        words = text_of(html)
        assert status == 200, words
        new = re.search(r'id="new">(.*?)</section>', html, re.S)
        moved = re.search(r'id="moved">(.*?)</section>', html, re.S)
        changed = re.search(r'id="changed">(.*?)</section>', html, re.S)
        unlisted = re.search(r'id="unlisted">(.*?)</section>', html, re.S)
        assert new and "TH-ANLAO2" in new.group(1)
        assert moved and "MN-ANTHANG" in moved.group(1) and "X-ANTHANG" in moved.group(1)
        assert changed and "Trường THCS An Lão (mới)" in text_of(changed.group(1))
        assert unlisted and "P-VINHBAO" in unlisted.group(1)
        assert await units_now(console) == before  # a preview stores nothing
        response = await apply(http, console, "units", html)
        assert response.status == 303 and response.headers["Location"] == "/web/office/units"
        status, html = await page(http, console, "/web/office/units")
        assert "Đã lưu: 3 thay đổi từ don-vi.xlsx." in text_of(html)
    after = await units_now(console)
    assert after["TH-ANLAO2"] == ("Trường Tiểu học An Lão 2", "school", "X-ANLAO")
    assert after["THCS-ANLAO"][0] == "Trường THCS An Lão (mới)"
    assert after["MN-ANTHANG"][2] == "X-ANLAO"
    assert after["P-VINHBAO"] == before["P-VINHBAO"]  # not listed: kept
    async with console.app.sessions() as session:
        mn = await session.scalar(select(Unit).where(Unit.code == "MN-ANTHANG"))
        assert mn.path == "/HP/X-ANLAO/MN-ANTHANG/"
    recorded = [(c.action, c.subject, c.actor) for c in (await changes(console))[seeded:]]
    assert sorted(recorded) == sorted([("unit.create", "TH-ANLAO2", "Quản trị Sở"),
                                       ("unit.update", "THCS-ANLAO", "Quản trị Sở"),
                                       ("unit.move", "MN-ANTHANG", "Quản trị Sở")])


async def test_an_apply_stores_only_what_the_preview_showed(console: Running,
                                                            tg: FakeTelegram):
    boss = await admin_user(console, tg)
    async with await signed_in(console, boss) as http:
        _status, shown = await upload(http, console, "units", xlsx(UNIT_HEADERS, GOOD_UNITS))
        # Someone renames the THCS in between: the preview shown is no longer what applies.
        async with console.app.sessions() as session, session.begin():
            thcs = await session.scalar(select(Unit).where(Unit.code == "THCS-ANLAO"))
            thcs.name = "Trường THCS An Lão (mới)"
        response = await apply(http, console, "units", shown)
        words = text_of(await response.text())
        assert response.status == 200 and "chưa lưu gì" in words
        assert "TH-ANLAO2" not in await units_now(console)
        # A forged digest is refused the same way.
        response = await http.post(base_url(console) + "/web/office/apply/units", data={
            "csrf": csrf_of(shown), "digest": "0" * 32,
            "token": re.search(r'name="token" value="([^"]+)"', shown).group(1)},
            allow_redirects=False)
        assert response.status == 200 and "TH-ANLAO2" not in await units_now(console)


async def test_contacts_upload_with_two_bad_lines_then_corrected(console: Running,
                                                                 tg: FakeTelegram):
    boss = await admin_user(console, tg)
    bad = [["Cô Lan", "0987 654 321", "TH-ANLAO", "báo cáo"],
           ["Thầy Minh", "12345", "THCS-ANLAO", "người báo cáo"],
           ["Chị Hoa", "0912 000 111", "X-KHONGCO", "tổng hợp"]]
    async with await signed_in(console, boss) as http:
        status, html = await upload(http, console, "contacts", xlsx(CONTACT_HEADERS, bad),
                                    "nguoi-bao-cao.xlsx")
        words = text_of(html)
        assert status == 422
        assert "dòng 3: “12345” không phải là số điện thoại" in words, words
        assert "dòng 4: đơn vị X-KHONGCO chưa được nạp" in words
        good = [bad[0], ["Thầy Minh", "0905 123 456", "THCS-ANLAO", "người báo cáo"],
                ["Chị Hoa", "0912 000 111", "X-ANLAO", "tổng hợp"]]
        status, html = await upload(http, console, "contacts", xlsx(CONTACT_HEADERS, good),
                                    "nguoi-bao-cao.xlsx")
        assert status == 200 and "+84905123456" in html, text_of(html)
        assert (await apply(http, console, "contacts", html)).status == 303
    async with console.app.sessions() as session:
        people = {c.phone: (c.name, c.role) for c in (await session.scalars(
            select(Contact))).all()}
    assert people["+84905123456"] == ("Thầy Minh", "reporter")
    assert people["+84912000111"] == ("Chị Hoa", "coordinator")
    assert [c.action for c in await changes(console)].count("contact.create") == 3


async def test_a_file_without_the_columns_is_refused_in_vietnamese(console: Running,
                                                                   tg: FakeTelegram):
    boss = await admin_user(console, tg)
    async with await signed_in(console, boss) as http:
        status, html = await upload(http, console, "units",
                                    xlsx(["Mã", "Tên"], [["TH-X", "Trường X"]]))
        assert status == 422
        assert "dòng 1: tệp thiếu các cột Loại, Mã đơn vị cấp trên" in text_of(html)
        status, html = await upload(http, console, "units", b"PK\x03\x04 not a workbook")
        assert status == 422 and "Không đọc được tệp don-vi.xlsx" in text_of(html)
        status, html = await upload(http, console, "units", b"x" * (5 * 1024 * 1024 + 1))
        assert status == 422 and "tối đa 5 MB" in text_of(html)
        # Without the session's CSRF token the file is not even read.
        form = aiohttp.FormData()
        form.add_field("csrf", "forged")
        form.add_field("file", xlsx(UNIT_HEADERS, GOOD_UNITS), filename="don-vi.xlsx")
        async with http.post(base_url(console) + "/web/office/upload/units",
                             data=form) as response:
            assert response.status == 403 and "TH-ANLAO2" not in await response.text()


async def test_a_unit_edited_and_a_reporter_replaced_whose_old_chat_no_longer_reports(
        console: Running, tg: FakeTelegram):
    from .test_telegram_e2e import deep_link_sign_in

    boss = await admin_user(console, tg)
    leaving = tg.user(4300, "Cô Lan")
    await deep_link_sign_in(console, leaving, "TH-ANLAO")
    async with console.app.sessions() as session:
        old = await session.scalar(select(Contact).join(Identity).where(
            Identity.external_user_id == "4300"))
        old_id = old.id
    async with await signed_in(console, boss) as http:
        response = await post(http, console, "/web/office/unit/TH-ANLAO", {
            "name": "Trường Tiểu học An Lão (cơ sở 1)", "kind": "trường",
            "parent": "X-ANLAO"})
        assert response.status == 303
        _s, html = await page(http, console, "/web/office/unit/TH-ANLAO")
        assert "Đã lưu." in text_of(html)
        assert "Trường Tiểu học An Lão (cơ sở 1)" in html and "Cô Lan" in html
        # A kind nobody knows is refused politely, nothing changed.
        await post(http, console, "/web/office/unit/TH-ANLAO", {
            "name": "Trường X", "kind": "trường học xịn", "parent": "X-ANLAO"})
        _s, html = await page(http, console, "/web/office/unit/TH-ANLAO")
        assert "Chưa thay đổi: không rõ loại đơn vị “trường học xịn”." in text_of(html)
        # The person's own line: name, phone and role edited in place.
        response = await post(http, console, f"/web/office/contact/{old_id}", {
            "name": "Cô Lan (tổ trưởng)", "phone": "0987 111 222", "role": "reporter"},
            "/web/office/unit/TH-ANLAO")
        assert response.status == 303
        async with console.app.sessions() as session:
            edited = await session.get(Contact, old_id)
            assert (edited.name, edited.phone) == ("Cô Lan (tổ trưởng)", "+84987111222")
        response = await post(http, console, f"/web/office/contact/{old_id}/replace",
                              {"name": "Thầy Nam", "phone": "0911 222 333"},
                              "/web/office/unit/TH-ANLAO")
        html = await response.text()
        assert response.status == 200, text_of(html)
        code = re.search(r'id="invite-code"><strong>([^<]+)</strong>', html).group(1)
        assert "Cô Lan" in text_of(html)
    # The one who left is signed out of the chat: /baocao asks for a code, reports nothing.
    await leaving.send("/baocao")
    reply = await leaving.wait_for(lambda m: True)
    assert "câu 1/" not in reply.text and "mã" in reply.text.lower(), reply.text
    # The new person signs in with the code on the page and gets the campaign.
    newcomer = tg.user(4301, "Thầy Nam")
    await newcomer.send(f"/start {code}")
    await newcomer.wait_for("đã được đăng ký báo cáo cho Trường Tiểu học An Lão (cơ sở 1)")
    await newcomer.send("/baocao")
    await newcomer.wait_for("câu 1/")
    async with console.app.sessions() as session:
        links = (await session.scalars(select(ContactUnit.unit_id).where(
            ContactUnit.contact_id == old_id))).all()
        assert links == []
    actions = [c.action for c in await changes(console)]
    assert "unit.update" in actions and "contact.replace" in actions
    assert "contact.update" in actions


async def test_two_communes_merged_keep_both_histories_under_the_new_unit(
        console: Running, tg: FakeTelegram):
    people = await report_through_chat(console, tg)  # X-ANLAO submitted its report
    boss = await admin_user(console, tg)
    async with console.app.sessions() as session:
        period_id = await session.scalar(select(Submission.period_id).join(
            Unit, Unit.id == Submission.unit_id).where(Unit.code == "X-ANLAO"))
    async with await signed_in(console, boss) as http:
        _s, before = await page(http, console, f"/web/unit/X-ANLAO?period={period_id}")
        answers = re.findall(r'<span class="value">([^<]*)</span>', before)
        assert answers
        response = await post(http, console, "/web/office/merge", {
            "first": "X-ANLAO", "second": "X-ANTHANG", "code": "HP", "name": "Xã mới"})
        assert response.headers["Location"] == "/web/office/units"
        _s, html = await page(http, console, "/web/office/units")
        assert "Chưa thay đổi: mã HP đã được dùng cho một đơn vị khác." in text_of(html)
        response = await post(http, console, "/web/office/merge", {
            "first": "X-ANLAO", "second": "X-ANTHANG", "code": "X-ANLAO-ANTHANG",
            "name": "Xã An Lão - An Thắng"})
        assert response.status == 303, text_of(await response.text())
        assert response.headers["Location"] == "/web/office/unit/X-ANLAO-ANTHANG"
        _s, html = await page(http, console, "/web/office/unit/X-ANLAO-ANTHANG")
        merged = re.search(r'id="merged">(.*?)</section>', html, re.S)
        assert merged and "X-ANLAO" in merged.group(1) and "X-ANTHANG" in merged.group(1)
        # The old commune's report reads as it was sent.
        status, after = await page(http, console, f"/web/unit/X-ANLAO?period={period_id}")
        assert status == 200
        assert re.findall(r'<span class="value">([^<]*)</span>', after) == answers
        # The board of that period still counts the report Xã An Lão sent before the merge.
        status, board = await page(http, console, f"/web/?period={period_id}")
        assert status == 200 and "Xã An Lão - An Thắng" in text_of(board)
        assert re.search(r'<li class="unit submitted on-time" data-search="xa an lao x-anlao">',
                         board), text_of(board)
    tree = await units_now(console)
    assert tree["X-ANLAO"][1:] == ("merged", "X-ANLAO-ANTHANG")
    assert tree["X-ANTHANG"][1:] == ("merged", "X-ANLAO-ANTHANG")
    assert tree["TH-ANLAO"][2] == "X-ANLAO-ANTHANG" and tree["MN-ANTHANG"][2] == \
        "X-ANLAO-ANTHANG"
    assert tree["X-ANLAO-ANTHANG"] == ("Xã An Lão - An Thắng", "commune", "HP")
    # The commune's reporter now reports for the new unit.
    commune = people["X-ANLAO"]
    await commune.send("/baocao")
    reply = await commune.wait_for(lambda m: True)
    assert "Xã An Lão - An Thắng" in reply.text or "câu 1/" in reply.text, reply.text
    assert "unit.merge" in [c.action for c in await changes(console)]


async def test_a_coordinator_works_only_in_their_subtree(console: Running, tg: FakeTelegram):
    boss = await coordinator(console, tg, "X-ANLAO", 4400, "Cán bộ xã An Lão")
    async with console.app.sessions() as session:
        other = Contact(name="Người An Thắng", phone="+84933444555", role="reporter",
                        language="vi", active=True, created_at=console.clock())
        session.add(other)
        await session.flush()
        unit_id = await session.scalar(select(Unit.id).where(Unit.code == "MN-ANTHANG"))
        session.add(ContactUnit(contact_id=other.id, unit_id=unit_id))
        chief = Contact(name="Quản trị ở trường", phone="+84933000111", role="admin",
                        language="vi", active=True, created_at=console.clock())
        session.add(chief)
        await session.flush()
        school = await session.scalar(select(Unit.id).where(Unit.code == "TH-ANLAO"))
        session.add(ContactUnit(contact_id=chief.id, unit_id=school))
        await session.commit()
        other_id, chief_id = other.id, chief.id
    before = await units_now(console)
    seeded = len(await changes(console))
    async with await signed_in(console, boss) as http:
        status, html = await page(http, console, "/web/office/units")
        assert status == 200 and "TH-ANLAO" in html and "MN-ANTHANG" not in html
        for path in ("/web/office/unit/MN-ANTHANG", "/web/office/unit/X-ANTHANG",
                     "/web/office/unit/HP"):
            assert (await page(http, console, path))[0] == 404, path
        for path, form in ((f"/web/office/contact/{other_id}",
                            {"name": "x", "phone": "0933444555", "role": "reporter"}),
                           (f"/web/office/contact/{other_id}/replace", {"name": "y"}),
                           ("/web/office/unit/MN-ANTHANG", {"name": "z", "kind": "trường"}),
                           ("/web/office/merge", {"first": "X-ANTHANG", "second": "P-VINHBAO",
                                                  "code": "X-NEW", "name": "n"})):
            assert (await post(http, console, path, form)).status == 404, path
        rows = [["TH-ANLAO", "Trường Tiểu học An Lão", "trường", "X-ANTHANG"],
                ["MN-ANTHANG", "Trường Mầm non An Thắng", "trường", "X-ANLAO"]]
        status, html = await upload(http, console, "units", xlsx(UNIT_HEADERS, rows))
        words = text_of(html)
        assert status == 422
        assert "dòng 2: đơn vị cấp trên X-ANTHANG không thuộc các đơn vị" in words, words
        assert "dòng 3: đơn vị MN-ANTHANG không thuộc các đơn vị" in words
        contacts = [["Người An Thắng", "0933444555", "TH-ANLAO", "báo cáo"],
                    ["Ai đó", "0944555666", "TH-ANLAO", "quản trị"]]
        status, html = await upload(http, console, "contacts",
                                    xlsx(CONTACT_HEADERS, contacts))
        words = text_of(html)
        assert status == 422
        assert "dòng 2: số điện thoại +84933444555" in words, words
        assert "dòng 3: chỉ quản trị viên" in words
        # Replacing an admin would hand out an admin's code: not a coordinator's to give.
        response = await post(http, console, f"/web/office/contact/{chief_id}/replace",
                              {"name": "Người mới"})
        assert response.status == 303
        _s, html = await page(http, console, "/web/office/unit/TH-ANLAO")
        assert "Chưa thay đổi: chỉ quản trị viên mới được giao vai trò" in text_of(html)
    assert await units_now(console) == before and len(await changes(console)) == seeded
    async with console.app.sessions() as session:
        assert (await session.get(Contact, chief_id)).active


async def test_the_cli_imports_run_the_same_preview_and_record_their_changes(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`baocao units import` / `contacts import` are thin callers of bot/offices: the same bad
    lines (in English at the terminal), nothing stored, then the corrected file stored with
    every change in the history, by "CLI"."""
    import asyncio

    from typer.testing import CliRunner

    from bot.app import build_app
    from bot.cli import app
    from bot.settings import Settings

    monkeypatch.setenv("BAOCAO_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)

    def baocao(*args: str):  # noqa: ANN202
        return CliRunner().invoke(app, list(args), catch_exceptions=False)

    tree = [["HP", "Thành phố Hải Phòng", "thành phố", ""],
            ["X-ANLAO", "Xã An Lão", "xã", "HP"]]
    units_file, people = tmp_path / "don-vi.xlsx", tmp_path / "nguoi.xlsx"
    units_file.write_bytes(xlsx(UNIT_HEADERS, [*tree, *BAD_UNITS]))
    refused = await asyncio.to_thread(baocao, "units", "import", str(units_file))
    assert refused.exit_code != 0
    assert "line 5: unknown kind “trường học xịn”" in refused.output, refused.output
    assert "line 7: parent X-KHONGCO is neither in the file nor loaded" in refused.output
    units_file.write_bytes(xlsx(UNIT_HEADERS, [*tree, GOOD_UNITS[0]]))
    done = await asyncio.to_thread(baocao, "units", "import", str(units_file))
    assert done.exit_code == 0 and "Imported 3 units." in done.output, done.output
    people.write_bytes(xlsx(CONTACT_HEADERS, [["Cô Lan", "0987654321", "TH-ANLAO2", "báo cáo"]]))
    done = await asyncio.to_thread(baocao, "contacts", "import", str(people))
    assert done.exit_code == 0, done.output
    application = await build_app(Settings(database_url=db_url), migrate=False)
    try:
        async with application.sessions() as session:
            rows = (await session.scalars(select(ChangeRecord).order_by(ChangeRecord.id))).all()
    finally:
        await application.close()
    assert [(r.action, r.subject, r.actor) for r in rows] == [
        ("unit.create", "HP", "CLI"), ("unit.create", "X-ANLAO", "CLI"),
        ("unit.create", "TH-ANLAO2", "CLI"),
        ("contact.create", "Cô Lan (+84987654321)", "CLI")]
    assert rows[2].scope_path == "/HP/X-ANLAO/TH-ANLAO2/"
