"""Inbound throughput and latency: simulated people fill in the seed 004 commune form
(`tuan-le-htsd`, 40 questions) step by step on Telegram, against the fake Bot API server.

Two bots, the same harness, in one run:
  * ours:    the real wiring (`bot.runtime.start`) on a temp SQLite file, long polling the fake;
  * ceiling: a bare aiogram echo bot (Dispatcher + one message handler that answers), long
             polling the same fake, no database: what the framework does on this machine.

The fake Telegram server and the simulated people run in this process; each bot runs in its own
subprocess (this machine has 2 cores: one for the "Telegram side", one for the bot).

Closed loop: each person sends the next answer when the reply to the previous one reached the
fake (`/baocao`, 40 answers, `Nộp báo cáo` = 42 updates a person). Open loop (`--rate`): updates
are offered at a fixed rate, each by a person with nothing in flight. Latency: from the moment an
update is offered (`push_update`) to the moment the bot's sendMessage reaches the fake.

    .venv/bin/python -m bench.inbound            # full run (bounded, see --max-seconds)
    .venv/bin/python -m bench.inbound --quick    # smoke run
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
CLOSED_USER_BASE = 1_000_000
OPEN_USER_BASE = 3_000_000


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
            typed = f"{value} người" if n % 3 == 0 else str(value)
        expect = f"câu {n + 1}/{len(questions)}" if n < len(questions) else "Xem lại báo cáo"
        steps.append((typed, expect))
    steps.append(("Nộp báo cáo", "đúng hạn"))
    return steps


# ----------------------------------------------------------------------------- the bots

def _bot_logging(log_path: str) -> None:
    logging.basicConfig(filename=log_path, level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


async def _wait_for_stop() -> None:
    """The harness writes a line on stdin (or closes it) to stop the bot."""
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)


class SqlStats:
    """Counts every statement the bot's engines execute, by verb and table, with the time from
    before to after the cursor call as the awaiting task sees it (the aiosqlite thread hop, the
    SQLite work, any wait for the write lock, and the wait to be resumed by the event loop)."""

    TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", re.IGNORECASE)

    def __init__(self) -> None:
        self.by_kind: dict[str, list[float]] = {}  # kind → [count, seconds]
        self.kinds: dict[str, str] = {}
        self.commits = 0
        self.rollbacks = 0
        self.enabled = False

    def install(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        @event.listens_for(Engine, "before_cursor_execute")
        def _before(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
            conn.info.setdefault("_bench_t", []).append(time.perf_counter())

        @event.listens_for(Engine, "after_cursor_execute")
        def _after(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
            started = conn.info["_bench_t"].pop()
            if not self.enabled:
                return
            kind = self.kinds.get(statement)
            if kind is None:
                kind = self.kinds[statement] = self.classify(statement)
            entry = self.by_kind.setdefault(kind, [0, 0.0])
            entry[0] += 1
            entry[1] += time.perf_counter() - started

        @event.listens_for(Engine, "commit")
        def _commit(conn):  # noqa: ANN001
            if self.enabled:
                self.commits += 1

        @event.listens_for(Engine, "rollback")
        def _rollback(conn):  # noqa: ANN001
            if self.enabled:
                self.rollbacks += 1

    @classmethod
    def classify(cls, statement: str) -> str:
        words = statement.split(None, 2)
        verb = words[0].upper() if words else "?"
        if verb in ("BEGIN", "PRAGMA", "COMMIT", "ROLLBACK"):
            return " ".join(w.upper() for w in words[:2])
        match = cls.TABLE.search(statement)
        table = match.group(1) if match else "?"
        head = statement.split("WHERE")[0]
        if verb == "UPDATE" and table == "outbox":
            if "attempts" in head and "claimed_until" in head:
                return "UPDATE outbox (claim)"
            if "sent_at" in head:
                return "UPDATE outbox (mark sent)"
        if verb == "UPDATE" and table == "inbox":
            return "UPDATE inbox (claim)"
        if verb == "SELECT" and table == "outbox" and "payload" not in head:
            return "SELECT outbox (blocked chats)"
        return f"{verb} {table}"

    def as_json(self) -> dict[str, Any]:
        return {"statements": {k: {"count": int(c), "seconds": s}
                               for k, (c, s) in sorted(self.by_kind.items(),
                                                       key=lambda kv: -kv[1][0])},
                "commits": self.commits, "rollbacks": self.rollbacks}


async def serve(args: argparse.Namespace) -> None:
    """A bot subprocess: `ours` (the real wiring) or `echo` (bare aiogram)."""
    _bot_logging(args.log)
    stats = SqlStats()
    profiler = None
    if args.side == "ours":
        from bot.runtime import start
        from bot.settings import Settings

        stats.install()
        if args.pin_generics:
            pin_aiogram_generics()
        settings = Settings(database_url=args.db, telegram_bot_token=args.token,
                            telegram_api_base=args.api_base, telegram_rate_per_chat=1000.0,
                            telegram_rate_per_second=1_000_000.0, reminder_tick_seconds=0,
                            files_dir=str(Path(args.db.split("///", 1)[1]).parent / "files"))
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
    t_cpu0 = time.process_time()
    stats.enabled = True
    if profiler is not None:
        profiler.start()
    print("READY", flush=True)
    await _wait_for_stop()
    if profiler is not None:
        profiler.stop()
    stats.enabled = False
    cpu = time.process_time() - t_cpu0
    await stop()
    out: dict[str, Any] = {"cpu_seconds": cpu, **stats.as_json()}
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


def profile_summary(session: Any) -> dict[str, Any]:
    """Self time per function, and inclusive time of the bot's own functions (CPU on the event
    loop thread; time spent awaiting is not on the stack and not counted)."""
    root = session.root_frame()
    total = root.time if root else 0.0
    self_time: dict[str, float] = {}
    inclusive: dict[str, float] = {}

    def name(frame: Any) -> str:
        path = frame.file_path_short or frame.file_path or ""
        return f"{frame.function} ({path}:{frame.line_no})"

    def walk(frame: Any, on_stack: frozenset[str]) -> None:
        key = name(frame)
        self_time[key] = self_time.get(key, 0.0) + frame.total_self_time
        if key not in on_stack:  # recursion counted once
            inclusive[key] = inclusive.get(key, 0.0) + frame.time
        for child in frame.children:
            walk(child, on_stack | {key})

    if root is not None:
        walk(root, frozenset())
    top_self = sorted(self_time.items(), key=lambda kv: -kv[1])[:25]
    ours = sorted(((k, v) for k, v in inclusive.items()
                   if any(p in k for p in ("bot/", "conversations/", "scheduler/"))),
                  key=lambda kv: -kv[1])[:40]
    libs = ("sqlalchemy", "aiosqlite", "aiogram", "aiohttp", "pydantic", "json", "asyncio")
    by_lib: dict[str, float] = {}
    for k, v in self_time.items():
        lib = next((lib for lib in libs if f"{lib}/" in k or f"{lib}." in k), "other")
        by_lib[lib] = by_lib.get(lib, 0.0) + v
    return {"sampled_seconds": total,
            "top_self": [{"function": k, "seconds": round(v, 3)} for k, v in top_self],
            "bot_inclusive": [{"function": k, "seconds": round(v, 3)} for k, v in ours],
            "self_by_library": {k: round(v, 3) for k, v in sorted(by_lib.items(),
                                                                  key=lambda kv: -kv[1])}}


# ----------------------------------------------------------------------------- the harness

def _make_fake() -> Any:
    from tests.fake_telegram import FakeTelegram

    class BenchTelegram(FakeTelegram):
        """The fake, telling the harness when a reply to a chat arrives."""

        def __init__(self) -> None:
            super().__init__()
            self.waiting: dict[int, asyncio.Future] = {}
            self.replies = 0

        async def _m_sendMessage(self, p: dict) -> dict:
            arrived = time.perf_counter()
            result = await super()._m_sendMessage(p)
            self.replies += 1
            future = self.waiting.pop(result["chat"]["id"], None)
            if future is not None and not future.done():
                future.set_result((arrived, p.get("text", "")))
            return result

        async def _call(self, *a: Any, **kw: Any) -> tuple[int, dict]:
            status, body = await super()._call(*a, **kw)
            self.requests.clear()  # nobody reads them here; keep the harness small and fast
            return status, body

    return BenchTelegram()


class Spawned:
    def __init__(self, proc: asyncio.subprocess.Process, stats: Path, log: Path) -> None:
        self.proc, self.stats, self.log = proc, stats, log

    async def stop(self) -> dict[str, Any]:
        assert self.proc.stdin is not None
        with contextlib.suppress(Exception):
            self.proc.stdin.write(b"stop\n")
            await self.proc.stdin.drain()
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 60)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        if self.stats.exists():
            return json.loads(self.stats.read_text(encoding="utf-8"))
        return {"error": f"no stats; see {self.log}"}


async def spawn(side: str, tg: Any, db: str, workdir: Path, profile: Path | None) -> Spawned:
    stats, log = workdir / f"{side}-stats.json", workdir / f"{side}.log"
    stats.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "bench.inbound", "--serve", side, "--token", tg.token,
           "--api-base", tg.base_url, "--db", db, "--stats", str(stats), "--log", str(log)]
    if profile is not None:
        cmd += ["--profile-out", str(profile)]
    if side == "ours" and getattr(args_global, "pin_generics", False):
        cmd += ["--pin-generics"]
    proc = await asyncio.create_subprocess_exec(*cmd, cwd=str(ROOT), stdin=asyncio.subprocess.PIPE,
                                                stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 60)
    if line.strip() != b"READY":
        raise RuntimeError(f"{side} bot did not start: {line!r}; see {log}")
    return Spawned(proc, stats, log)


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
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

    def summary(self, elapsed: float, *, harness_cpu: float, bot_cpu: float) -> dict[str, Any]:
        ms = [x * 1000 for x in self.latencies]
        return {"updates_sent": self.sent, "replies": len(self.latencies),
                "timeouts": self.timeouts, "wrong_replies": self.wrong,
                "wrong_examples": self.examples_wrong[:3],
                "seconds": round(elapsed, 2),
                "updates_per_s": len(self.latencies) / elapsed if elapsed > 0 else 0.0,
                "p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95),
                "p99_ms": percentile(ms, 99), "max_ms": max(ms) if ms else float("nan"),
                "harness_cpu_pct": 100 * harness_cpu / elapsed if elapsed else 0.0,
                "bot_cpu_pct": 100 * bot_cpu / elapsed if elapsed else 0.0}


async def _step(tg: Any, user: Any, text: str, expect: str | None, load: Load,
                timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    tg.waiting[user.id] = future
    offered = time.perf_counter()
    user._mark = tg._version
    tg.push_update({"message": user._message(text=text, **_entities(text))})
    load.sent += 1
    try:
        arrived, reply = await asyncio.wait_for(future, timeout)
    except TimeoutError:
        tg.waiting.pop(user.id, None)
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
                      budget: float, timeout: float, pid: int) -> tuple[dict[str, Any], int]:
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
    summary["people"] = len(user_ids)
    summary["forms_completed"] = completed
    summary["stopped_by_budget"] = completed < len(user_ids) and load.timeouts == 0
    return summary, completed


async def open_loop(tg: Any, user_ids: list[int], steps: list[tuple[str, str]], check: bool,
                    rate: float, seconds: float, timeout: float, pid: int) -> dict[str, Any]:
    """Offer `rate` updates a second for `seconds`, each from a person with nothing in flight."""
    load = Load()
    idle: deque[tuple[Any, int]] = deque((tg.user(uid, f"Cán bộ {uid}"), 0) for uid in user_ids)
    inflight: set[asyncio.Task] = set()
    no_idle = 0

    async def one(user: Any, index: int) -> None:
        text, expect = steps[index]
        if await _step(tg, user, text, expect if check else None, load, timeout) \
                and index + 1 < len(steps):
            idle.append((user, index + 1))

    total = int(rate * seconds)
    cpu0, bot0, t0 = time.process_time(), proc_cpu(pid), time.perf_counter()
    for k in range(total):
        delay = t0 + k / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if not idle:
            no_idle += 1
            continue
        user, index = idle.popleft()
        task = asyncio.create_task(one(user, index))
        inflight.add(task)
        task.add_done_callback(inflight.discard)
    offered_for = time.perf_counter() - t0
    if inflight:
        await asyncio.wait(list(inflight), timeout=timeout + 5)
    elapsed = time.perf_counter() - t0
    summary = load.summary(elapsed, harness_cpu=time.process_time() - cpu0,
                           bot_cpu=proc_cpu(pid) - bot0)
    summary.update({"offered_rate": rate, "offered": load.sent,
                    "achieved_offered_rate": load.sent / offered_for,
                    "skipped_no_idle_person": no_idle, "people": len(user_ids),
                    "unanswered": load.sent - len(load.latencies)})
    # The rate of replies while offering, not diluted by the drain at the end:
    summary["updates_per_s"] = len(load.latencies) / elapsed if elapsed else 0.0
    return summary


async def prepare_db(workdir: Path, closed: int, opened: int) -> str:
    from bot.app import build_app
    from bot.settings import Settings

    db = sqlite_url(workdir / "baocao.db")
    clock = FlowingClock(WEEK_OPEN)
    app = await build_app(Settings(database_url=db), clock=clock)
    try:
        await seed_forms_and_campaign(app, clock())
        units = await seed_units(app, closed + opened)
        ids = [u for u, _ in units]
        await seed_people(app, ids[:closed], CLOSED_USER_BASE, clock())
        await seed_people(app, ids[closed:], OPEN_USER_BASE, clock())
    finally:
        await app.close()
    return db


async def run_side(side: str, args: argparse.Namespace, workdir: Path, db: str,
                   steps: list[tuple[str, str]], *, profile: Path | None = None,
                   budget: float | None = None, users: int | None = None) -> dict[str, Any]:
    users = users or args.users
    budget = budget or args.max_seconds
    async with contextlib.AsyncExitStack() as stack:
        tg = _make_fake()
        await tg.start()
        stack.push_async_callback(tg.stop)
        bot = await spawn(side, tg, db, workdir, profile)
        try:
            closed_ids = [CLOSED_USER_BASE + i for i in range(users)]
            closed, _ = await closed_loop(tg, closed_ids, steps, side == "ours", budget,
                                          args.timeout, bot.proc.pid)
            opened = None
            if args.rate and profile is None:
                open_ids = [OPEN_USER_BASE + i for i in range(args.open_users)]
                opened = await open_loop(tg, open_ids, steps, side == "ours", args.rate,
                                         args.open_seconds, args.timeout, bot.proc.pid)
        finally:
            stats = await bot.stop()
        spec_errors = list(tg.spec_errors)
    result: dict[str, Any] = {"closed_loop": closed, "open_loop": opened,
                              "spec_errors": spec_errors[:5]}
    if side == "ours":
        handled = (closed["replies"] + (opened["replies"] if opened else 0)) or 1
        result["sql"] = sql_per_update(stats, handled)
        if "profile" in stats:
            result["profile"] = stats["profile"]
        result["bot_cpu_seconds_in_process"] = stats.get("cpu_seconds")
    return result


def sql_per_update(stats: dict[str, Any], handled: int) -> dict[str, Any]:
    statements = stats.get("statements", {})
    total = sum(v["count"] for v in statements.values())
    seconds = sum(v["seconds"] for v in statements.values())
    rows = [{"statement": k, "per_update": round(v["count"] / handled, 2),
             "mean_ms": round(1000 * v["seconds"] / v["count"], 3) if v["count"] else 0,
             "ms_per_update": round(1000 * v["seconds"] / handled, 3)}
            for k, v in statements.items()]
    rows.sort(key=lambda r: -r["ms_per_update"])
    return {"updates": handled, "statements_per_update": round(total / handled, 2),
            "commits_per_update": round(stats.get("commits", 0) / handled, 2),
            "mean_statement_ms": round(1000 * seconds / total, 3) if total else 0,
            "statement_ms_per_update": round(1000 * seconds / handled, 2),
            "by_statement": rows}


# ----------------------------------------------------------------------------- main

def report(results: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    ours, ceiling = results["ours"], results["ceiling"]
    oc, cc = ours["closed_loop"], ceiling["closed_loop"]
    ratio = oc["updates_per_s"] / cc["updates_per_s"] if cc["updates_per_s"] else 0.0
    print(f"\nInbound, closed loop: {args.users} people × {len(form_steps())} updates "
          f"(budget {args.max_seconds:.0f} s a side)")
    rows = []
    for label, side in (("ours (SQLite)", ours), ("ceiling (aiogram echo)", ceiling)):
        c = side["closed_loop"]
        rows.append([label, c["replies"], c["forms_completed"], c["seconds"],
                     c["updates_per_s"], c["p50_ms"], c["p95_ms"], c["p99_ms"], c["timeouts"],
                     c["wrong_replies"], f"{c['bot_cpu_pct']:.0f}%",
                     f"{c['harness_cpu_pct']:.0f}%"])
    print_table(rows, ["bot", "updates", "forms done", "s", "updates/s", "p50 ms", "p95 ms",
                       "p99 ms", "timeouts", "wrong", "bot CPU", "harness CPU"])
    goals: dict[str, Any] = {
        "ratio": {"value": ratio, "goal": f">= {RATIO_GOAL}", "pass": ratio >= RATIO_GOAL}}
    print(f"\nours/ceiling = {ratio:.3f}  (goal >= {RATIO_GOAL})  "
          f"{verdict(ratio >= RATIO_GOAL)}")
    if ours.get("open_loop"):
        print(f"\nInbound, open loop: {args.rate:.0f} updates/s offered for "
              f"{args.open_seconds:.0f} s")
        rows = []
        for label, side in (("ours (SQLite)", ours), ("ceiling (aiogram echo)", ceiling)):
            o = side.get("open_loop")
            if not o:
                continue
            rows.append([label, o["offered"], o["achieved_offered_rate"], o["replies"],
                         o["unanswered"], o["p50_ms"], o["p95_ms"], o["p99_ms"], o["max_ms"]])
        print_table(rows, ["bot", "offered", "offered/s", "replies", "unanswered", "p50 ms",
                           "p95 ms", "p99 ms", "max ms"])
        o = ours["open_loop"]
        ok = o["p99_ms"] < P99_GOAL_MS and o["unanswered"] == 0 \
            and o["achieved_offered_rate"] >= 0.95 * args.rate
        goals["p99_at_rate"] = {"value_ms": o["p99_ms"], "rate": args.rate,
                                "goal": f"< {P99_GOAL_MS:.0f} ms at {args.rate:.0f}/s",
                                "pass": ok}
        print(f"\nours p99 at {args.rate:.0f} updates/s = {o['p99_ms']:.0f} ms  "
              f"(goal < {P99_GOAL_MS:.0f} ms)  {verdict(ok)}")
    sql = ours.get("sql")
    if sql:
        print(f"\nOur SQL per update (whole process: receiver, inbox worker, dispatcher, "
              f"outbox sender): {sql['statements_per_update']} statements, "
              f"{sql['commits_per_update']} commits, mean {sql['mean_statement_ms']} ms a "
              f"statement as awaited, {sql['statement_ms_per_update']} ms a update")
        print_table([[r["statement"], r["per_update"], r["mean_ms"], r["ms_per_update"]]
                     for r in sql["by_statement"][:15]],
                    ["statement", "per update", "mean ms", "ms per update"])
    return goals


async def main_async(args: argparse.Namespace) -> None:
    steps = form_steps()
    workdir = Path(tempfile.mkdtemp(prefix="bench-inbound-"))
    try:
        t = time.perf_counter()
        db = await prepare_db(workdir, args.users, args.open_users)
        print(f"seeded {args.users + args.open_users} communes and reporters in "
              f"{time.perf_counter() - t:.1f} s", flush=True)
        results: dict[str, Any] = {}
        print("running the ceiling (aiogram echo bot)…", flush=True)
        results["ceiling"] = await run_side("echo", args, workdir, db, steps)
        print("running ours (bot.runtime.start, SQLite)…", flush=True)
        results["ours"] = await run_side("ours", args, workdir, db, steps)
        goals = report(results, args)
        if args.profile or (not args.no_profile and not goals["ratio"]["pass"]):
            print(f"\nprofiling ours: a fresh database, {args.profile_users} people, "
                  f"{args.profile_seconds:.0f} s closed loop under pyinstrument…", flush=True)
            pdir = workdir / "profile"
            pdir.mkdir()
            pdb = await prepare_db(pdir, args.profile_users, 0)
            text_out = RESULTS / f"{NAME}-profile.txt"
            profiled = await run_side("ours", args, pdir, pdb, steps, profile=text_out,
                                      budget=args.profile_seconds, users=args.profile_users)
            results["profiled_run"] = {"closed_loop": profiled["closed_loop"],
                                       "sql": profiled.get("sql"),
                                       "profile": profiled.get("profile"),
                                       "profile_text": str(text_out.relative_to(ROOT))}
            print_profile(profiled)
        write_result(NAME if not args.quick else f"{NAME}-quick", {
            "quick": args.quick,
            "parameters": {k: v for k, v in vars(args).items() if k not in ("serve",)},
            "steps_per_person": len(steps), "goals": goals, **results})
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept {workdir}")


def print_profile(profiled: dict[str, Any]) -> None:
    prof = profiled.get("profile") or {}
    c = profiled["closed_loop"]
    n = c["replies"] or 1
    print(f"\nprofiled: {c['replies']} updates at {c['updates_per_s']:.0f}/s; "
          f"{prof.get('sampled_seconds', 0):.1f} s of event-loop CPU sampled")
    print_table([[r["function"][:90], r["seconds"], 1000 * r["seconds"] / n]
                 for r in prof.get("bot_inclusive", [])[:20]],
                ["bot function (inclusive CPU)", "s", "ms per update"])
    print()
    print_table([[k, v, 1000 * v / n] for k, v in prof.get("self_by_library", {}).items()],
                ["self time by library", "s", "ms per update"])


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small smoke run")
    p.add_argument("--users", type=int, default=None,
                   help="people in the closed loop (default 2000; quick 30)")
    p.add_argument("--max-seconds", type=float, default=None,
                   help="closed-loop budget a side; people stop where they are when it ends "
                        "(default 100; quick 20)")
    p.add_argument("--rate", type=float, default=200.0,
                   help="open-loop offered updates/s (0 = no open-loop run)")
    p.add_argument("--open-seconds", type=float, default=None,
                   help="open-loop duration (default 30; quick 4)")
    p.add_argument("--open-users", type=int, default=None,
                   help="people available to the open loop (default 2000; quick 300)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for a reply")
    p.add_argument("--profile", action="store_true", help="always run the profiled pass")
    p.add_argument("--no-profile", action="store_true", help="never run the profiled pass")
    p.add_argument("--profile-users", type=int, default=None)
    p.add_argument("--profile-seconds", type=float, default=None)
    p.add_argument("--keep", action="store_true", help="keep the temp directory")
    p.add_argument("--pin-generics", action="store_true",
                   help="diagnostic: our bot with aiogram's Response[...] models pinned "
                        "(see pin_aiogram_generics); not the bot as shipped")
    # the bot subprocess
    p.add_argument("--serve", dest="side", choices=("ours", "echo"), help=argparse.SUPPRESS)
    p.add_argument("--token", help=argparse.SUPPRESS)
    p.add_argument("--api-base", help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    p.add_argument("--stats", help=argparse.SUPPRESS)
    p.add_argument("--log", help=argparse.SUPPRESS)
    p.add_argument("--profile-out", dest="profile_path", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    quick = args.quick
    defaults = {"users": (30, 2000), "max_seconds": (20.0, 100.0), "open_seconds": (4.0, 30.0),
                "open_users": (300, 2000), "profile_users": (30, 400),
                "profile_seconds": (8.0, 30.0)}
    for key, (q, full) in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, q if quick else full)
    return args


args_global: argparse.Namespace | None = None


def main(argv: list[str] | None = None) -> None:
    global args_global
    args = parse(argv)
    args_global = args
    if args.side:
        args.profile = args.profile_path
        asyncio.run(serve(args))
        return
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
