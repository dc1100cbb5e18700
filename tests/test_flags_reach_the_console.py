"""A figure a unit kept after being asked back (“cần kiểm tra”) reaches the coordinator's web
console, on the unit's page, as it reaches /xem and the files: the checks of issue 18 and the
console of issue 17 read the same stored answer."""

from __future__ import annotations

import pytest

from .conftest import Person, invite
from .filing import COMMUNE, SCHOOL, fill
from .test_checks_and_rules import last_year
from .web_console import base_url, client, coordinator, link_from_chat, sign_in

pytestmark = pytest.mark.slow


async def test_a_kept_figure_is_marked_on_the_units_page_in_the_console(console, tg):
    await last_year(console.app, "X-ANLAO", {"4.2": 100})
    thu = Person(console.app, "thu")  # the local chat, inside the running bot
    assert "Xã An Lão" in await thu.say(await invite(console.app, "X-ANLAO"))
    reply = await fill(thu, COMMUNE, {"4.2": 2500, "4.1": 3})
    assert "cần kiểm tra" in reply
    assert "đã được nộp" in await thu.say("Nộp báo cáo")

    boss = await coordinator(console, tg, "HP", 4900)
    link = await link_from_chat(boss)
    async with client() as http:
        signed = await sign_in(http, link)
        assert signed.status in (302, 303)
        async with http.get(base_url(console) + "/web/unit/X-ANLAO") as page:
            assert page.status == 200
            html = await page.text()
    assert "2.500 người" in html
    assert "Cần kiểm tra" in html and "gấp 25 lần báo cáo kỳ trước" in html


async def test_a_school_figure_kept_above_the_usual_maximum_is_marked_in_the_console(
        console, tg):
    """Issue 22, 2: the row's usual maximum asks too, and its flag reaches the commune's
    console (2 schools: too few for /kiemtra's comparison, so this flag is the only sign)."""
    lan = Person(console.app, "co-lan")
    assert "Trường Tiểu học An Lão" in await lan.say(await invite(console.app, "TH-ANLAO"))
    reply = await fill(lan, SCHOOL, {"4.2": 9000})
    assert "cần kiểm tra" in reply
    assert "đã được nộp" in await lan.say("Nộp báo cáo")

    boss = await coordinator(console, tg, "X-ANLAO", 4901, "Chủ tịch xã")
    link = await link_from_chat(boss)
    async with client() as http:
        signed = await sign_in(http, link)
        assert signed.status in (302, 303)
        async with http.get(base_url(console) + "/web/unit/TH-ANLAO") as page:
            assert page.status == 200
            html = await page.text()
    assert "9.000 người" in html
    assert "Cần kiểm tra: cao hơn nhiều so với thường lệ (trên 5.000 người)" in html
