"""The async engine: SQLite made durable and serialised, or PostgreSQL as it comes."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x62616F63616F  # "baocao"


def create_engine(url: str, *, read_only: bool = False) -> AsyncEngine:
    """`read_only` engines (long exports) begin deferred transactions on SQLite, so they read a
    snapshot without holding the write lock."""
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_async_engine(url)
        _make_sqlite_durable(engine, immediate=not read_only)
        return engine
    # Each chat being handled holds one connection for its lock and one for its transaction.
    try:
        return create_async_engine(url, pool_size=10, max_overflow=30, pool_pre_ping=True)
    except ModuleNotFoundError as exc:
        # PostgreSQL's driver is the `postgres` extra; say so in one line, not a traceback.
        raise ArgumentError(f"its driver {exc.name} is not installed "
                            "(pip install -e '.[postgres]')") from None


def _make_sqlite_durable(engine: AsyncEngine, immediate: bool = True) -> None:
    """WAL with synchronous=FULL (an acknowledged commit survives a power cut), foreign keys,
    a busy timeout, and BEGIN IMMEDIATE so concurrent read-then-write transactions serialise
    instead of losing updates."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def dialect_insert(session: AsyncSession) -> Any:
    """The `insert` of the session's database, which has ON CONFLICT (SQLite and PostgreSQL)."""
    if session.bind.dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


class SerialSessions:
    """Sessions that take turns, in the order asked, within this process.

    SQLite lets one writer in at a time; a writer that finds the lock taken sleeps in SQLite's
    busy handler (1, 2, 5 … 100 ms), far longer than the other write takes. Queueing writers on
    an asyncio lock instead hands the database over the moment it is free. Used for SQLite's
    write sessions only; PostgreSQL sessions run concurrently."""

    def __init__(self, factory: async_sessionmaker) -> None:
        self.factory = factory
        self.kw = factory.kw
        self._lock = asyncio.Lock()

    def __call__(self) -> _SerialSession:
        return _SerialSession(self)


class _SerialSession:
    def __init__(self, owner: SerialSessions) -> None:
        self.owner = owner
        self.session: AsyncSession | None = None

    async def __aenter__(self) -> AsyncSession:
        await self.owner._lock.acquire()
        try:
            self.session = self.owner.factory()
            return await self.session.__aenter__()
        except BaseException:
            self.owner._lock.release()
            raise

    async def __aexit__(self, *exc: object) -> None:
        try:
            assert self.session is not None
            await self.session.__aexit__(*exc)
        finally:
            self.owner._lock.release()


def write_sessions(engine: AsyncEngine) -> async_sessionmaker | SerialSessions:
    factory = sessionmaker(engine)
    return SerialSessions(factory) if engine.dialect.name == "sqlite" else factory


def alembic_config(url: str | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply migrations on the given engine (from inside a running event loop). A database
    already at the newest migration is left as it is without loading Alembic."""
    if revision == "head" and await _at_head(engine):
        return

    def _run(connection: Connection) -> None:
        from alembic import command

        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # instances starting together migrate one by one
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        await conn.run_sync(_run)


_REVISION = re.compile(r"""^revision\s*(?::[^=\n]*)?=\s*["']([^"']+)["']""", re.M)
_DOWN_REVISION = re.compile(r"^down_revision\s*(?::[^=\n]*)?=\s*(.+)$", re.M)


def head_revision() -> str | None:
    """The newest migration's id, read from the `revision` lines of the migration files (as
    Alembic finds it, tests/test_migrations.py); None when they are not one line of history."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None or down is None:
            return None
        revisions.add(revision.group(1))
        parents.update(re.findall(r"""["']([^"']+)["']""", down.group(1)))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


async def _at_head(engine: AsyncEngine) -> bool:
    """Is the database at the newest migration? False when unsure: Alembic then decides."""
    head = head_revision()
    if head is None:
        return False
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            return list(rows.scalars()) == [head]
    except DBAPIError:  # no such table yet: a new database
        return False


def upgrade_sync(url: str, revision: str = "head") -> None:
    async def _main() -> None:
        engine = create_engine(url)
        try:
            await upgrade(engine, revision)
        finally:
            await engine.dispose()

    asyncio.run(_main())
