"""The latest results of every benchmark as Markdown tables, from bench/results/*.json
(for bench/README.md):

    .venv/bin/python -m bench.report            # full runs
    .venv/bin/python -m bench.report --quick    # the --quick runs
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import RESULTS  # noqa: E402


def _v(ok: bool | None) -> str:
    return "—" if ok is None else ("**PASS**" if ok else "**FAIL**")


def _ms(value: float | None) -> str:
    return "never" if value is None else f"{value:,.0f}"


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def inbound(d: dict[str, Any]) -> str:
    p = d["parameters"]
    backend = "PostgreSQL" if d["parameters"].get("postgres") else "SQLite"
    out = [f"**Inbound, {backend}** ({d['at']}; {d['steps_per_person']} updates a person; "
           f"closed loop: {p['users']} people, {p['max_seconds']:.0f} s budget a side)\n"]
    rows = []
    for label, side in ((f"ours ({backend})", d["ours"]), ("ceiling (aiogram echo)",
                                                           d["ceiling"])):
        for phase, what in (("single", "1 person alone"), ("closed", f"{p['users']} people")):
            c = side[phase]
            rows.append([label, what, c["replies"], c["forms_completed"],
                         f"{c['updates_per_s']:.1f}", _ms(c["p50_ms"]), _ms(c["p95_ms"]),
                         _ms(c["p99_ms"]), f"{c['bot_cpu_ms_per_update']:.1f}"])
    out.append(_table(["bot", "closed loop", "updates", "forms done", "updates/s", "p50 ms",
                       "p95 ms", "p99 ms", "bot CPU ms/update"], rows))
    g = d["goals"]
    out.append("")
    rows = [["ours/ceiling updates/s (closed loop)",
             f"{g['ratio']['ours_updates_per_s']:.1f} / {g['ratio']['ceiling_updates_per_s']:.1f}"
             f" = **{g['ratio']['value']:.3f}**", "≥ 0.5", _v(g["ratio"]["pass"])]]
    if "p99_at_rate" in g:
        o = d["ours"]["open"]
        c = d["ceiling"].get("open") or {}
        rows.append([f"p99 at {p['rate']:.0f} updates/s offered for {p['open_seconds']:.0f} s "
                     f"(open loop)",
                     f"ours p99 **{_ms(o['p99_ms'])}{'' if o['p99_ms'] is None else ' ms'}**, "
                     f"p50 {_ms(o['p50_ms'])}{'' if o['p50_ms'] is None else ' ms'} "
                     f"({o['replies']} of {o['offered']} answered by {p['drain_seconds']:.0f} s "
                     f"after the offering ended; {o['updates_per_s']:.1f} replies/s); ceiling "
                     f"p99 {_ms(c.get('p99_ms'))} ms",
                     "< 250 ms", _v(g["p99_at_rate"]["pass"])])
    out.append(_table(["goal", "result", "target", "verdict"], rows))
    return "\n".join(out)


def reminders(d: dict[str, Any]) -> str:
    g = d["goals"]
    rows = [
        ["plan (snapshots + plan)", f"{d['plan_total_seconds']:.2f} s (snapshots "
         f"{d['snapshots_seconds']:.2f} s, plan {d['plan_seconds']:.2f} s)", "< 2 s",
         _v(g["plan"]["pass"])],
        ["enqueue, one transaction", f"{d['enqueue_seconds']:.2f} s for {d['enqueued_rows']:,} "
         f"rows", "—", "—"],
        ["second tick (nothing new)", f"{d['second_tick_seconds']:.2f} s, "
         f"{d['second_tick_enqueued']} enqueued", "0 enqueued",
         _v(d["second_tick_enqueued"] == 0)],
        [f"send rate, {d['delivery_sample']:,}-message sample", f"{d['send_rate_per_s']:.2f}/s "
         f"over {d['delivery_seconds']} s", "≥ 28.5/s", _v(g["send_rate"]["pass"])],
        ["429 answers", d["flood_429s"], "0", _v(g["no_429"]["pass"])],
        ["duplicates (fake's sent_to per chat)", d["duplicates"], "0",
         _v(g["no_duplicates"]["pass"])],
    ]
    return (f"**Reminders** ({d['at']}; {d['reporters']:,} reporters due at one slot; "
            f"{d['delivery_note']})\n\n" + _table(["measure", "result", "goal", "verdict"], rows))


def exports(d: dict[str, Any]) -> str:
    s, g, runs = d["seeded"], d["goals"], d["runs"]
    rows = []
    for fmt in ("xlsx", "csv", "docx"):
        r = runs[fmt]
        if "error" in r:
            rows.append([fmt.upper(), "error", r["error"], "", "", "", "", ""])
            continue
        goal = g[fmt]
        rows.append([fmt.upper(), f"{r['export_data_s']:.2f}", f"{r['write_s']:.2f}",
                     f"{r['total_s']:.2f}",
                     f"< {goal['goal_s']:.0f} s {_v(goal['time_pass'])}"
                     if goal.get("goal_s") else "—",
                     f"{r['peak_rss_mb']:.0f}", f"< 500 MB {_v(goal['rss_pass'])}",
                     f"{r['file_mb']:.1f} MB"])
    t = runs["tonghop"]
    table = _table(["format", "export_data s", "writer s", "total s", "time goal",
                    "peak RSS MB", "RSS goal", "file"], rows)
    tong = ("" if "error" in t else "\n\n" + _table(
        ["/tonghop over the whole tree", "counts s", "totals s", "total s", "goal"],
        [["counts + totals", f"{t['counts_s']:.3f}", f"{t['totals_s']:.3f}",
          f"{t['total_s']:.3f}", f"< 1 s {_v(g['tonghop']['pass'])}"]]))
    return (f"**Exports** ({d['at']}; {s['communes']:,} communes in {s['districts']} districts, "
            f"{s['answers']:,} answers, all submitted; a fresh process per format, peak RSS = "
            f"its ru_maxrss)\n\n" + table + tong)


def _spread(r: dict[str, float], fmt: str = ".0f") -> str:
    return "/".join(format(r[q], fmt) for q in ("min", "median", "max"))


def memory(d: dict[str, Any]) -> str:
    if "figures" not in d:  # results written before issue 15: one run, Telegram only
        return _memory_before_issue_15(d)
    g, params = d["goals"], d["parameters"]
    rows = [[figure, label, _spread(r["rss_idle_mb"]), _spread(r["rss_peak_mb"]),
             _spread(r["start_seconds"], ".1f")]
            for figure, by_code in d["figures"].items() for label, r in by_code.items()]
    imports = d.get("rss_after_import_mb", {})
    labels = list(imports)
    import_rows = [[statement, *(f"{imports[label].get(statement, 0):.0f}" for label in labels)]
                   for statement in (imports[labels[-1]] if labels else {})]
    zalo, tg = g["zalo_only_idle"], g["telegram_idle_over_aiogram_echo"]
    return (f"**Memory** ({d['at']}; the running bot, idle, after {params['settle']:.0f} s; "
            f"{params['runs']} runs each, min/median/max)\n\n"
            + _table(["figure", "code", "idle RSS MB", "peak RSS MB", "start s"], rows)
            + f"\n\nGoal: a Zalo-only bot idle < 120 MB with {params['contacts']:,} contacts: "
              f"median {zalo['median_mb']:.0f} MB {_v(zalo['pass'])}. Telegram: median "
              f"{tg['median_mb']:.0f} MB, {tg['over_mb']:+.0f} MB over the aiogram echo bot "
              f"({tg['echo_median_mb']:.0f} MB).\n\nRSS of a fresh interpreter after one "
              f"import (MB):\n\n" + _table(["import", *labels], import_rows))


def _memory_before_issue_15(d: dict[str, Any]) -> str:
    g = d["goals"]
    rows = [[label, f"{r['contacts']:,}", f"{r['rss_idle_mb']:.0f}", f"{r['rss_peak_mb']:.0f}"]
            for label, r in d["runs"].items()]
    imports = d.get("rss_after_import_mb", {})
    extra = ("\n\nRSS of a fresh interpreter after one import: " +
             ", ".join(f"{k}: {v:.0f} MB" for k, v in imports.items())) if imports else ""
    return (f"**Memory** ({d['at']}; the running bot, idle, after "
            f"{d['parameters']['settle']:.0f} s)\n\n"
            + _table(["database", "contacts", "idle RSS MB", "peak RSS MB"], rows)
            + f"\n\nGoal: idle RSS < 200 MB with {d['parameters']['contacts']:,} contacts: "
              f"{g['rss_idle']['value_mb']:.0f} MB {_v(g['rss_idle']['pass'])}" + extra)


def startup(d: dict[str, Any]) -> str:
    rows = [[label, "—", _spread(r["wall_s"], ".2f"), _spread(r["cpu_s"], ".2f"),
             _spread(r["rss_mb"])] for label, r in d["floors"].items()]
    rows += [[f"`{name}`", label, _spread(r["wall_s"], ".2f"), _spread(r["cpu_s"], ".2f"),
              _spread(r["rss_mb"])]
             for name, by_code in d["commands"].items() for label, r in by_code.items()]
    goals = _table(["goal", "median wall s", "target", "verdict"],
                   [[f"`{name}`", f"{g['median_wall_s']:.2f}", g["goal"], _v(g["pass"])]
                    for name, g in d["goals"].items()])
    return (f"**CLI start-up** ({d['at']}; {d['parameters']['runs']} runs each, "
            f"min/median/max, on the demo province)\n\n"
            + _table(["command", "code", "wall s", "CPU s", "max RSS MB"], rows)
            + "\n\n" + goals)


def board(d: dict[str, Any]) -> str:
    s, g = d["seeded"], d["goals"]["board_p95_ms"]
    out = [f"**Web console board** ({d['at']}; {s['units_asked']:,} asked units: "
           f"{s['communes']} communes × {d['parameters']['schools_per_commune']} schools, "
           f"{s['submissions']:,} reports, {s['answers']:,} answers; "
           f"{d['parameters']['rounds']} requests a page after 2 warm-ups)\n"]
    rows = [[label, p["path"], f"{p['p50_ms']:.0f}", f"{p['p95_ms']:.0f}", f"{p['max_ms']:.0f}",
             f"{p['kb']:.0f}"] for label, p in d["pages"].items()]
    out.append(_table(["page", "GET", "p50 ms", "p95 ms", "max ms", "KB"], rows))
    out.append("")
    out.append(_table(["goal", "result", "target", "verdict"],
                      [["board served (p95)", f"**{g['value']:.0f} ms**", f"< {g['target']:.0f} ms",
                        _v(g["pass"])]]))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    suffix = "-quick" if args.quick else ""
    for name, render in (("inbound", inbound), ("inbound-postgres", inbound),
                         ("reminders", reminders),
                         ("exports", exports), ("memory", memory), ("board", board),
                         ("startup", startup)):
        path = RESULTS / f"{name}{suffix}.json"
        if not path.exists():
            print(f"({name}: no results yet — run `python -m bench.{name}`)\n")
            continue
        print(render(json.loads(path.read_text(encoding="utf-8"))))
        print()


if __name__ == "__main__":
    main()
