"""The composition root: builds every part from the settings, in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.delivery.dispatcher import Dispatcher, utc_now
from bot.exports.letterhead import ReportSettings
from bot.settings import Settings
from bot.storage.database import create_engine, sessionmaker, upgrade, write_sessions
from conversations.i18n import Catalog


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    catalog: Catalog
    dispatcher: Dispatcher
    read_engine: AsyncEngine
    clock: Callable[[], datetime] = field(default=utc_now)

    async def close(self) -> None:
        await self.engine.dispose()
        await self.read_engine.dispose()


async def build_app(settings: Settings | None = None, *, migrate: bool = True,
                    clock: Callable[[], datetime] = utc_now) -> App:
    settings = settings or Settings()
    engine = create_engine(settings.database_url)
    if migrate:
        await upgrade(engine)
    sessions = write_sessions(engine)
    read_engine = create_engine(settings.database_url, read_only=True)
    catalog = Catalog()
    dispatcher = Dispatcher(sessions, catalog, settings.default_language,
                            settings.late_window_days, clock,
                            read_sessions=sessionmaker(read_engine),
                            files_dir=Path(settings.files_dir),
                            report_settings=ReportSettings.from_settings(settings))
    if settings.web_console():
        from bot.web.links import WebLinks

        dispatcher.web_links = WebLinks(settings.public_url, settings.timezone)
    return App(settings, engine, sessions, catalog, dispatcher, read_engine, clock)
