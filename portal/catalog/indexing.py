"""What the portal's search knows of a catalog item (portal.core.fulltext)."""

from __future__ import annotations

from portal.catalog.models import CatalogItem
from portal.core import fulltext
from portal.core.database import DbSession


def index_item(session: DbSession, item: CatalogItem) -> None:
    """What the portal's search knows of a form: an offered item is found; a withdrawn or
    unpublished one, or one in a hidden category (or under one), is not."""
    path = list(item.category.path()) if item.category is not None else []
    if not item.active or item.published_version is None or any(c.hidden for c in path):
        fulltext.remove_document(session, "item", item.id)
        return
    names = [c.name for c in path]
    body = "\n".join(p for p in (item.short_description, item.description, *names) if p)
    fulltext.index_document(
        session,
        "item",
        item.id,
        title=item.name,
        body=body,
        slug=item.slug,
        category_id=item.category_id,
    )
