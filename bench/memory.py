"""Memory of the running bot: `bot.runtime.start` in a subprocess, idle, with 50,000 contacts
loaded (10,000 communes × 5 reporters), reminders every 60 s as shipped, on each messenger:

- Zalo only (ZALO_BOT_TOKEN against tests/fake_zalo.py, no Telegram token): goal < 120 MB
  (issue 15); its floor is an idle interpreter holding an aiohttp session (`--floor`);
- Telegram (long polling against tests/fake_telegram.py): goal as close to aiogram's own floor
  as it goes, the reference being a bare aiogram echo bot long polling the same fake.

Each figure is measured `--runs` times (min/median/max), side by side with the same bot at a
reference commit (`--reference`, default the commit before issue 15: its code exported with
`git archive`, this bench copied over it). The clock is 01/10/2023 12:00 (Asia/Ho_Chi_Minh), the
day before the Week 2023 opens: the reminder tick at start loads every contact and plans, but
nothing is due, so the bot stays idle. RSS (VmRSS) is sampled from /proc for the settle time;
VmHWM is the peak.

    .venv/bin/python -m bench.memory
    .venv/bin/python -m bench.memory --quick
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (  # noqa: E402
    ROOT,
    VN,
    FixedClock,
    machine,
    print_table,
    seed_forms_and_campaign,
    seed_people,
    seed_units,
    sqlite_url,
    verdict,
    write_result,
)

NAME = "memory"
RSS_GOAL_MB = 200.0  # the Telegram bot, before issue 15
ZALO_GOAL_MB = 120.0  # a Zalo-only bot (issue 15)
REFERENCE = "f81f9f6"  # the last commit before issue 15
CLOCK = datetime(2023, 10, 1, 12, 0, tzinfo=VN)


def _status(pid: int) -> dict[str, float]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key = line.split(":", 1)[0]
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[key] = int(line.split()[1]) / 1024
    return out


async def seed(db: str, contacts: int, per_unit: int) -> None:
    from bot.app import build_app
    from bot.settings import Settings

    app = await build_app(Settings(database_url=db, reminder_tick_seconds=0),
                          clock=FixedClock(CLOCK))
    try:
        await seed_forms_and_campaign(app, datetime(2023, 9, 1, tzinfo=VN))
        if contacts:
            units = await seed_units(app, max(1, contacts // per_unit))
            unit_ids = [u for u, _ in units]
            await seed_people(app, unit_ids, 700_000_001, datetime(2023, 9, 1, tzinfo=VN),
                              per_unit=per_unit)
    finally:
        await app.close()


async def serve_echo(args: argparse.Namespace) -> None:
    """The reference: a bare aiogram echo bot long polling the same fake, no database."""
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Message

    bot = Bot(args.token, session=AiohttpSession(api=TelegramAPIServer.from_base(args.api_base)))
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "…")

    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False))
    await asyncio.sleep(0.5)
    print("READY", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await dp.stop_polling()
    await asyncio.wait_for(polling, 30)
    await bot.session.close()


async def serve_floor() -> None:
    """The Zalo channel's floor: an interpreter holding an aiohttp session, doing nothing."""
    import aiohttp

    async with aiohttp.ClientSession():
        print("READY", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


async def serve(args: argparse.Namespace) -> None:
    """The bot subprocess: the real wiring, then wait for the parent to close stdin."""
    import logging

    logging.basicConfig(level=logging.WARNING)
    if args.echo:
        await serve_echo(args)
        return
    if args.floor:
        await serve_floor()
        return
    from bench._common import FlowingClock
    from bot.runtime import start
    from bot.settings import Settings

    tokens = ({"zalo_bot_token": args.token, "zalo_api_base": args.api_base}
              if args.channel == "zalo" else
              {"telegram_bot_token": args.token, "telegram_api_base": args.api_base})
    settings = Settings(database_url=args.db, reminder_tick_seconds=60,
                        files_dir=str(Path(args.db.split("///", 1)[1]).parent / "files"),
                        **tokens)
    running = await start(settings, clock=FlowingClock(CLOCK))
    print("READY", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)
    await running.stop()


async def measure(db: str, settle: float, *, channel: str = "telegram", role: str = "bot",
                  code: Path = ROOT) -> dict[str, Any]:
    """One idle run: `role` is the bot, the aiogram echo bot or the aiohttp floor; `code` the
    tree whose `bot` package runs."""
    from tests.fake_telegram import FakeTelegram
    from tests.fake_zalo import FakeZalo

    fake = FakeZalo() if channel == "zalo" else FakeTelegram()
    async with fake as server:
        flags = {"bot": [], "echo": ["--echo"], "floor": ["--floor"]}[role]
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.memory", "--serve", "--token", server.token,
            "--api-base", server.base_url, "--db", db, "--channel", channel, *flags,
            cwd=str(code), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        assert proc.stdout is not None and proc.stdin is not None
        t0 = time.perf_counter()
        line = await asyncio.wait_for(proc.stdout.readline(), 120)
        if line.strip() != b"READY":
            raise RuntimeError(f"bot did not start: {line!r}")
        started_s = time.perf_counter() - t0
        samples: list[tuple[float, float]] = []
        end = time.perf_counter() + settle
        while time.perf_counter() < end:
            samples.append((time.perf_counter() - t0, _status(proc.pid)["VmRSS"]))
            await asyncio.sleep(0.25)
        final = _status(proc.pid)
        proc.stdin.write(b"stop\n")
        await proc.stdin.drain()
        proc.stdin.close()
        await asyncio.wait_for(proc.wait(), 60)
        polls = sum(1 for r in server.requests if getattr(r, "method", "") == "getUpdates") \
            if channel == "zalo" else len(server.calls("getUpdates"))
    return {"start_seconds": round(started_s, 2), "settle_seconds": settle,
            "rss_idle_mb": final["VmRSS"], "rss_peak_mb": final["VmHWM"],
            "rss_anon_mb": final.get("RssAnon"), "rss_file_mb": final.get("RssFile"),
            "rss_min_mb": min(r for _, r in samples), "getUpdates_calls": polls,
            "timeline_mb": [(round(t, 2), round(r, 1)) for t, r in samples[::4]]}


IMPORTS = ("pass", "import aiohttp", "import sqlalchemy.ext.asyncio, aiosqlite",
           "import aiogram", "import bot.app", "import bot.runtime",
           "import bot.runtime, bot.channels.telegram.channel")


def import_costs(code: Path = ROOT) -> dict[str, float]:
    """RSS of a fresh interpreter after one import statement: where the floor comes from."""
    out = {}
    for statement in IMPORTS:
        snippet = (f"{statement}\nfrom pathlib import Path\nprint(next(int(line.split()[1]) "
                   f"for line in Path('/proc/self/status').read_text().splitlines() "
                   f"if line.startswith('VmRSS')))")
        proc = subprocess.run([sys.executable, "-c", snippet], cwd=str(code),
                              capture_output=True, text=True, check=False)
        label = "python alone" if statement == "pass" else statement
        out[label] = int(proc.stdout.strip() or 0) / 1024
    return out


def export_reference(ref: str, into: Path) -> str:
    """The reference commit's code in `into`, with this bench (and its fakes) copied over it."""
    sha = subprocess.run(["git", "rev-parse", "--short", ref], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()
    archive = subprocess.run(["git", "archive", "--format=tar", ref], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    shutil.rmtree(into / "bench")
    shutil.copytree(ROOT / "bench", into / "bench",
                    ignore=shutil.ignore_patterns("results", "__pycache__"))
    for fake in ("fake_zalo.py", "fake_telegram.py"):
        shutil.copy2(ROOT / "tests" / fake, into / "tests" / fake)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(into)], check=True,
                   stdout=subprocess.DEVNULL)
    return sha


def spread(runs: list[dict[str, Any]], key: str) -> dict[str, float]:
    values = [r[key] for r in runs]
    return {"min": round(min(values), 1), "median": round(statistics.median(values), 1),
            "max": round(max(values), 1)}


def main_run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    results: dict[str, Any] = {}
    imports: dict[str, dict[str, float]] = {}
    try:
        db_path = workdir / f"baocao-{args.contacts}.db"
        t = time.perf_counter()
        asyncio.run(seed(sqlite_url(db_path), args.contacts, args.per_unit))
        seeded_s = time.perf_counter() - t
        codes = {"this tree": ROOT}
        if args.reference:
            ref_dir = workdir / "reference"
            ref_dir.mkdir()
            codes = {f"reference {export_reference(args.reference, ref_dir)}": ref_dir,
                     "this tree": ROOT}
        plan: list[tuple[str, str, str, str]] = []  # (figure, code label, channel, role)
        for channel, name in (("zalo", "Zalo only"), ("telegram", "Telegram")):
            for label in codes:
                plan.append((f"{name}, {args.contacts} contacts", label, channel, "bot"))
        plan.append(("reference: bare aiogram echo bot, no database", "—", "telegram", "echo"))
        plan.append(("reference: python + an aiohttp session, idle", "—", "zalo", "floor"))
        for figure, label, channel, role in plan:
            runs = []
            for _ in range(args.runs):
                # Each run on a fresh copy: the bot writes to its database as it starts.
                db = workdir / "run.db"
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)
                shutil.copy2(db_path, db)
                code = codes.get(label, ROOT)
                runs.append(asyncio.run(measure(sqlite_url(db), args.settle, channel=channel,
                                                role=role, code=code)))
            results.setdefault(figure, {})[label] = {
                "rss_idle_mb": spread(runs, "rss_idle_mb"),
                "rss_peak_mb": spread(runs, "rss_peak_mb"),
                "rss_anon_mb": spread(runs, "rss_anon_mb"),
                "start_seconds": spread(runs, "start_seconds"), "runs": runs}
            idle = results[figure][label]["rss_idle_mb"]
            print(f"  {figure} [{label}]: idle RSS {idle['min']:.0f}/{idle['median']:.0f}/"
                  f"{idle['max']:.0f} MB", flush=True)
        for label, code in codes.items():
            imports[label] = import_costs(code)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    def cell(r: dict[str, Any], key: str, fmt: str = ".0f") -> str:
        return "/".join(format(r[key][q], fmt) for q in ("min", "median", "max"))

    rows = [[figure, label, cell(r, "rss_idle_mb"), cell(r, "rss_peak_mb"),
             cell(r, "rss_anon_mb"), cell(r, "start_seconds", ".1f")]
            for figure, by_code in results.items() for label, r in by_code.items()]
    zalo = results[f"Zalo only, {args.contacts} contacts"]["this tree"]["rss_idle_mb"]
    telegram = results[f"Telegram, {args.contacts} contacts"]["this tree"]["rss_idle_mb"]
    echo = results["reference: bare aiogram echo bot, no database"]["—"]["rss_idle_mb"]
    goals = {"zalo_only_idle": {"median_mb": zalo["median"], "goal": f"< {ZALO_GOAL_MB:.0f} MB",
                                "pass": zalo["median"] < ZALO_GOAL_MB},
             "telegram_idle_over_aiogram_echo": {
                 "median_mb": telegram["median"], "echo_median_mb": echo["median"],
                 "over_mb": round(telegram["median"] - echo["median"], 1)}}
    print(f"\nMemory of the running bot, idle after {args.settle:.0f} s, {args.runs} runs each "
          f"(min/median/max)")
    print_table(rows, ["figure", "code", "idle RSS MB", "peak RSS MB (VmHWM)", "anon MB",
                       "start s"])
    print(f"\nZalo only, {args.contacts} contacts: median idle {zalo['median']:.0f} MB   goal < "
          f"{ZALO_GOAL_MB:.0f} MB   {verdict(goals['zalo_only_idle']['pass'])}")
    print(f"Telegram, {args.contacts} contacts: median idle {telegram['median']:.0f} MB, the "
          f"aiogram echo bot {echo['median']:.0f} MB (+{telegram['median'] - echo['median']:.0f}"
          f" MB)")
    write_result(NAME if not args.quick else f"{NAME}-quick",
                 {"quick": args.quick, "machine": machine(),
                  "parameters": {"contacts": args.contacts, "per_unit": args.per_unit,
                                 "settle": args.settle, "runs": args.runs,
                                 "reference": args.reference, "seed_seconds": round(seeded_s, 1)},
                  "goals": goals, "figures": results, "rss_after_import_mb": imports})
    print("\nRSS of a fresh interpreter after importing only (MB):")
    labels = list(imports)
    print_table([[statement, *(imports[label].get(statement, 0.0) for label in labels)]
                 for statement in imports[labels[-1]]], ["import", *labels])


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small smoke run, no reference")
    p.add_argument("--contacts", type=int, default=None, help="default 50000; quick 2000")
    p.add_argument("--per-unit", type=int, default=5, help="reporters per commune")
    p.add_argument("--settle", type=float, default=None,
                   help="seconds the idle bot is watched (default 15; quick 5)")
    p.add_argument("--runs", type=int, default=3, help="runs of each figure (default 3)")
    p.add_argument("--reference", default=None,
                   help=f"commit to compare with (default {REFERENCE}; quick: none; '' none)")
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--token", help=argparse.SUPPRESS)
    p.add_argument("--api-base", help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    p.add_argument("--channel", default="telegram", help=argparse.SUPPRESS)
    p.add_argument("--echo", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--floor", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.contacts is None:
        args.contacts = 2000 if args.quick else 50_000
    if args.settle is None:
        args.settle = 5.0 if args.quick else 15.0
    if args.reference is None:
        args.reference = "" if args.quick else REFERENCE
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.serve:
        asyncio.run(serve(args))
        return
    main_run(args)


if __name__ == "__main__":
    main()
