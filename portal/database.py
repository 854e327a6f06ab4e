"""Database engine behaviour that SQLAlchemy does not give by default.

SQLite needs foreign keys switched on for every connection, WAL so readers never block the
writer, a busy timeout, and BEGIN IMMEDIATE for transactions that will write: a deferred
transaction that reads first and writes later fails at once with "database is locked" when
another writer got in between, ignoring the busy timeout.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

_write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)


@contextmanager
def write_intent() -> Iterator[None]:
    """Make transactions begun inside this block take SQLite's write lock up front."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def set_write_intent(value: bool) -> None:
    """Set the write intent for the rest of the current context (one web request)."""
    _write_intent.set(value)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def configure_engine(engine: Engine) -> None:
    """Install the per-connection settings; a no-op except on SQLite."""
    if not is_sqlite(engine) or getattr(engine, "_portal_configured", False):
        return
    engine._portal_configured = True  # type: ignore[attr-defined]

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")
