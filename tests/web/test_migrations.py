"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from portal.core import fulltext
from portal.core.extensions import db


def test_migrations_match_the_models(app: Flask) -> None:
    # The test database was built by `flask db upgrade` (see conftest); nothing may be missing.
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": fulltext.include_object}
        )
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_sqlite_connections_have_foreign_keys_wal_and_busy_timeout(app: Flask) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite-only settings")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
