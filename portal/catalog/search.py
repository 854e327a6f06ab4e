"""Search across the catalog (and, once they exist, knowledge articles).

Matching ignores case and accents; every word typed must appear; the best match comes first.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, select
from sqlalchemy.orm import joinedload

from portal.catalog.models import CatalogItem
from portal.catalog.services import fold
from portal.core.database import DbSession


@dataclass(frozen=True)
class Result:
    kind: str  # "item" (a form) or, later, "article"
    title: str
    summary: str
    url_slug: str
    score: int
    item: CatalogItem | None = None


def _score(item: CatalogItem, query: str, words: list[str]) -> int:
    name = fold(item.name)
    if name == query:
        return 100
    if name.startswith(query):
        return 80
    if query in name:
        return 60
    if all(w in name for w in words):
        return 50
    if query in item.search_text:
        return 30
    return 10


def search(session: DbSession, text: str, limit: int = 50) -> list[Result]:
    query = " ".join(fold(text).split())
    words = query.split()
    if not words:
        return []
    conditions = [CatalogItem.search_text.contains(w, autoescape=True) for w in words]
    items = session.scalars(
        select(CatalogItem)
        .where(CatalogItem.active, and_(*conditions))
        .options(joinedload(CatalogItem.category))
        .limit(limit)
    )
    results = [
        Result("item", i.name, i.short_description, i.slug, _score(i, query, words), i)
        for i in items
    ]
    return sorted(results, key=lambda r: (-r.score, r.title))
