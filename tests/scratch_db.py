"""An empty database nobody else uses, for the tests that run migrations from the start: a
SQLite file, or on PostgreSQL a schema of its own (dropped afterwards)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import TEST_DATABASE_URL


@contextmanager
def scratch_database_url(tmp_path: Path, schema: str) -> Iterator[str]:
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / f'{schema}.db'}"
        return
    admin = sa.create_engine(TEST_DATABASE_URL)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
            unaccent_in_schema(conn, schema)
        url = sa.engine.make_url(TEST_DATABASE_URL).update_query_dict(
            {"options": f"-csearch_path={schema}"}
        )
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


def unaccent_in_schema(conn: sa.Connection, schema: str) -> None:
    """The unaccent extension is installed once per database (by the test session's own
    migrations, in public); this schema's search path sees only itself, so it gets its own
    dictionary from the extension's template, under the name migration 0007 uses."""
    installed = conn.execute(
        sa.text("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = :n"),
        {"n": "unaccent"},
    ).scalar()
    if installed is not None:
        conn.execute(
            sa.text(
                f"CREATE TEXT SEARCH DICTIONARY {schema}.unaccent "
                f"(TEMPLATE = {installed}.unaccent, RULES = 'unaccent')"
            )
        )
