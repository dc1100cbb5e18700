"""The sign-in scenarios of `bench.inbound` (`--scenario signin|unknown`): N new people write to
the bot at once, ours against the bare aiogram echo bot on the same fake Bot API server, in one
run, each side a fresh process on a fresh database, `--runs` times (min/median/max).

  * signin:  each person sends the deep link `/start CODE` with a valid invite code of a unit of
             their own (a province's invite letter: thousands sign in within the hour);
  * unknown: each person, not signed in, types "xin chào" (and is told how to join).

    .venv/bin/python -m bench.inbound --scenario signin          # 200 people, 3 runs
    .venv/bin/python -m bench.inbound --scenario unknown --profile
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import RESULTS, ROOT, WEEK_OPEN, FlowingClock, write_result

GOALS = {"signin": 0.5, "unknown": 0.6}
EXPECT = {"signin": "Anh/chị đã được đăng ký báo cáo cho", "unknown": "vui lòng gửi mã mời"}
FIRST_USER = 7_000_000


async def prepare(workdir: Path, people: int, scenario: str) -> tuple[str, list[str]]:
    """The Week 2023 campaign and `people` communes, each with a one-use reporter invite."""
    from sqlalchemy import insert

    from bench._common import seed_forms_and_campaign, seed_units, sqlite_url
    from bot.app import build_app
    from bot.settings import Settings
    from bot.storage.models import Invite
    from conversations.invite_codes import new_code

    db = sqlite_url(workdir / "baocao.db")
    clock = FlowingClock(WEEK_OPEN)
    app = await build_app(Settings(database_url=db), clock=clock)
    codes: list[str] = []
    try:
        await seed_forms_and_campaign(app, clock())
        units = await seed_units(app, people)
        seen: set[str] = set()
        while len(codes) < people:
            code = new_code()
            if code not in seen:
                seen.add(code)
                codes.append(code)
        if scenario == "signin":
            async with app.sessions() as session, session.begin():
                await session.execute(insert(Invite), [
                    {"code": code, "unit_id": unit_id, "role": "reporter", "expires_at": None,
                     "max_uses": 1, "uses": 0, "created_at": clock()}
                    for (unit_id, _), code in zip(units, codes, strict=True)])
    finally:
        await app.close()
    return db, codes


def typed(scenario: str, code: str) -> str:
    return f"/start {code}" if scenario == "signin" else "xin chào"


async def burst(side: str, args: argparse.Namespace, workdir: Path, db: str, codes: list[str],
                profile: Path | None = None) -> dict[str, Any]:
    """Everybody sends their one message at once; how fast the bot answers them all."""
    from bench.inbound import Load, _make_fake, _step, per_update, proc_cpu, spawn

    tg = _make_fake(100_001 if side == "echo" else 10_000_001)
    await tg.start()
    check = side == "ours"
    try:
        bot = await spawn(side, tg, db, workdir, f"{args.scenario}-{side}", profile, False)
        try:
            await bot.go()
            pid = bot.proc.pid
            load = Load()
            people = [tg.user(FIRST_USER + i, f"Người mới {i}") for i in range(len(codes))]
            cpu0, bot0, t0 = time.process_time(), proc_cpu(pid), time.perf_counter()
            await asyncio.gather(*(
                _step(tg, user, typed(args.scenario, code),
                      EXPECT[args.scenario] if check else None, load, args.timeout)
                for user, code in zip(people, codes, strict=True)))
            elapsed = (max(load.done_at) if load.done_at else time.perf_counter()) - t0
            data = load.summary(elapsed, harness_cpu=time.process_time() - cpu0,
                                bot_cpu=proc_cpu(pid) - bot0)
        finally:
            stats = await bot.stop()
    finally:
        await tg.stop()
    if side == "ours":
        data["per_update"] = per_update(stats, data["replies"])
        if profile is not None:
            data["profile"] = stats.get("profile")
            data["profile_text"] = str(profile.relative_to(ROOT))
    return data


def spread(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


async def main_async(args: argparse.Namespace) -> None:
    people = args.people
    started = time.perf_counter()
    runs: list[dict[str, Any]] = []
    root = Path(tempfile.mkdtemp(prefix=f"bench-{args.scenario}-"))
    try:
        for n in range(args.runs):
            run: dict[str, Any] = {}
            for side in ("echo", "ours") if n % 2 == 0 else ("ours", "echo"):
                workdir = root / f"run{n}-{side}"
                workdir.mkdir()
                db, codes = await prepare(workdir, people, args.scenario)
                run[side] = await burst(side, args, workdir, db, codes)
            run["ratio"] = run["ours"]["updates_per_s"] / run["echo"]["updates_per_s"]
            runs.append(run)
            print(f"run {n + 1}: ours {run['ours']['updates_per_s']:.0f}/s "
                  f"({run['ours']['bot_cpu_ms_per_update']:.1f} ms CPU an update, "
                  f"{run['ours']['wrong_replies']} wrong, {run['ours']['timeouts']} timeouts), "
                  f"echo {run['echo']['updates_per_s']:.0f}/s "
                  f"({run['echo']['bot_cpu_ms_per_update']:.1f} ms); "
                  f"ratio {run['ratio']:.2f}", flush=True)
        summary = {
            "ours_updates_per_s": spread([r["ours"]["updates_per_s"] for r in runs]),
            "echo_updates_per_s": spread([r["echo"]["updates_per_s"] for r in runs]),
            "ratio": spread([r["ratio"] for r in runs]),
            "ours_cpu_ms_per_update": spread([r["ours"]["bot_cpu_ms_per_update"] for r in runs]),
            "echo_cpu_ms_per_update": spread([r["echo"]["bot_cpu_ms_per_update"] for r in runs]),
            "ours_sql_per_update": spread([r["ours"]["per_update"]["statements_per_update"]
                                           for r in runs]),
            "ours_wrong_or_unanswered": sum(r["ours"]["wrong_replies"] + r["ours"]["timeouts"]
                                            for r in runs),
        }
        goal = GOALS[args.scenario]
        summary["goal_ratio"] = goal
        summary["pass"] = summary["ratio"]["median"] >= goal and \
            summary["ours_wrong_or_unanswered"] == 0
        for key, value in summary.items():
            if isinstance(value, dict):
                print(f"{key:28s} min {value['min']:8.2f}  median {value['median']:8.2f}  "
                      f"max {value['max']:8.2f}")
        print(f"goal: ratio ≥ {goal} (median) and every reply right: "
              f"{'PASS' if summary['pass'] else 'FAIL'}")
        result: dict[str, Any] = {"scenario": args.scenario, "people": people,
                                  "runs": runs, "summary": summary}
        if args.profile:
            workdir = root / "profile"
            workdir.mkdir()
            db, codes = await prepare(workdir, args.profile_people, args.scenario)
            text_out = RESULTS / f"inbound-{args.scenario}-profile{args.tag}.txt"
            result["profiled"] = await burst("ours", args, workdir, db, codes, text_out)
            print(f"profile: {text_out}")
        result["total_seconds"] = round(time.perf_counter() - started, 1)
        path = write_result(f"inbound-{args.scenario}{args.tag}", result)
        print(f"wrote {path}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
