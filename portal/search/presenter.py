"""What the search pages show, decided here: each hit's icon, kind, link, category and label,
the filters offered, and the pager. The templates only lay these answers out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import url_for
from markupsafe import Markup

from portal.core import fulltext
from portal.core.database import DbSession
from portal.core.fulltext import Hit, HitPage
from portal.core.web import int_or_none
from portal.search import queries
from portal.search.queries import ARTICLE, ITEM

PER_PAGE = 10
QUERY_MAX = 200
SUGGESTIONS_MAX = 5
# The filter's words in the URL (?tipo=formulario) and the index's kinds.
KINDS = {"formulario": ITEM, "artigo": ARTICLE}
ICONS = {ITEM: "fas fa-table", ARTICLE: "fas fa-file-alt"}
KIND_LABELS = {ITEM: "Formulário", ARTICLE: "Artigo"}


@dataclass(frozen=True)
class Result:
    """One hit as the results page lists it."""

    icon: str
    kind_label: str
    title: Markup  # matched words in <mark>
    snippet: Markup
    url: str
    category: str
    label: str  # staff only: "Interno", "Rascunho", "Em revisão"


@dataclass(frozen=True)
class Filters:
    """The filters as typed in the query string, checked."""

    q: str = ""
    tipo: str = ""  # "", "formulario", "artigo"
    category_id: int | None = None
    page: int = 1

    @property
    def kind(self) -> str | None:
        return KINDS.get(self.tipo)

    def link(self, **changes: Any) -> dict[str, Any]:
        """url_for arguments for these filters with some changed (None drops a parameter)."""
        args: dict[str, Any] = {
            "q": self.q or None,
            "tipo": self.tipo or None,
            "categoria": self.category_id,
        }
        args.update(changes)
        return {k: v for k, v in args.items() if v is not None}


def parse_filters(args: Any) -> Filters:
    tipo = args.get("tipo", "")
    tipo = tipo if tipo in KINDS else ""
    return Filters(
        q=" ".join(args.get("q", "")[:QUERY_MAX].split()),
        tipo=tipo,
        category_id=_positive_int(args.get("categoria")) if tipo else None,
        page=_positive_int(args.get("pagina")) or 1,
    )


def _positive_int(raw: str | None) -> int | None:
    value = int_or_none(raw)
    return value if value and value > 0 else None


def hit_url(hit: Hit, *, item_slug: str | None = None) -> str:
    if hit.kind == ARTICLE:
        return url_for("knowledge.article", ref=hit.slug, de=item_slug)
    return url_for("requests.new", slug=hit.slug)


@dataclass(frozen=True)
class ResultsPage:
    filters: Filters
    results: list[Result]
    total: int
    more: bool  # more than `total` found (counted only that far)
    page: int
    pages: int
    first_row: int
    last_row: int
    categories: list[tuple[int, str]]


def results_page(session: DbSession, filters: Filters, *, staff: bool) -> ResultsPage:
    """The page of /pesquisa: one ranked page of forms and articles the viewer may open."""
    categories = (
        queries.category_choices(session, filters.kind, staff=staff) if filters.kind else []
    )
    if filters.category_id not in {c[0] for c in categories}:
        filters = Filters(filters.q, filters.tipo, None, filters.page)
    found = (
        fulltext.search_documents(
            session,
            filters.q,
            staff=staff,
            kind=filters.kind,
            category_id=filters.category_id,
            page=filters.page,
            per_page=PER_PAGE,
        )
        if filters.q
        else HitPage([], 0, 1, PER_PAGE)
    )
    names = queries.category_names(session, found.hits)
    results = [
        Result(
            icon=ICONS.get(hit.kind, "fas fa-file"),
            kind_label=KIND_LABELS.get(hit.kind, ""),
            title=fulltext.mark_title(hit.title, filters.q),
            snippet=hit.snippet,
            url=hit_url(hit),
            category=names.get((hit.kind, hit.category_id), "") if hit.category_id else "",
            label=hit.label if staff else "",
        )
        for hit in found.hits
    ]
    first = (found.page - 1) * found.per_page + 1 if found.total else 0
    return ResultsPage(
        filters=Filters(filters.q, filters.tipo, filters.category_id, found.page),
        results=results,
        total=found.total,
        more=found.more,
        page=found.page,
        pages=found.pages,
        first_row=first,
        last_row=first + len(results) - 1 if results else 0,
        categories=categories,
    )


def suggestions(session: DbSession, typed: str, *, item_slug: str | None) -> list[dict[str, str]]:
    """Up to five public published articles for what someone is typing (a sentence: the
    articles that match the most of its words first). Never restricted ones, whoever asks."""
    found = fulltext.search_documents(
        session,
        typed[:QUERY_MAX],
        staff=False,
        kind=ARTICLE,
        per_page=SUGGESTIONS_MAX,
        any_word=True,
    )
    summaries = queries.article_summaries(session, [hit.ref_id for hit in found.hits])
    return [
        {
            "title": hit.title,
            "summary": summaries.get(hit.ref_id) or hit.snippet.striptags(),
            "url": hit_url(hit, item_slug=item_slug),
        }
        for hit in found.hits
    ]
