"""Database engine behaviour that SQLAlchemy does not give by default.

SQLite needs foreign keys switched on for every connection, WAL so readers never block the
writer, a busy timeout, and BEGIN IMMEDIATE for transactions that will write: a deferred
transaction that reads first and writes later fails at once with "database is locked" when
another writer got in between, ignoring the busy timeout.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar, cast

from sqlalchemy import event
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from sqlalchemy.orm import scoped_session

    # Services take Flask-SQLAlchemy's db.session (a scoped_session) as well as a plain Session.
    DbSession: TypeAlias = Session | scoped_session[Any]
else:
    DbSession = Session

_write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)
# Set for a web request whose view reads first and writes late (see reads_first).
_reads_first: ContextVar[bool] = ContextVar("reads_first", default=False)

F = TypeVar("F")


class WriteBeforeBeginWrite(RuntimeError):
    """A reads_first view wrote before calling begin_write (a bug: it would not hold the lock)."""


@contextmanager
def write_intent() -> Iterator[None]:
    """Make transactions begun inside this block take SQLite's write lock up front."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


@contextmanager
def own_transaction(*, writes: bool) -> Iterator[None]:
    """A short transaction apart from the one the request declared (the API token's check, and
    its recorded use): reads_first does not apply inside, and `writes` takes SQLite's write
    lock up front. The caller commits inside the block; the request's declaration is back
    after it."""
    reads_first_before = _reads_first.set(False)
    write_intent_before = _write_intent.set(writes)
    try:
        yield
    finally:
        _reads_first.reset(reads_first_before)
        _write_intent.reset(write_intent_before)


def reads_first(view: F) -> F:
    """Mark a POST view whose service takes the write lock itself, through begin_write.

    A POST otherwise holds SQLite's one write lock from its first query, so the session and
    user loading, the form checks and the object look-ups of every writer queue behind each
    other. A marked view runs those in a plain read transaction; the service then calls
    begin_write, and only its writes (and the re-reads they depend on) hold the lock.
    """
    view.reads_first = True  # type: ignore[attr-defined]
    return view


def declare_request_writes(view: object, method_writes: bool) -> None:
    """Called once per web request, before its first query."""
    late = method_writes and bool(getattr(view, "reads_first", False))
    _reads_first.set(late)
    _write_intent.set(method_writes and not late)


def begin_write(session: DbSession) -> None:
    """From here on, this web request writes: end its read transaction, take the write lock.

    Only inside a reads_first view does this do anything. Ending the read transaction expires
    every loaded object, so what the service reads next (the user, the item, the request) is
    read again under the lock: a check made before cannot act on a row changed meanwhile.
    On PostgreSQL a transaction that read can write, so it goes on; its objects are expired
    all the same, for the same fresh reads.
    """
    if not _reads_first.get():
        return
    _reads_first.set(False)
    if session.new or session.dirty or session.deleted:
        raise WriteBeforeBeginWrite("changes pending before begin_write")
    if session.get_bind().dialect.name == "sqlite":
        session.rollback()
        _write_intent.set(True)
    else:
        session.expire_all()


def affected_rows(result: Result[Any]) -> int:
    """How many rows an UPDATE, DELETE or INSERT changed (what a compare-and-set checks).

    Session.execute is typed as returning a plain Result; for these statements it is a
    CursorResult, which has the count.
    """
    return cast(CursorResult[Any], result).rowcount or 0


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
        # At a million requests the tables are over a gigabyte: reads through the OS page
        # cache (mmap) and a bigger private cache for the pages a write touches.
        cursor.execute("PRAGMA mmap_size=268435456")
        cursor.execute("PRAGMA cache_size=-32768")
        cursor.close()

    lock_path = _writer_lock_path(engine)

    @event.listens_for(engine, "before_cursor_execute")
    def _guard_reads_first(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if _reads_first.get() and not statement.lstrip()[:6].upper().startswith(
            ("SELECT", "BEGIN", "PRAGMA", "ROLLBA", "COMMIT", "SAVEPO", "RELEAS")
        ):
            raise WriteBeforeBeginWrite(statement.split(None, 3)[:3])

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if not _write_intent.get():
            connection.exec_driver_sql("BEGIN")
            return
        if lock_path is not None:
            _take_writer_lock(connection.connection.dbapi_connection, lock_path)
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "commit")
    def _on_commit(connection: Any) -> None:
        _end_and_release(connection.connection.dbapi_connection, "commit")

    @event.listens_for(engine, "rollback")
    def _on_rollback(connection: Any) -> None:
        _end_and_release(connection.connection.dbapi_connection, "rollback")

    @event.listens_for(engine, "checkin")
    @event.listens_for(engine, "close")
    def _on_checkin(dbapi_connection: Any, _record: Any) -> None:
        _release_writer_lock(dbapi_connection)

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(dbapi_connection: Any, _record: Any, _exception: Any) -> None:
        _release_writer_lock(dbapi_connection)


# SQLite makes a second writer wait in its busy handler, which sleeps 1, 2, 5 ... up to 100 ms
# between tries: under load a writer can sleep far longer than the lock is held, and p99 of
# every POST grows to seconds. Writers of all processes queue on a file lock first, so the
# next one starts the moment the last one ends; the busy handler is left for the rare writer
# that comes from elsewhere (a shell, a migration).
WRITER_LOCK_POLL = 0.0005  # seconds
WRITER_LOCK_TIMEOUT = 15.0  # as the busy timeout; then SQLite's own waiting takes over
_held_locks: dict[int, int] = {}  # id(DBAPI connection) -> file descriptor held


def _writer_lock_path(engine: Engine) -> str | None:
    database = engine.url.database
    if not database or database == ":memory:" or engine.url.query.get("mode") == "memory":
        return None
    return f"{os.path.abspath(database)}.writelock"


def _take_writer_lock(dbapi_connection: Any, path: str) -> None:
    key = id(dbapi_connection)
    if key in _held_locks:
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + WRITER_LOCK_TIMEOUT
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                return
            time.sleep(WRITER_LOCK_POLL)
    _held_locks[key] = fd


def _end_and_release(dbapi_connection: Any, end: str) -> None:
    """COMMIT or ROLLBACK now, then drop the lock, so it is released after the transaction ends
    (SQLAlchemy's own call that follows finds nothing left to end)."""
    if id(dbapi_connection) not in _held_locks:
        return
    try:
        getattr(dbapi_connection, end)()
    finally:
        _release_writer_lock(dbapi_connection)


def _release_writer_lock(dbapi_connection: Any) -> None:
    fd = _held_locks.pop(id(dbapi_connection), None)
    if fd is not None:
        os.close(fd)  # closing the descriptor drops the lock
