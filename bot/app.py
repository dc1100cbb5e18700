"""The composition root: builds every part from the settings, in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.settings import Settings
from bot.storage.database import create_engine, sessionmaker, upgrade, write_sessions
from conversations.i18n import Catalog

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from bot.delivery.dispatcher import Dispatcher


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    catalog: Catalog
    read_engine: AsyncEngine
    clock: Callable[[], datetime] = field(default=utc_now)
    _dispatcher: Dispatcher | None = field(default=None, repr=False)

    @property
    def dispatcher(self) -> Dispatcher:
        """Built on first use: the conversation engine is most of what the bot imports, and
        the CLI's list and import commands never talk (bench/README.md, Start-up)."""
        if self._dispatcher is None:
            self._dispatcher = _dispatcher(self)
        return self._dispatcher

    async def close(self) -> None:
        await self.engine.dispose()
        await self.read_engine.dispose()


def _dispatcher(app: App) -> Dispatcher:
    from bot.delivery.dispatcher import Dispatcher
    from bot.exports.letterhead import ReportSettings

    settings = app.settings
    dispatcher = Dispatcher(app.sessions, app.catalog, settings.default_language,
                            settings.late_window_days, app.clock,
                            read_sessions=sessionmaker(app.read_engine),
                            files_dir=Path(settings.files_dir),
                            report_settings=ReportSettings.from_settings(settings))
    if settings.web_console():
        from bot.web.links import WebLinks

        dispatcher.web_links = WebLinks(settings.public_url, settings.timezone)
    return dispatcher


async def build_app(settings: Settings | None = None, *, migrate: bool = True,
                    clock: Callable[[], datetime] = utc_now) -> App:
    settings = settings or Settings()
    engine = create_engine(settings.database_url)
    if migrate:
        await upgrade(engine)
    sessions = write_sessions(engine)
    read_engine = create_engine(settings.database_url, read_only=True)
    return App(settings, engine, sessions, Catalog(), read_engine, clock)
