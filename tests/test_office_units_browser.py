"""Units from the console in headless Chromium at phone width: an admin uploads an office's
units workbook with two bad lines, reads them, uploads the corrected file, previews and
applies it. Screenshots of the preview (with the bad lines, then the changes) go to
test-artifacts/web/ for a person to look at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.runtime import Running
from bot.storage.models import Unit

from .fake_telegram import FakeTelegram
from .test_office_units import BAD_UNITS, GOOD_UNITS, UNIT_HEADERS, admin_user, xlsx
from .test_web_console_browser import PHONE, browser, run, screenshot, wait_for_text
from .web_console import link_from_chat

pytestmark = pytest.mark.slow
__all__ = ["browser"]  # the fixture, used by name


def uploads_previews_and_applies(driver: Any, link: str, bad: Path, good: Path) -> None:
    from selenium.webdriver.common.by import By

    driver.set_window_size(*PHONE)
    driver.get(link)
    driver.find_element(By.CSS_SELECTOR, "form button").click()
    driver.find_element(By.ID, "nav-units").click()
    wait_for_text(driver, "h1", "Đơn vị và người báo cáo")
    driver.find_element(By.ID, "units-file").send_keys(str(bad))
    driver.find_element(By.ID, "upload-units").click()
    wait_for_text(driver, "#problems", "dòng 3")
    problems = driver.find_element(By.ID, "problems").text
    assert "dòng 3: không rõ loại đơn vị “trường học xịn”" in problems, problems
    assert "dòng 5: đơn vị cấp trên X-KHONGCO" in problems
    assert not driver.find_elements(By.ID, "apply")
    screenshot(driver, PHONE, "units-preview-bad-lines-phone.png")
    driver.find_element(By.PARTIAL_LINK_TEXT, "Đơn vị và người báo cáo").click()
    driver.find_element(By.ID, "units-file").send_keys(str(good))
    driver.find_element(By.ID, "upload-units").click()
    wait_for_text(driver, "#new", "TH-ANLAO2")
    assert "MN-ANTHANG" in driver.find_element(By.ID, "moved").text
    driver.set_window_size(*PHONE)
    width = driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= driver.execute_script("return window.innerWidth"), width
    screenshot(driver, PHONE, "units-preview-phone.png")
    driver.find_element(By.ID, "apply").click()
    wait_for_text(driver, "#flash", "Đã lưu: 3 thay đổi")
    assert "TH-ANLAO2" in driver.find_element(By.ID, "units").text
    screenshot(driver, PHONE, "units-applied-phone.png")
    driver.find_element(By.LINK_TEXT, "THCS-ANLAO").click()
    wait_for_text(driver, "h1", "Trường THCS An Lão (mới)")
    assert driver.find_element(By.ID, "unit-kind").get_attribute("value") == "trường"
    screenshot(driver, PHONE, "unit-edit-phone.png")


async def test_an_admin_uploads_previews_and_applies_units_on_a_phone(
        console: Running, tg: FakeTelegram, browser: Any, tmp_path: Path):
    boss = await admin_user(console, tg)
    bad, good = tmp_path / "don-vi-loi.xlsx", tmp_path / "don-vi.xlsx"
    bad.write_bytes(xlsx(UNIT_HEADERS, BAD_UNITS))
    good.write_bytes(xlsx(UNIT_HEADERS, GOOD_UNITS))
    await run(uploads_previews_and_applies, browser, await link_from_chat(boss), bad, good)
    async with console.app.sessions() as session:
        assert await session.scalar(select(Unit.path).where(Unit.code == "TH-ANLAO2")) == \
            "/HP/X-ANLAO/TH-ANLAO2/"
