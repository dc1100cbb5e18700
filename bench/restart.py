"""Restart: how soon a bot started again answers the people who wrote while it was down and in
its first seconds, ours (`bot.runtime.start`, as `baocao run` starts it) against a bare aiogram
echo bot started the same way (issue 23, defect 6).

Each run, for each side: a fresh copy of one seeded SQLite file (the Week 2023, --people
reporters on Telegram and --others communes whose "3 days before" reminders are due at the
first reminder tick, with --queued reminders already in the outbox, as after a kill during a
blast), a fresh fake Bot API server with Telegram's limits, and a new bot process. Every
reporter's first message (`/baocao`) waits at the fake before the process is started; then
each goes on with the form for --window seconds, one message at a time.

Figures, from the moment the process is started (`create_subprocess_exec`):
  - start → READY (the serving process printed it once `start` returned);
  - start → first reply (to any of the waiting messages), and READY → first reply (what the
    bot does between its start and its first answer, whatever the load did to the imports);
  - every input of the window: from max(sent, process started) to its reply; unanswered by
    the end of the window + 20 s counts as never. Goal: p99 < 5 s, and the first reply at
    most 1 s after the echo bot's.

With --reference <commit>, that commit's bot (exported with `git archive` into a temp
folder, this script and the fakes copied over it) runs as a third side, interleaved with the
others run by run: on a loaded machine only figures of the same minutes compare.

    .venv/bin/python -m bench.restart                      # 3 runs a side, ≈ 3 min
    .venv/bin/python -m bench.restart --reference 59ff82f~1
    .venv/bin/python -m bench.restart --quick              # 1 run a side, ≈ 1 min
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NAME = "restart"
FIRST_REPORTER = 720_000_001
FIRST_OTHER = 730_000_001
P99_GOAL_S = 5.0
FIRST_REPLY_MARGIN_S = 1.0  # ours' first reply at most this much after the echo bot's


class WallClock:
    """START of the soak (10/10/2023 07:05, the "3 days before" reminders due) plus the wall
    time since `t0`: the harness and every bot process see one timeline."""

    def __init__(self, t0: float) -> None:
        self.t0 = t0

    def __call__(self) -> Any:
        from datetime import datetime, timedelta
        from zoneinfo import ZoneInfo

        start = datetime(2023, 10, 10, 7, 5, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
        return start + timedelta(seconds=time.time() - self.t0)


# ----------------------------------------------------------------------------- the bots
# The serving side imports nothing of the harness: each side pays only for its own imports.

async def serve(args: argparse.Namespace) -> None:
    """A bot process, until it is killed: `ours` (the real wiring) or `echo` (bare aiogram)."""
    logging.basicConfig(filename=args.log, level=logging.INFO,
                        format="%(created).3f %(levelname)s %(name)s: %(message)s")
    if args.side == "ours":
        from bot.runtime import start
        from bot.settings import Settings

        settings = Settings(database_url=args.db, telegram_bot_token=args.token,
                            telegram_api_base=args.api_base, reminder_tick_seconds=20,
                            files_dir=str(Path(args.log).parent / "files"))
        await start(settings, clock=WallClock(args.t0))
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

        asyncio.get_running_loop().create_task(dp.start_polling(bot, handle_signals=False))
    print("READY", flush=True)
    await asyncio.Event().wait()


# ----------------------------------------------------------------------------- the harness

async def seed(path: Path, args: argparse.Namespace, t0: float) -> None:
    from bench._common import VN, seed_forms_and_campaign, seed_people, seed_units, sqlite_url
    from bench.soak import CAMPAIGN
    from bot.app import build_app
    from bot.settings import Settings

    app = await build_app(Settings(database_url=sqlite_url(path), reminder_tick_seconds=0),
                          clock=WallClock(t0))
    seeded = datetime_vn(VN)
    await seed_forms_and_campaign(app, seeded)
    units = await seed_units(app, args.people + args.others)
    await seed_people(app, [u for u, _ in units[:args.people]], FIRST_REPORTER, seeded)
    await seed_people(app, [u for u, _ in units[args.people:]], FIRST_OTHER, seeded)
    if args.queued:
        async with app.sessions() as session, session.begin():
            await app.dispatcher.reminders.nudge(session, CAMPAIGN, WallClock(t0)())
    await app.close()


def datetime_vn(vn: Any) -> Any:
    from datetime import datetime

    return datetime(2023, 9, 1, tzinfo=vn)


async def run_side(side: str, seeded: Path, workdir: Path, args: argparse.Namespace,
                   t0: float, run: int, code: Path | None = None) -> dict[str, Any]:
    """One bot process from its start: the people who wrote while it was down, then the
    window; the process is killed after it."""
    from bench._common import sqlite_url
    from bench.soak import Step, form_script, make_fake, say

    label, side = side, ("echo" if side == "echo" else "ours")
    code = code or Path(__file__).resolve().parents[1]
    db = workdir / f"{label.split()[0]}-{run}.db"
    shutil.copy(seeded, db)
    log = workdir / f"{label.split()[0]}-{run}.log"
    tg = make_fake()
    await tg.start()
    script = [(typed, typed if side == "echo" else expect)
              for typed, expect, _q, _v in form_script()]
    people = [FIRST_REPORTER + i for i in range(args.people)]
    steps: list[Step] = []
    # The first message of each person waits at Telegram: they wrote while the bot was down.
    firsts = []
    for uid in people:
        firsts.append(asyncio.create_task(
            say(tg, uid, script[0][0], script[0][1], steps, args.window + 60)))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    started_wall = time.time()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.restart", "--serve", side, "--token", tg.token,
        "--api-base", tg.base_url, "--db", sqlite_url(db), "--t0", repr(t0), "--log", str(log),
        cwd=str(code), stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    window_end = started + args.window

    async def ready() -> float:
        line = await proc.stdout.readline()
        if line.strip() != b"READY":
            raise RuntimeError(f"{side} did not start: {line!r}; see {log}")
        return time.monotonic() - started

    ready_task = asyncio.create_task(ready())

    async def go_on(index: int) -> None:
        uid = people[index]
        if not await firsts[index]:
            return
        for typed, expect in script[1:]:
            await asyncio.sleep(1.0 + (uid % 7) / 7)  # reading, typing (Telegram: 1/s a chat)
            if time.monotonic() >= window_end:
                return
            if not await say(tg, uid, typed, expect, steps,
                             max(1.0, window_end + 20 - time.monotonic())):
                return

    await asyncio.gather(*(go_on(i) for i in range(len(people))))
    ready_s = await asyncio.wait_for(ready_task, 5)
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGKILL)
    await proc.wait()
    await tg.stop()
    in_window = [s for s in steps if s.sent < window_end]
    waits = [(s.replied - max(s.sent, started)) if s.replied is not None else float("inf")
             for s in in_window]
    replies = [s.replied for s in in_window if s.replied is not None]
    return {"ready_s": ready_s,
            "first_reply_s": (min(replies) - started) if replies else float("inf"),
            "inputs": len(in_window), "unanswered": sum(1 for s in in_window
                                                        if s.replied is None),
            "waits": waits, "timeline": startup_timeline(log, started_wall)}


def startup_timeline(log: Path, started_wall: float) -> list[tuple[float, str]]:
    """The bot log's first lines, each at its time after the process was started."""
    out = []
    with contextlib.suppress(OSError):
        for line in log.read_text(encoding="utf-8").splitlines():
            stamp, _, rest = line.partition(" ")
            with contextlib.suppress(ValueError):
                out.append((round(float(stamp) - started_wall, 2), rest[:110]))
    return out[:25]


async def main_async(args: argparse.Namespace) -> None:
    from bench._common import machine, percentile, print_table, verdict, write_result

    workdir = Path(tempfile.mkdtemp(prefix="bench-restart-"))
    print(f"work directory (databases, bot logs): {workdir}", flush=True)
    t0 = time.time()
    seeded = workdir / "seeded.db"
    await seed(seeded, args, t0)
    codes: dict[str, Path | None] = {"echo": None, "ours": None}
    if args.reference:
        codes = {"echo": None, f"before {args.reference}": export_reference(
            args.reference, workdir / "reference"), "ours": None}
    by_side: dict[str, list[dict[str, Any]]] = {side: [] for side in codes}
    for run in range(args.runs):
        for side, code in codes.items():
            r = await run_side(side, seeded, workdir, args, t0, run, code)
            by_side[side].append(r)
            print(f"  run {run + 1} {side}: ready {r['ready_s']:.2f} s, first reply "
                  f"{r['first_reply_s']:.2f} s, {r['inputs']} inputs, p99 "
                  f"{percentile(r['waits'], 99):.2f} s", flush=True)
    rows, summary = [], {}
    for side, runs in by_side.items():
        waits = [w for r in runs for w in r["waits"]]
        s = {"ready_s_median": statistics.median(r["ready_s"] for r in runs),
             "first_reply_s_median": statistics.median(r["first_reply_s"] for r in runs),
             "first_reply_s_max": max(r["first_reply_s"] for r in runs),
             "ready_to_first_reply_s_median": statistics.median(
                 r["first_reply_s"] - r["ready_s"] for r in runs),
             "inputs": len(waits), "unanswered": sum(r["unanswered"] for r in runs),
             "p50_s": percentile(waits, 50), "p90_s": percentile(waits, 90),
             "p99_s": percentile(waits, 99), "max_s": max(waits) if waits else float("nan")}
        summary[side] = s
        rows.append([side, len(runs), s["ready_s_median"], s["first_reply_s_median"],
                     s["first_reply_s_max"], s["ready_to_first_reply_s_median"], s["inputs"],
                     s["unanswered"], s["p50_s"], s["p90_s"], s["p99_s"], s["max_s"]])
    print(f"\nRestart, {args.runs} runs a side; {args.people} people, {args.others} other "
          f"communes due a reminder, {'a nudge' if args.queued else 'nothing'} queued; "
          f"{args.window:.0f} s window")
    print_table(rows, ["side", "runs", "ready s", "first reply s (median)", "first reply s "
                       "(max)", "ready → first reply s", "inputs", "unanswered", "p50 s",
                       "p90 s", "p99 s", "max s"])
    goals = {"p99_under_5_s": summary["ours"]["p99_s"] < P99_GOAL_S,
             "first_reply_within_echo_plus_1_s": summary["ours"]["first_reply_s_median"]
             <= summary["echo"]["first_reply_s_median"] + FIRST_REPLY_MARGIN_S}
    print(f"\nours p99 < {P99_GOAL_S:.0f} s from the start: {verdict(goals['p99_under_5_s'])}; "
          f"first reply ≤ echo + {FIRST_REPLY_MARGIN_S:.0f} s: "
          f"{verdict(goals['first_reply_within_echo_plus_1_s'])}")
    print("\nours, last run, the log from the process start:")
    for at, line in by_side["ours"][-1]["timeline"]:
        print(f"  {at:6.2f} s  {line}")
    load = os.getloadavg()
    write_result(NAME + ("-quick" if args.quick else ""), {
        "quick": args.quick, "machine": machine(), "loadavg": load,
        "parameters": {"runs": args.runs, "reference": args.reference,
                       "people": args.people, "others": args.others,
                       "queued": args.queued, "window_s": args.window},
        "summary": summary, "goals": goals,
        "runs": {side: [{k: v for k, v in r.items() if k != "waits"} for r in runs]
                 for side, runs in by_side.items()}})
    shutil.rmtree(workdir, ignore_errors=True)


def export_reference(ref: str, into: Path) -> Path:
    """The commit's files in `into`, with this script and the fakes of this tree over them."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "--format=tar", ref], cwd=root, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    for path in ("bench/restart.py", "bench/soak.py", "bench/_common.py",
                 "tests/fake_telegram.py"):
        shutil.copy(root / path, into / path)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(into)], check=True,
                   stdout=subprocess.DEVNULL)
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 run a side")
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--people", type=int, default=10)
    parser.add_argument("--others", type=int, default=900)
    parser.add_argument("--no-queued", dest="queued", action="store_false",
                        help="no reminders waiting in the outbox at the start")
    parser.add_argument("--window", type=float, default=15.0)
    parser.add_argument("--reference", default="",
                        help="a commit whose bot runs as a third side (e.g. the one before)")
    parser.add_argument("--serve", dest="side", choices=("ours", "echo"), help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--api-base", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--t0", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--log", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(args))
        return
    args.runs = args.runs or (1 if args.quick else 3)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
