"""Soak: the bot is killed with SIGKILL at random moments while 25 reporters fill in their
forms and reminder blasts go out; each time it is started again at once.

  phase "blast":    25 reporters + reminder blasts (the scheduled 10/10 07:00 reminders of
                    every commune, then a `/nhac`-style nudge of every unit every --blast-every
                    seconds) + kills
  phase "no-blast": 25 reporters + kills, nothing else queued

Each phase has its own SQLite database and bot process. The fake Bot API server (in this
process, with Telegram's flood limits: 30 messages/s, 1/s a chat after a burst of 3) keeps the
updates the bot has not confirmed, as Telegram does, so a killed bot gets them again.

Checked at the end of each phase, once the kills stop and the outbox is empty:
  - lost: an answer the bot acknowledged (the next question, the review, "submitted") that is
    not in the database (drafts: the answers; submitted: the first revision; corrections: the
    revision that carries them). Goal: 0.
  - resent: every message the fake received more often than the outbox holds it. Goals: no
    resend without a kill between its two copies, and no message with more extra copies than
    kills between its first and its last copy (at most one resend per crash).
  - latency after a restart: for each reply the killed process had claimed but not delivered
    (read from the outbox just before the kill), the time from the bot being up again (its
    latest start before the reply arrived: downtime does not count) to the reply reaching the
    fake. Goal: p99 < 5 s. Also shown: the same for every reply owed across a restart, and
    every reply's latency from the person's message.
  - inputs near a restart (issue 23): every message sent from a kill until 15 s after the
    process was started again, from max(sent, the latest process start before its reply) to
    the reply: the start-up itself counts. Goal: p99 < 5 s.

    .venv/bin/python -m bench.soak            # ≈ 10 min
    .venv/bin/python -m bench.soak --quick    # ≈ 3 min
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (  # noqa: E402
    ROOT,
    VN,
    percentile,
    print_table,
    seed_forms_and_campaign,
    seed_people,
    seed_units,
    sqlite_url,
    verdict,
    write_result,
)

NAME = "soak"
START = datetime(2023, 10, 10, 7, 5, tzinfo=VN)  # the 10/10 07:00 reminders are due
CAMPAIGN = "tuan-le-htsd-2023"
REPORTERS = 25
FIRST_REPORTER = 700_000_001
FIRST_OTHER = 710_000_001
LATENCY_GOAL_S = 5.0
NEAR_RESTART_S = 15.0  # inputs sent from a kill until this long after the process restarted


class WallClock:
    """START plus the wall time since `t0` (seconds since the epoch): every bot process of a
    phase, and this harness, see one timeline across restarts."""

    def __init__(self, t0: float) -> None:
        self.t0 = t0

    def __call__(self) -> datetime:
        return START + timedelta(seconds=time.time() - self.t0)


# ----------------------------------------------------------------------------- the bot

async def serve(args: argparse.Namespace) -> None:
    """A bot process: the real wiring, until it is killed."""
    logging.basicConfig(filename=args.log, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from bot.runtime import start
    from bot.settings import Settings

    settings = Settings(database_url=args.db, telegram_bot_token=args.token,
                        telegram_api_base=args.api_base, reminder_tick_seconds=20,
                        files_dir=str(Path(args.log).parent / "files"))
    await start(settings, clock=WallClock(args.t0))
    print("READY", flush=True)
    await asyncio.Event().wait()


async def spawn(tg: Any, db: str, t0: float, log: Path) -> asyncio.subprocess.Process:
    cmd = [sys.executable, "-m", "bench.soak", "--serve", "--token", tg.token,
           "--api-base", tg.base_url, "--db", db, "--t0", repr(t0), "--log", str(log)]
    proc = await asyncio.create_subprocess_exec(*cmd, cwd=str(ROOT),
                                                stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 120)
    if line.strip() != b"READY":
        raise RuntimeError(f"the bot did not start: {line!r}; see {log}")
    return proc


# ----------------------------------------------------------------------------- Telegram


def make_fake() -> Any:
    from tests.fake_telegram import FakeTelegram

    class SoakTelegram(FakeTelegram):
        """Records every message delivered (chat, text, when) and resolves the replies the
        simulated people wait for."""

        def __init__(self) -> None:
            super().__init__()
            self.delivered: list[tuple[int, str, float]] = []
            self.waiting: dict[int, list[tuple[str, asyncio.Future]]] = defaultdict(list)

        async def _m_sendMessage(self, p: dict) -> dict:
            result = await super()._m_sendMessage(p)
            at = time.monotonic()
            chat, text = result["chat"]["id"], p.get("text", "")
            self.delivered.append((chat, text, at))
            for expect, future in list(self.waiting.get(chat, [])):
                if expect in text and not future.done():
                    future.set_result(at)
            return result

        async def _call(self, *a: Any, **kw: Any) -> tuple[int, dict]:
            status, body = await super()._call(*a, **kw)
            if status == 200:
                self.requests.clear()
            return status, body

    fake = SoakTelegram()
    fake.enforce_flood_limits(per_second=30, per_chat_per_second=1.0, burst=3)
    return fake


# ----------------------------------------------------------------------------- people


@dataclass
class Step:
    user: int
    text: str
    expect: str
    sent: float
    replied: float | None = None


@dataclass
class Person:
    uid: int
    unit: str
    acked_form: dict[str, Any] = field(default_factory=dict)
    submitted: bool = False
    acked_corrections: list[int] = field(default_factory=list)


def form_script() -> list[tuple[str, str, str | None, Any]]:
    """(typed, expected reply, question id, stored value) for the commune form."""
    from conversations.forms import bundled_form_files, load_form_file

    form = next(load_form_file(p) for p in bundled_form_files() if p.stem == "tuan-le-htsd")
    questions = form.questions
    steps: list[tuple[str, str, str | None, Any]] = [("/baocao", f"câu 1/{len(questions)}",
                                                      None, None)]
    for n, q in enumerate(questions, start=1):
        if q.type == "yes_no":
            typed, value = "co", True
        elif q.type == "text":
            typed = value = f"Nội dung phần {q.id} của xã."
        elif q.type == "money":
            typed, value = "2tr5", 2_500_000
        else:
            value = n % 4 + 1
            if q.unit.vi == "lượt":  # attendances: at least the classes (a rule of the form)
                value *= 10
            typed = f"{value} người" if n % 3 == 0 else str(value)
        expect = f"câu {n + 1}/{len(questions)}" if n < len(questions) else "Xem lại báo cáo"
        steps.append((typed, expect, q.id, value))
    steps.append(("Nộp báo cáo", "đúng hạn", None, None))
    return steps


async def say(tg: Any, uid: int, text: str, expect: str, steps: list[Step],
              timeout: float) -> bool:
    """Send one message and wait for the reply that shows `expect`."""
    from tests.fake_telegram import command_entities

    future = asyncio.get_running_loop().create_future()
    tg.waiting[uid].append((expect, future))
    user = tg.user(uid, f"Cán bộ {uid}")
    entities = command_entities(text)
    step = Step(uid, text, expect, time.monotonic())
    steps.append(step)
    tg.push_update({"message": user._message(text=text, **(
        {"entities": entities} if entities else {}))})
    try:
        step.replied = await asyncio.wait_for(future, timeout)
        return True
    except TimeoutError:
        return False
    finally:
        tg.waiting[uid] = [w for w in tg.waiting[uid] if w[1] is not future]


async def reporter(tg: Any, person: Person, script: Sequence[tuple[str, str, str | None, Any]],
                   steps: list[Step], stop_at: float, rng: random.Random,
                   timeout: float) -> None:
    """The form, then corrections of 4.2 submitted again, until the phase ends."""
    for typed, expect, qid, value in script:
        if time.monotonic() >= stop_at:
            return
        if not await say(tg, person.uid, typed, expect, steps, timeout):
            return
        if qid is not None:
            person.acked_form[qid] = value
        elif expect == "đúng hạn":
            person.submitted = True
        await asyncio.sleep(rng.uniform(0.3, 1.2))  # reading, typing
    value = 100
    while time.monotonic() < stop_at:
        value += 1
        for typed, expect in (("/baocao", "đã được nộp"), (f"4.2 {value}", f"4.2 = {value}"),
                              ("Nộp báo cáo", "thay đổi 1 câu trả lời")):
            if not await say(tg, person.uid, typed, expect, steps, timeout):
                return
            await asyncio.sleep(rng.uniform(0.3, 1.2))
        person.acked_corrections.append(value)


# ----------------------------------------------------------------------------- the phase


@dataclass
class Kill:
    at: float
    ready_at: float = 0.0
    started_at: float = 0.0  # the new process was started (before its imports)
    owed: list[tuple[int, str]] = field(default_factory=list)  # claimed, not yet delivered
    claimed: int = 0  # rows claimed (in flight, or sent and not yet marked) at the kill
    unsent: int = 0  # outbox rows waiting at the kill
    reminders_unsent: int = 0


async def outbox_now(app: Any) -> tuple[list[tuple[int, str]], int, int]:
    """Rows claimed and not marked sent, rows waiting, reminders waiting."""
    from sqlalchemy import func, select

    from bot.storage.models import OutboxMessage

    async with app.sessions() as session:
        claimed = (await session.execute(
            select(OutboxMessage.chat_id, OutboxMessage.payload).where(
                OutboxMessage.claimed_until.is_not(None), OutboxMessage.sent_at.is_(None),
                OutboxMessage.failed.is_(None)))).all()
        unsent = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.sent_at.is_(None), OutboxMessage.failed.is_(None)))
        reminders = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.sent_at.is_(None), OutboxMessage.failed.is_(None),
            OutboxMessage.dedupe_key.is_not(None)))
    return ([(int(chat), (payload or {}).get("text", "")) for chat, payload in claimed
             if (payload or {}).get("kind", "message") == "message"], unsent or 0,
            reminders or 0)


async def run_phase(name: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from bot.app import build_app
    from bot.settings import Settings

    rng = random.Random(f"{args.seed}-{name}")
    blast = name == "blast"
    db_path = workdir / f"{name}.db"
    db = sqlite_url(db_path)
    t0 = time.time()
    clock = WallClock(t0)
    app = await build_app(Settings(database_url=db, reminder_tick_seconds=0), clock=clock)
    await seed_forms_and_campaign(app, datetime(2023, 9, 1, tzinfo=VN))
    units = await seed_units(app, REPORTERS + (args.others if blast else 0))
    seeded = datetime(2023, 9, 1, tzinfo=VN)
    reporters = await seed_people(app, [u for u, _ in units[:REPORTERS]], FIRST_REPORTER,
                                  seeded)
    if blast:
        await seed_people(app, [u for u, _ in units[REPORTERS:]], FIRST_OTHER, seeded)
    people = [Person(uid, code) for uid, (_, code) in zip(reporters, units, strict=False)]

    tg = make_fake()
    await tg.start()
    script = form_script()
    steps: list[Step] = []
    kills: list[Kill] = []
    logs = workdir / f"{name}-logs"
    logs.mkdir(exist_ok=True)
    generation = 0
    proc = await spawn(tg, db, t0, logs / f"bot-{generation}.log")
    started = time.monotonic()
    stop_at = started + args.seconds
    print(f"[{name}] bot ready; {REPORTERS} reporters start"
          + (f", {args.others} other communes due a reminder" if blast else ""), flush=True)

    async def killer() -> None:
        nonlocal proc, generation
        while time.monotonic() < stop_at:
            await asyncio.sleep(rng.uniform(args.kill_min, args.kill_max))
            if time.monotonic() >= stop_at:
                break
            owed, unsent, reminders = await outbox_now(app)
            at = time.monotonic()
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            delivered = Counter((c, t) for c, t, when in tg.delivered)
            kill = Kill(at, owed=[o for o in owed if delivered[o] == 0], claimed=len(owed),
                        unsent=unsent, reminders_unsent=reminders)
            kills.append(kill)
            await asyncio.sleep(rng.uniform(0.1, 1.0))  # down for a moment
            generation += 1
            kill.started_at = time.monotonic()
            proc = await spawn(tg, db, t0, logs / f"bot-{generation}.log")
            kill.ready_at = time.monotonic()
            print(f"[{name}] kill {len(kills)} at {at - started:5.1f} s: {unsent} waiting "
                  f"({reminders} reminders), {len(kill.owed)} claimed and undelivered; "
                  f"ready again after {kill.ready_at - at:.1f} s", flush=True)

    async def blaster() -> None:
        """A nudge of every unit that has not submitted, every --blast-every seconds."""
        while time.monotonic() < stop_at - args.blast_every / 2:
            await asyncio.sleep(args.blast_every)
            async with app.sessions() as session, session.begin():
                count = await app.dispatcher.reminders.nudge(session, CAMPAIGN, clock())
            print(f"[{name}] blast: {count} reminders queued", flush=True)

    tasks = [asyncio.create_task(killer())]
    if blast:
        tasks.append(asyncio.create_task(blaster()))
    await asyncio.gather(*(reporter(tg, p, script, steps, stop_at, rng, args.step_timeout)
                           for p in people))
    for task in tasks:
        await task
    # The kills are over: let the last bot deliver everything, then stop it.
    drained_at = time.monotonic() + args.drain_seconds
    unsent = -1
    while time.monotonic() < drained_at:
        _owed, unsent, _r = await outbox_now(app)
        if unsent == 0:
            break
        await asyncio.sleep(1.0)
    await asyncio.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    result = await verify(app, tg, people, steps, kills, started)
    result.update({"phase": name, "seconds": round(time.monotonic() - started, 1),
                   "unsent_at_end": unsent, "flood_429s": tg.flood_429s,
                   "other_communes": args.others if blast else 0})
    await tg.stop()
    await app.close()
    return result


async def verify(app: Any, tg: Any, people: list[Person], steps: list[Step],
                 kills: list[Kill], started: float) -> dict[str, Any]:
    from sqlalchemy import select

    from bot.storage.models import Answer, AnswerRevision, OutboxMessage, Submission, Unit

    lost: list[str] = []
    async with app.sessions() as session:
        for person in people:
            submission = await session.scalar(select(Submission).join(
                Unit, Unit.id == Submission.unit_id).where(Unit.code == person.unit))
            if submission is None:
                if person.acked_form:
                    lost.append(f"{person.unit}: no report, {len(person.acked_form)} acked")
                continue
            answers = {a.question_id: a.value for a in (await session.scalars(
                select(Answer).where(Answer.submission_id == submission.id))).all()}
            revisions = (await session.scalars(select(AnswerRevision).where(
                AnswerRevision.submission_id == submission.id)
                .order_by(AnswerRevision.id))).all()
            first = {r.question_id: r.new_value for r in revisions if r.revision == 1}
            stored = first if person.submitted else answers
            for qid, value in person.acked_form.items():
                if stored.get(qid) != value:
                    lost.append(f"{person.unit} {qid}: acked {value!r}, stored "
                                f"{stored.get(qid)!r}")
            if person.submitted and submission.status != "submitted":
                lost.append(f"{person.unit}: acked as submitted, stored {submission.status}")
            corrected = [r.new_value for r in revisions if r.question_id == "4.2"
                         and r.revision > 1]
            for value in person.acked_corrections:
                if value not in corrected:
                    lost.append(f"{person.unit} 4.2: correction {value} acked, not stored")
        rows = (await session.execute(select(OutboxMessage.chat_id, OutboxMessage.payload)
                                      .where(OutboxMessage.sent_at.is_not(None)))).all()
    queued = Counter((int(chat), (payload or {}).get("text", "")) for chat, payload in rows
                     if (payload or {}).get("kind", "message") == "message")
    copies: dict[tuple[int, str], list[float]] = defaultdict(list)
    for chat, text, at in tg.delivered:
        copies[(chat, text)].append(at)
    kill_times = [k.at for k in kills]
    resends = without_crash = over_crashes = 0
    for key, times in copies.items():
        rows = max(queued.get(key, 0), 1)  # the same text queued twice is sent twice
        extra = len(times) - rows
        if extra <= 0:
            continue
        times.sort()
        resends += extra
        # At most one resend per crash: a message's extra copies never outnumber the kills
        # between its first and its last copy (`rows - 1` gaps are other rows, same text).
        crashes = sum(1 for k in kill_times if times[0] <= k <= times[-1])
        over_crashes += max(0, extra - crashes)
        quiet = sum(1 for earlier, later in zip(times, times[1:], strict=False)
                    if not any(earlier <= k <= later for k in kill_times))
        without_crash += max(0, quiet - (rows - 1))

    readies = sorted(k.ready_at for k in kills)

    def since_up(arrival: float, floor: float) -> float:
        """From the moment the bot was last (re)started before `arrival`: downtime and any
        later kill do not count against the restarted bot."""
        up = max((r for r in readies if r <= arrival), default=floor)
        return max(0.0, arrival - max(up, floor))

    # Replies the killed process had claimed and not delivered: from ready to arrival.
    after_claimed: list[float] = []
    per_kill = []
    for kill in kills:
        mine = []
        for chat, text in kill.owed:
            arrivals = [t for t in copies.get((chat, text), []) if t >= kill.at]
            mine.append(since_up(min(arrivals), kill.ready_at) if arrivals else float("inf"))
        after_claimed += mine
        per_kill.append({"at_s": round(kill.at - started, 1),
                         "down_s": round(kill.ready_at - kill.at, 2),
                         "unsent": kill.unsent, "claimed": kill.claimed,
                         "claimed_undelivered": len(kill.owed),
                         "slowest_after_restart_s": round(max(mine), 2) if mine else None})
    # Every reply owed across a restart (asked before the bot was ready again, answered after).
    across: list[float] = []
    for step in steps:
        if step.replied is None:
            continue
        if any(step.sent < r <= step.replied for r in readies):
            across.append(since_up(step.replied, step.sent))
    replied = [s.replied - s.sent for s in steps if s.replied is not None]
    # Inputs sent from a kill until NEAR_RESTART_S after the process was started again: from
    # max(sent, the latest process start before the reply) to the reply (issue 23, defect 6).
    starts = sorted(k.started_at for k in kills)
    near: list[float] = []
    for step in steps:
        kill = max((k for k in kills if k.at <= step.sent), key=lambda k: k.at, default=None)
        if kill is None or step.sent >= kill.started_at + NEAR_RESTART_S:
            continue
        if step.replied is None:
            near.append(float("inf"))
            continue
        up = max((t for t in starts if t <= step.replied), default=kill.started_at)
        near.append(max(0.0, step.replied - max(step.sent, up)))
    unanswered = sum(1 for s in steps if s.replied is None)

    def dist(values: list[float]) -> dict[str, Any]:
        return {"count": len(values), "p50_s": percentile(values, 50),
                "p90_s": percentile(values, 90), "p99_s": percentile(values, 99),
                "max_s": max(values) if values else float("nan")}

    return {
        "kills": len(kills),
        "kills_with_reminders_waiting": sum(1 for k in kills if k.reminders_unsent),
        "restart_seconds": dist([k.ready_at - k.at for k in kills]),
        "steps": len(steps), "steps_unanswered": unanswered,
        "unanswered_examples": [
            {"user": st.user, "typed": st.text, "expected": st.expect,
             "sent_s": round(st.sent - started, 1),
             "last_replies": [t[:80] for c, t, _at in tg.delivered if c == st.user][-2:]}
            for st in steps if st.replied is None][:10],
        "forms_submitted": sum(p.submitted for p in people),
        "answers_acknowledged": sum(len(p.acked_form) for p in people)
        + sum(len(p.acked_corrections) for p in people),
        "corrections_acknowledged": sum(len(p.acked_corrections) for p in people),
        "lost": len(lost), "lost_examples": lost[:5],
        "messages_delivered": len(tg.delivered), "resends": resends,
        "resends_without_crash": without_crash,
        "resends_beyond_one_per_crash": over_crashes,
        "claimed_at_kills": sum(k.claimed for k in kills),
        "latency_after_restart_claimed": dist(after_claimed),
        "latency_after_restart_all_owed": dist(across),
        "latency_every_reply": dist(replied),
        "latency_near_restart_from_start": dist(near),
        "restart_to_ready_seconds": dist([k.ready_at - k.started_at for k in kills]),
        "per_kill": per_kill,
    }


# ----------------------------------------------------------------------------- report


def report(results: dict[str, Any]) -> dict[str, Any]:
    goals = {}
    rows = []
    for name in ("blast", "no-blast"):
        r = results.get(name)
        if not r:
            continue
        claimed = r["latency_after_restart_claimed"]
        goals[name] = {
            "lost": r["lost"] == 0,
            "no_resend_without_crash": r["resends_without_crash"] == 0,
            "at_most_one_resend_per_crash": r["resends_beyond_one_per_crash"] == 0,
            "p99_after_restart": (claimed["count"] == 0
                                  or claimed["p99_s"] < LATENCY_GOAL_S),
            "p99_near_restart_from_start": (
                r["latency_near_restart_from_start"]["count"] == 0
                or r["latency_near_restart_from_start"]["p99_s"] < LATENCY_GOAL_S),
        }
        rows.append([name, r["seconds"], r["kills"], r["kills_with_reminders_waiting"],
                     r["messages_delivered"], r["answers_acknowledged"], r["lost"],
                     r["claimed_at_kills"], r["resends"], r["resends_without_crash"],
                     r["resends_beyond_one_per_crash"]])
    print()
    print_table(rows, ["phase", "s", "kills", "kills in blast", "delivered", "acked answers",
                       "lost", "claimed at kills", "resends", "resends w/o crash",
                       "beyond 1/crash"])
    print()
    rows = []
    for name in ("blast", "no-blast"):
        r = results.get(name)
        if not r:
            continue
        for label, key in (("claimed by the killed bot, from ready",
                            "latency_after_restart_claimed"),
                           ("every reply owed across a restart, from ready",
                            "latency_after_restart_all_owed"),
                           ("every reply, from the person's message", "latency_every_reply"),
                           (f"inputs within {NEAR_RESTART_S:.0f} s of a restart, from the "
                            "process start", "latency_near_restart_from_start"),
                           ("bot restart (kill → ready)", "restart_seconds"),
                           ("process start → ready", "restart_to_ready_seconds")):
            d = r[key]
            rows.append([name, label, d["count"], d["p50_s"], d["p90_s"], d["p99_s"],
                         d["max_s"]])
    print_table(rows, ["phase", "latency", "n", "p50 s", "p90 s", "p99 s", "max s"])
    print()
    for name, g in goals.items():
        print(f"[{name}] 0 acknowledged answers lost: {verdict(g['lost'])}; no resend without "
              f"a crash: {verdict(g['no_resend_without_crash'])}; at most one resend per "
              f"crash: {verdict(g['at_most_one_resend_per_crash'])}; p99 of replies claimed "
              f"by the killed bot < {LATENCY_GOAL_S:.0f} s after restart: "
              f"{verdict(g['p99_after_restart'])}; p99 of inputs within "
              f"{NEAR_RESTART_S:.0f} s of a restart < {LATENCY_GOAL_S:.0f} s from the process "
              f"start: {verdict(g['p99_near_restart_from_start'])}", flush=True)
    return goals


async def main_async(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    print(f"work directory (databases, bot logs): {workdir}", flush=True)
    results: dict[str, Any] = {}
    for name in args.phases.split(","):
        results[name] = await run_phase(name, args, workdir)
    goals = report(results)
    write_result(NAME + ("-quick" if args.quick else ""), {
        "parameters": {"reporters": REPORTERS, "seconds": args.seconds,
                       "others": args.others, "blast_every": args.blast_every,
                       "kill_every_s": [args.kill_min, args.kill_max], "seed": args.seed},
        **results, "goals": goals})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seconds", type=float, default=None,
                        help="how long each phase runs (kills stop then)")
    parser.add_argument("--others", type=int, default=None,
                        help="other communes due a reminder (the blast)")
    parser.add_argument("--blast-every", type=float, default=60.0)
    parser.add_argument("--kill-min", type=float, default=1.0)
    parser.add_argument("--kill-max", type=float, default=8.0)
    parser.add_argument("--step-timeout", type=float, default=180.0)
    parser.add_argument("--drain-seconds", type=float, default=180.0)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--phases", default="blast,no-blast")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--api-base", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--t0", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--log", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(args))
        return
    args.seconds = args.seconds or (90.0 if args.quick else 300.0)
    args.others = args.others if args.others is not None else (300 if args.quick else 900)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
