"""Request numbers: CS followed by seven digits, unique and sequential under concurrency."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal.models import Counter, format_number

REQUEST_COUNTER = "request"


def next_value(session: Session, name: str) -> int:
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


def next_request_number(session: Session) -> str:
    return format_number(next_value(session, REQUEST_COUNTER))


def current_value(session: Session, name: str = REQUEST_COUNTER) -> int:
    return session.scalar(select(Counter.value).where(Counter.name == name)) or 0
