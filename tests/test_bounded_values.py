"""Values bounded at the edge: no typed number, fast entry or forged button stores a figure the
database, Decimal and the province's files cannot hold; a bad value already stored costs the
exports that value only, and the coordinator is told."""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from bot.app import App
from bot.storage.models import Answer, Submission, Unit
from conversations.answer_parsing import MAX_BY_TYPE, within_bounds
from conversations.events import InboundEvent

from .conftest import Person, invite
from .test_report_conversation import signed_in, stored_report

SORRY = "Xin lỗi"  # the apology for a message that failed on our side
_presses = itertools.count(1)


async def press(app: App, person: Person, payload: str) -> str:
    """A button press as Telegram delivers it: whatever callback_data the client sent."""
    chat = person.chat
    event = InboundEvent(channel="local", chat_id=chat.user, user_id=chat.user,
                         message_id=f"press-{next(_presses)}", kind="button", payload=payload,
                         received_at=app.clock())
    await app.dispatcher.handle(event)
    return "\n---\n".join(await chat.deliver())


async def at_question_2_1(app: App, person) -> Person:  # noqa: ANN001
    thu = await signed_in(person(), app)
    await thu.say("/baocao")
    await thu.say("có")
    reply = await thu.say("Bỏ qua")
    assert "2.1. " in reply
    return thu


def test_every_numeric_type_has_a_ceiling_the_database_holds_with_room():
    assert MAX_BY_TYPE == {"count": 10**12, "money": 10**15, "number": 10**12}
    assert within_bounds("count", Decimal(10**12 - 1))
    assert not within_bounds("count", Decimal(10**12))
    assert within_bounds("money", Decimal("999999999999999"))
    assert not within_bounds("money", Decimal(10**15))
    assert not within_bounds("number", Decimal("NaN"))
    assert not within_bounds("number", Decimal("-Infinity"))
    # Numeric(24, 6) holds 18 digits before the point: every ceiling leaves room for a sum
    # of a thousand units.
    assert all((limit - 1) * 1000 < 10**18 for limit in MAX_BY_TYPE.values())


async def test_thirty_nines_are_refused_not_confirmed_and_stored(app: App, person):
    thu = await at_question_2_1(app, person)
    reply = await thu.say("9" * 30)
    assert "lớn nhất" in reply and "2.1. " in reply, reply
    assert "cao hơn nhiều" not in reply  # no "is this correct?" for an impossible figure
    assert "2.1" not in ((await stored_report(app, "X-ANLAO")).answers)
    reply = await thu.say("mục 2: 12, " + "9" * 20 + ", 3, 4")
    assert "2.2" in reply and "lớn nhất" in reply
    answers = (await stored_report(app, "X-ANLAO")).answers
    assert answers["2.1"] == 12 and "2.2" not in answers and answers["2.3"] == 3


async def test_a_4300_digit_number_gets_a_clear_answer_not_an_apology(app: App, person):
    thu = await at_question_2_1(app, person)
    reply = await thu.say("1" * 4300)
    assert SORRY not in reply and "lớn nhất" in reply and "2.1. " in reply, reply[:300]
    reply = await thu.say("12")
    assert "2.2. " in reply


async def test_a_forged_button_value_is_read_as_if_typed(app: App, person):
    thu = await at_question_2_1(app, person)
    for forged in ("abc", "NaN", "Infinity", "-5", "1e30", "9" * 30):
        reply = await press(app, thu, f"ans:2.1:{forged}")
        assert SORRY not in reply and "2.1. " in reply, (forged, reply)
        assert "2.1" not in (await stored_report(app, "X-ANLAO")).answers, forged
    reply = await press(app, thu, "ans:2.1:12")
    assert "2.2. " in reply
    assert (await stored_report(app, "X-ANLAO")).answers["2.1"] == 12
    # A yes/no question takes only yes or no, a choice only one of its choices.
    await thu.say("quay lại")
    await thu.say("quay lại")
    reply = await thu.say("quay lại")
    assert "1.1. " in reply, reply
    reply = await press(app, thu, "ans:1.1:maybe")
    assert SORRY not in reply and "1.1. " in reply
    reply = await thu.say("12")  # every later message still works
    assert SORRY not in reply


async def test_exports_skip_and_report_a_value_stored_before_the_bounds(app: App, person,
                                                                       tmp_path: Path):
    """Rows written before values were bounded: every file is still made, without them, and
    the coordinator is told which values were left out."""
    app.dispatcher.files_dir = tmp_path / "files"
    thu = await at_question_2_1(app, person)
    await thu.say("mục 2: 1; 1; 1; 1")
    async with app.sessions() as session, session.begin():
        submission = await session.scalar(select(Submission).join(
            Unit, Unit.id == Submission.unit_id).where(Unit.code == "X-ANLAO"))
        for qid, value in (("2.1", 10**30), ("2.2", "abc"), ("2.3", "NaN")):
            row = await session.get(Answer, (submission.id, qid))
            row.value, row.num_value = value, None
        submission.status = "submitted"
    boss = Person(app, "so-gd")
    await boss.say(await invite(app, "HP", role="coordinator"))
    for command, suffix in (("/xuat", ".xlsx"), ("/xuat csv", ".csv"),
                            ("/xuat docx", ".docx"), ("/bieudo", ".png")):
        reply = await boss.say(command)
        assert suffix + "]" in reply, (command, reply)
        if suffix != ".png":  # the chart shows who reported, no figures
            assert "X-ANLAO" in reply and "2.1" in reply and "2.2" in reply, reply


async def test_a_file_that_cannot_be_made_is_reported_in_the_chat(app: App, person,
                                                                 monkeypatch, tmp_path: Path):
    from bot.exports import writers

    app.dispatcher.files_dir = tmp_path / "files"
    thu = await at_question_2_1(app, person)
    assert thu
    boss = Person(app, "so-gd")
    await boss.say(await invite(app, "HP", role="coordinator"))

    def broken(*_args: object, **_kwargs: object) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(writers, "write", broken)
    reply = await boss.say("/xuat")
    assert "Không tạo được tệp" in reply, reply
