"""Reminders at scale: 20,000 reporters of 20,000 communes due at one slot of the Week 2023
(the "3 days before the deadline" slot, 10/10/2023 07:00 Asia/Ho_Chi_Minh).

  1. plan:    `ReminderStore.snapshots` + `scheduler.reminder_plan.plan`     (goal < 2 s)
  2. enqueue: `ReminderStore.enqueue` of everything planned, commit included; then a second
              tick (`ReminderStore.tick`) that must enqueue nothing
  3. deliver: the real wiring (`bot.runtime.start`: OutboxSender + TelegramTransport, the
              default 30 messages/s) against the fake Bot API server enforcing Telegram's
              limits (`enforce_flood_limits(per_second=30)`): send rate over a sample
              (goal >= 95 % of 30/s = 28.5/s), no 429, no message twice to a chat.

Delivering all 20,000 at 30/s takes 11 minutes; the full run delivers a 1,500-message sample
(the rate is measured over it) — `--deliver N` to change it.

    .venv/bin/python -m bench.reminders
    .venv/bin/python -m bench.reminders --quick
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (  # noqa: E402
    VN,
    FixedClock,
    FlowingClock,
    print_table,
    profile_summary,
    seed_forms_and_campaign,
    seed_people,
    seed_units,
    sqlite_url,
    verdict,
    write_result,
)

NAME = "reminders"
SLOT = datetime(2023, 10, 10, 7, 0, tzinfo=VN)  # "before" slot: deadline 13/10 00:00 - 3 days
PLAN_GOAL_S = 2.0
RATE_LIMIT = 30.0
RATE_GOAL = 0.95 * RATE_LIMIT
FIRST_USER = 500_000_001


def _make_fake() -> Any:
    from tests.fake_telegram import FakeTelegram

    class CountingTelegram(FakeTelegram):
        """Records when each sendMessage reached the fake (answered 200 or 429)."""

        def __init__(self) -> None:
            super().__init__()
            self.arrivals: list[float] = []

        async def _m_sendMessage(self, p: dict) -> dict:
            result = await super()._m_sendMessage(p)
            self.arrivals.append(time.perf_counter())
            return result

        async def _call(self, *a: Any, **kw: Any) -> tuple[int, dict]:
            status, body = await super()._call(*a, **kw)
            if status == 200:
                self.requests.clear()  # keep memory flat; 429s stay visible in flood_429s
            return status, body

    return CountingTelegram()


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import func, select

    from bot.app import build_app
    from bot.runtime import start
    from bot.settings import Settings
    from bot.storage.models import OutboxMessage
    from scheduler.reminder_plan import plan

    workdir = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    result: dict[str, Any] = {"reporters": args.reporters, "slot": SLOT.isoformat()}
    try:
        db_path = workdir / "baocao.db"
        db = sqlite_url(db_path)
        now = SLOT + timedelta(minutes=5)
        app = await build_app(Settings(database_url=db, reminder_tick_seconds=0),
                              clock=FixedClock(now))
        t = time.perf_counter()
        await seed_forms_and_campaign(app, datetime(2023, 9, 1, tzinfo=VN))
        units = await seed_units(app, args.reporters)
        await seed_people(app, [u for u, _ in units], FIRST_USER, datetime(2023, 9, 1, tzinfo=VN))
        await app.close()  # checkpoints the WAL: the file alone is the seeded database
        shutil.copy(db_path, workdir / "seeded.db")
        app = await build_app(Settings(database_url=db, reminder_tick_seconds=0), migrate=False,
                              clock=FixedClock(now))
        result["seed_seconds"] = round(time.perf_counter() - t, 2)
        print(f"seeded {args.reporters} communes, each with a reporter on Telegram, in "
              f"{result['seed_seconds']} s", flush=True)

        store = app.dispatcher.reminders
        async with app.sessions() as session:
            t0 = time.perf_counter()
            snapshots = await store.snapshots(session, now)
            t1 = time.perf_counter()
            due = plan(snapshots, now)
            t2 = time.perf_counter()
        reporters_due = sum(1 for r in due if r.kind in ("opening", "before", "overdue"))
        async with app.sessions() as session, session.begin():
            t3 = time.perf_counter()
            enqueued = await store.enqueue(session, due, now)
        t4 = time.perf_counter()
        again_started = time.perf_counter()
        again = await store.tick(now)
        again_seconds = time.perf_counter() - again_started
        async with app.sessions() as session:
            queued = await session.scalar(select(func.count()).select_from(OutboxMessage)
                                          .where(OutboxMessage.sent_at.is_(None)))
        await app.close()
        result.update({
            "snapshots_seconds": t1 - t0, "plan_seconds": t2 - t1,
            "plan_total_seconds": t2 - t0, "due": len(due), "reporters_due": reporters_due,
            "enqueue_seconds": t4 - t3, "enqueued_rows": enqueued,
            "second_tick_seconds": again_seconds, "second_tick_enqueued": again,
            "outbox_pending": queued})
        print(f"planned {len(due)} reminders ({reporters_due} to reporters) in "
              f"{t2 - t0:.2f} s (snapshots {t1 - t0:.2f} s, plan {t2 - t1:.2f} s); enqueued "
              f"{enqueued} rows in {t4 - t3:.2f} s; a second tick enqueued {again} in "
              f"{again_seconds:.2f} s", flush=True)

        plan_missed = result["plan_total_seconds"] >= PLAN_GOAL_S
        if args.profile or (plan_missed and not args.no_profile):
            result["profile"] = await profile_plan_and_enqueue(workdir / "seeded.db", now)

        # Delivery through the real wiring, Telegram's limits enforced by the fake.
        sample = min(args.deliver, enqueued)
        tg = _make_fake()
        await tg.start()
        tg.enforce_flood_limits(per_second=int(RATE_LIMIT))
        settings = Settings(database_url=db, telegram_bot_token=tg.token,
                            telegram_api_base=tg.base_url, reminder_tick_seconds=0,
                            files_dir=str(workdir / "files"))
        running = await start(settings, clock=FlowingClock(now))
        deadline = time.perf_counter() + args.max_seconds
        try:
            while len(tg.arrivals) < sample and time.perf_counter() < deadline:
                await asyncio.sleep(0.05)
        finally:
            await running.stop()
        arrivals = sorted(tg.arrivals)
        counted = arrivals[:sample]
        span = counted[-1] - counted[0] if len(counted) > 1 else 0.0
        rate = (len(counted) - 1) / span if span > 0 else 0.0
        per_second: list[int] = []
        if counted:
            for a in counted:
                second = int(a - counted[0])
                while len(per_second) <= second:
                    per_second.append(0)
                per_second[second] += 1
        duplicates = 0
        chats = 0
        for uid in range(FIRST_USER, FIRST_USER + args.reporters):
            got = len(tg.sent_to(uid))
            if got:
                chats += 1
                duplicates += got - 1
        await tg.stop()
        result.update({
            "delivery_sample": sample, "delivered": len(arrivals),
            "delivery_seconds": round(span, 2), "send_rate_per_s": rate,
            "max_in_one_second": max(per_second[:-1] or per_second or [0]),
            "flood_429s": tg.flood_429s, "duplicates": duplicates, "chats_reached": chats,
            "spec_errors": tg.spec_errors[:5],
            "delivery_note": (f"delivered a {sample}-message sample of {enqueued} (all of them "
                              f"would take {enqueued / RATE_LIMIT / 60:.1f} min at 30/s); "
                              "rate over the sample, first to last arrival")})
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


async def profile_plan_and_enqueue(seeded: Path, now: datetime) -> dict[str, Any]:
    """snapshots, plan and enqueue again on a copy of the seeded database, under pyinstrument
    (the times include the profiler's overhead), and the SQL each part runs."""
    from pyinstrument import Profiler
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from bot.app import build_app
    from bot.settings import Settings
    from scheduler.reminder_plan import plan

    statements: dict[str, list[float]] = {}

    def before(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        conn.info["_bench_t"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        key = " ".join(statement.split())[:90]
        entry = statements.setdefault(key, [0, 0.0])
        entry[0] += 1
        entry[1] += time.perf_counter() - conn.info.pop("_bench_t", time.perf_counter())

    print("profiling snapshots + plan + enqueue (pyinstrument)…", flush=True)
    app = await build_app(Settings(database_url=sqlite_url(seeded), reminder_tick_seconds=0),
                          migrate=False, clock=FixedClock(now))
    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    out: dict[str, Any] = {}
    try:
        store = app.dispatcher.reminders
        profiler = Profiler(interval=0.001, async_mode="disabled")
        async with app.sessions() as session:
            profiler.start()
            t0 = time.perf_counter()
            snapshots = await store.snapshots(session, now)
            due = plan(snapshots, now)
            t1 = time.perf_counter()
            profiler.stop()
        out["plan"] = {"seconds_profiled": t1 - t0, **profile_summary(profiler.last_session,
                                                                       top=15)}
        out["plan"]["sql"] = _sql_rows(statements)
        statements.clear()
        profiler.reset()
        async with app.sessions() as session, session.begin():
            profiler.start()
            t0 = time.perf_counter()
            await store.enqueue(session, due, now)
            t1 = time.perf_counter()
            profiler.stop()
        out["enqueue"] = {"seconds_profiled": t1 - t0, **profile_summary(profiler.last_session,
                                                                          top=15)}
        out["enqueue"]["sql"] = _sql_rows(statements)
    finally:
        event.remove(Engine, "before_cursor_execute", before)
        event.remove(Engine, "after_cursor_execute", after)
        await app.close()
    return out


def _sql_rows(statements: dict[str, list[float]]) -> list[dict[str, Any]]:
    rows = [{"statement": k, "count": int(c), "seconds": round(s, 3)}
            for k, (c, s) in statements.items()]
    return sorted(rows, key=lambda r: -r["seconds"])[:10]


def print_profile(prof: dict[str, Any]) -> None:
    for part in ("plan", "enqueue"):
        p = prof.get(part)
        if not p:
            continue
        print(f"\n{part} under the profiler: {p['seconds_profiled']:.2f} s")
        print_table([[k, v] for k, v in list(p["self_by_category"].items())[:7]],
                    ["self time by library", "s"])
        print()
        print_table([[r["function"][:90], r["seconds"]] for r in p["top_self"][:8]],
                    ["hottest functions (self)", "s"])
        print()
        print_table([[r["statement"], r["count"], r["seconds"]] for r in p["sql"][:6]],
                    ["SQL (cursor time)", "count", "s"])


def report(r: dict[str, Any]) -> dict[str, Any]:
    goals = {
        "plan": {"value_s": r["plan_total_seconds"], "goal": f"< {PLAN_GOAL_S} s",
                 "pass": r["plan_total_seconds"] < PLAN_GOAL_S},
        "send_rate": {"value_per_s": r["send_rate_per_s"], "goal": f">= {RATE_GOAL}/s",
                      "pass": r["send_rate_per_s"] >= RATE_GOAL},
        "no_429": {"value": r["flood_429s"], "goal": "0", "pass": r["flood_429s"] == 0},
        "no_duplicates": {"value": r["duplicates"], "goal": "0", "pass": r["duplicates"] == 0},
    }
    print(f"\nReminders: {r['reporters']} reporters due at {r['slot']}")
    print_table([
        ["plan: snapshots + plan", f"{r['plan_total_seconds']:.2f} s "
         f"(snapshots {r['snapshots_seconds']:.2f}, plan {r['plan_seconds']:.2f})",
         f"< {PLAN_GOAL_S:.0f} s", verdict(goals["plan"]["pass"])],
        ["enqueue (one transaction)", f"{r['enqueue_seconds']:.2f} s for "
         f"{r['enqueued_rows']} rows", "-", "-"],
        ["second tick (dedupe)", f"{r['second_tick_seconds']:.2f} s, "
         f"{r['second_tick_enqueued']} enqueued", "0 enqueued",
         verdict(r["second_tick_enqueued"] == 0)],
        [f"send rate ({r['delivery_sample']} sample)", f"{r['send_rate_per_s']:.2f}/s "
         f"over {r['delivery_seconds']} s", f">= {RATE_GOAL}/s",
         verdict(goals["send_rate"]["pass"])],
        ["429 answers", r["flood_429s"], "0", verdict(goals["no_429"]["pass"])],
        ["duplicates (fake's sent_to per chat)", r["duplicates"], "0",
         verdict(goals["no_duplicates"]["pass"])],
    ], ["measure", "result", "goal", "verdict"])
    print(f"\n{r['delivery_note']}")
    if r.get("profile"):
        print_profile(r["profile"])
    return goals


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small smoke run")
    p.add_argument("--reporters", type=int, default=None, help="default 20000; quick 500")
    p.add_argument("--deliver", type=int, default=None,
                   help="messages to deliver for the rate sample (default 1500; quick 150)")
    p.add_argument("--profile", action="store_true", help="always profile plan + enqueue")
    p.add_argument("--no-profile", action="store_true", help="never profile")
    p.add_argument("--max-seconds", type=float, default=None,
                   help="cap on the delivery phase (default 120; quick 30)")
    args = p.parse_args(argv)
    for key, (quick, full) in {"reporters": (500, 20_000), "deliver": (150, 1500),
                               "max_seconds": (30.0, 120.0)}.items():
        if getattr(args, key) is None:
            setattr(args, key, quick if args.quick else full)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    result = asyncio.run(main_async(args))
    goals = report(result)
    write_result(NAME if not args.quick else f"{NAME}-quick",
                 {"quick": args.quick, "parameters": vars(args), "goals": goals, **result})


if __name__ == "__main__":
    main()
