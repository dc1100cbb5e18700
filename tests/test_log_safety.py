"""Secrets and links stay out of the logs: the bot token is masked in every log line (however a
library words its error), signed download links are logged without their signature, and a
malformed signature is refused politely (403), never a 500 with a traceback."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import GetUpdates

from bot.app import build_app
from bot.runtime import Running, start
from bot.settings import Settings

from .conftest import VN, seed_reference_data
from .fake_telegram import FakeTelegram
from .test_telegram_e2e import FlowingClock, free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def root_output() -> Iterator[io.StringIO]:
    """What a log file would hold: a handler on the root logger, as `baocao run` sets up."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
async def bot(tg: FakeTelegram, db_url: str, tmp_path: Path) -> AsyncIterator[Running]:
    clock = FlowingClock(datetime(2023, 10, 9, 9, 0, tzinfo=VN))
    port = free_port()
    settings = Settings(database_url=db_url, telegram_bot_token=tg.token,
                        telegram_api_base=tg.base_url, files_dir=str(tmp_path / "files"),
                        public_url=f"http://127.0.0.1:{port}", webhook_port=port,
                        reminder_tick_seconds=0)
    app = await build_app(settings, clock=clock)
    await seed_reference_data(app, tmp_path)
    await app.close()
    running = await start(settings, clock=clock)
    yield running
    await running.stop()


async def test_the_token_is_masked_in_every_log_line(bot: Running, tg: FakeTelegram,
                                                     root_output: io.StringIO):
    secret_half = tg.token.split(":", 1)[1]
    url = f"{tg.base_url}/bot{tg.token}/getUpdates"
    # What aiohttp and aiogram write when the connection drops mid-request (seen in a run).
    error = TelegramNetworkError(GetUpdates(), f"ClientOSError: Can not write request body "
                                               f"for {url}")
    logging.getLogger("bot.channels.telegram.channel").warning(
        "getUpdates failed (%s); retrying", error)
    logging.getLogger("aiohttp.client").info("request to %s", url)
    try:
        raise OSError(f"Cannot connect to {url}")
    except OSError:
        logging.getLogger("some.library").exception("failed")
    written = root_output.getvalue()
    assert "Can not write request body" in written and "Traceback" in written
    assert secret_half not in written, written
    assert "getUpdates" in written  # the rest of the line is kept


async def test_signed_links_are_logged_without_their_signature(bot: Running, tmp_path: Path,
                                                               root_output: io.StringIO):
    links = bot.links
    assert links is not None
    report = tmp_path / "bao-cao.csv"
    report.write_bytes(b"a;b\n1;2\n")
    async with bot.app.sessions() as session, session.begin():
        url = await links.create(session, report, "bao-cao.csv")
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as response:  # the page with the download button
            assert response.status == 200 and "bao-cao.csv" in await response.text()
        async with http.get(url + "&dl=1") as response:
            assert response.status == 200 and await response.read() == b"a;b\n1;2\n"
        base = url.split("?")[0]
        async with http.get(base + "?exp=1&sig=%C3%B1%C3%B1") as response:  # "ññ"
            assert response.status == 403
        async with http.get(base + "?exp=abc&sig=") as response:
            assert response.status == 403
    written = root_output.getvalue()
    signature = url.split("sig=")[1]
    assert "/files/" in written  # the access log still says what was asked for
    assert signature not in written and "sig=" not in written, written
    assert "Traceback" not in written and "Error handling request" not in written
