"""Read side of the catalog: the category tree and one item with its form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import selectinload

from portal.catalog.models import CatalogItem, Category
from portal.core.database import DbSession


def offered() -> Any:
    """The one rule for what requesters are offered: an item that is active (not withdrawn),
    whose form has been published and whose category is not hidden, nor any above it. The
    catalog, the forms, Itens Populares, the knowledge base's related forms and the search
    index (indexing.index_item, in Python) follow it. No extra statement: the hidden
    categories are a recursive CTE of the same query."""
    return and_(
        CatalogItem.active,
        CatalogItem.published_version.is_not(None),
        CatalogItem.category_id.not_in(select(hidden_categories().c.id)),
    )


def hidden_categories() -> Any:
    """The hidden categories and every category under one (a recursive CTE)."""
    hidden = (
        select(Category.id)
        .where(Category.hidden)
        .cte("hidden_categories", recursive=True, nesting=True)
    )
    below = select(Category.id).join(hidden, Category.parent_id == hidden.c.id)
    return hidden.union_all(below)


@dataclass
class CatalogTree:
    """What a requester's catalog shows: the visible categories by parent (None: the roots)
    and the offered items of each category."""

    by_parent: dict[int | None, list[Category]] = field(default_factory=dict)
    items: dict[int, list[CatalogItem]] = field(default_factory=dict)

    @property
    def roots(self) -> list[Category]:
        return self.by_parent.get(None, [])


def category_tree(session: DbSession) -> CatalogTree:
    """The requester's catalog: a hidden category and everything under it is left out, and
    so are withdrawn and never-published items and the categories left with no item at all.
    Two queries, whatever the size of the tree."""
    categories = list(session.scalars(select(Category).order_by(Category.position, Category.name)))
    tree = CatalogTree()
    for item in session.scalars(
        select(CatalogItem).where(offered()).order_by(CatalogItem.position, CatalogItem.name)
    ):
        tree.items.setdefault(item.category_id, []).append(item)
    children: dict[int | None, list[Category]] = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category)

    def keep(category: Category) -> bool:
        """Whether the category shows (adding its visible children to the tree on the way)."""
        if category.hidden:
            return False
        shown = [child for child in children.get(category.id, []) if keep(child)]
        if shown:
            tree.by_parent[category.id] = shown
        return bool(shown or tree.items.get(category.id))

    tree.by_parent[None] = [root for root in children.get(None, []) if keep(root)]
    shown = {c.id for listed in tree.by_parent.values() for c in listed}
    tree.items = {key: listed for key, listed in tree.items.items() if key in shown}
    return tree


def active_item(session: DbSession, slug: str) -> CatalogItem | None:
    """An item offered in the catalog, with its fields (a withdrawn item finds nothing)."""
    return session.scalar(
        select(CatalogItem)
        .where(CatalogItem.slug == slug, offered())
        .options(selectinload(CatalogItem.fields))
    )


def items_by_name(session: DbSession) -> list[CatalogItem]:
    return list(session.scalars(select(CatalogItem).order_by(CatalogItem.name)))
