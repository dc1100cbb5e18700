"""Invite codes cannot be guessed: every try that misses is recorded and limited, per person
and across everyone (sliding windows), whether the person is signed in or not, and a miss gets
the same answer whoever asks."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.app import App
from bot.storage.models import ContactUnit, SignInFailure
from conversations.context import MAX_FAILED_SIGNINS_GLOBAL, SIGNIN_GLOBAL_WINDOW

from .conftest import Clock, Person, invite
from .test_report_conversation import signed_in

LATER = "một giờ"  # "please try again in an hour"


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
    real = await invite(app, "TH-ANLAO")
    reply = await thu.say(f"/start {real}")
    assert LATER in reply  # a right code too, once the limit is reached
    assert await units_of(app, "thu") == 1
    assert await failures(app) == 11  # the refused try is recorded as well
    clock.now += timedelta(hours=1, minutes=1)
    reply = await thu.say(f"/start {real}")
    assert "Trường Tiểu học An Lão" in reply or "TH" in reply
    assert await units_of(app, "thu") == 2


async def test_guesses_spread_over_many_accounts_hit_a_global_limit(app: App, clock: Clock):
    for n in range(MAX_FAILED_SIGNINS_GLOBAL):
        reply = await Person(app, f"bot-{n}").say(guess(n))
        assert "tìm thấy mã" in reply.lower()
    real = await invite(app, "X-ANLAO")
    reply = await Person(app, "latecomer").say(real)
    assert "10 phút" in reply and "Xã An Lão" not in reply
    clock.now += SIGNIN_GLOBAL_WINDOW + timedelta(minutes=1)
    reply = await Person(app, "latecomer").say(real)
    assert "Xã An Lão" in reply
