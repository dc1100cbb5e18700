"""The office's whole path in a real browser (headless Chromium), issue 25's "done": on a fresh
demo database (`baocao demo seed`), an admin opens the `/web` link from the chat, creates and
publishes a campaign on a bundled form with a deadline and reminders, uploads the office's
units and contacts workbooks (two bad lines named, nothing stored; corrected, applied), downloads
the invite letters as PDF; a reporter of a new unit signs in on the fake Telegram server with the
code printed in the letter and is asked the campaign's first question; a commune's coordinator
reads and changes only their subtree; a deadline extension reaches only the units not yet
submitted. The path runs at desktop width; key pages are also shot at phone width."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot import demo
from bot.runtime import Running, start
from bot.settings import Settings
from bot.storage.models import Contact, Unit
from conversations.forms import bundled_form_files, load_form_file

from .conftest import VN, invite
from .fake_telegram import FakeTelegram
from .test_campaign_console import NEW_CAMPAIGN, coordinator_session, get, post
from .test_campaign_console_browser import fill
from .test_coordinators_e2e import known_values, typed
from .test_office_units import CONTACT_HEADERS, UNIT_HEADERS, xlsx
from .test_telegram_e2e import FlowingClock, deep_link_sign_in, free_port
from .test_web_console_browser import (  # noqa: F401 - `browser` is a fixture
    ARTIFACTS,
    DESKTOP,
    PHONE,
    browser,
    run,
    screenshot,
    wait_for_text,
)
from .web_console import SECRET, client, coordinator, link_from_chat, sign_in

pytestmark = pytest.mark.slow
NOW = datetime(2026, 9, 20, 9, 0, tzinfo=VN)

# What an office types into the templates: Vietnamese headers and kind words. Line 3 has a kind
# nobody knows, line 4 a parent that is not in the file nor loaded.
GOOD_UNITS = [["X-ANHOA", "Xã An Hòa", "xã", "HP"],
              ["TH-ANHOA", "Trường Tiểu học An Hòa", "Trường", "X-ANHOA"],
              ["MN-ANHOA", "Trường Mầm non An Hòa", "trường", "X-ANHOA"]]
BAD_UNITS = [GOOD_UNITS[0], ["TH-ANHOA", "Trường Tiểu học An Hòa", "trường tiểu học xịn",
                             "X-ANHOA"],
             ["MN-ANHOA", "Trường Mầm non An Hòa", "trường", "X-ANHOAA"]]
CONTACTS = [["Nguyễn Văn Hòa", "0912 000 111", "X-ANHOA", "người báo cáo"],
            ["Trần Thị Thắng", "0912000222", "MN-ANTHANG", "báo cáo"],
            ["Lê Văn Lão", "0912000333", "TH-ANLAO", "người báo cáo"]]


@pytest.fixture
async def office(tg: FakeTelegram, db_url: str, tmp_path: Path) -> AsyncIterator[Running]:
    """`baocao run` with its console on a database `baocao demo seed` filled, nothing else."""
    port = free_port()
    clock = FlowingClock(NOW)
    settings = Settings(database_url=db_url, telegram_bot_token=tg.token,
                        telegram_api_base=tg.base_url, telegram_rate_per_chat=50,
                        files_dir=str(tmp_path / "files"), reminder_tick_seconds=0,
                        public_url=f"http://127.0.0.1:{port}", webhook_listen="127.0.0.1",
                        webhook_port=port, web_secret=SECRET)
    running = await start(settings, clock=clock)
    running.clock = clock
    async with running.app.sessions() as session, session.begin():
        await demo.seed(session, clock(), tmp_path)
    yield running
    await running.stop()


def phone_shot(driver: Any, name: str) -> None:
    """At phone width the page fits (no sideways scrolling), then its screenshot."""
    driver.set_window_size(*PHONE)
    width = driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= driver.execute_script("return window.innerWidth"), (name, width)
    screenshot(driver, PHONE, name)


def signs_in_and_publishes(driver: Any, link: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(link)
    driver.find_element(By.CSS_SELECTOR, "form button").click()
    driver.find_element(By.ID, "nav-campaigns").click()
    driver.find_element(By.ID, "new-campaign").click()
    wait_for_text(driver, "h1", "Tạo đợt báo cáo")
    fill(driver, {"title_vi": "Tháng Khuyến học năm 2026",
                  "title_en": "Study Promotion Month 2026", "key": "thang-khuyen-hoc-2026",
                  "form_1": "thang-khuyen-hoc", "kinds_1": "commune, ward",
                  "start": "15/09/2026", "end": "05/10/2026", "due_before": "06/10/2026",
                  "before": "3d, 1d", "overdue_days": "2"})
    driver.find_element(By.ID, "save").click()
    wait_for_text(driver, "#schedule", "Nhắc")
    assert not driver.find_elements(By.ID, "problems")
    driver.find_element(By.ID, "publish").click()
    wait_for_text(driver, "#state", "Đã phát hành")
    assert "Hạn nộp trước ngày 06/10/2026." in driver.find_element(By.ID, "periods").text
    phone_shot(driver, "journey-campaign-published-phone.png")


def upload(driver: Any, field: str, button: str, path: Path) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "nav-units").click()
    wait_for_text(driver, "h1", "Đơn vị và người báo cáo")
    driver.find_element(By.ID, field).send_keys(str(path))
    driver.find_element(By.ID, button).click()


def uploads_units_and_contacts(driver: Any, bad: Path, good: Path, people: Path) -> None:
    from selenium.webdriver.common.by import By

    upload(driver, "units-file", "upload-units", bad)
    wait_for_text(driver, "#problems", "dòng 3")
    problems = driver.find_element(By.ID, "problems").text
    assert "dòng 3: không rõ loại đơn vị “trường tiểu học xịn”" in problems, problems
    assert "dòng 4: đơn vị cấp trên X-ANHOAA" in problems, problems
    assert not driver.find_elements(By.ID, "apply")
    phone_shot(driver, "journey-units-bad-lines-phone.png")
    upload(driver, "units-file", "upload-units", good)
    wait_for_text(driver, "#new", "MN-ANHOA")
    driver.find_element(By.ID, "apply").click()
    wait_for_text(driver, "#flash", "Đã lưu: 3 thay đổi")
    upload(driver, "contacts-file", "upload-contacts", people)
    wait_for_text(driver, "#new", "Nguyễn Văn Hòa")
    driver.find_element(By.ID, "apply").click()
    wait_for_text(driver, "#flash", "Đã lưu")
    screenshot(driver, DESKTOP, "journey-units-applied-desktop.png")


def downloads_the_letters(driver: Any, downloads: Path) -> Path:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads)})
    driver.find_element(By.ID, "nav-invites").click()
    wait_for_text(driver, "h1", "Thư mời và đăng nhập")
    assert "X-ANHOA" in driver.find_element(By.ID, "sign-ins").text
    Select(driver.find_element(By.NAME, "campaign")).select_by_value("thang-khuyen-hoc-2026")
    phone_shot(driver, "journey-invites-phone.png")
    driver.find_element(By.ID, "letters-pdf").click()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done = [p for p in downloads.glob("*.pdf")]
        if done and not list(downloads.glob("*.crdownload")):
            return done[0]
        time.sleep(0.3)
    raise AssertionError(f"no PDF downloaded: {list(downloads.iterdir())}")


def signs_in(driver: Any, link: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(link)
    driver.find_element(By.CSS_SELECTOR, "form button").click()
    wait_for_text(driver, "header", "Đợt báo cáo")
    driver.find_element(By.ID, "nav-invites").click()
    signed = driver.find_element(By.ID, "unit-X-ANHOA").text
    assert "Đã đăng nhập: Nguyễn Văn Hòa (Telegram)" in signed, signed


def extends(driver: Any) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "nav-campaigns").click()
    driver.find_element(By.PARTIAL_LINK_TEXT, "Tháng Khuyến học năm 2026").click()
    wait_for_text(driver, "#state", "Đã phát hành")
    driver.find_element(By.CSS_SELECTOR, "form.extend input[name=due_before]").send_keys(
        "13/10/2026")
    driver.find_element(By.CSS_SELECTOR, "form.extend button").click()
    wait_for_text(driver, "#periods", "Hạn nộp trước ngày 13/10/2026.")
    phone_shot(driver, "journey-extended-phone.png")


def a_coordinator_edits_their_school(driver: Any, link: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(link)
    driver.find_element(By.CSS_SELECTOR, "form button").click()
    driver.find_element(By.ID, "nav-units").click()
    wait_for_text(driver, "#units", "TH-ANLAO")
    listed = driver.find_element(By.ID, "units").text
    assert "MN-ANTHANG" not in listed and "X-ANHOA" not in listed, listed
    driver.find_element(By.LINK_TEXT, "TH-ANLAO").click()
    name = driver.find_element(By.ID, "unit-name")
    name.clear()
    name.send_keys("Trường Tiểu học An Lão (mới)")
    driver.find_element(By.ID, "save-unit").click()
    wait_for_text(driver, "h1", "Trường Tiểu học An Lão (mới)")
    phone_shot(driver, "journey-coordinator-unit-phone.png")


def letter_code(pdf: Path, unit_name: str) -> str:
    """The code printed on the unit's page of the letters (pdftotext, page by page)."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    page = next(p for p in text.split("\f") if unit_name in p)
    assert "Thành phố Hải Phòng mời đơn vị" in " ".join(page.split()), page
    found = re.search(r"gửi mã ([A-Z2-9]{5}-[A-Z2-9]{5})", page)  # as the Zalo step prints it
    assert found, page
    return found.group(1)


async def test_the_office_path_from_the_first_link_to_the_first_report(
        office: Running, tg: FakeTelegram, browser: Any, tmp_path: Path):  # noqa: F811
    admin = tg.user(4500, "Quản trị viên")
    await admin.send(f"/start {await invite(office.app, 'HP', role='admin')}")
    await admin.wait_for(lambda m: True)
    # (1) the campaign
    await run(signs_in_and_publishes, browser, await link_from_chat(admin))
    # (2) units and contacts, as an office fills the templates
    bad, good, people = (tmp_path / n for n in ("don-vi-loi.xlsx", "don-vi.xlsx", "nguoi.xlsx"))
    bad.write_bytes(xlsx(UNIT_HEADERS, BAD_UNITS))
    good.write_bytes(xlsx(UNIT_HEADERS, GOOD_UNITS))
    people.write_bytes(xlsx(CONTACT_HEADERS, CONTACTS))
    async with office.app.sessions() as session:
        assert await session.scalar(select(Unit).where(Unit.code == "X-ANHOA")) is None
    await run(uploads_units_and_contacts, browser, bad, good, people)
    async with office.app.sessions() as session:
        assert await session.scalar(select(Unit.path).where(Unit.code == "TH-ANHOA")) == \
            "/HP/X-ANHOA/TH-ANHOA/"
        assert await session.scalar(select(Contact.name).where(
            Contact.phone.like("%912000111"))) == "Nguyễn Văn Hòa"
    # (3) the letters: page 1 as PNG for a person to look at, the codes read from the text
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    pdf = await run(downloads_the_letters, browser, downloads)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf),
                    str(ARTIFACTS / "journey-letter")], check=True)
    code = letter_code(pdf, "Xã An Hòa")
    form = next(load_form_file(p) for p in bundled_form_files() if p.stem == "thang-khuyen-hoc")
    # (4) the reporter of the new commune signs in with it and is asked the first question
    hoa = tg.user(4600, "Nguyễn Văn Hòa")
    await hoa.send(f"/start {code}")
    await hoa.wait_for("đã được đăng ký báo cáo cho Xã An Hòa")
    await hoa.send("/baocao")
    await hoa.wait_for("Anh/chị muốn làm báo cáo nào?")  # the demo's Week is open too
    await hoa.press("Tháng Khuyến học năm 2026 — Xã An Hòa")
    first = await hoa.wait_for("câu 1/")
    assert form.questions[0].label.vi[:20] in first.text, first.text
    # Xã An Lão submits the whole report in chat.
    lao = tg.user(4601, "Người báo cáo An Lão")
    await deep_link_sign_in(office, lao, "X-ANLAO")
    await lao.send("/baocao")
    await lao.wait_for("Anh/chị muốn làm báo cáo nào?")
    await lao.press("Tháng Khuyến học năm 2026 — Xã An Lão")
    values = {**known_values(1, form), "3.1": 500, "3.2": 20}  # new members are among all
    for section in form.sections:
        parts = [typed(values[q.id]) for q in section.questions]
        await lao.send(f"mục {section.id}: " + "; ".join(parts))
        await lao.wait_for("Đã lưu")
    await lao.wait_for("Xem lại báo cáo", fresh=False)
    await lao.press("Nộp báo cáo")
    await lao.wait_for("đúng hạn")
    # (5) the coordinator of Xã An Lão: their subtree only. Xã An Thắng's has a campaign.
    async with client() as anthang:
        await coordinator_session(office, tg, anthang, "X-ANTHANG", 4701)
        theirs = {**NEW_CAMPAIGN, "key": "tuan-le-xa-anthang", "form_1": "tuan-le-htsd-truong",
                  "kinds_1": "school", "units": "MN-ANTHANG", "start": "15/09/2026",
                  "end": "05/10/2026", "due_before": "06/10/2026"}
        draft = (await post(anthang, office, "/web/campaigns/new", theirs,
                            "/web/campaigns/new")).headers["Location"]
        assert (await post(anthang, office, draft + "/publish", {}, draft)).status == 303
    lao_boss = await coordinator(office, tg, "X-ANLAO", 4700, "Chủ tịch xã An Lão")
    await run(a_coordinator_edits_their_school, browser, await link_from_chat(lao_boss))
    async with client() as anlao:
        assert (await sign_in(anlao, await link_from_chat(lao_boss))).status == 303
        status, html = await get(anlao, office, "/web/campaigns")
        assert "tuan-le-xa-anthang" not in html
        async with office.app.sessions() as session:
            other = await session.scalar(select(Contact.id).where(
                Contact.phone.like("%912000222")))
        for probe in ("/web/office/unit/MN-ANTHANG", "/web/office/unit/X-ANTHANG",
                      "/web/campaigns/c/thang-khuyen-hoc-2026",
                      "/web/campaigns/c/tuan-le-xa-anthang", draft):
            assert (await get(anlao, office, probe))[0] == 404, probe
        for path, form_data in (
                ("/web/office/unit/MN-ANTHANG", {"name": "x", "kind": "trường",
                                                 "parent": "X-ANLAO"}),
                (f"/web/office/contact/{other}", {"name": "x", "phone": "0912000222",
                                                  "role": "reporter"}),
                (f"/web/office/contact/{other}/replace", {}),
                ("/web/campaigns/c/tuan-le-xa-anthang/extend", {"due_before": "20/10/2026"}),
                ("/web/campaigns/c/tuan-le-xa-anthang/close", {}),
                ("/web/campaigns/c/thang-khuyen-hoc-2026/extend", {"due_before": "20/10/2026"})):
            response = await post(anlao, office, path, form_data, "/web/office/units")
            assert response.status == 404, (path, response.status, await response.text())
    async with office.app.sessions() as session:
        assert await session.scalar(select(Unit.name).where(Unit.code == "TH-ANLAO")) == \
            "Trường Tiểu học An Lão (mới)"
        assert await session.scalar(select(Unit.name).where(Unit.code == "MN-ANTHANG")) == \
            "Trường Mầm non An Thắng"
        assert await session.scalar(select(Contact.name).where(Contact.id == other)) == \
            "Trần Thị Thắng"
    # (6) the extension reaches Xã An Hòa (not submitted), not Xã An Lão (submitted)
    await run(signs_in, browser, await link_from_chat(admin))
    await run(extends, browser)
    office.clock.set(office.clock() + timedelta(minutes=3))
    told = await hoa.wait_for("13/10/2026", timeout=15)
    assert "gia hạn" in told.text, told.text
    assert not [m for m in lao.messages() if "13/10/2026" in m.text]
