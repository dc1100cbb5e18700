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


@pytest.fixture
def debug_output() -> Iterator[io.StringIO]:
    """Everything a log file at DEBUG would hold, SQLAlchemy's engine (SQL, parameters, rows)
    and aiohttp's access log included."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root, engine = logging.getLogger(), logging.getLogger("sqlalchemy.engine")
    levels = root.level, engine.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    engine.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(levels[0])
    engine.setLevel(levels[1])


async def test_no_link_token_signature_or_session_in_any_log_line_at_debug(
        debug_output: io.StringIO, console: Running, tg: FakeTelegram, tmp_path: Path):
    """Issue 23, defect 3: whoever reads the logs cannot sign in to the console, download a
    file or upload one, whatever kind of link it was and wherever it was logged (the access
    log at INFO, the outbox's SQL and rows at DEBUG)."""
    from bot.delivery.outbox import enqueue
    from bot.web.uploads import UploadLinks
    from conversations.events import OutboundMessage

    from .web_console import base_url, client, coordinator, link_from_chat, sign_in

    boss = await coordinator(console, tg, "HP", 4200)
    link = await link_from_chat(boss)  # through the outbox, at DEBUG
    unused = await link_from_chat(boss)  # never opened: still usable by whoever reads it
    base = base_url(console)
    links = console.links
    assert links is not None
    report = tmp_path / "bao-cao.csv"
    report.write_bytes(b"a;b\n1;2\n")
    async with console.app.sessions() as session, session.begin():
        download = await links.create(session, report, "bao-cao.csv")
        upload = await UploadLinks(links, tmp_path / "files", console.app.catalog).create(
            session, "telegram", str(boss.id), str(boss.id))
        # As a Zalo coordinator gets them (no documents there): in a message's text.
        enqueue(session, "telegram", str(boss.id),
                [OutboundMessage(f"Tệp: {download}\nGửi tệp: {upload}")], console.clock())
    console.wake_senders()
    await boss.wait_for("Gửi tệp:")
    async with client() as http:
        async with http.get(unused):  # the preview a messenger fetches
            pass
        response = await sign_in(http, link)
        assert response.status == 303
        cookie = response.cookies["baocao_web"].value
        async with http.get(base + "/web/") as page:
            assert page.status == 200
        async with http.get(download) as page, http.get(download + "&dl=1") as file:
            assert page.status == 200 and await file.read() == b"a;b\n1;2\n"
        async with http.get(upload) as page:
            assert page.status == 200
        async with http.get(base + "/web/l/not-a-real-token-at-all-0123456789") as page:
            assert page.status == 404
    written = debug_output.getvalue()
    assert "/web/l/" in written and "/files/" in written and "/uploads/" in written
    assert "sqlalchemy.engine" in written and "aiohttp.access" in written  # all were logged
    secrets = {
        "sign-in token": link.rsplit("/", 1)[1],
        "unused sign-in token": unused.rsplit("/", 1)[1],
        "session token": cookie.rpartition(".")[0],
        "session cookie signature": cookie.rpartition(".")[2],
        "download token": download.split("/files/")[1].split("?")[0],
        "download signature": download.split("sig=")[1],
        "upload token": upload.split("/uploads/")[1].split("?")[0],
        "upload signature": upload.split("sig=")[1],
    }
    leaked = {name: line for name, secret in secrets.items()
              for line in written.splitlines() if secret in line}
    assert not leaked, leaked


async def test_a_reporters_form_link_and_session_are_in_no_log_line_at_debug(
        debug_output: io.StringIO, console: Running):
    """Issue 26: the form page's one-time link (printed by /baocao in the local chat and on
    Zalo) and the reporter's session are secrets like the console's."""
    import re

    from bot.channels.local_chat import LocalChat

    from .conftest import invite
    from .web_console import base_url, client, sign_in

    chat = LocalChat(console.app, "co-lan")
    await chat.send(f"/start {await invite(console.app, 'TH-ANLAO')}")
    reply = "\n".join(await chat.send("/baocao"))
    link = re.search(r"http://127\.0\.0\.1:\d+/web/l/[A-Za-z0-9_-]+", reply)
    assert link, reply
    async with client() as http:
        response = await sign_in(http, link.group(0))
        assert response.status == 303
        cookie = response.cookies["baocao_web"].value
        async with http.get(base_url(console) + "/web/form/") as page:
            assert page.status == 200
    written = debug_output.getvalue()
    assert "/web/l/" in written and "aiohttp.access" in written
    secrets = {"sign-in token": link.group(0).rsplit("/", 1)[1],
               "session token": cookie.rpartition(".")[0],
               "session cookie signature": cookie.rpartition(".")[2]}
    leaked = {name: line for name, secret in secrets.items()
              for line in written.splitlines() if secret in line}
    assert not leaked, leaked
