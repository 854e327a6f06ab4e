"""Read side of the catalog: the category tree and one item with its form."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.catalog.models import CatalogItem, Category
from portal.core.database import DbSession


def category_tree(session: DbSession) -> dict[int | None, list[Category]]:
    """Every category with its items, grouped by parent (None: the roots)."""
    categories = session.scalars(
        select(Category)
        .order_by(Category.position, Category.name)
        .options(selectinload(Category.items))
    )
    by_parent: dict[int | None, list[Category]] = {}
    for category in categories:
        by_parent.setdefault(category.parent_id, []).append(category)
    return by_parent


def active_item(session: DbSession, slug: str) -> CatalogItem | None:
    """An item offered in the catalog, with its fields (a withdrawn item finds nothing)."""
    return session.scalar(
        select(CatalogItem)
        .where(CatalogItem.slug == slug, CatalogItem.active)
        .options(selectinload(CatalogItem.fields))
    )


def items_by_name(session: DbSession) -> list[CatalogItem]:
    return list(session.scalars(select(CatalogItem).order_by(CatalogItem.name)))
