"""The invite page in a real browser (headless Chromium), at phone and desktop width: a commune's
coordinator opens *Thư mời* from the header, reads who has signed in, and gives a school a new
code without JavaScript; a screenshot goes to test-artifacts/web/ for a person to look at."""

from __future__ import annotations

from typing import Any

import pytest

from bot.runtime import Running

from .fake_telegram import FakeTelegram
from .test_telegram_e2e import deep_link_sign_in
from .test_web_console_browser import (  # noqa: F401 - `browser` is a fixture
    DESKTOP,
    PHONE,
    browser,
    run,
    screenshot,
    wait_for_text,
)
from .web_console import coordinator, link_from_chat

pytestmark = pytest.mark.slow


def reads_sign_ins_and_makes_a_new_code(driver: Any, link: str) -> str:
    from selenium.webdriver.common.by import By

    driver.get(link)
    driver.find_element(By.CSS_SELECTOR, "form button").click()
    wait_for_text(driver, "h1", "Tuần lễ")
    driver.find_element(By.ID, "nav-invites").click()
    wait_for_text(driver, "h1", "Thư mời và đăng nhập")
    school = driver.find_element(By.ID, "unit-TH-ANLAO")
    assert "Đã đăng nhập" in school.text and "Cô Hạnh (Telegram)" in school.text
    assert "Chưa có người báo cáo đăng nhập" in driver.find_element(By.ID, "unit-THCS-ANLAO").text
    commune = driver.find_element(By.ID, "unit-X-ANLAO").text  # only its coordinator
    assert "Chủ tịch xã (Telegram, cán bộ tổng hợp)" in commune
    assert "Chưa có người báo cáo đăng nhập" in commune
    assert "1/4 đơn vị đã có người báo cáo đăng nhập" in driver.find_element(
        By.ID, "signed-count").text
    assert "An Thắng" not in driver.find_element(By.ID, "sign-ins").text
    assert driver.find_element(By.ID, "letters-docx").is_displayed()
    old = driver.find_element(By.CSS_SELECTOR, "#unit-THCS-ANLAO .invite-code").text
    driver.set_window_size(*PHONE)
    width = driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= driver.execute_script("return window.innerWidth")
    screenshot(driver, PHONE, "invites-phone.png")
    screenshot(driver, DESKTOP, "invites-desktop.png")
    driver.find_element(By.CSS_SELECTOR, "#unit-THCS-ANLAO button.new-code").click()
    wait_for_text(driver, "#flash", "Trường THCS An Lão: mã mới là")
    new = driver.find_element(By.CSS_SELECTOR, "#unit-THCS-ANLAO .invite-code").text
    assert new != old and new in driver.find_element(By.ID, "flash").text
    return new


async def test_the_invite_page_on_a_phone_lists_sign_ins_and_makes_a_new_code(
        console: Running, tg: FakeTelegram, browser: Any):  # noqa: F811
    teacher = tg.user(4300, "Cô Hạnh")
    await deep_link_sign_in(console, teacher, "TH-ANLAO")
    boss = await coordinator(console, tg, "X-ANLAO", 4200, "Chủ tịch xã")
    # THCS An Lão has a code nobody has used yet.
    from .conftest import invite

    await invite(console.app, "THCS-ANLAO")
    new = await run(reads_sign_ins_and_makes_a_new_code, browser, await link_from_chat(boss))
    late = tg.user(4301, "Thầy Minh")
    await late.send(new)
    await late.wait_for("Thầy/cô đã được đăng ký báo cáo cho Trường THCS An Lão")
