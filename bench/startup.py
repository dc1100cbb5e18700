"""Start-up of the CLI: wall time, CPU time and peak RSS of `baocao --help` and of the list
commands, on a SQLite file with the demo province (`baocao demo seed`), each run several times.

In the same run, side by side: the same commands on a reference commit of this repository (by
default the commit before issue 15, exported with `git archive` to a temp folder and run with
this venv), and the floors: a bare interpreter, and one that only imports typer. Goals (issue
15): `--help` < 0.5 s, every list command < 1 s (median wall time).

    .venv/bin/python -m bench.startup
    .venv/bin/python -m bench.startup --quick
    .venv/bin/python -m bench.startup --reference <commit> --runs 5
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import ROOT, machine, print_table, verdict, write_result  # noqa: E402

NAME = "startup"
# The last commit before issue 15's start-up work.
REFERENCE = "f81f9f6"
HELP_GOAL_S = 0.5
LIST_GOAL_S = 1.0
COMMANDS: tuple[tuple[str, ...], ...] = (
    ("--help",), ("--version",), ("units", "list"), ("contacts", "list"),
    ("campaigns", "list"), ("invite", "list"))
# Runs the CLI the way the `baocao` script does, from the code in the current folder.
LAUNCH = ("import sys; sys.argv[0] = 'baocao'; from bot.cli import main; sys.exit(main())")
TIME = Path("/usr/bin/time").exists()  # GNU time, for the peak RSS
FLOORS = {"python alone": "pass", "python + import typer": "import typer"}


def run_once(argv: list[str], cwd: Path, env: dict[str, str]) -> dict[str, float]:
    """Wall time, CPU time (user + sys) and peak RSS of one child process.

    The peak comes from /usr/bin/time, a small C program: a child forked straight from this
    bench would report the bench's own RSS as its peak (Linux carries the peak across exec)."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        timed = ["/usr/bin/time", "-f", "%M", "-o", rss.name, *argv] if TIME else argv
        t0 = time.perf_counter()
        proc = subprocess.Popen(timed, cwd=str(cwd), env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
        if proc.returncode != 0:
            raise RuntimeError(f"{argv[3:]} in {cwd} exited {proc.returncode}: {err[-500:]}")
        peak_kb = int(rss.read().split()[-1]) if TIME else usage.ru_maxrss
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "rss_mb": peak_kb / 1024}


def summarise(samples: list[dict[str, float]]) -> dict[str, Any]:
    out: dict[str, Any] = {"runs": len(samples)}
    for key in ("wall_s", "cpu_s", "rss_mb"):
        values = [s[key] for s in samples]
        out[key] = {"min": round(min(values), 3), "median": round(statistics.median(values), 3),
                    "max": round(max(values), 3)}
    return out


def export_reference(ref: str, into: Path) -> str:
    """The reference commit's files in `into` (no worktree, nothing in .git changes)."""
    sha = subprocess.run(["git", "rev-parse", "--short", ref], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()
    archive = subprocess.run(["git", "archive", "--format=tar", ref], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return sha


def seed_demo(db_url: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-c", LAUNCH, "demo", "seed"], cwd=str(ROOT), env=env,
                   check=True, stdout=subprocess.DEVNULL)


def main_run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    try:
        db = workdir / "baocao.db"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("BAOCAO_", "TELEGRAM_", "ZALO_"))}
        env.update({"BAOCAO_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
                    "PYTHONDONTWRITEBYTECODE": "1", "COLUMNS": "100"})
        seed_demo(env["BAOCAO_DATABASE_URL"], env)
        codes: dict[str, Path] = {"this tree": ROOT}
        if args.reference:
            ref_dir = workdir / "reference"
            ref_dir.mkdir()
            sha = export_reference(args.reference, ref_dir)
            codes = {f"reference {sha}": ref_dir, "this tree": ROOT}
            # Warm the reference's bytecode once, as the installed tree's already is.
            subprocess.run([sys.executable, "-m", "compileall", "-q", str(ref_dir)], check=True,
                           stdout=subprocess.DEVNULL)
        env.pop("PYTHONDONTWRITEBYTECODE")
        results: dict[str, Any] = {"floors": {}, "commands": {}}
        for label, code in FLOORS.items():
            samples = [run_once([sys.executable, "-c", code], ROOT, env)
                       for _ in range(args.runs)]
            results["floors"][label] = summarise(samples)
        for command in COMMANDS:
            name = "baocao " + " ".join(command)
            results["commands"][name] = {}
            for label, cwd in codes.items():
                argv = [sys.executable, "-c", LAUNCH, *command]
                run_once(argv, cwd, env)  # warm the page cache; not counted
                samples = [run_once(argv, cwd, env) for _ in range(args.runs)]
                results["commands"][name][label] = summarise(samples)
                s = results["commands"][name][label]
                print(f"  {name} [{label}]: wall {s['wall_s']['median']:.2f} s, "
                      f"RSS {s['rss_mb']['median']:.0f} MB", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    def cell(s: dict[str, Any], key: str, fmt: str) -> str:
        return "/".join(format(s[key][q], fmt) for q in ("min", "median", "max"))

    rows = [[label, "—", cell(s, "wall_s", ".2f"), cell(s, "cpu_s", ".2f"),
             cell(s, "rss_mb", ".0f")] for label, s in results["floors"].items()]
    goals: dict[str, Any] = {}
    for name, by_code in results["commands"].items():
        for label, s in by_code.items():
            rows.append([name, label, cell(s, "wall_s", ".2f"), cell(s, "cpu_s", ".2f"),
                         cell(s, "rss_mb", ".0f")])
        ours = by_code["this tree"]["wall_s"]["median"]
        goal = HELP_GOAL_S if name == "baocao --help" else (
            LIST_GOAL_S if name.endswith(" list") else None)
        if goal is not None:
            goals[name] = {"median_wall_s": ours, "goal": f"< {goal} s", "pass": ours < goal}
    print(f"\nCLI start-up, {args.runs} runs each (min/median/max)")
    print_table(rows, ["command", "code", "wall s", "CPU s", "max RSS MB"])
    print()
    for name, g in goals.items():
        print(f"{name}: median {g['median_wall_s']:.2f} s   goal {g['goal']}   "
              f"{verdict(g['pass'])}")
    write_result(NAME if not args.quick else f"{NAME}-quick",
                 {"quick": args.quick, "machine": machine(),
                  "parameters": {"runs": args.runs, "reference": args.reference},
                  "goals": goals, **results})


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="3 runs, no reference")
    p.add_argument("--runs", type=int, default=None, help="runs per command (default 5; quick 3)")
    p.add_argument("--reference", default=None,
                   help=f"commit to compare with (default {REFERENCE}; quick: none; '' for none)")
    args = p.parse_args(argv)
    if args.runs is None:
        args.runs = 3 if args.quick else 5
    if args.reference is None:
        args.reference = "" if args.quick else REFERENCE
    return args


def main(argv: list[str] | None = None) -> None:
    main_run(parse(argv))


if __name__ == "__main__":
    main()
