"""Memory of the running bot: `bot.runtime.start` (Telegram long polling against the fake Bot API
server, reminders every 60 s as shipped) in a subprocess, idle, with 50,000 contacts loaded
(10,000 communes × 5 reporters, each with a Telegram identity), and the same bot on an empty
database for comparison. Goal: RSS < 200 MB.

The clock is 01/10/2023 12:00 (Asia/Ho_Chi_Minh), the day before the Week 2023 opens: the
reminder tick that runs at start loads every contact and plans, but nothing is due, so the bot
stays idle. RSS (VmRSS) is sampled from /proc for the whole settle time; VmHWM is the peak.

    .venv/bin/python -m bench.memory
    .venv/bin/python -m bench.memory --quick
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
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
    print_table,
    seed_forms_and_campaign,
    seed_people,
    seed_units,
    sqlite_url,
    verdict,
    write_result,
)

NAME = "memory"
RSS_GOAL_MB = 200.0
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


async def serve(args: argparse.Namespace) -> None:
    """The bot subprocess: the real wiring, then wait for the parent to close stdin."""
    import logging

    from bench._common import FlowingClock
    from bot.runtime import start
    from bot.settings import Settings

    logging.basicConfig(level=logging.WARNING)
    if args.echo:
        await serve_echo(args)
        return
    settings = Settings(database_url=args.db, telegram_bot_token=args.token,
                        telegram_api_base=args.api_base, reminder_tick_seconds=60,
                        files_dir=str(Path(args.db.split("///", 1)[1]).parent / "files"))
    running = await start(settings, clock=FlowingClock(CLOCK))
    print("READY", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)
    await running.stop()


async def measure(db: str, settle: float, echo: bool = False) -> dict[str, Any]:
    from tests.fake_telegram import FakeTelegram

    async with FakeTelegram() as tg:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.memory", "--serve", "--token", tg.token,
            "--api-base", tg.base_url, "--db", db, *(["--echo"] if echo else []), cwd=str(ROOT),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
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
        polls = len(tg.calls("getUpdates"))
    return {"start_seconds": round(started_s, 2), "settle_seconds": settle,
            "rss_idle_mb": final["VmRSS"], "rss_peak_mb": final["VmHWM"],
            "rss_anon_mb": final.get("RssAnon"), "rss_file_mb": final.get("RssFile"),
            "rss_min_mb": min(r for _, r in samples), "getUpdates_calls": polls,
            "timeline_mb": [(round(t, 2), round(r, 1)) for t, r in samples[::4]]}


IMPORTS = ("pass", "import sqlalchemy.ext.asyncio, aiosqlite", "import aiogram",
           "import bot.runtime")


def import_costs() -> dict[str, float]:
    """RSS of a fresh interpreter after one import statement: where the floor comes from."""
    import subprocess

    out = {}
    for statement in IMPORTS:
        code = (f"{statement}\nfrom pathlib import Path\nprint(next(int(line.split()[1]) "
                f"for line in Path('/proc/self/status').read_text().splitlines() "
                f"if line.startswith('VmRSS')))")
        proc = subprocess.run([sys.executable, "-c", code], cwd=str(ROOT), capture_output=True,
                              text=True, check=False)
        label = "python alone" if statement == "pass" else statement
        out[label] = int(proc.stdout.strip() or 0) / 1024
    return out


def main_run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    results: dict[str, Any] = {}
    try:
        for label, contacts in (("empty database", 0), (f"{args.contacts} contacts",
                                                         args.contacts)):
            db = sqlite_url(workdir / f"baocao-{contacts}.db")
            t = time.perf_counter()
            asyncio.run(seed(db, contacts, args.per_unit))
            seeded_s = time.perf_counter() - t
            r = asyncio.run(measure(db, args.settle))
            r.update({"contacts": contacts, "seed_seconds": round(seeded_s, 1)})
            results[label] = r
            print(f"  {label}: idle RSS {r['rss_idle_mb']:.0f} MB, peak {r['rss_peak_mb']:.0f} MB",
                  flush=True)
        r = asyncio.run(measure("", args.settle, echo=True))
        r.update({"contacts": 0, "seed_seconds": 0.0})
        results["reference: bare aiogram echo bot, no database"] = r
        print(f"  aiogram echo: idle RSS {r['rss_idle_mb']:.0f} MB", flush=True)
        imports = import_costs()
        print("  RSS after imports alone: " + ", ".join(f"{k} {v:.0f} MB"
                                                        for k, v in imports.items()), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    loaded = results[f"{args.contacts} contacts"]
    ok = loaded["rss_idle_mb"] < RSS_GOAL_MB
    goals = {"rss_idle": {"value_mb": loaded["rss_idle_mb"], "goal": f"< {RSS_GOAL_MB:.0f} MB",
                          "pass": ok},
             "rss_peak_info": {"value_mb": loaded["rss_peak_mb"],
                               "pass": loaded["rss_peak_mb"] < RSS_GOAL_MB}}
    print(f"\nMemory of the running bot (Telegram long polling against the fake, reminders "
          f"on), after {args.settle:.0f} s")
    print_table([[label, r["contacts"], r["rss_idle_mb"], r["rss_peak_mb"], r["rss_anon_mb"],
                  r["start_seconds"]] for label, r in results.items()],
                ["database", "contacts", "idle RSS MB", "peak RSS MB (VmHWM)", "anon MB",
                 "start s"])
    print(f"\nidle RSS with {args.contacts} contacts = {loaded['rss_idle_mb']:.0f} MB   goal < "
          f"{RSS_GOAL_MB:.0f} MB   {verdict(ok)}   (peak {loaded['rss_peak_mb']:.0f} MB: "
          f"{verdict(loaded['rss_peak_mb'] < RSS_GOAL_MB)})")
    write_result(NAME if not args.quick else f"{NAME}-quick",
                 {"quick": args.quick, "parameters": {k: v for k, v in vars(args).items()
                                                      if k not in ("serve", "token",
                                                                   "api_base", "db")},
                  "goals": goals, "runs": results, "rss_after_import_mb": imports})
    print("\nRSS of a fresh interpreter after importing only:")
    print_table([[k, v] for k, v in imports.items()], ["import", "RSS MB"])


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small smoke run")
    p.add_argument("--contacts", type=int, default=None, help="default 50000; quick 2000")
    p.add_argument("--per-unit", type=int, default=5, help="reporters per commune")
    p.add_argument("--settle", type=float, default=None,
                   help="seconds the idle bot is watched (default 20; quick 6)")
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--token", help=argparse.SUPPRESS)
    p.add_argument("--api-base", help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    p.add_argument("--echo", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.contacts is None:
        args.contacts = 2000 if args.quick else 50_000
    if args.settle is None:
        args.settle = 6.0 if args.quick else 20.0
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.serve:
        asyncio.run(serve(args))
        return
    main_run(args)


if __name__ == "__main__":
    main()
