"""Zalo end to end (issue 22, number 10): Zalo has no replies to a message, so what keeps a
late answer from landing unseen under another question is the acknowledgement: every stored
answer is named by its id, in the message of the next question."""

from __future__ import annotations

import pytest

from bot.runtime import Running

from .fake_zalo import FakeZalo
from .test_report_conversation import stored_report
from .test_zalo_e2e import bot, clock, settings, sign_in, zl  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow


async def test_zalo_every_stored_answer_is_acknowledged_with_its_id(bot: Running,  # noqa: F811
                                                                     zl: FakeZalo):  # noqa: F811
    thu = zl.user("a1b2c3d4e5f6a7b8c9d0", "Nguyễn Thị Thu")
    await sign_in(bot, thu)
    await thu.send("/baocao")
    await thu.wait_for("1.1. ")
    await thu.send("1")  # 1. Có
    reply = await thu.wait_for("1.2. ")
    assert reply.text.startswith("1.1 = Có ✓")
    await thu.send("bỏ qua")
    await thu.wait_for("2.1. ")
    await thu.send("12 bài")
    reply = await thu.wait_for("2.2. ")
    assert reply.text.startswith("2.1 = 12 bài ✓\n")
    await thu.send("3")
    reply = await thu.wait_for("2.3. ")
    assert reply.text.startswith("2.2 = 3 tin bài ✓\n")
    report = await stored_report(bot.app, "X-ANLAO")
    assert report.answers["1.1"] is True
    assert report.answers["2.1"] == 12 and report.answers["2.2"] == 3
