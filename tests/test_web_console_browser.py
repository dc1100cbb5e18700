"""The web console in a real browser: headless Chromium (Debian's chromium and chromium-driver),
driven by selenium, against the real bot on the fake Telegram server. A coordinator gets the
link in chat, signs in, reads the counts, searches, opens a unit and returns it with a reason;
the reporter gets the reason in chat. Screenshots of the board at phone and desktop width go to
test-artifacts/web/ (or $BAOCAO_TEST_ARTIFACTS), for a person to look at."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.runtime import Running

from .fake_telegram import FakeTelegram
from .web_console import (
    coordinator,
    link_from_chat,
    report_through_chat,
)

pytestmark = pytest.mark.slow
T = TypeVar("T")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
ARTIFACTS = Path(os.environ.get("BAOCAO_TEST_ARTIFACTS")
                 or Path(__file__).resolve().parent.parent / "test-artifacts") / "web"
PHONE = (390, 844)
DESKTOP = (1280, 900)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    if not (CHROMIUM and DRIVER):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver are missing; .ci/run installs them")
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium "
                    "chromium-driver); .ci/run installs them")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}",
                 f"--window-size={DESKTOP[0]},{DESKTOP[1]}", "--lang=vi"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.implicitly_wait(10)  # an element looked for after a click waits for the new page
    try:
        yield driver
    finally:
        driver.quit()


async def run(work: Callable[..., T], *args: Any) -> T:
    """Selenium blocks; the bot serves the pages on this event loop, so drive it elsewhere."""
    return await asyncio.to_thread(work, *args)


def screenshot(driver: Any, size: tuple[int, int], name: str) -> Path:
    """The whole page at this width (the window made as tall as the page)."""
    driver.set_window_size(*size)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(size[0], min(max(size[1], height + 120), 6000))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    assert driver.save_screenshot(str(path))
    driver.set_window_size(*DESKTOP)
    return path


def counts_row(driver: Any, label: str) -> list[int]:
    from selenium.webdriver.common.by import By

    for row in driver.find_elements(By.CSS_SELECTOR, "#counts tbody tr"):
        if row.find_element(By.TAG_NAME, "th").text.startswith(label):
            return [int(td.text) for td in row.find_elements(By.TAG_NAME, "td")]
    raise AssertionError(f"no row {label!r} in the counts")


def wait_for_text(driver: Any, css: str, text: str) -> None:
    """Wait until the element shows the text: after a click, the old page may still be there."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    # An element found on the old page goes stale when the new one replaces it: look again.
    WebDriverWait(driver, 15, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: any(text in e.text for e in d.find_elements(By.CSS_SELECTOR, css)))


def visible_units(driver: Any) -> list[str]:
    from selenium.webdriver.common.by import By

    return [a.text for a in driver.find_elements(By.CSS_SELECTOR, "li.unit a.name")
            if a.is_displayed()]


def signs_in_and_reads_the_board(driver: Any, link: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(link)
    assert "Đăng nhập bảng điều khiển" in driver.find_element(By.TAG_NAME, "h1").text
    driver.find_element(By.CSS_SELECTOR, "form button").click()
    wait_for_text(driver, "#counts", "Tất cả đơn vị")
    assert driver.current_url.endswith("/web/")
    assert "Tuần lễ hưởng ứng học tập suốt đời năm 2023" in driver.find_element(
        By.TAG_NAME, "h1").text
    # units, not started, draft, returned, on time, late, accepted
    assert counts_row(driver, "Các xã, phường") == [3, 2, 0, 0, 1, 0, 0]
    assert counts_row(driver, "Các trường") == [6, 4, 1, 0, 1, 0, 0]
    assert counts_row(driver, "Tất cả đơn vị") == [9, 6, 1, 0, 2, 0, 0]
    # Schools sit under their commune, shown on a click.
    assert "Trường Tiểu học An Lão" not in visible_units(driver)
    driver.find_element(
        By.CSS_SELECTOR, "li.unit[data-search^='xa an lao'] > details.below > summary").click()
    assert "Trường Tiểu học An Lão" in visible_units(driver)
    # The search, without diacritics, filters as one types (the small script).
    driver.find_element(By.ID, "search").send_keys("an thang")
    assert sorted(visible_units(driver)) == ["Trung tâm GDNN-GDTX An Thắng",
                                             "Trường Mầm non An Thắng", "Xã An Thắng"]
    driver.get(driver.current_url)  # as it was

    desktop = screenshot(driver, DESKTOP, "board-desktop.png")
    phone = screenshot(driver, PHONE, "board-phone.png")
    assert desktop.stat().st_size > 20_000 and phone.stat().st_size > 20_000
    # On a phone the page fits the screen's width: nothing to scroll sideways.
    driver.set_window_size(*PHONE)
    width = driver.execute_script("return document.documentElement.scrollWidth")
    inner = driver.execute_script("return window.innerWidth")
    assert width <= inner, (width, inner)
    driver.set_window_size(*DESKTOP)


def returns_a_report(driver: Any, reason: str) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.LINK_TEXT, "Xã An Lão").click()
    wait_for_text(driver, "h1", "Xã An Lão")
    assert "Đã nộp đúng hạn" in driver.find_element(By.ID, "state").text
    assert driver.find_element(By.ID, "q-4.2").text.startswith("4.2")
    driver.find_element(By.ID, "reason").send_keys(reason)
    driver.find_element(By.ID, "return").click()
    wait_for_text(driver, "#flash", "Đã trả lại báo cáo của Xã An Lão")
    assert "Trả lại" in driver.find_element(By.ID, "state").text
    assert reason in driver.find_element(By.ID, "history").text
    screenshot(driver, PHONE, "unit-phone.png")


def reads_in_english_and_signs_out(driver: Any, base: str) -> None:
    from selenium.webdriver.common.by import By

    # Back on the board the counts moved: one commune returned.
    driver.find_element(By.PARTIAL_LINK_TEXT, "Bảng theo dõi").click()
    wait_for_text(driver, "#counts", "Tất cả đơn vị")
    assert counts_row(driver, "Các xã, phường") == [3, 2, 0, 1, 0, 0, 0]
    driver.find_element(By.CSS_SELECTOR, "button[name=lang][value=en]").click()
    wait_for_text(driver, "section.counts h2", "Reports by state")
    assert counts_row(driver, "All units") == [9, 6, 1, 1, 1, 0, 0]
    driver.find_element(By.ID, "sign-out").click()
    wait_for_text(driver, "h1", "Anh/chị đã đăng xuất")
    driver.get(base + "/web/")
    assert "chưa đăng nhập" in driver.find_element(By.TAG_NAME, "h1").text


async def test_a_coordinator_signs_in_from_the_chat_reads_the_board_and_returns_a_report(
        console: Running, tg: FakeTelegram, browser: Any):
    people = await report_through_chat(console, tg)
    boss = await coordinator(console, tg, "HP", 4200, "Cán bộ Sở GD&ĐT")
    link = await link_from_chat(boss)
    # Every browser step runs in a thread: the bot serves the pages on this event loop.
    await run(signs_in_and_reads_the_board, browser, link)
    reason = "Số liệu mục 5 chưa khớp với danh sách lớp, đề nghị rà soát lại"
    await run(returns_a_report, browser, reason)
    told = await people["X-ANLAO"].wait_for(reason)
    assert "/baocao" in told.text
    assert console.settings is not None
    await run(reads_in_english_and_signs_out, browser, console.settings.public_url)


def returns_with_a_comment_beside_a_row(driver: Any, link: str, base: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(link)
    driver.find_element(By.CSS_SELECTOR, "form button").click()
    wait_for_text(driver, "#counts", "")  # the board: signed in
    driver.get(base + "/web/unit/TH-ANLAO")
    wait_for_text(driver, "h1", "Trường Tiểu học An Lão")
    driver.find_element(By.CSS_SELECTOR, "#row-comments > summary").click()
    driver.find_element(By.ID, "row-4.2").send_keys("chưa khớp với danh sách lớp")
    driver.find_element(By.ID, "return").click()
    wait_for_text(driver, "#flash", "Ý kiến cho 1 câu: 4.2")
    assert "Trả lại" in driver.find_element(By.ID, "state").text
    assert "Ý kiến của cán bộ tổng hợp: chưa khớp với danh sách lớp" in driver.find_element(
        By.ID, "q-4.2").text  # beside its row
    assert "4.2: chưa khớp với danh sách lớp" in driver.find_element(By.ID, "history").text
    screenshot(driver, PHONE, "unit-row-comments-phone.png")


async def test_a_coordinator_returns_a_report_with_a_comment_beside_a_row(
        console: Running, tg: FakeTelegram, browser: Any):
    people = await report_through_chat(console, tg)
    chairman = await coordinator(console, tg, "X-ANLAO", 4201, "Chủ tịch xã")
    link = await link_from_chat(chairman)
    assert console.settings is not None
    await run(returns_with_a_comment_beside_a_row, browser, link, console.settings.public_url)
    told = await people["TH-ANLAO"].wait_for("4.2: chưa khớp với danh sách lớp")
    assert "/baocao" in told.text
