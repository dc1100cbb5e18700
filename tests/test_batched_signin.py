"""New people signing in with an invite code, and unknown senders typing text, arrive by the
hundred when a province sends its invite letter: they are handled with the batch, and a batch
must read, to everyone and in the database, exactly as the same updates one at a time: the
same replies, accounts, contacts, units, invite uses, recorded failures and limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.app import App
from bot.runtime import Running
from bot.storage.models import (
    Contact,
    ContactUnit,
    ConversationState,
    Identity,
    Invite,
    OutboxMessage,
    ProcessedMessage,
    SignInFailure,
    Unit,
)
from conversations.events import InboundEvent

from .conftest import Clock
from .fake_telegram import FakeTelegram, command_entities
from .test_batched_dispatch import (  # noqa: F401 (polling_bot is a fixture)
    CODES,
    NOW,
    event,
    in_batches,
    make_app,
    one_at_a_time,
    polling_bot,
)

EXPIRED, TWO_USES, SONS = "Q4WD7MZP3B", "B9XK3TRV6N", "M5PR8KWT2C"


async def with_more_invites(url: str, clock: Clock, workdir: Path) -> App:
    """The invites of test_batched_dispatch, plus an expired one and one for two people."""
    app = await make_app(url, clock, workdir)
    async with app.sessions() as session, session.begin():
        unit_id = await session.scalar(select(Unit.id).where(Unit.code == "X-ANLAO"))
        session.add(Invite(code=EXPIRED, unit_id=unit_id, role="reporter", max_uses=5, uses=0,
                           expires_at=NOW - timedelta(days=1), created_at=clock()))
        session.add(Invite(code=TWO_USES, unit_id=unit_id, role="reporter", max_uses=2, uses=0,
                           created_at=clock()))
        session.add(Invite(code=SONS, unit_id=unit_id, role="reporter", max_uses=1, uses=0,
                           created_at=clock()))
    return app


def newcomers() -> list[InboundEvent]:
    """Deep links and typed codes, a code shared by three people for two uses, an expired and
    a wrong code, near misses, greetings, someone who greets and then signs in in the same
    poll, a group, someone guessing codes until refused and then sending the right one (which
    signs them in), the same update delivered twice,
    and everyone's next message once signed in."""
    typed = [
        ("an", f"/start {CODES['X-ANLAO']}"), ("binh", "xin chào"),
        ("cuong", f"/start {CODES['X-ANTHANG']}"), ("an", "xin chào"),
        ("dung", "Mã: K7PM-2QXR9"), ("em", f"/start {TWO_USES}"), ("giang", TWO_USES),
        ("hai", f"/start {TWO_USES}"), ("khanh", f"/start {EXPIRED}"), ("linh", "/start"),
        ("binh", f"ma moi {CODES['X-ANLAO'].lower()}"), ("minh", "Chào anh, tôi là Minh"),
        ("nam", "/trogiup"), ("oanh", "K7PM-2QXR9O"), ("phuc", f"/start {CODES['HP']}"),
    ]
    typed += [("quang", code) for code in ("ZZZZ2ZZZZZ", "YYYY3YYYYY", "XXXX4XXXXX",
                                           "WWWW5WWWWW", "VVVV6VVVVV", "UUUU7UUUUU",
                                           CODES["X-ANLAO"])]
    # two codes from one person in one poll: the first signs them in
    typed += [("son", f"/start {SONS}"), ("tam", "ABCD3ABCD3"), ("son", "ABCD2ABCD2"),
              ("tam", f"/start {CODES['X-ANTHANG']}")]
    # two people with the same name, for two communes
    typed += [("vu1", f"/start {CODES['X-ANTHANG']}"), ("vu2", f"/start {CODES['X-ANLAO']}")]
    typed += [("an", "/baocao"), ("cuong", "/trangthai"), ("em", "/baocao")]
    events = [event(who, text, n) for n, (who, text) in enumerate(typed)]
    events = [replace(e, display_name="Vũ") if e.user_id.startswith("vu") else e
              for e in events]
    events.insert(3, events[2])  # Telegram delivers "cuong"'s deep link twice in one poll
    events.append(events[0])  # and "an"'s once more, a poll later
    group = replace(event("nhom", "xin chào cả nhóm", 99), chat_id="-100777",
                    chat_type="group")
    events.insert(6, group)
    return events


def many_guessers() -> list[InboundEvent]:
    """Twelve people each try five wrong codes: the misses across all accounts pass the
    global limit in the middle of a poll, and the rest are refused; then a right code."""
    events = []
    for person in range(12):
        for attempt in range(5):
            code = f"{'ABCDEFGHJKMN'[person]}{attempt + 2}" * 5
            events.append(event(f"khach{person}", code, len(events)))
    events.append(event("cuong", f"/start {CODES['X-ANTHANG']}", len(events)))
    return events


async def every_row(app: App) -> dict[str, Any]:
    """Everything a sign-in writes, in the order it was written (ids compared by order)."""
    async with app.sessions() as session:
        def rows(stmt: Any) -> Any:
            return session.execute(stmt)

        replies = [(c, p.get("kind"), p.get("text"), p.get("buttons"), p.get("role"),
                    p.get("language"), d) for c, p, d in (await rows(
                        select(OutboxMessage.chat_id, OutboxMessage.payload,
                               OutboxMessage.dedupe_key).order_by(OutboxMessage.id))).all()]
        identities = [tuple(r) for r in (await rows(
            select(Identity.channel, Identity.external_user_id, Identity.chat_id,
                   Identity.display_name, Contact.name)
            .outerjoin(Contact, Contact.id == Identity.contact_id)
            .order_by(Identity.id))).all()]
        contacts = [tuple(r) for r in (await rows(
            select(Contact.name, Contact.role, Contact.language, Contact.phone, Contact.active)
            .order_by(Contact.id))).all()]
        links = sorted(tuple(r) for r in (await rows(
            select(Contact.name, Unit.code).join(ContactUnit, ContactUnit.contact_id == Contact.id)
            .join(Unit, Unit.id == ContactUnit.unit_id))).all())
        units_of = sorted(tuple(r) for r in (await rows(
            select(Identity.external_user_id, Unit.code)
            .join(ContactUnit, ContactUnit.contact_id == Identity.contact_id)
            .join(Unit, Unit.id == ContactUnit.unit_id))).all())
        invites = sorted(tuple(r) for r in (await rows(select(Invite.code, Invite.uses))).all())
        failures = [tuple(r) for r in (await rows(
            select(SignInFailure.external_user_id, SignInFailure.attempted,
                   SignInFailure.limited).order_by(SignInFailure.id))).all()]
        states = [(uid, repr(sorted(s.items()))) for uid, s in (await rows(
            select(Identity.external_user_id, ConversationState.state)
            .join(Identity, Identity.id == ConversationState.identity_id)
            .order_by(Identity.id))).all()]
        seen = sorted(tuple(r) for r in (await rows(
            select(ProcessedMessage.chat_id, ProcessedMessage.message_id))).all())
    return {"replies": replies, "identities": identities, "contacts": contacts,
            "links": links, "units_of": units_of, "invites": invites, "failures": failures,
            "states": states, "seen": seen}


async def side_by_side(tmp_path: Path, events: list[InboundEvent], size: int
                       ) -> tuple[dict[str, Any], dict[str, Any], App]:
    clock = Clock(NOW)
    batched = await with_more_invites(f"sqlite+aiosqlite:///{tmp_path / 'batched.db'}", clock,
                                      tmp_path / "batched")
    alone = await with_more_invites(f"sqlite+aiosqlite:///{tmp_path / 'alone.db'}", clock,
                                    tmp_path / "alone")
    try:
        await in_batches(batched, events, size)
        await one_at_a_time(alone, events)
        return await every_row(batched), await every_row(alone), batched
    finally:
        await batched.close()
        await alone.close()


async def test_sign_ins_and_unknown_senders_in_one_poll_read_as_one_at_a_time(tmp_path: Path):
    events = newcomers()
    batched, alone, app = await side_by_side(tmp_path, events, size=len(events) - 1)
    assert batched == alone
    replies = [(chat, text) for chat, _kind, text, *_ in batched["replies"]]
    welcome = "Anh/chị đã được đăng ký báo cáo cho"
    assert sum(welcome in (t or "") for c, t in replies if c == "cuong") == 1, \
        "the deep link delivered twice is answered once"
    assert [c for c, t in replies if welcome in (t or "")] == [
        "an", "cuong", "em", "giang", "binh", "quang", "son", "tam", "vu1", "vu2"]
    assert ("Phuc", "HP") in batched["links"], "the coordinator's invite"
    assert not any(name == "Hai" for name, _unit in batched["links"]), "a third person, two uses"
    assert ("vu1", "X-ANTHANG") in batched["units_of"] and ("vu2", "X-ANLAO") in \
        batched["units_of"], "two people of the same name, each with their own commune"
    assert (TWO_USES, 2) in batched["invites"]
    assert any(c == "quang" and "UUUU7UUUUU" in (t or "") and "nhiều mã chưa đúng" in t
               for c, t in replies), "the sixth guess is refused"
    assert not [f for f in batched["failures"] if f[0] == "quang"], "the success lifts them"
    assert not any(c == "-100777" and welcome in (t or "") for c, t in replies)
    counts = app.dispatcher.counts
    assert counts["fast"] >= 20, f"sign-ins and greetings took the batched path: {counts}"


async def test_in_small_polls_and_alone_too(tmp_path: Path):
    batched, alone, _app = await side_by_side(tmp_path, newcomers(), size=4)
    assert batched == alone


async def test_the_global_limit_reached_within_a_poll_reads_as_one_at_a_time(tmp_path: Path):
    events = many_guessers()
    batched, alone, app = await side_by_side(tmp_path, events, size=len(events))
    assert batched == alone
    limited = [f for f in batched["failures"] if f[2]]
    assert len(batched["failures"]) == 60 and len(limited) == 10, "50 misses, then refused"
    assert [unit for _name, unit in batched["links"]] == ["X-ANTHANG"], \
        "past the global limit a right code still signs in"
    assert app.dispatcher.counts["one_by_one"] == 0


# ------------------------------------------------------------------ through Telegram polling

async def test_a_poll_of_deep_links_and_greetings_through_telegram(
        polling_bot: Running, tg: FakeTelegram):  # noqa: F811
    """Twelve people open the invite letter's link (`/start CODE`) and eight others say hello,
    all in one getUpdates answer; Telegram then delivers one deep link again."""
    joiners = [6000 + n for n in range(12)]
    greeters = [6100 + n for n in range(8)]
    pushed = {}
    for uid in joiners + greeters:
        user = tg.user(uid, f"Người {uid}")
        user._mark = tg._version
        text = f"/start {CODES['X-ANLAO']}" if uid in joiners else "xin chào"
        update = {"message": user._message(text=text, **({"entities": command_entities(text)}
                                                         if uid in joiners else {}))}
        pushed[uid] = update
        tg.push_update(update)
    for uid in joiners:
        await tg.user(uid, "").wait_for("Anh/chị đã được đăng ký báo cáo cho")
    for uid in greeters:
        await tg.user(uid, "").wait_for("vui lòng gửi mã mời")
    tg.push_update(pushed[joiners[0]])  # the same message, redelivered
    await tg.user(greeters[0], "").send("/start")
    await tg.user(greeters[0], "").wait_for("Chào mừng")
    counts = polling_bot.app.dispatcher.counts
    assert counts["fast"] >= len(joiners) + len(greeters), counts
    for uid in joiners:
        texts = [m.text for m in tg.sent_to(uid)]
        assert sum("đã được đăng ký" in t for t in texts) == 1, texts
    async with polling_bot.app.sessions() as session:
        linked = (await session.execute(
            select(Identity.external_user_id, Unit.code)
            .join(ContactUnit, ContactUnit.contact_id == Identity.contact_id)
            .join(Unit, Unit.id == ContactUnit.unit_id))).all()
        uses = await session.scalar(select(Invite.uses).where(Invite.code == CODES["X-ANLAO"]))
        greeted = (await session.execute(
            select(Identity.external_user_id).where(Identity.contact_id.is_(None)))).all()
    assert sorted(linked) == sorted((str(uid), "X-ANLAO") for uid in joiners)
    assert uses == len(joiners)
    assert sorted(u for (u,) in greeted) == sorted(str(uid) for uid in greeters)
