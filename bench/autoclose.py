"""Time the auto-close job on a copy of a generated database.

    python bench/autoclose.py --requests 1000000            (make bench-autoclose)
    python bench/autoclose.py --requests 1000000 --url postgresql+psycopg://postgres@127.0.0.1/bench

Works on a copy (a file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL), so the
benchmark database stays as generated. Two runs of jobs.auto_close:

1. nothing due: every request awaiting the user was resolved a day ago;
2. --due requests (default 100,000, or half the requests) resolved eight days ago, which the
   run must close, each with its timeline entry and its outbox email.

The nothing-due run is timed twice: the first in a fresh process (connection, statement
compilation), then as the scheduler meets it every minute.

Prints the times and writes them to bench/results/autoclose-latest.json.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from collections.abc import Callable
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import generate  # noqa: E402
from bench.run import generated  # noqa: E402
from portal import create_app  # noqa: E402
from portal.core.extensions import db  # noqa: E402
from portal.core.timeutil import utcnow  # noqa: E402
from portal.core.types import UTCDateTime  # noqa: E402
from portal.jobs import auto_close  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def copy_database(url: str) -> str:
    """A scratch copy of the database at `url`; returns its URL."""
    if url.startswith("sqlite:///"):
        source = Path(url.removeprefix("sqlite:///"))
        target = source.with_name(source.stem + "-autoclose.db")
        _remove_sqlite(target)
        # The backup API copies a consistent image, including what is still in the WAL.
        with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
        return f"sqlite:///{target}"
    base, name = url.rsplit("/", 1)
    scratch = f"{name}_autoclose"
    _administer(
        base,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname IN ('{name}', '{scratch}') AND pid <> pg_backend_pid()",
        f"DROP DATABASE IF EXISTS {scratch}",
        f"CREATE DATABASE {scratch} TEMPLATE {name}",
    )
    return f"{base}/{scratch}"


def drop_copy(url: str) -> None:
    if url.startswith("sqlite:///"):
        _remove_sqlite(Path(url.removeprefix("sqlite:///")))
        return
    base, name = url.rsplit("/", 1)
    _administer(base, f"DROP DATABASE IF EXISTS {name}")


def _administer(base: str, *statements: str) -> None:
    """Run statements on the server's `postgres` database, outside any transaction."""
    engine = sa.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    engine.dispose()


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def nothing_due() -> None:
    """Every request awaiting the user was resolved a day ago."""
    now = utcnow()
    with db.engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE service_requests SET resolved_at = :recent WHERE state = 'awaiting_user'"
            ).bindparams(sa.bindparam("recent", type_=UTCDateTime())),
            {"recent": now - timedelta(days=1)},
        )


def resolve_some(due: int) -> None:
    """`due` requests resolved 8 days ago (the triggers keep the derived tables, as for the app).

    In transactions of 2,000 rows, as the job itself writes: one huge transaction would update
    the same counter rows 100,000 times, which PostgreSQL makes quadratic.
    """
    old = utcnow() - timedelta(days=8)
    with db.engine.connect() as conn:
        ids = list(
            conn.scalars(
                sa.text(
                    "SELECT id FROM service_requests "
                    "WHERE state IN ('in_progress', 'open', 'awaiting_support', 'closed') "
                    "ORDER BY id LIMIT :due"
                ),
                {"due": due},
            )
        )
    for start in range(0, len(ids), 2000):
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE service_requests SET state = 'awaiting_user', resolved_at = :old, "
                    "closed_at = NULL, version = version + 1 WHERE id IN :ids"
                ).bindparams(
                    sa.bindparam("ids", expanding=True), sa.bindparam("old", type_=UTCDateTime())
                ),
                {"old": old, "ids": ids[start : start + 2000]},
            )


def analyze() -> None:
    """The table as autovacuum keeps it: the rewrites above left statistics describing a table
    full of due requests and, on PostgreSQL, dead index entries for every row they moved."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE service_requests")
    else:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE service_requests")


def _timed(run: Callable[[], int]) -> tuple[float, int]:
    started = time.perf_counter()
    result = run()
    return (time.perf_counter() - started) * 1000, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--url", help="database URL (default: instance/bench-<N>.db)")
    parser.add_argument("--due", type=int, help="default: 100,000, or half the requests")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    args.due = args.due or min(100_000, args.requests // 2)
    url = args.url or f"sqlite:///{ROOT / 'instance' / f'bench-{args.requests}.db'}"
    if not generated(url, args.requests):
        generate.main(["--url", url, "--requests", str(args.requests)])
    else:
        generate.upgrade_schema(url)
    scratch = copy_database(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": scratch, "SECRET_KEY": "bench"})
    try:
        with app.app_context():
            nothing_due()
            analyze()
            first_ms, nothing = _timed(lambda: auto_close(db.session))
            idle_ms, nothing_again = _timed(lambda: auto_close(db.session))
            assert nothing == nothing_again == 0, (nothing, nothing_again)
            resolve_some(args.due)
            analyze()
            started = time.perf_counter()
            closed = auto_close(db.session)
            busy_s = time.perf_counter() - started
            db.session.remove()
            db.engine.dispose()
    finally:
        drop_copy(scratch)
    database = "postgresql" if url.startswith("postgresql") else "sqlite"
    result = {
        "database": database,
        "requests_in_db": args.requests,
        "nothing_due_first_ms": round(first_ms, 1),
        "nothing_due_ms": round(idle_ms, 1),
        "due": args.due,
        "closed": closed,
        "closing_s": round(busy_s, 1),
        "closed_per_s": round(closed / busy_s, 1),
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "autoclose-latest.json").write_text(json.dumps(result, indent=2))
    print(
        f"auto-close on {database} with {args.requests:,} requests: nothing due in "
        f"{idle_ms:.1f} ms (first run of the process {first_ms:.1f} ms); "
        f"{closed:,} of {args.due:,} due closed in {busy_s:.1f} s "
        f"({closed / busy_s:.0f}/s)"
    )
    return 0 if closed == args.due else 1


if __name__ == "__main__":
    sys.exit(main())
