"""Migrations build the whole schema from an empty database, matching the model exactly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot.storage.database import create_engine, upgrade
from bot.storage.models import Base

from .conftest import POSTGRES_URL


async def test_upgrade_from_an_empty_database_matches_the_model(db_url: str):
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        await upgrade(engine)  # a second run is a no-op

        def check(connection):  # noqa: ANN001, ANN202
            tables = set(inspect(connection).get_table_names())
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            return tables, diff

        async with engine.connect() as conn:
            tables, diff = await conn.run_sync(check)
        assert set(Base.metadata.tables) <= tables
        assert "alembic_version" in tables
        assert diff == []
    finally:
        await engine.dispose()


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite pragmas; this run is on PostgreSQL")
async def test_sqlite_runs_in_wal_mode_with_full_sync(db_url: str):
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            journal = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
            sync = (await conn.exec_driver_sql("PRAGMA synchronous")).scalar()
            fks = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar()
        assert (journal, sync, fks) == ("wal", 2, 1)
    finally:
        await engine.dispose()


def test_the_head_read_from_the_migration_files_is_alembics_head():
    """`upgrade` skips Alembic (a tenth of a second to import) when the database is at this
    head: it must be the head Alembic itself finds."""
    from alembic.script import ScriptDirectory

    from bot.storage.database import alembic_config, head_revision

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_a_database_one_migration_behind_is_brought_to_the_head(db_url: str):
    from sqlalchemy import text

    from bot.storage.database import head_revision

    head = head_revision()
    assert head is not None
    # the head's parent, read from Alembic (revision ids need not be numbers: "0012c")
    from alembic.script import ScriptDirectory

    from bot.storage.database import alembic_config
    previous = ScriptDirectory.from_config(alembic_config()).get_revision(head).down_revision
    assert isinstance(previous, str)
    engine = create_engine(db_url)
    try:
        await upgrade(engine, previous)

        async def version() -> list[str]:
            async with engine.connect() as conn:
                rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
                return list(rows.scalars())

        assert await version() == [previous]
        await upgrade(engine)
        assert await version() == [head]
    finally:
        await engine.dispose()
