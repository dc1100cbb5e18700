"""Messenger send limits: an overall rate, a small burst then a steady rate per chat, a slower
rate per group, and pauses the messenger imposes (429 retry_after). Time is passed in.

With `paid_per_second` (Telegram's paid broadcast), messages sent as paid ones have an overall
rate of their own (up to 1,000 a second on Telegram, each beyond the free rate costing Stars);
the per-chat limits and the free rate of the other messages stay as they are."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class _Bucket:
    capacity: float
    rate: float  # tokens per second
    tokens: float | None = None  # None: full at first use (a spent bucket may go below 0)
    updated: float = 0.0

    def refill(self, now: float) -> None:
        if self.tokens is None:
            self.tokens, self.updated = self.capacity, now
            return
        self.tokens = min(self.capacity, self.tokens + max(0.0, now - self.updated) * self.rate)
        self.updated = max(self.updated, now)

    def wait(self, now: float) -> float:
        self.refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self.refill(now)
        self.tokens -= 1


# A request leaves here a little before it reaches the messenger, which measures on arrival:
# keep a small margin so jitter never tips a burst over the limit.
WINDOW = 1.02
CHAT_MARGIN = 1.05
# Telegram's paid broadcast (`allow_paid_broadcast`): messages a second it allows.
TELEGRAM_PAID_BROADCAST_RATE = 1000.0
# 429s for this many different chats within this many seconds mean the overall limit.
OVERALL_REFUSALS = 3
OVERALL_WINDOW = 1.0


@dataclass
class FloodControl:
    per_second: float = 30.0
    per_chat_per_second: float = 1.0
    chat_burst: int = 3
    group_per_minute: float = 20.0
    paid_per_second: float = 0.0  # 0: no paid broadcast
    _recent: deque[float] = field(default_factory=deque)
    _paid: FloodControl | None = None  # the paid messages' own overall rate
    _pace: _Bucket | None = None  # spaces sends evenly, so they also arrive evenly
    _chats: dict[str, _Bucket] = field(default_factory=dict)
    _paused_until: float = 0.0
    _chat_paused: dict[str, float] = field(default_factory=dict)
    _refusals: deque[tuple[float, str]] = field(default_factory=deque)

    def _bucket(self, chat: str, group: bool) -> _Bucket:
        bucket = self._chats.get(chat)
        if bucket is None:
            if group:
                bucket = _Bucket(capacity=1, rate=self.group_per_minute / 60 / CHAT_MARGIN)
            else:
                bucket = _Bucket(capacity=self.chat_burst,
                                 rate=self.per_chat_per_second / CHAT_MARGIN)
            self._chats[chat] = bucket
        return bucket

    def paid(self) -> FloodControl:
        """The overall rate of paid broadcast messages (only with `paid_per_second`)."""
        if self._paid is None:
            self._paid = FloodControl(per_second=self.paid_per_second)
        return self._paid

    def delay(self, chat: str, now: float, group: bool = False, paid: bool = False) -> float:
        """Seconds to wait before a message to `chat` may go."""
        if paid and self.paid_per_second > 0:
            overall = self.paid()._overall(now)
            return max(overall, self._paused_until - now, self._chat_paused.get(chat, 0.0) - now,
                       self._bucket(chat, group).wait(now), 0.0)
        return max(self._overall(now), self._bucket(chat, group).wait(now),
                   self._paused_until - now, self._chat_paused.get(chat, 0.0) - now, 0.0)

    def _overall(self, now: float) -> float:
        while self._recent and now - self._recent[0] >= WINDOW:
            self._recent.popleft()
        overall = 0.0
        if len(self._recent) >= self.per_second:
            overall = WINDOW - (now - self._recent[0])
        return max(overall, self._pacer().wait(now))

    def chat_delay(self, chat: str, now: float, group: bool = False) -> float:
        """Seconds before this chat may take a message, ignoring the overall rate."""
        pauses = max(self._paused_until - now, self._chat_paused.get(chat, 0.0) - now, 0.0)
        return max(pauses, self._bucket(chat, group).wait(now))

    def _pacer(self) -> _Bucket:
        if self._pace is None:
            # A tenth of a send to spare: a send the event loop woke a little late is made
            # up by the next (gaps stay ≥ 0.9 of the even spacing; the window above still
            # caps any second at `per_second`).
            self._pace = _Bucket(capacity=1.1, rate=self.per_second / WINDOW)
        return self._pace

    def sent(self, chat: str, now: float, group: bool = False, paid: bool = False) -> None:
        overall = self.paid() if paid and self.paid_per_second > 0 else self
        overall._recent.append(now)
        overall._pacer().take(now)
        self._bucket(chat, group).take(now)

    def retry_after(self, chat: str, seconds: float, now: float) -> None:
        """The messenger said 'too many requests' for this chat: hold this chat only. When
        several chats are refused within a second, the overall limit was hit: everyone
        pauses briefly."""
        self._chat_paused[chat] = max(self._chat_paused.get(chat, 0.0), now + seconds)
        while self._refusals and now - self._refusals[0][0] > OVERALL_WINDOW:
            self._refusals.popleft()
        self._refusals.append((now, chat))
        if len({c for _t, c in self._refusals}) >= OVERALL_REFUSALS:
            self._paused_until = max(self._paused_until, now + min(seconds, 1.0))

    def pause_all(self, seconds: float, now: float) -> None:
        self._paused_until = max(self._paused_until, now + seconds)
