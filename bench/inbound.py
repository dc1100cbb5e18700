"""Inbound throughput and latency: simulated people fill in the seed 004 commune form
(`tuan-le-htsd`, 40 questions) step by step on Telegram, against the fake Bot API server.

Two bots, the same harness, in one run:
  * ours:    the real wiring (`bot.runtime.start`) on a temp SQLite file, long polling the fake;
  * ceiling: a bare aiogram echo bot (Dispatcher + one message handler that answers), long
             polling the same fake, no database: what the framework does on this machine.

The fake Telegram server and the simulated people run in this process; each bot runs in its own
subprocess (this machine has 2 cores: one for the "Telegram side", one for the bot).

Phases, each with a fresh bot process: one person alone; the closed loop (each person sends the
next answer when the reply to the previous one reached the fake: `/baocao`, 40 answers,
`Nộp báo cáo` = 42 updates a person; nobody starts a step after `--max-seconds`); the open loop
(`--rate` updates/s offered for `--open-seconds` whatever the replies do, round-robin over the
people; unanswered `--drain-seconds` later = infinitely late). Latency: from the moment an update
is offered (`push_update`) to the moment the bot's sendMessage reaches the fake. Our subprocess
counts SQL statements, stage times, write-lock hold times and pydantic rebuilds; when the ratio
goal fails, a profiled pass (pyinstrument) follows. Full-run defaults: 500 people (the brief's
2,000 would take ~35 min at our rate; `--users 2000` is allowed), 75 s a side.

    .venv/bin/python -m bench.inbound            # full run, ≈ 4 min
    .venv/bin/python -m bench.inbound --quick    # smoke run

`--scenario signin` (new people send `/start CODE` at once) and `--scenario unknown` (unknown
senders type text) run the same two bots in bursts instead: see bench/inbound_signin.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (  # noqa: E402
    RESULTS,
    ROOT,
    WEEK_OPEN,
    FlowingClock,
    percentile,
    print_table,
    profile_summary,
    seed_forms_and_campaign,
    seed_people,
    seed_units,
    sqlite_url,
    verdict,
    write_result,
)

NAME = "inbound"
RATIO_GOAL = 0.5
P99_GOAL_MS = 250.0


# ----------------------------------------------------------------------------- the script

def form_steps() -> list[tuple[str, str]]:
    """(what the person types, what our bot's reply must show) for the whole form."""
    from conversations.forms import bundled_form_files, load_form_file

    form = next(load_form_file(p) for p in bundled_form_files() if p.stem == "tuan-le-htsd")
    questions = form.questions
    steps = [("/baocao", f"câu 1/{len(questions)}")]
    for n, q in enumerate(questions, start=1):
        if q.type == "yes_no":
            typed = "co"
        elif q.type == "text":
            typed = f"Nội dung phần {q.id} của xã."
        elif q.type == "money":
            typed = "2tr5"
        else:
            value = n % 4 + 1
            if q.unit.vi == "lượt":  # attendances: at least the classes (a rule of the form)
                value *= 10
            typed = f"{value} người" if n % 3 == 0 else str(value)
        expect = f"câu {n + 1}/{len(questions)}" if n < len(questions) else "Xem lại báo cáo"
        steps.append((typed, expect))
    steps.append(("Nộp báo cáo", "đúng hạn"))
    return steps


# ----------------------------------------------------------------------------- the bots

def _bot_logging(log_path: str) -> None:
    logging.basicConfig(filename=log_path, level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


STAGE: Any = None  # contextvars.ContextVar[str], set up in the bot subprocess

# (module[:Class], attribute, stage): the bot's functions timed in the `ours` subprocess, by
# wrapping them in memory (the code on disk is untouched). A name that is gone is skipped.
STAGES = [
    ("bot.delivery.inbox", "store", "receive: store updates (inbox insert)"),
    ("bot.delivery.inbox:InboxWorker", "drain_once", "inbox worker: find chats / claim"),
    ("bot.delivery.inbox:InboxWorker", "_handle_chat", "inbox worker: read a chat's rows"),
    ("bot.delivery.dispatcher:Dispatcher", "_handle", "dispatch: dedupe, state, outbox, commit"),
    ("bot.delivery.dispatcher", "identity_for", "dispatch: identity"),
    ("bot.delivery.dispatcher", "load_context", "dispatch: load context"),
    ("bot.storage.context_loader", "contact_view", "context: contact + units"),
    ("bot.storage.context_loader", "assignments_for", "context: assignments + answers"),
    ("bot.storage.context_loader", "open_tasks", "context: tasks"),
    ("bot.storage.context_loader", "failed_signins", "context: sign-in failures"),
    ("bot.storage.context_loader", "invite_view", "context: invite lookup"),
    ("bot.delivery.dispatcher", "advance", "dispatch: engine (advance)"),
    ("bot.delivery.dispatcher", "apply_effects", "dispatch: apply effects"),
    ("bot.delivery.outbox_sender:OutboxSender", "drain_once", "sender: find pending / blocked"),
    ("bot.delivery.outbox_sender:OutboxSender", "_claim", "sender: claim row"),
    ("bot.delivery.outbox_sender:OutboxSender", "_finish", "sender: mark sent"),
    ("bot.channels.telegram.transport:TelegramTransport", "send", "sender: Bot API call"),
]
OUTSIDE = "(no stage: polling, idle loops)"


class Instruments:
    """In the `ours` subprocess: wall time per stage (inclusive), every SQL statement by stage
    and kind with the time from before to after the cursor call as the awaiting task sees it,
    and every aiosqlite thread hop with the time the function took in the thread."""

    TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE|JOIN)\s+\"?(\w+)", re.IGNORECASE)

    def __init__(self) -> None:
        import contextvars
        import threading

        global STAGE
        STAGE = contextvars.ContextVar("bench_stage", default=OUTSIDE)
        self.enabled = False
        self.skipped: list[str] = []
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.stages: dict[str, list[float]] = {}  # stage → [calls, wall seconds]
        self.sql: dict[tuple[str, str], list[float]] = {}  # (stage, kind) → [count, seconds]
        self.hops: dict[tuple[str, str], list[float]] = {}  # (stage, op) → [count, seconds]
        self.kinds: dict[str, str] = {}
        self.commits = 0
        self.rollbacks = 0
        self.lock_hold: dict[str, list[float]] = {}  # stage → [transactions, seconds]
        self.generic_rebuilds = [0, 0.0]  # pydantic generic models built: [count, seconds]

    # -- stages
    def wrap_stages(self) -> None:
        import importlib
        import inspect

        for target, attr, stage in STAGES:
            module_name, _, cls_name = target.partition(":")
            try:
                owner = importlib.import_module(module_name)
                if cls_name:
                    owner = getattr(owner, cls_name)
                original = getattr(owner, attr)
            except (ImportError, AttributeError):
                self.skipped.append(f"{target}.{attr}")
                continue
            if inspect.iscoroutinefunction(original):
                wrapper = self._async_wrapper(original, stage)
            else:
                wrapper = self._sync_wrapper(original, stage)
            setattr(owner, attr, wrapper)

    def _record(self, stage: str, seconds: float) -> None:
        if self.enabled:
            entry = self.stages.setdefault(stage, [0, 0.0])
            entry[0] += 1
            entry[1] += seconds

    def _async_wrapper(self, fn: Any, stage: str) -> Any:
        import functools

        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = STAGE.set(stage)
            started = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                self._record(stage, time.perf_counter() - started)
                STAGE.reset(token)
        return wrapper

    def _sync_wrapper(self, fn: Any, stage: str) -> Any:
        import functools

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = STAGE.set(stage)
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self._record(stage, time.perf_counter() - started)
                STAGE.reset(token)
        return wrapper

    # -- SQL and thread hops
    def install_sql(self, hops: bool) -> None:
        import aiosqlite.core
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        @event.listens_for(Engine, "before_cursor_execute")
        def _before(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
            conn.info.setdefault("_bench_t", []).append(time.perf_counter())

        @event.listens_for(Engine, "after_cursor_execute")
        def _after(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
            started = conn.info["_bench_t"].pop()
            if statement.startswith("BEGIN IMMEDIATE"):
                conn.info["_bench_locked"] = (time.perf_counter(), STAGE.get())
            if not self.enabled:
                return
            kind = self.kinds.get(statement)
            if kind is None:
                kind = self.kinds[statement] = self.classify(statement)
            entry = self.sql.setdefault((STAGE.get(), kind), [0, 0.0])
            entry[0] += 1
            entry[1] += time.perf_counter() - started

        def _released(conn: Any) -> None:
            """The write lock is held from BEGIN IMMEDIATE until COMMIT/ROLLBACK is issued."""
            locked = conn.info.pop("_bench_locked", None)
            if locked is not None and self.enabled:
                entry = self.lock_hold.setdefault(locked[1], [0, 0.0])
                entry[0] += 1
                entry[1] += time.perf_counter() - locked[0]

        @event.listens_for(Engine, "commit")
        def _commit(conn):  # noqa: ANN001
            _released(conn)
            if self.enabled:
                self.commits += 1

        @event.listens_for(Engine, "rollback")
        def _rollback(conn):  # noqa: ANN001
            _released(conn)
            if self.enabled:
                self.rollbacks += 1

        from pydantic._internal import _generics

        build = _generics.create_generic_submodel

        def counted_build(*a: Any, **kw: Any) -> Any:
            started = time.perf_counter()
            try:
                return build(*a, **kw)
            finally:
                if self.enabled:
                    self.generic_rebuilds[0] += 1
                    self.generic_rebuilds[1] += time.perf_counter() - started

        _generics.create_generic_submodel = counted_build

        if not hops:
            return
        original = aiosqlite.core.Connection._execute
        instruments = self

        async def _execute(conn: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
            if not instruments.enabled:
                return await original(conn, fn, *args, **kwargs)
            op = getattr(fn, "__name__", "?")
            if args and isinstance(args[0], str):
                op += " BEGIN (write-lock wait)" if args[0].startswith("BEGIN") else " SQL"
            key = (STAGE.get(), op)

            def timed() -> Any:
                started = time.perf_counter()
                try:
                    return fn(*args, **kwargs)
                finally:
                    spent = time.perf_counter() - started
                    with instruments._lock:
                        entry = instruments.hops.setdefault(key, [0, 0.0])
                        entry[0] += 1
                        entry[1] += spent
            return await original(conn, timed)

        aiosqlite.core.Connection._execute = _execute

    @classmethod
    def classify(cls, statement: str) -> str:
        words = statement.split(None, 2)
        verb = words[0].upper() if words else "?"
        if verb in ("BEGIN", "PRAGMA", "COMMIT", "ROLLBACK"):
            return " ".join(w.upper() for w in words[:2])
        tables: list[str] = []
        for t in cls.TABLE.findall(statement):
            if t not in tables:
                tables.append(t)
        head = statement.split("WHERE")[0]
        label = f"{verb} {'+'.join(tables[:4]) or '?'}"
        if verb == "UPDATE" and tables[:1] == ["outbox"]:
            if "attempts" in head and "claimed_until" in head:
                return "UPDATE outbox (claim)"
            if "sent_at" in head:
                return "UPDATE outbox (mark sent)"
        if verb == "SELECT" and tables[:1] == ["outbox"] and "payload" not in head:
            return "SELECT outbox (blocked chats)"
        return label

    def as_json(self) -> dict[str, Any]:
        return {
            "stages": {k: {"calls": int(c), "seconds": s} for k, (c, s) in self.stages.items()},
            "sql": [{"stage": st, "statement": k, "count": int(c), "seconds": s}
                    for (st, k), (c, s) in self.sql.items()],
            "hops": [{"stage": st, "op": op, "count": int(c), "seconds": s}
                     for (st, op), (c, s) in self.hops.items()],
            "commits": self.commits, "rollbacks": self.rollbacks,
            "lock_hold": [{"stage": st, "transactions": int(c), "seconds": v}
                          for st, (c, v) in self.lock_hold.items()],
            "generic_rebuilds": {"count": self.generic_rebuilds[0],
                                 "seconds": self.generic_rebuilds[1]},
            "skipped_stages": self.skipped}


async def serve(args: argparse.Namespace) -> None:
    """A bot subprocess: `ours` (the real wiring) or `echo` (bare aiogram)."""
    _bot_logging(args.log)
    instruments = None
    profiler = None
    if args.side == "ours":
        from bot.runtime import start
        from bot.settings import Settings

        instruments = Instruments()
        instruments.install_sql(hops=args.hops)
        instruments.wrap_stages()
        if args.pin_generics:
            pin_aiogram_generics()
        settings = Settings(database_url=args.db, telegram_bot_token=args.token,
                            telegram_api_base=args.api_base, telegram_rate_per_chat=1000.0,
                            telegram_rate_per_second=1_000_000.0, reminder_tick_seconds=0,
                            files_dir=str(Path(args.stats).parent / "files"))
        running = await start(settings, clock=FlowingClock(WEEK_OPEN))

        async def stop() -> None:
            await running.stop()
    else:
        from aiogram import Bot, Dispatcher
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer
        from aiogram.types import Message

        bot = Bot(args.token, session=AiohttpSession(
            api=TelegramAPIServer.from_base(args.api_base)))
        dp = Dispatcher()

        @dp.message()
        async def echo(message: Message) -> None:
            await message.answer(message.text or "…")

        polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False))

        async def stop() -> None:
            with contextlib.suppress(Exception):
                await dp.stop_polling()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(polling, 10)
            await bot.session.close()

    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001, async_mode="disabled")
    print("READY", flush=True)
    loop = asyncio.get_running_loop()
    out: dict[str, Any] = {}
    t_cpu0 = time.process_time()
    while True:  # "go" starts measuring, "stop" ends it (stdin closed = stop)
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if line == "go":
            if instruments is not None:
                instruments.reset()
                instruments.enabled = True
            t_cpu0 = time.process_time()
            if profiler is not None:
                profiler.start()
            print("GOING", flush=True)
            continue
        break
    if profiler is not None:
        profiler.stop()
    out["cpu_seconds"] = time.process_time() - t_cpu0
    if instruments is not None:
        instruments.enabled = False
        out.update(instruments.as_json())
    await stop()
    if profiler is not None:
        Path(args.profile).write_text(profiler.output_text(unicode=False, color=False,
                                                           show_all=False), encoding="utf-8")
        out["profile"] = profile_summary(profiler.last_session)
    Path(args.stats).write_text(json.dumps(out, indent=2), encoding="utf-8")


_PINNED: list[Any] = []


def pin_aiogram_generics() -> None:
    """Diagnostic only (`--pin-generics`), not the bot as shipped: keep strong references to
    the parametrised `Response[...]` models aiogram builds in `check_response` at every call.
    pydantic caches them in a WeakValueDictionary, so a garbage collection frees them and the
    next call rebuilds the class (about 10 ms of CPU)."""
    from aiogram.methods.base import Response
    from aiogram.types import BotCommand, Message, Update, User

    _PINNED.extend([Response[Message], Response[list[Update]], Response[bool], Response[User],
                    Response[list[BotCommand]], Response[Message | bool]])


# ----------------------------------------------------------------------------- the harness

def _make_fake(first_update_id: int = 100_001) -> Any:
    """The fake Bot API server, telling the harness when a reply reaches it. Each fake starts
    its update ids where asked. Our bot dedupes on chat and message id, and message ids start
    again in each fake, so every phase on one database uses its own chats (GROUP_BASES)."""
    import itertools

    from tests.fake_telegram import FakeTelegram

    class BenchTelegram(FakeTelegram):
        def __init__(self) -> None:
            super().__init__()
            self._update_ids = itertools.count(first_update_id)
            # chat → futures of the updates in flight, oldest first (one reply an update)
            self.waiting: dict[int, deque[asyncio.Future]] = {}
            self.replies = 0

        async def _m_sendMessage(self, p: dict) -> dict:
            arrived = time.perf_counter()
            result = await super()._m_sendMessage(p)
            self.replies += 1
            queue = self.waiting.get(result["chat"]["id"])
            while queue:
                future = queue.popleft()
                if not future.done():
                    future.set_result((arrived, p.get("text", "")))
                    break
            return result

        async def _call(self, *a: Any, **kw: Any) -> tuple[int, dict]:
            status, body = await super()._call(*a, **kw)
            self.requests.clear()  # nobody reads them here; keep the harness small and fast
            return status, body

    return BenchTelegram()


class Spawned:
    def __init__(self, proc: asyncio.subprocess.Process, stats: Path, log: Path) -> None:
        self.proc, self.stats, self.log = proc, stats, log

    async def go(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(b"go\n")
        await self.proc.stdin.drain()
        line = await asyncio.wait_for(self.proc.stdout.readline(), 30)
        if line.strip() != b"GOING":
            raise RuntimeError(f"bot did not start measuring: {line!r}; see {self.log}")

    async def stop(self) -> dict[str, Any]:
        assert self.proc.stdin is not None
        with contextlib.suppress(Exception):
            self.proc.stdin.write(b"stop\n")
            await self.proc.stdin.drain()
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 90)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        if self.stats.exists():
            return json.loads(self.stats.read_text(encoding="utf-8"))
        return {"error": f"no stats; see {self.log}"}


async def spawn(side: str, tg: Any, db: str, workdir: Path, phase: str,
                profile: Path | None, pin: bool, hops: bool = False) -> Spawned:
    stats, log = workdir / f"{side}-{phase}-stats.json", workdir / f"{side}-{phase}.log"
    cmd = [sys.executable, "-m", "bench.inbound", "--serve", side, "--token", tg.token,
           "--api-base", tg.base_url, "--db", db, "--stats", str(stats), "--log", str(log)]
    if profile is not None:
        cmd += ["--profile-out", str(profile)]
    if pin and side == "ours":
        cmd += ["--pin-generics"]
    if hops and side == "ours":
        cmd += ["--hops"]
    proc = await asyncio.create_subprocess_exec(*cmd, cwd=str(ROOT), stdin=asyncio.subprocess.PIPE,
                                                stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 120)
    if line.strip() != b"READY":
        raise RuntimeError(f"{side} bot did not start: {line!r}; see {log}")
    return Spawned(proc, stats, log)


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system, every thread) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Load:
    """Latencies and counts of one load phase."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.done_at: list[float] = []
        self.timeouts = 0
        self.wrong = 0
        self.sent = 0
        self.examples_wrong: list[str] = []

    def summary(self, elapsed: float, *, harness_cpu: float, bot_cpu: float,
                unanswered: int = 0) -> dict[str, Any]:
        # An update never answered counts as infinitely late in the percentiles.
        ms = [x * 1000 for x in self.latencies] + [float("inf")] * unanswered
        replies = len(self.latencies)
        return {"updates_sent": self.sent, "replies": replies,
                "timeouts": self.timeouts, "wrong_replies": self.wrong,
                "wrong_examples": self.examples_wrong[:3],
                "seconds": round(elapsed, 2),
                "updates_per_s": replies / elapsed if elapsed > 0 else 0.0,
                "p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95),
                "p99_ms": percentile(ms, 99), "max_ms": max(ms) if ms else float("nan"),
                "harness_cpu_pct": 100 * harness_cpu / elapsed if elapsed else 0.0,
                "bot_cpu_pct": 100 * bot_cpu / elapsed if elapsed else 0.0,
                "bot_cpu_ms_per_update": 1000 * bot_cpu / replies if replies else 0.0}


async def _step(tg: Any, user: Any, text: str, expect: str | None, load: Load,
                timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    tg.waiting.setdefault(user.id, deque()).append(future)
    offered = time.perf_counter()
    tg.push_update({"message": user._message(text=text, **_entities(text))})
    load.sent += 1
    try:
        arrived, reply = await asyncio.wait_for(future, timeout)
    except TimeoutError:
        load.timeouts += 1
        return False
    load.latencies.append(arrived - offered)
    load.done_at.append(arrived)
    if expect is not None and expect not in reply:
        load.wrong += 1
        if len(load.examples_wrong) < 3:
            load.examples_wrong.append(f"sent {text!r}, expected {expect!r}, got {reply[:120]!r}")
    return True


def _entities(text: str) -> dict[str, Any]:
    from tests.fake_telegram import command_entities

    entities = command_entities(text)
    return {"entities": entities} if entities else {}


async def closed_loop(tg: Any, user_ids: list[int], steps: list[tuple[str, str]], check: bool,
                      budget: float, timeout: float, pid: int) -> dict[str, Any]:
    """Every person sends their next step when the reply to the previous one arrived; when the
    budget is spent nobody starts a new step (steps in flight are waited for)."""
    load = Load()
    stop_at = time.perf_counter() + budget
    completed = 0

    async def person(uid: int) -> None:
        nonlocal completed
        user = tg.user(uid, f"Cán bộ {uid}")
        for text, expect in steps:
            if time.perf_counter() >= stop_at:
                return
            if not await _step(tg, user, text, expect if check else None, load, timeout):
                return
        completed += 1

    cpu0, bot0, t0 = time.process_time(), proc_cpu(pid), time.perf_counter()
    await asyncio.gather(*(person(uid) for uid in user_ids))
    elapsed = (max(load.done_at) if load.done_at else time.perf_counter()) - t0
    summary = load.summary(elapsed, harness_cpu=time.process_time() - cpu0,
                           bot_cpu=proc_cpu(pid) - bot0)
    summary.update({"people": len(user_ids), "forms_completed": completed,
                    "budget_s": budget, "stopped_by_budget": completed < len(user_ids)})
    return summary


async def open_loop(tg: Any, user_ids: list[int], steps: list[tuple[str, str]], check: bool,
                    rate: float, seconds: float, drain: float, pid: int) -> dict[str, Any]:
    """Offer `rate` updates a second for `seconds` whatever the replies do: each offer is the
    next step of the next person in turn (a person may have several updates in flight; the
    bot answers a chat in order, one reply an update). Then wait at most `drain` seconds."""
    load = Load()
    people = [tg.user(uid, f"Cán bộ {uid}") for uid in user_ids]
    progress = [0] * len(people)
    inflight: set[asyncio.Task] = set()
    hard_timeout = seconds + drain + 5
    total = int(rate * seconds)
    cpu0, bot0, t0 = time.process_time(), proc_cpu(pid), time.perf_counter()
    turn = 0
    for k in range(total):
        delay = t0 + k / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        for _ in range(len(people)):
            turn = (turn + 1) % len(people)
            if progress[turn] < len(steps):
                break
        else:
            break  # everybody is done
        text, expect = steps[progress[turn]]
        progress[turn] += 1
        task = asyncio.create_task(_step(tg, people[turn], text, expect if check else None,
                                         load, hard_timeout))
        inflight.add(task)
        task.add_done_callback(inflight.discard)
    offered_for = time.perf_counter() - t0
    if inflight:
        await asyncio.wait(list(inflight), timeout=drain)
    elapsed = time.perf_counter() - t0
    unanswered = load.sent - len(load.latencies)
    for task in list(inflight):
        task.cancel()
    summary = load.summary(elapsed, harness_cpu=time.process_time() - cpu0,
                           bot_cpu=proc_cpu(pid) - bot0, unanswered=unanswered)
    summary.update({"offered_rate": rate, "offered": load.sent, "offered_seconds": seconds,
                    "drain_cap_s": drain, "achieved_offered_rate": load.sent / offered_for,
                    "people": len(user_ids), "unanswered": unanswered})
    return summary


async def fresh_postgres_db(server_url: str) -> str:
    """A new, empty database on the PostgreSQL server `server_url` points at."""
    import uuid

    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    name = f"bench_inbound_{uuid.uuid4().hex[:10]}"
    connection = await asyncpg.connect(
        url.set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return url.set(database=name).render_as_string(hide_password=False)


async def prepare_db(workdir: Path, groups: list[int], postgres: str = "") -> str:
    """The Week 2023 campaign, and per group that many communes, each with one reporter
    (Telegram user id = GROUP_BASE[i] + n). On a temp SQLite file, or a fresh database on the
    PostgreSQL server `postgres` names."""
    from bot.app import build_app
    from bot.settings import Settings

    db = await fresh_postgres_db(postgres) if postgres else sqlite_url(workdir / "baocao.db")
    clock = FlowingClock(WEEK_OPEN)
    app = await build_app(Settings(database_url=db), clock=clock)
    try:
        await seed_forms_and_campaign(app, clock())
        units = await seed_units(app, sum(groups))
        ids = [u for u, _ in units]
        offset = 0
        for base, count in zip(GROUP_BASES, groups, strict=False):
            await seed_people(app, ids[offset:offset + count], base, clock())
            offset += count
    finally:
        await app.close()
    return db


GROUP_BASES = (1_000_000, 2_000_000, 3_000_000, 4_000_000)  # single, closed, open, profile


async def run_side(side: str, args: argparse.Namespace, workdir: Path, db: str,
                   steps: list[tuple[str, str]]) -> dict[str, Any]:
    """The phases against one bot: one person alone, the closed loop, the open loop; a fresh
    bot process for each (its counters cover that phase only)."""
    check = side == "ours"
    result: dict[str, Any] = {}
    tg = _make_fake(100_001 if side == "echo" else 10_000_001)
    await tg.start()
    try:
        phases = [("single", 1), ("closed", args.users)]
        if args.rate:
            phases.append(("open", args.open_users))
        for phase, _people in phases:
            tg._updates.clear()  # everything before was handled; nothing to redeliver
            # aiosqlite thread hops are timed in the one-person phase only (the wrapper costs
            # a few µs a hop; the loaded phases keep the cheap counters alone)
            bot = await spawn(side, tg, db, workdir, phase, None, args.pin_generics,
                              hops=phase == "single")
            try:
                await bot.go()
                pid = bot.proc.pid
                if phase == "single":
                    data = await closed_loop(tg, [GROUP_BASES[0]], steps, check, 120,
                                             args.timeout, pid)
                elif phase == "closed":
                    ids = [GROUP_BASES[1] + i for i in range(args.users)]
                    data = await closed_loop(tg, ids, steps, check, args.max_seconds,
                                             args.timeout, pid)
                else:
                    ids = [GROUP_BASES[2] + i for i in range(args.open_users)]
                    data = await open_loop(tg, ids, steps, check, args.rate, args.open_seconds,
                                           args.drain_seconds, pid)
            finally:
                stats = await bot.stop()
            if side == "ours":
                data["per_update"] = per_update(stats, data["replies"])
            result[phase] = data
            print(f"  {side} {phase}: {data['replies']} replies, "
                  f"{data['updates_per_s']:.1f} updates/s, p50 {data['p50_ms']:.0f} ms, "
                  f"p99 {data['p99_ms']:.0f} ms", flush=True)
        result["spec_errors"] = list(tg.spec_errors[:5])
    finally:
        await tg.stop()
    return result


async def profile_ours(args: argparse.Namespace, workdir: Path, db: str,
                       steps: list[tuple[str, str]]) -> dict[str, Any]:
    tg = _make_fake(50_000_001)
    await tg.start()
    text_out = RESULTS / f"{result_name(args).replace(NAME, NAME + '-profile', 1)}.txt"
    try:
        bot = await spawn("ours", tg, db, workdir, "profile", text_out, args.pin_generics)
        try:
            await bot.go()
            ids = [GROUP_BASES[3] + i for i in range(args.profile_users)]
            data = await closed_loop(tg, ids, steps, True, args.profile_seconds, args.timeout,
                                     bot.proc.pid)
        finally:
            stats = await bot.stop()
    finally:
        await tg.stop()
    data["per_update"] = per_update(stats, data["replies"])
    data["profile"] = stats.get("profile")
    data["profile_text"] = str(text_out.relative_to(ROOT))
    return data


def per_update(stats: dict[str, Any], handled: int) -> dict[str, Any]:
    """The bot's counters divided by the updates answered in the phase."""
    n = handled or 1
    sql = stats.get("sql", [])
    by_kind: dict[str, list[float]] = {}
    by_stage: dict[str, list[float]] = {}
    for row in sql:
        for key, table in ((row["statement"], by_kind), (row["stage"], by_stage)):
            entry = table.setdefault(key, [0, 0.0])
            entry[0] += row["count"]
            entry[1] += row["seconds"]
    hops = stats.get("hops", [])
    hop_stage: dict[str, list[float]] = {}
    hop_op: dict[str, list[float]] = {}
    for row in hops:
        for key, table in ((row["stage"], hop_stage), (row["op"], hop_op)):
            entry = table.setdefault(key, [0, 0.0])
            entry[0] += row["count"]
            entry[1] += row["seconds"]
    total_sql = sum(c for c, _ in by_kind.values())
    total_sql_s = sum(s for _, s in by_kind.values())
    total_hops = sum(c for c, _ in hop_op.values())
    total_hop_s = sum(s for _, s in hop_op.values())

    def rows(table: dict[str, list[float]], label: str) -> list[dict[str, Any]]:
        out = [{label: k, "per_update": round(c / n, 2),
                "mean_ms": round(1000 * s / c, 3) if c else 0.0,
                "ms_per_update": round(1000 * s / n, 3)} for k, (c, s) in table.items()]
        return sorted(out, key=lambda r: -r["ms_per_update"])

    stages = sorted(({"stage": k, "calls_per_update": round(v["calls"] / n, 2),
                      "wall_ms_per_update": round(1000 * v["seconds"] / n, 3),
                      "mean_wall_ms": round(1000 * v["seconds"] / v["calls"], 3)
                      if v["calls"] else 0.0,
                      "sql_per_update": round(by_stage.get(k, [0, 0])[0] / n, 2),
                      "sql_awaited_ms_per_update": round(1000 * by_stage.get(k, [0, 0])[1] / n,
                                                         3)}
                     for k, v in stats.get("stages", {}).items()),
                    key=lambda r: -r["wall_ms_per_update"])
    holds = stats.get("lock_hold", [])
    held_tx = sum(r["transactions"] for r in holds)
    held_s = sum(r["seconds"] for r in holds)
    rebuilds = stats.get("generic_rebuilds", {"count": 0, "seconds": 0.0})
    return {"updates": handled,
            "cpu_ms_per_update": round(1000 * stats.get("cpu_seconds", 0) / n, 2),
            "write_transactions_per_update": round(held_tx / n, 2),
            "write_lock_held_ms_per_transaction": round(1000 * held_s / held_tx, 3)
            if held_tx else 0.0,
            "write_lock_held_ms_per_update": round(1000 * held_s / n, 3),
            "write_lock_by_stage": sorted(
                ({"stage": r["stage"], "transactions_per_update": round(r["transactions"] / n, 2),
                  "held_ms_per_transaction": round(1000 * r["seconds"] / r["transactions"], 3)
                  if r["transactions"] else 0.0,
                  "held_ms_per_update": round(1000 * r["seconds"] / n, 3)} for r in holds),
                key=lambda r: -r["held_ms_per_update"]),
            "max_updates_per_s_by_write_lock": round(n / held_s, 1) if held_s else None,
            "pydantic_generic_rebuilds_per_update": round(rebuilds["count"] / n, 3),
            "pydantic_generic_rebuild_ms_each": round(1000 * rebuilds["seconds"]
                                                      / rebuilds["count"], 3)
            if rebuilds["count"] else 0.0,
            "statements_per_update": round(total_sql / n, 2),
            "commits_per_update": round(stats.get("commits", 0) / n, 2),
            "mean_statement_awaited_ms": round(1000 * total_sql_s / total_sql, 3)
            if total_sql else 0.0,
            "statement_awaited_ms_per_update": round(1000 * total_sql_s / n, 2),
            "thread_hops_per_update": round(total_hops / n, 2),
            "sqlite_thread_ms_per_update": round(1000 * total_hop_s / n, 3),
            "by_statement": rows(by_kind, "statement"),
            "sql_by_stage": rows(by_stage, "stage"),
            "hops_by_op": rows(hop_op, "op"),
            "hops_by_stage": rows(hop_stage, "stage"),
            "stages": stages,
            "skipped_stages": stats.get("skipped_stages", [])}


# ----------------------------------------------------------------------------- main

def _ratio_and_goals(results: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    ours, ceiling = results["ours"], results["ceiling"]
    oc, cc = ours["closed"], ceiling["closed"]
    ratio = oc["updates_per_s"] / cc["updates_per_s"] if cc["updates_per_s"] else 0.0
    goals: dict[str, Any] = {
        "ratio": {"ours_updates_per_s": oc["updates_per_s"],
                  "ceiling_updates_per_s": cc["updates_per_s"], "value": ratio,
                  "goal": f">= {RATIO_GOAL}", "pass": ratio >= RATIO_GOAL}}
    if "open" in ours:
        o = ours["open"]
        ok = o["p99_ms"] < P99_GOAL_MS and o["unanswered"] == 0 \
            and o["achieved_offered_rate"] >= 0.95 * args.rate
        goals["p99_at_rate"] = {"value_ms": o["p99_ms"], "rate": args.rate,
                                "unanswered": o["unanswered"],
                                "goal": f"< {P99_GOAL_MS:.0f} ms at {args.rate:.0f}/s",
                                "pass": ok}
    return goals


def report(results: dict[str, Any], goals: dict[str, Any], args: argparse.Namespace) -> None:
    ours, ceiling = results["ours"], results["ceiling"]
    steps = len(form_steps())
    print(f"\nInbound — {steps} updates a person (/baocao, 40 answers, Nộp báo cáo)")
    rows = []
    for label, side in ((f"ours ({backend(args)})", ours), ("ceiling (aiogram echo)", ceiling)):
        for phase, what in (("single", "1 person alone"),
                            ("closed", f"closed loop, {args.users} people")):
            c = side[phase]
            rows.append([label, what, c["replies"], c["forms_completed"], c["seconds"],
                         c["updates_per_s"], c["p50_ms"], c["p95_ms"], c["p99_ms"],
                         c["timeouts"] + c["wrong_replies"], f"{c['bot_cpu_pct']:.0f}%",
                         c["bot_cpu_ms_per_update"]])
    print_table(rows, ["bot", "phase", "updates", "forms done", "s", "updates/s", "p50 ms",
                       "p95 ms", "p99 ms", "errors", "bot CPU", "CPU ms/update"])
    g = goals["ratio"]
    print(f"\nours/ceiling (closed loop) = {g['ours_updates_per_s']:.1f} / "
          f"{g['ceiling_updates_per_s']:.1f} = {g['value']:.3f}   goal >= {RATIO_GOAL}   "
          f"{verdict(g['pass'])}")
    if "p99_at_rate" in goals:
        print(f"\nOpen loop: {args.rate:.0f} updates/s offered for {args.open_seconds:.0f} s "
              f"(then at most {args.drain_seconds:.0f} s to answer; unanswered = infinitely late)")
        rows = []
        for label, side in ((f"ours ({backend(args)})", ours), ("ceiling (aiogram echo)", ceiling)):
            o = side.get("open")
            if o:
                rows.append([label, o["offered"], o["achieved_offered_rate"], o["replies"],
                             o["unanswered"], o["p50_ms"], o["p95_ms"], o["p99_ms"]])
        print_table(rows, ["bot", "offered", "offered/s", "replies", "unanswered", "p50 ms",
                           "p95 ms", "p99 ms"])
        g = goals["p99_at_rate"]
        shown = (f"{g['value_ms']:.0f} ms" if g["value_ms"] != float("inf") else
                 f"never ({g['unanswered']} of {ours['open']['offered']} updates unanswered "
                 f"{args.drain_seconds:.0f} s after the offering ended)")
        print(f"\nours p99 at {args.rate:.0f} updates/s = {shown}   goal < "
              f"{P99_GOAL_MS:.0f} ms   {verdict(g['pass'])}")
    for phase in ("single", "closed"):
        pu = ours[phase].get("per_update")
        if pu:
            print_per_update(pu, f"ours, {phase}")


def print_per_update(pu: dict[str, Any], title: str) -> None:
    hops = (f", {pu['thread_hops_per_update']} aiosqlite thread hops taking "
            f"{pu['sqlite_thread_ms_per_update']} ms in the threads"
            if pu["thread_hops_per_update"] else "")
    print(f"\nPer update, {title}: {pu['statements_per_update']} SQL statements, "
          f"{pu['commits_per_update']} commits{hops}; {pu['cpu_ms_per_update']} ms CPU of "
          f"the bot process; statements awaited {pu['statement_awaited_ms_per_update']} ms "
          f"(mean {pu['mean_statement_awaited_ms']} ms each); "
          f"{pu['write_transactions_per_update']} write transactions holding SQLite's write "
          f"lock {pu['write_lock_held_ms_per_transaction']} ms each = "
          f"{pu['write_lock_held_ms_per_update']} ms an update (ceiling "
          f"{pu['max_updates_per_s_by_write_lock']} updates/s); aiogram rebuilt a pydantic "
          f"Response[...] model {pu['pydantic_generic_rebuilds_per_update']} times an update, "
          f"{pu['pydantic_generic_rebuild_ms_each']} ms each")
    print_table([[r["stage"], r["calls_per_update"], r["wall_ms_per_update"],
                  r["sql_per_update"], r["sql_awaited_ms_per_update"]] for r in pu["stages"]],
                ["stage (wall time inclusive of inner stages)", "calls", "wall ms",
                 "SQL (own)", "SQL awaited ms (own)"])
    print()
    print_table([[r["statement"], r["per_update"], r["mean_ms"], r["ms_per_update"]]
                 for r in pu["by_statement"][:14]],
                ["statement", "per update", "mean awaited ms", "awaited ms per update"])
    print()
    print_table([[r["stage"], r["transactions_per_update"], r["held_ms_per_transaction"],
                  r["held_ms_per_update"]] for r in pu["write_lock_by_stage"]],
                ["write transaction (stage that began it)", "per update", "lock held ms",
                 "held ms per update"])
    if pu["hops_by_op"]:
        print()
        print_table([[r["op"], r["per_update"], r["mean_ms"], r["ms_per_update"]]
                     for r in pu["hops_by_op"]],
                    ["aiosqlite call (in its thread)", "per update", "mean ms", "ms per update"])


def print_profile(profiled: dict[str, Any]) -> None:
    prof = profiled.get("profile") or {}
    n = profiled["replies"] or 1
    print(f"\nProfiled ours ({profiled['people']} people, closed loop): {profiled['replies']} "
          f"updates at {profiled['updates_per_s']:.1f}/s; event-loop thread sampled "
          f"{prof.get('sampled_seconds', 0):.1f} s")
    print_table([[k, v, 1000 * v / n] for k, v in prof.get("self_by_category", {}).items()],
                ["event-loop thread, self time by library", "s", "ms per update"])
    print()
    print_table([[r["function"][:80], r["seconds"], 1000 * r["seconds"] / n]
                 for r in prof.get("top_self", [])[:12]],
                ["hottest functions (self)", "s", "ms per update"])


def findings(results: dict[str, Any]) -> list[str]:
    """The top costs of an inbound update, worded from the measurements of this run."""
    ours, ceiling = results["ours"], results["ceiling"]
    closed, single = ours["closed"], ours["single"]
    pc, ps = closed.get("per_update") or {}, single.get("per_update") or {}
    if not pc or not ps:
        return []
    out = []
    cpu = pc["cpu_ms_per_update"]
    out.append(
        f"CPU: {cpu:.1f} ms of bot-process CPU per update under load "
        f"({closed['bot_cpu_pct']:.0f}% of a core at {closed['updates_per_s']:.1f} updates/s; "
        f"{ps['cpu_ms_per_update']:.1f} ms for one person alone) against "
        f"{ceiling['closed']['bot_cpu_ms_per_update']:.2f} ms for the aiogram echo bot: one core "
        f"allows at most ~{1000 / cpu:.0f} updates/s, the ceiling bot "
        f"{ceiling['closed']['updates_per_s']:.0f}/s.")
    lock = next((r for r in pc["write_lock_by_stage"] if r["stage"].startswith("dispatch")), None)
    if lock:
        stages_c = {r["stage"]: r for r in pc["stages"]}
        dispatch = stages_c.get("dispatch: dedupe, state, outbox, commit", {})
        alone = next((r for r in ps["write_lock_by_stage"] if r["stage"].startswith("dispatch")),
                     lock)
        out.append(
            f"Serial writes: the dispatch transaction holds SQLite's write lock from BEGIN "
            f"IMMEDIATE (at the start of Dispatcher._handle) through every read, the engine, the "
            f"effects and the commit: {lock['held_ms_per_transaction']:.1f} ms per update under "
            f"load ({alone['held_ms_per_transaction']:.1f} ms alone), so dispatching is serial "
            f"and capped at ~{1000 / lock['held_ms_per_transaction']:.0f} updates/s whatever the "
            f"concurrency; under load one dispatch took "
            f"{dispatch.get('wall_ms_per_update', 0):.0f} ms wall, mostly queueing for that lock "
            f"(write sessions take turns in-process before BEGIN).")
    frequent = sorted(pc["by_statement"], key=lambda r: -r["per_update"])[:6]
    out.append(
        f"SQL: {pc['statements_per_update']:.1f} statements and {pc['commits_per_update']:.2f} "
        f"commits per update under load ({ps['statements_per_update']:.1f} statements, "
        f"{ps['commits_per_update']:.2f} commits, {ps['thread_hops_per_update']:.0f} aiosqlite "
        f"thread hops for one person alone, where the inbox worker and the outbox sender poll "
        f"around every update); {pc['mean_statement_awaited_ms']:.2f} ms per statement as awaited "
        f"under load, {ps['mean_statement_awaited_ms']:.2f} ms alone, of which "
        f"{ps['sqlite_thread_ms_per_update'] / max(ps['thread_hops_per_update'], 1) * 1000:.0f} "
        f"µs a hop is SQLite's own work. Most frequent: "
        + ", ".join(f"{r['statement']} ×{r['per_update']:.2f}" for r in frequent) + ".")
    prof = (results.get("profiled") or {}).get("profile")
    if prof:
        busy = {k: v for k, v in prof["self_by_category"].items() if not k.startswith("idle")}
        total = sum(busy.values()) or 1
        out.append(
            "Event-loop CPU by library (profiled pass, pyinstrument): "
            + ", ".join(f"{k} {100 * v / total:.0f}%" for k, v in list(busy.items())[:7])
            + ". SQLAlchemy's ORM and Core compile/caching per statement "
              "(coercions.expect, cache keys, result processing) is the largest single cost.")
    out.append(
        f"aiogram + pydantic: aiogram builds `Response[<returning type>]` at every API call and "
        f"pydantic keeps parametrised generics only in a WeakValueDictionary, so after a "
        f"garbage collection the class is rebuilt: {ps['pydantic_generic_rebuilds_per_update']:.2f}"
        f" rebuilds per update alone ({ps['pydantic_generic_rebuild_ms_each']:.1f} ms each = "
        f"{ps['pydantic_generic_rebuilds_per_update'] * ps['pydantic_generic_rebuild_ms_each']:.1f}"
        f" ms of the {single['p50_ms']:.0f} ms p50 latency), "
        f"{pc['pydantic_generic_rebuilds_per_update']:.2f} per update under load. Holding a "
        f"reference to the few Response[...] types used (Message, list[Update], bool) avoids it.")
    stages = {r["stage"]: r for r in ps["stages"]}
    ctx = stages.get("dispatch: load context")
    ans = stages.get("context: assignments + answers")
    if ctx and ans:
        out.append(
            f"Per-update work, one person alone (wall): load_context "
            f"{ctx['wall_ms_per_update']:.1f} ms (of which assignments + every stored answer "
            f"of the report {ans['wall_ms_per_update']:.1f} ms, re-read at each step), the "
            f"sender's "
            f"find-pending/blocked queries "
            f"{stages.get('sender: find pending / blocked', {}).get('sql_per_update', 0):.0f} "
            f"statements, the inbox worker's find-chats/read-rows "
            f"{stages.get('inbox worker: find chats / claim', {}).get('sql_per_update', 0) + stages.get('inbox worker: read a chat' + chr(39) + 's rows', {}).get('sql_per_update', 0):.0f}"  # noqa: E501
            f" statements; the engine itself (advance) "
            f"{stages.get('dispatch: engine (advance)', {}).get('wall_ms_per_update', 0):.1f} ms.")
    return out


async def main_async(args: argparse.Namespace) -> None:
    steps = form_steps()
    workdir = Path(tempfile.mkdtemp(prefix="bench-inbound-"))
    started = time.perf_counter()
    try:
        groups = [1, args.users, args.open_users if args.rate else 0]
        db = await prepare_db(workdir, groups, args.postgres)
        print(f"seeded {sum(groups)} communes, each with one reporter on Telegram, in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        results: dict[str, Any] = {}
        print("ceiling: a bare aiogram echo bot…", flush=True)
        results["ceiling"] = await run_side("echo", args, workdir, db, steps)
        print(f"ours: bot.runtime.start on {backend(args)}…", flush=True)
        results["ours"] = await run_side("ours", args, workdir, db, steps)
        goals = _ratio_and_goals(results, args)
        if args.profile or (not args.no_profile and not goals["ratio"]["pass"]):
            print(f"profiling ours: {args.profile_users} people, {args.profile_seconds:.0f} s "
                  f"closed loop under pyinstrument…", flush=True)
            # a database of its own: the open loop leaves a backlog in the inbox of the first
            pdir = workdir / "profile"
            pdir.mkdir()
            pdb = await prepare_db(pdir, [0, 0, 0, args.profile_users], args.postgres)
            results["profiled"] = await profile_ours(args, pdir, pdb, steps)
        report(results, goals, args)
        if "profiled" in results:
            print_profile(results["profiled"])
        results["findings"] = findings(results)
        if results["findings"]:
            print("\nFindings:")
            for n, line in enumerate(results["findings"], 1):
                print(f"{n}. {line}")
        results["total_seconds"] = round(time.perf_counter() - started, 1)
        write_result(result_name(args), {
            "quick": args.quick,
            "parameters": {k: v for k, v in vars(args).items()
                           if k not in ("side", "token", "api_base", "db", "stats", "log",
                                        "profile_path")},
            "steps_per_person": len(steps), "goals": goals, **results})
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept {workdir}")


def backend(args: argparse.Namespace) -> str:
    return "PostgreSQL" if args.postgres else "SQLite"


def result_name(args: argparse.Namespace) -> str:
    return NAME + ("-postgres" if args.postgres else "") + ("-quick" if args.quick else "")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small smoke run")
    p.add_argument("--users", type=int, default=None,
                   help="people in the closed loop (default 500; quick 20)")
    p.add_argument("--max-seconds", type=float, default=None,
                   help="closed-loop budget a side: nobody starts a new step after it "
                        "(default 75; quick 10)")
    p.add_argument("--rate", type=float, default=200.0,
                   help="open-loop offered updates/s (0 = no open-loop run; default 200)")
    p.add_argument("--open-seconds", type=float, default=None,
                   help="open-loop offering time (default 20; quick 3)")
    p.add_argument("--drain-seconds", type=float, default=None,
                   help="open loop: how long to wait for the last replies (default 20; "
                        "quick 10)")
    p.add_argument("--open-users", type=int, default=None,
                   help="people the open loop draws from (default 2000; quick 300)")
    p.add_argument("--timeout", type=float, default=240.0, help="seconds to wait for a reply")
    p.add_argument("--profile", action="store_true", help="always run the profiled pass")
    p.add_argument("--no-profile", action="store_true", help="never run the profiled pass")
    p.add_argument("--profile-users", type=int, default=None,
                   help="people in the profiled pass (default 5: few enough that the profile "
                        "shows CPU, not the write-lock queue; quick 3)")
    p.add_argument("--profile-seconds", type=float, default=None,
                   help="closed-loop budget of the profiled pass (default 20; quick 5)")
    p.add_argument("--pin-generics", action="store_true",
                   help="diagnostic: our bot with aiogram's Response[...] models pinned "
                        "(see pin_aiogram_generics); not the bot as shipped")
    p.add_argument("--keep", action="store_true", help="keep the temp directory")
    p.add_argument("--postgres", default=os.environ.get("BAOCAO_BENCH_POSTGRES_URL", ""),
                   help="run ours on a fresh database on this PostgreSQL server "
                        "(postgresql+asyncpg://user@host:port/postgres; default "
                        "$BAOCAO_BENCH_POSTGRES_URL, else SQLite)")
    p.add_argument("--scenario", choices=("form", "signin", "unknown"), default="form",
                   help="form: reporters fill in the form (the phases above); signin: new "
                        "people send /start CODE at once; unknown: unknown senders type text "
                        "(bench/inbound_signin.py)")
    p.add_argument("--runs", type=int, default=3, help="signin/unknown: runs (min/median/max)")
    p.add_argument("--people", type=int, default=200,
                   help="signin/unknown: people writing at once (default 200)")
    p.add_argument("--profile-people", type=int, default=100,
                   help="signin/unknown: people in the profiled burst (default 100)")
    p.add_argument("--tag", default="", help="signin/unknown: suffix of the results' names")
    p.add_argument("--refresh-findings", action="store_true",
                   help="only reword the findings of the last results JSON")
    # the bot subprocess
    p.add_argument("--serve", dest="side", choices=("ours", "echo"), help=argparse.SUPPRESS)
    p.add_argument("--token", help=argparse.SUPPRESS)
    p.add_argument("--api-base", help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    p.add_argument("--stats", help=argparse.SUPPRESS)
    p.add_argument("--log", help=argparse.SUPPRESS)
    p.add_argument("--profile-out", dest="profile_path", help=argparse.SUPPRESS)
    p.add_argument("--hops", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    defaults = {"users": (20, 2000), "max_seconds": (10.0, 75.0), "open_seconds": (3.0, 20.0),
                "drain_seconds": (10.0, 20.0), "open_users": (300, 2000),
                "profile_users": (3, 5), "profile_seconds": (5.0, 20.0)}
    for key, (quick, full) in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, quick if args.quick else full)
    return args


def refresh_findings(quick: bool) -> None:
    """Recompute the findings of the last run's JSON (after a change to `findings`)."""
    path = RESULTS / f"{NAME}{'-quick' if quick else ''}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["findings"] = findings(data)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for n, line in enumerate(data["findings"], 1):
        print(f"{n}. {line}")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.refresh_findings:
        refresh_findings(args.quick)
        return
    if args.side:
        args.profile = args.profile_path
        asyncio.run(serve(args))
        return
    if args.scenario != "form":
        from bench.inbound_signin import main_async as scenario_main

        asyncio.run(scenario_main(args))
        return
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
