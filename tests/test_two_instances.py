"""Two bot instances in webhook mode on one PostgreSQL database, behind a load balancer that
sends each update to either: every answer is stored once, a chat's messages are handled in
order, and reminders are not doubled. Skipped (saying why) without a PostgreSQL server."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import build_app
from bot.channels.telegram.channel import SECRET_HEADER, webhook_secret
from bot.runtime import Running, start
from bot.settings import Settings
from bot.storage.models import OutboxMessage, ProcessedMessage

from .conftest import POSTGRES_URL, VN, invite, seed_reference_data
from .fake_telegram import FakeTelegram
from .test_report_conversation import COMMUNE_FORM, stored_report
from .test_telegram_e2e import FlowingClock, free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL: set BAOCAO_TEST_POSTGRES_URL "
                       "(.ci/run starts a server and sets it)"),
]
COMMUNES = ["X-ANLAO", "X-ANTHANG", "P-VINHBAO"]




def update(update_id: int, user_id: int, text: str) -> dict:
    return {"update_id": update_id,
            "message": {"message_id": update_id, "date": 1696300000, "text": text,
                        "chat": {"id": user_id, "type": "private", "first_name": "U"},
                        "from": {"id": user_id, "is_bot": False, "first_name": f"U{user_id}"},
                        **({"entities": [{"type": "bot_command", "offset": 0,
                                          "length": len(text.split()[0])}]}
                           if text.startswith("/") else {})}}


async def test_two_instances_share_the_work_without_doubling_anything(
        tg: FakeTelegram, db_url: str, tmp_path: Path):
    clock = FlowingClock(datetime(2023, 10, 10, 7, 5, tzinfo=VN))
    base = Settings(database_url=db_url, telegram_bot_token=tg.token,
                    telegram_api_base=tg.base_url, telegram_rate_per_chat=50,
                    reminder_tick_seconds=0, files_dir=str(tmp_path / "files"))
    app = await build_app(base, clock=clock)
    await seed_reference_data(app, tmp_path)
    codes = [await invite(app, unit) for unit in COMMUNES]
    await app.close()
    ports = [free_port(), free_port()]
    instances: list[Running] = []
    for port in ports:
        url = f"http://127.0.0.1:{port}/telegram/hook"
        instances.append(await start(base.model_copy(update={"webhook_url": url,
                                                            "webhook_port": port}),
                                     clock=clock))
    secret = webhook_secret(tg.token)
    rng = random.Random(7)
    next_id = iter(range(1, 100_000))
    # What each person types, in order: sign in, start, then one answer per question.
    scripts = {}
    for i, code in enumerate(codes):
        answers = ["có", "Số 5/KH"] + [str(n % 7 + i) for n in range(3, 30)]
        scripts[4000 + i] = [f"/start {code}", "/baocao", *answers]
    try:
        async with aiohttp.ClientSession() as http:

            async def person(user_id: int, lines: list[str]) -> None:
                for line in lines:
                    port = rng.choice(ports)  # the load balancer picks either instance
                    async with http.post(f"http://127.0.0.1:{port}/telegram/hook",
                                         json=update(next(next_id), user_id, line),
                                         headers={SECRET_HEADER: secret}) as response:
                        assert response.status == 200
                    await asyncio.sleep(rng.uniform(0, 0.02))

            await asyncio.gather(*(person(uid, lines) for uid, lines in scripts.items()))
            # Wait until both instances have handled and sent everything.
            for _ in range(300):
                async with instances[0].app.sessions() as session:
                    handled = await session.scalar(
                        select(func.count()).select_from(ProcessedMessage))
                    unsent = await session.scalar(select(func.count()).select_from(
                        OutboxMessage).where(OutboxMessage.sent_at.is_(None),
                                             OutboxMessage.failed.is_(None)))
                if handled == sum(map(len, scripts.values())) and not unsent:
                    break
                await asyncio.sleep(0.1)
        questions = COMMUNE_FORM.questions
        for i, unit in enumerate(COMMUNES):
            report = await stored_report(instances[i % 2].app, unit)
            expected = {"1.1": True, "1.2": "Số 5/KH"}
            for n, q in enumerate(questions[2:29], start=3):
                expected[q.id] = n % 7 + i
            assert report.answers == expected, unit  # in order, each answer once
        for uid in scripts:
            # A question's line, after the acknowledgement of the answer before it.
            asked = [line for m in tg.sent_to(uid) for line in m.text.split("\n")[:2]
                     if line.startswith("Mục")]
            assert len(asked) == len(set(asked)), "a question was sent twice"

        # Both instances plan the 10/10 07:00 reminders at the same moment: sent once each.
        await asyncio.gather(*(r.reminder_tick() for r in instances))
        await asyncio.gather(*(r.reminder_tick() for r in instances))
        async with instances[1].app.sessions() as session:
            keys = (await session.scalars(select(OutboxMessage.dedupe_key).where(
                OutboxMessage.dedupe_key.like("remind:%")))).all()
        assert keys and len(keys) == len(set(keys))
    finally:
        for running in instances:
            await running.stop()
