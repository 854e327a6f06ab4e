"""Read side of the search pages: category names for a page of hits, the categories a filter
offers, and the summaries of suggested articles. One query each, never one per hit."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from portal.catalog.models import CatalogItem, Category
from portal.catalog.queries import offered
from portal.core.database import DbSession
from portal.core.fulltext import Hit
from portal.core.models import SearchDocument
from portal.knowledge.models import Article, KbCategory

ITEM, ARTICLE = "item", "article"
CATEGORY_MODELS: dict[str, type[Category] | type[KbCategory]] = {
    ITEM: Category,
    ARTICLE: KbCategory,
}


def category_names(session: DbSession, hits: Iterable[Hit]) -> dict[tuple[str, int], str]:
    """(kind, category id) → name, for the categories of these hits."""
    wanted: dict[str, set[int]] = {}
    for hit in hits:
        if hit.category_id is not None:
            wanted.setdefault(hit.kind, set()).add(hit.category_id)
    names: dict[tuple[str, int], str] = {}
    for kind, ids in wanted.items():
        model = CATEGORY_MODELS.get(kind)
        if model is None:
            continue
        rows = session.execute(select(model.id, model.name).where(model.id.in_(ids)))
        names.update({(kind, row_id): name for row_id, name in rows})
    return names


def category_choices(session: DbSession, kind: str, *, staff: bool) -> list[tuple[int, str]]:
    """The categories that hold something of this kind the viewer may find, as (id, path),
    sorted by path ("SERVIÇOS MULTICLIENTE › ACESSO MULTICLIENTE")."""
    model = CATEGORY_MODELS[kind]
    used = select(SearchDocument.category_id).where(
        SearchDocument.kind == kind, SearchDocument.category_id.is_not(None)
    )
    if not staff:
        used = used.where(SearchDocument.restricted.is_(False))
    used_ids = {i for i in session.scalars(used.distinct()) if i is not None}
    if not used_ids:
        return []
    tree = {
        row.id: (row.name, row.parent_id)
        for row in session.execute(select(model.id, model.name, model.parent_id))
    }
    return sorted(((i, _path(tree, i)) for i in used_ids if i in tree), key=lambda c: c[1])


def _path(tree: dict[int, tuple[str, int | None]], category_id: int) -> str:
    names: list[str] = []
    node: int | None = category_id
    while node is not None and node in tree and len(names) < 20:
        name, node = tree[node]
        names.append(name)
    return " › ".join(reversed(names))


def article_summaries(session: DbSession, article_ids: list[int]) -> dict[int, str]:
    """The live summary of each article (what a suggestion shows under its title)."""
    if not article_ids:
        return {}
    rows = session.execute(select(Article.id, Article.summary).where(Article.id.in_(article_ids)))
    return {row_id: summary for row_id, summary in rows}


def active_item_id(session: DbSession, slug: str) -> int | None:
    """The id of a catalog item still offered (a suggestion counts for it), else None."""
    return session.scalar(select(CatalogItem.id).where(CatalogItem.slug == slug, offered()))
