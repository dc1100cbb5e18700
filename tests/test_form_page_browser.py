"""The form page in a real browser at a phone's size (390×844), with its small script: a
first-time reporter at a school opens the link the local chat printed, fills in every section
(a value refused by a hard rule, a soft check kept with its flag, 5tr, a note) and submits.
A screenshot goes to test-artifacts/web/form-phone.png, for a person to look at."""

from __future__ import annotations

from typing import Any

import pytest

from bot.runtime import Running

from .test_coordinators_e2e import known_values, typed
from .test_form_page import FORM, LINK, reporter, stored
from .test_web_console_browser import PHONE, browser, run, screenshot, wait_for_text

pytestmark = pytest.mark.slow
__all__ = ["browser"]  # the fixture


def type_into(driver: Any, name: str, text: str) -> None:
    """Type a value and leave the field: the script saves its section, which is redrawn."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    field = driver.find_element(By.NAME, name)
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(text, Keys.TAB)
    WebDriverWait(driver, 15).until(expected_conditions.staleness_of(field))


def press_save(driver: Any, section: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    button = driver.find_element(By.CSS_SELECTOR, f"#s-{section} .save")
    button.click()
    WebDriverWait(driver, 15).until(expected_conditions.staleness_of(button))


def fills_in_the_form(driver: Any, link: str, base: str) -> None:
    from selenium.webdriver.common.by import By

    driver.set_window_size(*PHONE)
    driver.get(link)
    driver.find_element(By.CSS_SELECTOR, "form button").click()
    wait_for_text(driver, "h1", "Tuần lễ hưởng ứng học tập suốt đời")
    assert driver.find_element(By.NAME, "v:4.2").get_attribute("inputmode") == "numeric"
    assert driver.find_element(By.NAME, "v:8.3").get_attribute("inputmode") == "decimal"
    values = known_values(1, FORM)
    for section in FORM.sections:
        for q in section.questions:
            answer = "3" if q.id == "4.1" else typed(values[q.id])
            if q.id == "4.2":  # fewer participants than seminars: refused, with the rule
                type_into(driver, "v:4.2", "1")
                wait_for_text(driver, "#q-4\\.2 .why", "không thể ít hơn số buổi")
            elif q.id == "2.1":  # far above the usual: asked back in place, kept
                type_into(driver, "v:2.1", "500")
                wait_for_text(driver, "#q-2\\.1 .keep", "Đúng, giữ nguyên?")
                driver.find_element(By.NAME, "k:2.1").click()
                press_save(driver, "2")
                wait_for_text(driver, "#q-2\\.1 .flag", "cần kiểm tra")
                continue
            elif q.id == "8.3":  # then its note, saved as it is left
                type_into(driver, "v:8.3", "5tr")
                type_into(driver, "n:8.3", "tiền mặt")
                continue
            type_into(driver, f"v:{q.id}", answer)
    assert driver.find_element(By.NAME, "v:8.3").get_attribute("value") == "5.000.000"
    driver.execute_script("window.scrollTo(0, 0)")
    path = screenshot(driver, PHONE, "form-phone.png")
    assert path.stat().st_size > 20_000
    driver.set_window_size(*PHONE)
    width = driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= driver.execute_script("return window.innerWidth")
    small = driver.execute_script(
        "return [...document.querySelectorAll('button, textarea, "
        "input:not([type=checkbox]):not([type=hidden])')]"
        ".filter(e => e.getBoundingClientRect().height < 44).map(e => e.name || e.textContent)")
    assert small == []
    driver.find_element(By.CSS_SELECTOR, "#submit button").click()
    wait_for_text(driver, "#said-submit", "đúng hạn")
    driver.get(f"{base}/web/")  # a reporter's session never opens the console
    assert "Không tìm thấy" in driver.find_element(By.TAG_NAME, "body").text


async def test_a_first_time_reporter_fills_in_the_school_form_on_a_phone(console: Running,
                                                                        browser: Any):
    chat, reply = await reporter(console, "co-lan", "TH-ANLAO")
    link = LINK.search(reply)
    assert link, reply
    assert console.settings is not None
    await run(fills_in_the_form, browser, link.group(0), console.settings.public_url)
    rows, state = await stored(console, "TH-ANLAO")
    assert state == ("submitted", True)
    assert rows["8.3"] == (5_000_000, "tiền mặt", "") and rows["2.1"][2]
    assert "Đã nộp qua biểu mẫu web" in "\n".join(await chat.deliver())
