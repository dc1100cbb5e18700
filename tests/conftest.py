"""Shared fixtures: a real SQLite file, the bundled forms and campaigns, a clock tests move."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot import admin
from bot.app import App, build_app
from bot.channels.local_chat import LocalChat
from bot.demo import demo_units_csv
from bot.settings import Settings
from conversations.campaigns import bundled_campaign_files, load_campaign_file
from conversations.forms import bundled_form_files, load_form_file

VN = ZoneInfo("Asia/Ho_Chi_Minh")


class Clock:
    """The time every part of the bot sees; tests move it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, text: str) -> None:
        self.now = datetime.fromisoformat(text).replace(tzinfo=VN)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2023, 10, 5, 9, 0, tzinfo=VN))


POSTGRES_URL = os.environ.get("BAOCAO_TEST_POSTGRES_URL", "")


@pytest.fixture
async def db_url(tmp_path: Path) -> AsyncIterator[str]:
    """A real SQLite file; or, when BAOCAO_TEST_POSTGRES_URL is set (CI), a fresh PostgreSQL
    database per test, so the whole suite runs on both."""
    if not POSTGRES_URL:
        yield f"sqlite+aiosqlite:///{tmp_path / 'baocao.db'}"
        return
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(POSTGRES_URL)
    name = f"baocao_test_{uuid.uuid4().hex[:12]}"
    admin_dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin_dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    yield url.set(database=name).render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin_dsn)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def seed_reference_data(app: App, workdir: Path) -> None:
    """The demo unit tree, every bundled form and both real campaigns (2023 Week, 2024 Month)."""
    async with app.sessions() as session, session.begin():
        await admin.import_units(session, demo_units_csv(workdir / "units.csv"))
        for path in bundled_form_files():
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
            await admin.load_form(session, load_form_file(path), raw, app.clock())
        for path in bundled_campaign_files():
            await admin.load_campaign(session, load_campaign_file(path), app.clock())


@pytest.fixture
async def app(db_url: str, clock: Clock, tmp_path: Path) -> AsyncIterator[App]:
    # Files the bot writes (exports, templates, files received) stay out of the repository.
    application = await build_app(Settings(database_url=db_url,
                                           files_dir=str(tmp_path / "files")), clock=clock)
    await seed_reference_data(application, tmp_path)
    yield application
    await application.close()


async def invite(app: App, unit: str, role: str = "reporter", uses: int = 5) -> str:
    async with app.sessions() as session, session.begin():
        info = await admin.create_invite(session, unit, role, uses, 30, app.clock())
    return info.code


@pytest.fixture
async def tg() -> AsyncIterator:
    """The fake Telegram Bot API server; every request the bot sent must pass the spec check."""
    from .fake_telegram import FakeTelegram

    async with FakeTelegram() as fake:
        yield fake
        assert fake.spec_errors == [], "the bot sent requests the Bot API would refuse"


class Person:
    """Someone typing in the local chat; `say` returns what the bot answered, as shown."""

    def __init__(self, app: App, user: str) -> None:
        self.chat = LocalChat(app, user)

    async def say(self, text: str) -> str:
        return "\n---\n".join(await self.chat.send(text))


@pytest.fixture
def person(app: App):  # noqa: ANN201
    def make(user: str = "thu-trang") -> Person:
        return Person(app, user)

    return make


@pytest.fixture
async def console(tg, db_url: str, tmp_path: Path) -> AsyncIterator:  # noqa: ANN001
    """The real bot with its web console on, on the fake Telegram server (tests/web_console.py)."""
    from .web_console import start_console

    running = await start_console(tg, db_url, tmp_path)
    yield running
    await running.stop()
