"""Signing in with an invite code: the engine alone (a table of cases), then through storage."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.storage.models import Contact, ContactUnit, Identity, Invite
from conversations.context import ContactView, Context, InviteView, UnitView
from conversations.engine import advance
from conversations.events import InboundEvent, RecordFailedSignIn, Register
from conversations.i18n import Catalog

from .conftest import invite

NOW = datetime(2023, 10, 5, 2, 0, tzinfo=UTC)
CATALOG = Catalog()
COMMUNE = UnitView("X-ANLAO", "Xã An Lão", "commune")


def text(body: str) -> InboundEvent:
    return InboundEvent("local", "c1", "u1", "m1", "text", NOW, text=body, display_name="Thu")


def ctx(**kwargs) -> Context:  # noqa: ANN003
    return Context(catalog=CATALOG, forms={}, **kwargs)


@pytest.mark.parametrize(("body", "context", "says", "effect"), [
    ("xin chào", ctx(), "mã mời", None),
    ("/start", ctx(), "mã mời", None),
    ("ABCDE23456", ctx(), "tìm thấy mã", RecordFailedSignIn),
    ("ABCDE23456", ctx(failed_signins_last_hour=5), "nhiều mã chưa đúng", RecordFailedSignIn),
    ("ABCDE23456", ctx(failed_signins_everywhere=50), "nhiều mã sai", RecordFailedSignIn),
    # Past either limit, only wrong codes are refused: the right one signs in at once.
    ("ABCDE23456", ctx(failed_signins_last_hour=9, invite=InviteView(
        "ABCDE23456", COMMUNE, "reporter")), "Xã An Lão", Register),
    ("ABCDE23456", ctx(failed_signins_everywhere=500, invite=InviteView(
        "ABCDE23456", COMMUNE, "coordinator")), "Xã An Lão", Register),
    ("abcde-23456", ctx(invite=InviteView("ABCDE23456", COMMUNE, "reporter")), "Xã An Lão",
     Register),
    ("/start ABCDE23456", ctx(invite=InviteView("ABCDE23456", COMMUNE, "reporter")),
     "Xã An Lão", Register),
    ("ABCDE23456", ctx(invite=InviteView("ABCDE23456", COMMUNE, "reporter", "expired")),
     "hết hạn", None),
    ("ABCDE23456", ctx(invite=InviteView("ABCDE23456", COMMUNE, "reporter", "used_up")),
     "mã mới", None),
])
def test_signing_in(body: str, context: Context, says: str, effect: type | None):
    result = advance({}, text(body), context, NOW)
    assert says.lower() in result.messages[0].text.lower()
    assert [type(e) for e in result.effects] == ([effect] if effect else [])


def test_a_known_contact_who_types_chatter_is_not_taken_for_a_wrong_code():
    contact = ContactView(1, "Thu", "reporter", "vi", (COMMUNE,))
    result = advance({}, text("xin chao ban"), ctx(contact=contact), NOW)
    assert result.effects == ()
    assert "/baocao" in result.messages[0].text


async def test_five_wrong_codes_refuse_the_next_wrong_one_not_the_right_one(app, person):
    stranger = person("stranger")
    for attempt in range(5):
        reply = await stranger.say(f"ZZZZZ2345{attempt + 2}")
        assert "tìm thấy mã" in reply.lower()
    reply = await stranger.say("ZZZZZ23457")
    assert "nhiều mã chưa đúng" in reply
    code = await invite(app, "X-ANLAO")
    reply = await stranger.say(code)
    assert "Xã An Lão" in reply
    async with app.sessions() as session:
        identity = await session.scalar(select(Identity).where(
            Identity.external_user_id == "stranger"))
        contact = await session.get(Contact, identity.contact_id)
        assert contact.role == "reporter"
        assert await session.scalar(select(Invite.uses).where(Invite.code == code)) == 1
        links = (await session.scalars(select(ContactUnit))).all()
        assert len(links) == 1


async def test_an_invite_with_one_use_serves_one_person(app, person):
    code = await invite(app, "X-ANLAO", uses=1)
    assert "Xã An Lão" in await person("first").say(code)
    reply = await person("second").say(code)
    assert "mã mới" in reply
