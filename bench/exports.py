"""Exports at scale: 10,000 communes (15 districts of a province) that all submitted the seed 004
commune form (`tuan-le-htsd`, 40 answers each: 400,000 answer rows, written in bulk).

For each format a fresh subprocess runs `bot.coordinators.reporting.export_data` over the
whole tree, then the
writer (`bot.exports.writers.write(fmt, data, path)`); it reports both times and its peak RSS
(`ru_maxrss`, the whole process: imports, data and writer). A last subprocess times `/tonghop`'s
queries over the whole tree: `bot.coordinators.reporting.lines_of` (every unit placed on its
reporting line,
with its state) + `bot.coordinators.reporting.sum_blocks` (each block's figures).

Goals: XLSX < 10 s, CSV < 3 s (export_data + writer, what a coordinator waits for), peak RSS
< 500 MB, /tonghop < 1 s.

    .venv/bin/python -m bench.exports
    .venv/bin/python -m bench.exports --quick
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (  # noqa: E402
    ROOT,
    VN,
    WEEK_CAMPAIGN,
    FixedClock,
    print_table,
    profile_summary,
    seed_forms_and_campaign,
    seed_units,
    sqlite_url,
    verdict,
    write_result,
)

NAME = "exports"
FORMATS = ("xlsx", "csv", "docx")
GOALS_S = {"xlsx": 10.0, "csv": 3.0}
RSS_GOAL_MB = 500.0
TONGHOP_GOAL_S = 1.0
NOW = datetime(2023, 10, 14, 9, 0, tzinfo=VN)  # after the deadline: every report is in


def answer_value(q: Any, n: int, unit_index: int) -> Any:
    """What a commune answered (varied a little per unit so totals are not trivial)."""
    if q.type == "yes_no":
        return unit_index % 5 != 0
    if q.type == "text":
        return f"Nội dung phần {q.id} của xã số {unit_index}: đã triển khai đầy đủ các hoạt động."
    if q.type == "money":
        return 2_500_000 + 1000 * (unit_index % 7)
    if q.type == "choice":
        return q.choices[unit_index % len(q.choices)].id if q.choices else None
    if q.type == "date":
        return "2023-10-02"
    return (n + unit_index) % 9 + 1


async def seed(db: str, communes: int, districts: int) -> dict[str, Any]:
    from sqlalchemy import insert, select

    from bot.app import build_app
    from bot.settings import Settings
    from bot.storage.models import Answer, FormVersion, Period, Submission
    from conversations.forms import bundled_form_files, load_form_file

    form = next(load_form_file(p) for p in bundled_form_files() if p.stem == "tuan-le-htsd")
    created = datetime(2023, 9, 1, tzinfo=VN)
    app = await build_app(Settings(database_url=db, reminder_tick_seconds=0),
                          clock=FixedClock(NOW))
    timings: dict[str, float] = {}
    try:
        t = time.perf_counter()
        await seed_forms_and_campaign(app, created)
        units = await seed_units(app, communes, parents=districts)
        timings["units_s"] = time.perf_counter() - t
        t = time.perf_counter()
        async with app.sessions() as session, session.begin():
            form_id = await session.scalar(select(FormVersion.id).where(
                FormVersion.key == "tuan-le-htsd"))
            period = await session.scalar(select(Period))
            submitted_at = datetime(2023, 10, 9, 10, 0, tzinfo=VN)
            subs = [{"id": i + 1, "unit_id": unit_id, "period_id": period.id,
                     "form_id": form_id, "status": "submitted", "revision": 1,
                     "submitted_at": submitted_at + timedelta(minutes=i % 3000),
                     "submitted_by": None, "on_time": i % 10 != 0, "return_comment": "",
                     "created_at": submitted_at, "updated_at": submitted_at}
                    for i, (unit_id, _code) in enumerate(units)]
            for i in range(0, len(subs), 5000):
                await session.execute(insert(Submission), subs[i:i + 5000])
            rows: list[dict[str, Any]] = []
            for i, sub in enumerate(subs):
                for n, q in enumerate(form.questions, start=1):
                    value = answer_value(q, n, i)
                    number = (Decimal(value) if isinstance(value, int)
                              and not isinstance(value, bool) else None)
                    rows.append({"submission_id": sub["id"], "question_id": q.id,
                                 "value": value, "num_value": number, "note": "",
                                 "answered_by": None, "answered_at": submitted_at})
                if len(rows) >= 20_000:
                    await session.execute(insert(Answer), rows)
                    rows = []
            if rows:
                await session.execute(insert(Answer), rows)
        timings["answers_s"] = time.perf_counter() - t
    finally:
        await app.close()
    return {"communes": communes, "districts": districts,
            "answers": communes * len(form.questions), "questions": len(form.questions),
            "seed_seconds": {k: round(v, 2) for k, v in timings.items()}}


# ----------------------------------------------------------------------------- worker

def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def worker(task: str, db: str, out_dir: Path, profile: bool = False) -> dict[str, Any]:
    """One fresh process: export_data + one writer, or /tonghop's queries; with `profile`,
    under pyinstrument, each part separately (times then include the profiler's overhead)."""
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001, async_mode="disabled")
    from bot.app import build_app
    from bot.coordinators.reporting import (
        export_data,
        find_period,
        lines_of,
        scope_for_code,
        sum_blocks,
    )
    from bot.exports.writers import write
    from bot.settings import Settings

    result: dict[str, Any] = {"task": task, "rss_before_mb": _rss_mb()}
    app = await build_app(Settings(database_url=db, reminder_tick_seconds=0), migrate=False,
                          clock=FixedClock(NOW))
    try:
        async with app.sessions() as session:
            period, campaign = await find_period(session, WEEK_CAMPAIGN, None, NOW)
            scope = await scope_for_code(session, None)
            if task == "tonghop":
                t0 = time.perf_counter()
                lines = await lines_of(session, period, scope, app.dispatcher.forms)
                c = lines.counts
                t1 = time.perf_counter()
                await sum_blocks(session, lines)
                t2 = time.perf_counter()
                result.update({"counts_s": t1 - t0, "totals_s": t2 - t1, "total_s": t2 - t0,
                               "units": c.total, "on_time": c.on_time, "late": c.late,
                               "questions_summed": sum(len(b.totals) for b in lines.blocks)})
            else:
                if profiler is not None:
                    profiler.start()
                t0 = time.perf_counter()
                data = await export_data(session, period, campaign, scope,
                                         app.dispatcher.forms, NOW)
                t1 = time.perf_counter()
                if profiler is not None:
                    profiler.stop()
                    result["profile_export_data"] = profile_summary(profiler.last_session,
                                                                    top=15)
                    profiler.reset()
                result["rows"] = len(data.units)
                result["rss_after_data_mb"] = _rss_mb()
        if task != "tonghop":
            path = out_dir / f"export.{task}"
            if profiler is not None:
                profiler.start()
            t2 = time.perf_counter()
            write(task, data, path)
            t3 = time.perf_counter()
            if profiler is not None:
                profiler.stop()
                result["profile_writer"] = profile_summary(profiler.last_session, top=15)
            result.update({"export_data_s": t1 - t0, "write_s": t3 - t2, "total_s": t3 - t0,
                           "file_mb": path.stat().st_size / 1e6})
    finally:
        await app.close()
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def run_worker(task: str, db: str, out_dir: Path, timeout: float,
               profile: bool = False) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.exports", "--worker", task, "--db", db,
           "--out", str(out_dir), *(["--profile-worker"] if profile else [])]
    started = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=str(ROOT), capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"task": task, "error": f"took over {timeout:.0f} s"}
    if proc.returncode != 0:
        return {"task": task, "error": proc.stderr.strip().splitlines()[-1:]}
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    data["process_wall_s"] = time.perf_counter() - started
    return data


# ----------------------------------------------------------------------------- main

def report(seeded: dict[str, Any], runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    goals: dict[str, Any] = {}
    rows = []
    for fmt in FORMATS:
        r = runs[fmt]
        if "error" in r:
            rows.append([fmt.upper(), "-", "-", "-", "-", "-", "-", f"error: {r['error']}"])
            goals[fmt] = {"pass": False, "error": r["error"]}
            continue
        limit = GOALS_S.get(fmt)
        ok_time = r["total_s"] < limit if limit else True
        ok_rss = r["peak_rss_mb"] < RSS_GOAL_MB
        goals[fmt] = {"total_s": r["total_s"], "goal_s": limit, "time_pass": ok_time,
                      "peak_rss_mb": r["peak_rss_mb"], "rss_goal_mb": RSS_GOAL_MB,
                      "rss_pass": ok_rss}
        rows.append([fmt.upper(), r["export_data_s"], r["write_s"], r["total_s"],
                     f"< {limit:.0f} s {verdict(ok_time)}" if limit else "-",
                     r["peak_rss_mb"], f"< {RSS_GOAL_MB:.0f} MB {verdict(ok_rss)}",
                     f"{r['file_mb']:.1f} MB"])
    print(f"\nExports: {seeded['communes']} communes in {seeded['districts']} districts, "
          f"{seeded['answers']} answers, whole tree")
    print_table(rows, ["format", "export_data s", "writer s", "total s", "time goal",
                       "peak RSS MB", "RSS goal", "file"])
    t = runs["tonghop"]
    if "error" in t:
        goals["tonghop"] = {"pass": False, "error": t["error"]}
        print(f"\n/tonghop: error {t['error']}")
    else:
        ok = t["total_s"] < TONGHOP_GOAL_S
        goals["tonghop"] = {"total_s": t["total_s"], "goal_s": TONGHOP_GOAL_S, "pass": ok}
        print()
        print_table([["/tonghop: counts + totals", t["counts_s"], t["totals_s"], t["total_s"],
                      f"< {TONGHOP_GOAL_S:.0f} s {verdict(ok)}"]],
                    ["query", "counts s", "totals s", "total s", "goal"])
    return goals


def print_profiles(profiles: dict[str, Any]) -> None:
    for fmt, prof in profiles.items():
        for part in ("profile_export_data", "profile_writer"):
            p = prof.get(part)
            if not p:
                continue
            print(f"\n{fmt}: {part.removeprefix('profile_')} under the profiler "
                  f"({p['sampled_seconds']:.1f} s sampled)")
            print_table([[k, v] for k, v in list(p["self_by_category"].items())[:6]],
                        ["self time by library", "s"])
            print()
            print_table([[r["function"][:90], r["seconds"]] for r in p["top_self"][:8]],
                        ["hottest functions (self)", "s"])


def main_run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-exports-"))
    try:
        db = sqlite_url(workdir / "baocao.db")
        t = time.perf_counter()
        seeded = asyncio.run(seed(db, args.communes, args.districts))
        print(f"seeded {seeded['communes']} submitted reports ({seeded['answers']} answers) in "
              f"{time.perf_counter() - t:.1f} s", flush=True)
        runs: dict[str, dict[str, Any]] = {}
        for task in (*FORMATS, "tonghop"):
            runs[task] = run_worker(task, db, workdir, args.timeout)
            r = runs[task]
            print(f"  {task}: " + (f"error {r['error']}" if "error" in r else
                                   f"{r['total_s']:.2f} s, peak RSS {r['peak_rss_mb']:.0f} MB"),
                  flush=True)
        goals = report(seeded, runs)
        missed = [f for f in FORMATS if not (goals[f].get("time_pass", False)
                                             and goals[f].get("rss_pass", False))]
        profiles: dict[str, Any] = {}
        if args.profile or (missed and not args.no_profile):
            for fmt in (FORMATS if args.profile else missed):
                print(f"profiling {fmt} (export_data and writer, pyinstrument)…", flush=True)
                r = run_worker(fmt, db, workdir, args.timeout, profile=True)
                profiles[fmt] = {k: r.get(k) for k in ("export_data_s", "write_s",
                                                       "profile_export_data", "profile_writer",
                                                       "error")}
            print_profiles(profiles)
        write_result(NAME if not args.quick else f"{NAME}-quick",
                     {"quick": args.quick, "parameters": {k: v for k, v in vars(args).items()
                                                          if k not in ("worker", "db", "out")},
                      "seeded": seeded, "goals": goals, "runs": runs, "profiles": profiles,
                      "rss_note": "peak RSS = ru_maxrss of a fresh process per format "
                                  "(imports + export_data + writer)"})
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small smoke run")
    p.add_argument("--communes", type=int, default=None, help="default 10000; quick 300")
    p.add_argument("--districts", type=int, default=15)
    p.add_argument("--timeout", type=float, default=240.0, help="cap per format, seconds")
    p.add_argument("--profile", action="store_true", help="profile every format")
    p.add_argument("--no-profile", action="store_true", help="never profile")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--profile-worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.communes is None:
        args.communes = 300 if args.quick else 10_000
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.worker:
        print(json.dumps(asyncio.run(worker(args.worker, args.db, Path(args.out),
                                            args.profile_worker))))
        return
    main_run(args)


if __name__ == "__main__":
    main()
