"""A campaign created in a real browser (headless Chromium at phone and desktop width): an admin
signs in with the link from the chat, opens "Đợt báo cáo", writes a new campaign on a bundled
form with a deadline and reminders, is told which date is wrong, corrects it, reads the preview
of every reminder and digest, and publishes. Screenshots go to test-artifacts/web/."""

from __future__ import annotations

from typing import Any

import pytest

from bot.runtime import Running

from .conftest import invite
from .fake_telegram import FakeTelegram
from .test_web_console_browser import DESKTOP, PHONE, browser, run, screenshot, wait_for_text
from .web_console import link_from_chat

pytestmark = pytest.mark.slow
__all__ = ["browser"]  # the fixture, shared with the console's browser test


def fill(driver: Any, values: dict[str, str]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    for name, value in values.items():
        element = driver.find_element(By.ID, f"f-{name}")
        if element.tag_name == "select":
            Select(element).select_by_value(value)
        else:
            element.clear()
            element.send_keys(value)


def creates_and_publishes(driver: Any, link: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(link)
    driver.find_element(By.CSS_SELECTOR, "form button").click()
    wait_for_text(driver, "header", "Đợt báo cáo")
    driver.find_element(By.ID, "nav-campaigns").click()
    wait_for_text(driver, "#campaigns", "tuan-le-htsd-2023")
    driver.find_element(By.ID, "new-campaign").click()
    wait_for_text(driver, "h1", "Tạo đợt báo cáo")
    fill(driver, {"title_vi": "Tháng Khuyến học năm 2025",
                  "title_en": "Study Promotion Month 2025", "key": "thang-khuyen-hoc-2025",
                  "form_1": "thang-khuyen-hoc", "kinds_1": "commune, ward",
                  "start": "05/09/2025", "end": "05/10/2025", "due_before": "31/02/2025",
                  "before": "3d, 1d", "overdue_days": "2"})
    screenshot(driver, PHONE, "campaign-new-phone.png")
    driver.find_element(By.ID, "save").click()
    wait_for_text(driver, "#problems", "ghi ngày theo ngày/tháng/năm")
    fill(driver, {"due_before": "06/10/2025"})
    driver.find_element(By.ID, "save").click()
    wait_for_text(driver, "#schedule", "Thông báo mở đợt tới người báo cáo")
    rows = driver.find_elements(By.CSS_SELECTOR, "#schedule tr")
    assert len(rows) == 8, [r.text for r in rows]  # a header and 7 reminders and digests
    assert "07:00 ngày 05/09/2025" in rows[1].text
    assert not driver.find_elements(By.ID, "problems")
    screenshot(driver, PHONE, "campaign-draft-phone.png")
    screenshot(driver, DESKTOP, "campaign-draft-desktop.png")
    driver.find_element(By.ID, "publish").click()
    wait_for_text(driver, "#state", "Đã phát hành")
    assert "Hạn nộp trước ngày 06/10/2025." in driver.find_element(By.ID, "periods").text
    screenshot(driver, PHONE, "campaign-published-phone.png")
    screenshot(driver, DESKTOP, "campaign-published-desktop.png")


async def test_an_admin_creates_a_campaign_from_a_bundled_form_in_the_browser(
        console: Running, tg: FakeTelegram, browser: Any):
    admin = tg.user(4500, "Quản trị viên")
    await admin.send(f"/start {await invite(console.app, 'HP', role='admin')}")
    await admin.wait_for(lambda m: True)
    await run(creates_and_publishes, browser, await link_from_chat(admin))
