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
