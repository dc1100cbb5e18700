"""Issue 23: hostile workbooks sent in the local chat (the real engine, a SQLite file) while a
bystander asks for help every 100 ms. Per file: how long until the sender's answer, the
bystander's reply times (p50 / p99 / max), the bot process's peak RSS (sampled every 20 ms) and
the reader child's peak RSS. Goals: RSS under 400 MB, bystander p99 under 1 s.

`.venv/bin/python -m bench.hostile_files` (≈ 1 min; `--quick` skips the 1.5 GB string)."""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import (
    WEEK_OPEN,
    FixedClock,
    percentile,
    print_table,
    rss_mb_of,
    verdict,
    write_result,
)

RSS_GOAL_MB, P99_GOAL_S = 400.0, 1.0


def files(quick: bool) -> dict[str, Any]:
    from tests import hostile_files as hostile

    made = {
        "inline string 1.5 GB (declared)": lambda: hostile.huge_string(1_500_000_000),
        "zip bomb part 500 MB": lambda: hostile.zip_bomb(500),
        "3 million cells in a row": lambda: hostile.many_cells(3_000_000),
        "inline string 50 MB (under the part limit)": lambda: hostile.huge_string(50_000_000),
        "entity bomb": lambda: hostile.xml_sheet(hostile.ENTITY_BOMB),
        "XXE": lambda: hostile.xml_sheet(hostile.XXE),
        "truncated XML": lambda: hostile.xml_sheet(hostile.TRUNCATED),
        "mismatched tag": lambda: hostile.xml_sheet(hostile.MISMATCHED),
        "legal: 4,000 rows × 100 numbers": lambda: hostile.many_rows(4_000, 100),
    }
    if quick:
        made.pop("inline string 1.5 GB (declared)")
    return made


async def ask(app: Any, bystander: Any, done: asyncio.Event, latencies: list[float]) -> None:
    """The bystander: /trogiup every 100 ms, timed from sending to its reply being queued."""
    while not done.is_set():
        started = time.monotonic()
        await app.dispatcher.handle(bystander.chat.event("/trogiup"))
        await bystander.chat.deliver()
        latencies.append(time.monotonic() - started)
        await asyncio.sleep(0.1)


async def sample(done: asyncio.Event, peak: list[float]) -> None:
    while not done.is_set():
        peak.append(rss_mb_of(os.getpid()))
        await asyncio.sleep(0.02)


async def run(quick: bool) -> dict[str, Any]:
    from bot.app import build_app
    from bot.settings import Settings
    from tests.conftest import Person, invite, seed_reference_data

    work = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    app = await build_app(Settings(database_url=f"sqlite+aiosqlite:///{work / 'b.db'}",
                                   files_dir=str(work / "files")),
                          clock=FixedClock(WEEK_OPEN))
    await seed_reference_data(app, work)
    sender, bystander = Person(app, "thu"), Person(app, "minh")
    for person, unit in ((sender, "X-ANLAO"), (bystander, "X-ANTHANG")):
        await person.say(await invite(app, unit))
    rows, results = [], {}
    for name, make in files(quick).items():
        path = work / "tep.xlsx"
        path.write_bytes(make())
        size_kb = path.stat().st_size / 1024
        latencies: list[float] = []
        peak = [rss_mb_of(os.getpid())]
        done = asyncio.Event()

        tasks = [asyncio.create_task(ask(app, bystander, done, latencies)),
                 asyncio.create_task(sample(done, peak))]
        started = time.monotonic()
        replies = await sender.chat.send_file(path)
        answered = time.monotonic() - started
        done.set()
        await asyncio.gather(*tasks)
        child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        first = (replies[0] if replies else "(no answer)").splitlines()[0][:70]
        result = {"size_kb": round(size_kb, 1), "answered_s": answered,
                  "bystander_p50_s": percentile(latencies, 50),
                  "bystander_p99_s": percentile(latencies, 99),
                  "bystander_max_s": max(latencies, default=float("nan")),
                  "bystander_replies": len(latencies), "bot_rss_peak_mb": max(peak),
                  "children_rss_peak_so_far_mb": child_mb, "answer": first}
        results[name] = result
        rows.append([name, result["size_kb"], answered, result["bystander_p99_s"],
                     result["bystander_max_s"], max(peak), child_mb,
                     verdict(max(peak) < RSS_GOAL_MB
                             and result["bystander_p99_s"] < P99_GOAL_S), first])
    await app.close()
    print_table(rows, ["file", "KB", "answer s", "bystander p99 s", "max s", "bot RSS MB",
                       "child peak MB", "goal", "answer"])
    return {"files": results, "goals": {"rss_mb": RSS_GOAL_MB, "bystander_p99_s": P99_GOAL_S},
            "load": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    data = asyncio.run(asyncio.wait_for(run(args.quick), 170))
    write_result("hostile-files-quick" if args.quick else "hostile-files", data)


if __name__ == "__main__":
    sys.exit(main())
