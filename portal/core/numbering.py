"""Named counters: unique, sequential numbers under concurrency (CS0000123, later KB...)."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.core.database import DbSession
from portal.core.models import Counter


def next_value(session: DbSession, name: str) -> int:
    """Increment a named counter and return the new value.

    The UPDATE locks the counter row until the caller's transaction ends (PostgreSQL), and
    SQLite has one writer at a time, so two transactions never get the same value; a rolled
    back transaction gives its number back.
    """
    bump = update(Counter).where(Counter.name == name).values(value=Counter.value + 1)
    value = session.execute(bump.returning(Counter.value)).scalar_one_or_none()
    if value is not None:
        return value
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(Counter).values(name=name, value=0).on_conflict_do_nothing(index_elements=["name"])
    )
    return session.execute(bump.returning(Counter.value)).scalar_one()
