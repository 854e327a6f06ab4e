"""Full-text search on both databases behind one small interface.

Matching ignores case and accents, understands Portuguese inflection ("acessar" finds
"acesso") and takes the last word typed as a prefix. The two engines agree because they run
the same steps: fold the accents, drop the stopwords of PostgreSQL's portuguese list, then the
Snowball Portuguese stemmer.

- SQLite: FTS5 (`unicode61 remove_diacritics 2`, ranked by bm25) over the stems, which Python
  computes here (FTS5 has no Portuguese stemmer); the snippet is marked in Python.
- PostgreSQL: a `tsvector` generated from the text with the `portal_pt` configuration
  (`unaccent`, then `portuguese_stem`), a GIN index, `ts_rank` and `ts_headline`.

Two indexes use it: `search_documents` here (forms and articles: the portal's search) and
`request_texts` (a request's description and messages: the queue's text filter, in
core/request_texts.py). Callers write to them in the same transaction as the change they index.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import snowballstemmer
from markupsafe import Markup, escape
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    func,
    literal_column,
    select,
    text,
)

from portal.core import ranking
from portal.core.database import DbSession

CONFIG = "portal_pt"  # PostgreSQL text search configuration (migration 0007)
WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_WORDS = 12
# Sentinels that no user text contains: the snippet is escaped as a whole, then marked.
_START, _STOP = "\x02", "\x03"


@functools.cache
def _stopwords() -> frozenset[str]:
    words = (Path(__file__).parent / "data" / "portuguese.stop").read_text("utf-8").split()
    return frozenset(words)


@functools.cache
def _stemmer() -> Any:
    return snowballstemmer.stemmer("portuguese")


def fold(value: str) -> str:
    """Lower case without accents: "CadÚnico" and "cadunico" compare equal."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


@functools.lru_cache(maxsize=200_000)
def stem(word: str) -> str | None:
    """One word as both engines index it, or None for a stopword (as PostgreSQL's
    portuguese_stem does after unaccent: the list's accented words never match)."""
    folded = fold(word)
    if not folded or folded in _stopwords():
        return None
    return str(_stemmer().stemWord(folded))


def terms(value: str) -> str:
    """The stems of a text, space-separated: what SQLite's FTS5 columns hold."""
    return " ".join(s for s in (stem(w) for w in WORD.findall(value or "")) if s)


@dataclass(frozen=True)
class Query:
    """What a person typed, as stems; the last one also matches as a prefix."""

    words: tuple[str, ...]  # the words typed, accents folded, stopwords out
    stems: tuple[str, ...]

    @classmethod
    def parse(cls, typed: str) -> Query:
        words: list[str] = []
        stems: list[str] = []
        for word in WORD.findall(typed or "")[:MAX_QUERY_WORDS]:
            stemmed = stem(word)
            if stemmed:
                words.append(fold(word))
                stems.append(stemmed)
        return cls(tuple(words), tuple(stems))

    def __bool__(self) -> bool:
        return bool(self.stems)

    def fts5(self, any_word: bool = False, prefix: bool = True) -> str:
        """An FTS5 MATCH expression: every stem (or any, ranked by how many), quoted, the
        last as a prefix."""
        quoted = [f'"{s}"' for s in self.stems]
        quoted[-1] += "*" if prefix else ""
        return (" OR " if any_word else " ").join(quoted)

    def tsquery(self, any_word: bool = False, prefix: bool = True) -> str:
        """A to_tsquery expression: the typed words (PostgreSQL stems them), the last as a
        prefix. Words are \\w+ only, so nothing here is tsquery syntax."""
        parts = list(self.words)
        parts[-1] += ":*" if prefix else ""
        return (" | " if any_word else " & ").join(parts)

    def matches(self, word: str) -> bool:
        """Whether one word of a text is what this query found (for marking snippets)."""
        stemmed = stem(word)
        if stemmed is None:
            return False
        return stemmed in self.stems[:-1] or stemmed.startswith(self.stems[-1])


def is_postgres(session: DbSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def ts_query(query: Query) -> ColumnElement[object]:
    return func.to_tsquery(literal_column(f"'{CONFIG}'"), query.tsquery())


def mark(snippet: str) -> Markup:
    """Escape a snippet whose matches are between the sentinels, then mark them."""
    escaped = str(escape(snippet))
    return Markup(escaped.replace(_START, "<mark>").replace(_STOP, "</mark>"))  # noqa: S704


def python_snippet(value: str, query: Query, words_around: int = 14) -> Markup:
    """The part of a text around its first match, matches marked (SQLite's snippet)."""
    tokens = re.split(r"(\w+)", value or "")
    hits = [i for i in range(1, len(tokens), 2) if query.matches(tokens[i])]
    if not hits:
        words = value.split()
        return mark(" ".join(words[: words_around * 2]) + (" …" if len(words) > 28 else ""))
    first = hits[0]
    start = max(0, first - words_around * 2)
    end = min(len(tokens), first + words_around * 2 + 1)
    hit_set = set(hits)
    out = ["… " if start > 0 else ""]
    for i in range(start, end):
        token = tokens[i]
        out.append(f"{_START}{token}{_STOP}" if i in hit_set else token)
    out.append(" …" if end < len(tokens) else "")
    return mark("".join(out).replace("\n", " ").strip())


def headline_options(max_words: int = 30) -> str:
    return (
        f"StartSel={_START}, StopSel={_STOP}, MaxWords={max_words}, MinWords=12, "
        "ShortWord=2, MaxFragments=1, FragmentDelimiter= … "
    )


def sqlite_match_ids(fts_table: str, query: Query) -> Select[Any]:
    """rowids of an FTS5 table that match (rowid = the indexed row's key)."""
    return (
        select(literal_column("rowid", type_=Integer))
        .select_from(text(fts_table))
        .where(text(f"{fts_table} MATCH :fts_query").bindparams(fts_query=query.fts5()))
    )


# --- the portal's search: forms and articles -------------------------------------------------


@dataclass(frozen=True)
class Hit:
    kind: str  # "item" or "article"
    ref_id: int
    title: str
    snippet: Markup
    slug: str
    category_id: int | None
    label: str  # "" for what everyone may open; "Interno", "Rascunho", ... for staff


@dataclass(frozen=True)
class HitPage:
    hits: list[Hit]
    total: int
    page: int
    per_page: int
    more: bool = False  # more matches than were ranked (portal.core.ranking.HORIZON)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def index_document(
    session: DbSession,
    kind: str,
    ref_id: int,
    *,
    title: str,
    body: str,
    slug: str,
    category_id: int | None = None,
    restricted: bool = False,
    label: str = "",
) -> None:
    """Add or replace what the search knows of one thing, in the caller's transaction."""
    from portal.core.models import SearchDocument

    doc = session.scalar(
        select(SearchDocument).where(SearchDocument.kind == kind, SearchDocument.ref_id == ref_id)
    )
    if doc is None:
        doc = SearchDocument(kind=kind, ref_id=ref_id)
        session.add(doc)
    sqlite = not is_postgres(session)
    doc.title, doc.body, doc.slug = title, body, slug
    doc.category_id, doc.restricted, doc.label = category_id, restricted, label
    doc.title_terms = terms(title)  # both engines: an exact title ranks first
    doc.body_terms = terms(body) if sqlite else ""
    session.flush()


def remove_document(session: DbSession, kind: str, ref_id: int) -> None:
    from portal.core.models import SearchDocument

    doc = session.scalar(
        select(SearchDocument).where(SearchDocument.kind == kind, SearchDocument.ref_id == ref_id)
    )
    if doc is not None:
        session.delete(doc)
        session.flush()


@dataclass(frozen=True)
class Ranking:
    """Every candidate of one search, best first (search_documents ids), with what reading a
    slice of them takes: the API pages through it by anchor, the search page by number."""

    query: Query
    postgres: bool
    params: dict[str, object]
    ids: list[int]
    more: bool  # more matches than were ranked (portal.core.ranking.HORIZON)


def rank_documents(
    session: DbSession,
    typed: str,
    *,
    staff: bool,
    kind: str | None = None,
    category_id: int | None = None,
    any_word: bool = False,
) -> Ranking | None:
    """The ranked candidates of what was typed (None: nothing searchable); requesters never
    see restricted documents. See search_documents for the order."""
    query = Query.parse(typed)
    if not query:
        return None
    filters = []
    params: dict[str, object] = {}
    if not staff:
        filters.append("d.restricted = :no")
        params["no"] = False
    if kind:
        filters.append("d.kind = :kind")
        params["kind"] = kind
        if category_id:
            filters.append("d.category_id = :category")
            params["category"] = category_id
    where = "".join(f" AND {f}" for f in filters)
    postgres = is_postgres(session)
    if postgres:
        engine = ranking.POSTGRES
        params.update(q=query.tsquery(any_word), opts=headline_options())
    else:
        engine = ranking.SQLITE
        params.update(q=query.fts5(any_word), title_q=f"{{title_terms}} : ({query.fts5(any_word)})")
    ranked = ranking.rank(session, engine, where, params, " ".join(query.stems))
    return Ranking(query, postgres, params, ranked.ids, ranked.more)


def document_hits(session: DbSession, found: Ranking, ids: list[int]) -> list[Hit]:
    """The hits of some of the ranked ids, in that order, with their snippets."""
    engine = ranking.POSTGRES if found.postgres else ranking.SQLITE
    rows = ranking.page_rows(session, engine, ids, found.params)
    return [
        Hit(
            kind=r[0],
            ref_id=r[1],
            title=r[2],
            snippet=mark(r[3]) if found.postgres else python_snippet(r[3], found.query),
            slug=r[4],
            category_id=r[5],
            label=r[6],
        )
        for r in rows
    ]


def search_documents(
    session: DbSession,
    typed: str,
    *,
    staff: bool,
    kind: str | None = None,
    category_id: int | None = None,
    page: int = 1,
    per_page: int = 10,
    any_word: bool = False,
) -> HitPage:
    """One ranked page of what matches; requesters never see restricted documents.

    An exact title comes first, then title matches, then the rest, each by bm25 (SQLite) or
    ts_rank (PostgreSQL), over a bounded set of candidates (portal.core.ranking).

    Every word typed must match, unless `any_word` (suggestions for a whole sentence, where
    the documents that match the most words come first)."""
    found = rank_documents(
        session, typed, staff=staff, kind=kind, category_id=category_id, any_word=any_word
    )
    if found is None:
        return HitPage([], 0, 1, per_page)
    total = len(found.ids)
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    shown = found.ids[(page - 1) * per_page : page * per_page]
    return HitPage(document_hits(session, found, shown), total, page, per_page, found.more)


def mark_title(title: str, typed: str) -> Markup:
    """The title with the words the query found marked (both engines)."""
    query = Query.parse(typed)
    if not query:
        return Markup(escape(title))  # noqa: S704
    parts = re.split(r"(\w+)", title)
    return mark(
        "".join(
            f"{_START}{p}{_STOP}" if i % 2 and query.matches(p) else p for i, p in enumerate(parts)
        )
    )


# --- what migration 0007 keeps outside the models ---------------------------------------------

ENGINE_INDEXES = frozenset(
    {
        "ix_search_documents_document",
        "ix_search_documents_title_document",
        "ix_request_texts_document",
    }
)


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """For Alembic's comparison: the FTS5 tables (and their shadow tables) and PostgreSQL's
    generated tsvector columns and GIN indexes exist only in the database, on purpose."""
    if not reflected or compare_to is not None or not name:
        return True
    if type_ == "table" and name.startswith(("search_documents_fts", "request_texts_fts")):
        return False
    if type_ == "column" and name in ("document", "title_document"):
        return False
    return not (type_ == "index" and name in ENGINE_INDEXES)
