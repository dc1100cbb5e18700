"""Delivery rules on their own: flood limits, splitting long texts, Telegram keyboards."""

from __future__ import annotations

import pytest
from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup

from bot.channels.telegram.transport import keyboard
from bot.channels.text_split import split_text
from bot.delivery.flood_control import FloodControl
from bot.delivery.outbox_sender import Rejected


def test_a_chat_gets_a_short_burst_then_one_message_a_second():
    flood = FloodControl(per_second=30, per_chat_per_second=1, chat_burst=3)
    for i in range(3):
        assert flood.delay("42", i * 0.05) == 0
        flood.sent("42", i * 0.05)
    assert flood.delay("42", 0.1) == pytest.approx(0.95, abs=0.02)
    assert flood.delay("43", 0.2) == 0  # another chat is not held up
    assert flood.delay("42", 1.2) == 0


def test_no_more_than_thirty_messages_in_any_second_overall():
    flood = FloodControl(per_second=30)
    sent, now = [], 0.0
    while now < 3.0:
        wait = flood.delay(str(len(sent)), now)
        if wait <= 0:
            flood.sent(str(len(sent)), now)
            sent.append(now)
        now += 0.001
    assert all(later - sent[i] >= 1.0 for i, later in enumerate(sent[30:]))  # ≤ 30 in any 1 s
    assert len(sent) >= 0.95 * 30 * 3  # and close to the limit: at least 95 % of it
    gaps = [b - a for a, b in zip(sent, sent[1:], strict=False)]
    assert min(gaps) > 0.03  # evenly spaced, never a burst


def test_a_group_gets_twenty_messages_a_minute():
    flood = FloodControl(group_per_minute=20)
    flood.sent("-100", 0.0, group=True)
    assert flood.delay("-100", 0.0, group=True) == pytest.approx(3.15)


def test_one_chats_retry_after_holds_only_that_chat():
    flood = FloodControl()
    flood.retry_after("42", 5, now=10.0)
    assert flood.delay("7", 10.5) == 0  # other chats go on
    assert flood.delay("42", 12.0) == pytest.approx(3.0)
    flood.pause_all(5, now=12.0)
    assert flood.delay("7", 12.5) == pytest.approx(4.5)


def test_429s_for_several_chats_at_once_pause_everyone_briefly():
    flood = FloodControl()
    for i, chat in enumerate(("1", "2", "3")):
        flood.retry_after(chat, 5, now=10.0 + i * 0.1)
    assert flood.delay("7", 10.5) == pytest.approx(0.7)  # the overall limit was hit
    assert flood.delay("7", 11.3) == 0


def test_long_texts_split_at_line_breaks():
    lines = [f"{i}. " + "x" * 50 for i in range(200)]
    pieces = split_text("\n".join(lines), 4096)
    assert all(len(p) <= 4096 for p in pieces) and len(pieces) == 3
    assert "\n".join(pieces) == "\n".join(lines)
    assert split_text("short", 4096) == ["short"]
    assert all(len(p) <= 10 for p in split_text("a" * 35, 10))


def test_answers_become_inline_buttons_and_shortcuts_share_the_last_row():
    markup = keyboard([["ans:1.1:yes", "Có", False], ["ans:1.1:no", "Không", False],
                       ["skip", "Bỏ qua", True], ["back", "Quay lại", True]])
    assert isinstance(markup, InlineKeyboardMarkup)
    assert [[b.text for b in row] for row in markup.inline_keyboard] == [
        ["Có", "Không"], ["Bỏ qua", "Quay lại"]]
    share = keyboard([["share_phone", "Chia sẻ số điện thoại", False]])
    assert isinstance(share, ReplyKeyboardMarkup)
    assert share.keyboard[0][0].request_contact is True
    with pytest.raises(Rejected):
        keyboard([["x" * 65, "Quá dài", False]])


def test_the_pace_never_lets_more_than_the_overall_rate_into_any_second():
    """Time passed in, 300 messages to 300 chats, each sent the moment the flood control allows:
    no second ever holds more than 30. (A spent pacer a hair below zero once counted as new and
    refilled whole: bursts of 40 a second, answered with 429 by Telegram.)"""
    import bisect

    flood = FloodControl(per_second=30)
    now, times = 0.0, []
    for chat in range(300):
        now += flood.delay(str(chat), now)
        flood.sent(str(chat), now)
        times.append(now)
    busiest = max(bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times))
    assert busiest <= 30
