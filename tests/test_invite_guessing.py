"""Invite codes cannot be guessed: every try that misses is recorded and limited, per person
and across everyone (sliding windows), whether the person is signed in or not, and a miss gets
the same answer whoever asks. The limits refuse only wrong codes: a right code always signs in
at once, so no flood of guesses locks out the people the codes were made for."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.app import App
from bot.storage.models import ContactUnit, SignInFailure
from conversations.context import MAX_FAILED_SIGNINS_GLOBAL, SIGNIN_GLOBAL_WINDOW

from .conftest import VN, Clock, Person, invite
from .fake_telegram import FakeTelegram
from .test_report_conversation import signed_in
from .test_telegram_e2e import deep_link_sign_in, seeded_bot

LIMITED = "nhiều mã chưa đúng"  # "several codes sent from this account were not found"
EVERYONE = "nhiều mã sai"  # "many wrong codes were sent to the bot in the last minutes"


def guess(n: int) -> str:
    alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
    digits = []
    for _ in range(6):
        n, r = divmod(n, len(alphabet))
        digits.append(alphabet[r])
    return "ZZ2" + "".join(digits) + "Q"


async def failures(app: App) -> int:
    async with app.sessions() as session:
        return await session.scalar(select(func.count()).select_from(SignInFailure)) or 0


async def units_of(app: App, user: str) -> int:
    from bot.storage.models import Identity

    async with app.sessions() as session:
        identity = await session.scalar(select(Identity).where(
            Identity.external_user_id == user))
        return await session.scalar(select(func.count()).select_from(ContactUnit).where(
            ContactUnit.contact_id == identity.contact_id)) or 0


async def test_a_signed_in_reporter_is_limited_and_recorded_like_anyone(app: App, person,
                                                                        clock: Clock):
    thu = await signed_in(person("thu"), app)
    stranger = person("stranger")
    for n in range(5):
        mine = await thu.say(guess(n))
        theirs = await stranger.say(guess(100 + n))
        # The same answer for a miss, signed in or not, as /start CODE or typed.
        assert mine.replace(guess(n), "CODE") == theirs.replace(guess(100 + n), "CODE")
        assert "tìm thấy mã" in mine.lower()
    assert await failures(app) == 10
    reply = await thu.say(guess(5))  # past the limit: refused, recorded, no sign-in
    assert LIMITED in reply and guess(5) in reply
    assert await failures(app) == 11
    real = await invite(app, "TH-ANLAO")
    reply = await thu.say(f"/start {real}")  # the right code still signs in, at once
    assert "Trường Tiểu học An Lão" in reply and LIMITED not in reply
    assert await units_of(app, "thu") == 2


async def test_one_person_who_mistypes_five_times_signs_in_with_the_right_code_at_once(
        app: App, person):
    """Issue 23, defect 4: five typos used to refuse the right code for an hour."""
    lan = person("lan")
    for n in range(7):
        await lan.say(guess(n))
    real = await invite(app, "X-ANLAO")
    reply = await lan.say(real)
    assert "Xã An Lão" in reply and LIMITED not in reply
    assert await units_of(app, "lan") == 1
    # The success lifts the account's limit: a later miss gets the plain answer again.
    reply = await lan.say(guess(50))
    assert "tìm thấy mã" in reply.lower() and LIMITED not in reply


async def test_guesses_spread_over_many_accounts_never_lock_out_the_right_codes(
        app: App, clock: Clock):
    """Issue 23, defect 4: ten throwaway accounts with five misses each used to pause every
    sign-in for ten minutes, and a few misses a minute kept it paused."""
    for n in range(MAX_FAILED_SIGNINS_GLOBAL):
        reply = await Person(app, f"bot-{n // 5}").say(guess(n))
        assert "tìm thấy mã" in reply.lower()
    # Past the global limit a wrong code is refused (and does not keep the limit up) ...
    reply = await Person(app, "bot-new").say(guess(999))
    assert EVERYONE in reply and "Xã An Lão" not in reply
    assert await failures(app) == MAX_FAILED_SIGNINS_GLOBAL + 1
    # ... while a reporter's and a coordinator's right code sign in at once.
    reply = await Person(app, "latecomer").say(await invite(app, "X-ANLAO"))
    assert "Xã An Lão" in reply and "phút" not in reply
    reply = await Person(app, "boss").say(await invite(app, "HP", role="coordinator"))
    assert "cán bộ tổng hợp" in reply
    assert await units_of(app, "latecomer") == 1 and await units_of(app, "boss") == 1
    clock.now += SIGNIN_GLOBAL_WINDOW + timedelta(minutes=1)
    reply = await Person(app, "bot-newer").say(guess(1000))
    assert "tìm thấy mã" in reply.lower() and EVERYONE not in reply


async def test_guessing_accounts_on_telegram_do_not_stop_a_right_code(
        tg: FakeTelegram, db_url: str, tmp_path: Path):
    """End to end: ten accounts send five wrong codes each, then a coordinator's and a
    reporter's right codes sign in at once."""
    async with seeded_bot(tg, db_url, tmp_path, datetime(2023, 10, 9, 9, 0, tzinfo=VN)) as bot:
        guessers = [tg.user(7000 + n, f"Guesser {n}") for n in range(10)]
        for n in range(MAX_FAILED_SIGNINS_GLOBAL + 5):
            user = guessers[n % 10]
            await user.send(f"/start {guess(n)}")
            await user.wait_for(guess(n))
        assert await failures(bot.app) == MAX_FAILED_SIGNINS_GLOBAL + 5
        boss = tg.user(7100, "Cán bộ Sở")
        await boss.send(f"/start {await invite(bot.app, 'HP', role='coordinator')}")
        await boss.wait_for("cán bộ tổng hợp")
        await deep_link_sign_in(bot, tg.user(7101, "Người báo cáo"), "X-ANLAO")
