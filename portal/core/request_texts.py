"""The queue's text filter: a request's description and messages, in the full-text index
`request_texts` (FTS5 on SQLite, a tsvector on PostgreSQL), through core/fulltext.py's one
interface. Callers write to it in the same transaction as the message they index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    Select,
    column,
    func,
    literal_column,
    select,
    table,
)

from portal.core.database import DbSession
from portal.core.fulltext import CONFIG, Query, is_postgres, sqlite_match_ids, terms, ts_query


def set_request_text(session: DbSession, request_id: int, body: str) -> None:
    """Index a new request's description."""
    from portal.requests.models import RequestText

    session.add(
        RequestText(
            request_id=request_id,
            body=body,
            terms="" if is_postgres(session) else terms(body),
        )
    )


def append_request_text(session: DbSession, request_id: int, added: str) -> None:
    """Add a message or note to a request's indexed text."""
    from portal.requests.models import RequestText

    if not added.strip():
        return
    row = session.get(RequestText, request_id)
    if row is None:
        set_request_text(session, request_id, added)
        return
    row.body = f"{row.body}\n{added}"
    if not is_postgres(session):
        row.terms = f"{row.terms} {terms(added)}".strip()


@dataclass(frozen=True)
class RequestMatch:
    """The requests whose text matches, as something to join the requests to: `key` is the
    request id in the index, in the index's own order (newest first when descending), so a
    page of the queue reads the newest matches and stops, however many there are."""

    source: FromClause
    key: ColumnElement[int]
    condition: ColumnElement[bool]


def requests_matching(session: DbSession, typed: str) -> RequestMatch | None:
    """The index of request texts narrowed to what was typed (None: nothing searchable).

    Whole words only (inflections included): the queue's filter is sent, not typed live, and
    a prefix would make the engines merge every word that starts with it."""
    from portal.requests.models import RequestText

    query = Query.parse(typed)
    if not query:
        return None
    if is_postgres(session):
        texts = RequestText.__table__
        return RequestMatch(
            source=texts,
            key=RequestText.__table__.c.request_id,
            condition=literal_column("request_texts.document").op("@@")(
                func.to_tsquery(literal_column(f"'{CONFIG}'"), query.tsquery(prefix=False))
            ),
        )
    fts = table("request_texts_fts", column("rowid", Integer))
    return RequestMatch(
        source=fts,
        key=fts.c.rowid,
        condition=literal_column("request_texts_fts").op("MATCH")(query.fts5(prefix=False)),
    )


def request_ids_matching(session: DbSession, typed: str) -> Select[Any] | None:
    """The ids of requests whose description or messages match, as a subquery (None when
    nothing searchable was typed)."""
    from portal.requests.models import RequestText

    query = Query.parse(typed)
    if not query:
        return None
    if is_postgres(session):
        return select(RequestText.request_id).where(
            literal_column("request_texts.document").op("@@")(ts_query(query))
        )
    return sqlite_match_ids("request_texts_fts", query)
