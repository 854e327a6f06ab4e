"""Ranking the portal's search (portal.core.fulltext.search_documents) at a bounded cost.

A word found in most of the base says little about which document to read, and ranking all
of its matches costs time in proportion to the base. So each search ranks at most
HORIZON + HORIZON candidates: the newest HORIZON title matches, then the newest HORIZON
matches anywhere, each group by bm25 (SQLite) or ts_rank (PostgreSQL), an exact title first.
Every statement reads an index range: matches in id order from the newest, then the page's
rows by id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, text

from portal.core.database import DbSession

HORIZON = 500


@dataclass(frozen=True)
class Engine:
    """The SQL that differs between the two databases."""

    matches: str  # FROM ... WHERE <match>, with :q (and :title_q); `%s` = what to match
    title: str  # what `matches` takes for title matches
    anywhere: str  # ... and for matches anywhere
    doc_id: str  # the documents' id column in `matches`
    rank: str  # ascending: best first
    rows_from: str  # FROM clause for a page's rows
    snippet: str  # the snippet's source (SQLite: the body, marked in Python)


SQLITE = Engine(
    matches=(
        "FROM search_documents_fts f JOIN search_documents d ON d.id = f.rowid "
        "WHERE search_documents_fts MATCH %s"
    ),
    title=":title_q",
    anywhere=":q",
    doc_id="f.rowid",
    rank="bm25(search_documents_fts, 10.0, 1.0)",
    rows_from="FROM search_documents d",
    snippet="d.body",
)
POSTGRES = Engine(
    matches="FROM search_documents d, to_tsquery('portal_pt', :q) q WHERE %s @@ q",
    title="d.title_document",
    anywhere="d.document",
    doc_id="d.id",
    rank="-ts_rank(d.document, q)",
    rows_from="FROM search_documents d, to_tsquery('portal_pt', :q) q",
    snippet="ts_headline('portal_pt', d.body, q, :opts)",
)


@dataclass(frozen=True)
class Ranked:
    ids: list[int]  # every candidate, best first
    more: bool  # more matches than were ranked


def _newest(
    session: DbSession, matches: str, engine: Engine, params: dict[str, object]
) -> tuple[str, bool]:
    """`matches` narrowed to the newest HORIZON (an id range: an index range on both
    engines), and whether there were more."""
    cutoff = session.execute(
        text(
            f"SELECT {engine.doc_id} {matches} ORDER BY {engine.doc_id} DESC LIMIT 2 OFFSET :last"
        ),
        {**params, "last": HORIZON - 1},
    ).all()
    if not cutoff:
        return matches, False
    return f"{matches} AND {engine.doc_id} >= {int(cutoff[0][0])}", len(cutoff) > 1


def rank(
    session: DbSession, engine: Engine, where: str, params: dict[str, object], exact: str
) -> Ranked:
    """The candidates' ids in order. `where` is " AND ..." over `d` (visibility, filters)."""
    params = {**params, "horizon": HORIZON, "exact": exact}
    order = f"ORDER BY d.title_terms = :exact DESC, {engine.rank}, d.id DESC"
    found: list[int] = []
    more = False
    for column in (engine.title, engine.anywhere):
        newest, beyond = _newest(session, engine.matches % column + where, engine, params)
        more = more or beyond
        found.extend(session.scalars(text(f"SELECT d.id {newest} {order}"), params))
    return Ranked(ids=list(dict.fromkeys(found)), more=more)


def page_rows(
    session: DbSession, engine: Engine, ids: Sequence[int], params: dict[str, object]
) -> list[Any]:
    """The rows of one page of ranked ids, in that order, with their snippet source."""
    if not ids:
        return []
    rows = session.execute(
        text(
            f"SELECT d.id, d.kind, d.ref_id, d.title, {engine.snippet}, d.slug, "
            f"d.category_id, d.label {engine.rows_from} WHERE d.id IN :ids"
        ).bindparams(bindparam("ids", expanding=True)),
        {**params, "ids": list(ids)},
    ).all()
    by_id = {row[0]: tuple(row[1:]) for row in rows}
    return [by_id[i] for i in ids if i in by_id]
