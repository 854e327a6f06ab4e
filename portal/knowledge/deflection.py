"""Deflection: an article opened from a request form's suggestions, and "Isto resolveu meu
problema", counted per catalog item (table `tallies`, subject "catalog_item").

Opening is counted in memory and written in aggregate (tallies.count); a request avoided is a
deliberate act, written at once in the caller's transaction (tallies.add_now).
"""

from __future__ import annotations

from sqlalchemy import select

from portal.catalog.models import CatalogItem
from portal.catalog.queries import offered
from portal.core.actors import Actor
from portal.core.database import DbSession, begin_write
from portal.core.errors import NotFound
from portal.knowledge import services, tallies

SUBJECT = "catalog_item"
OPENED = "articles_opened"
AVOIDED = "requests_avoided"


def _active_item(session: DbSession, slug: str) -> CatalogItem | None:
    if not slug or len(slug) > 80:
        return None
    return session.scalar(select(CatalogItem).where(CatalogItem.slug == slug, offered()))


def opened_from(session: DbSession, item_slug: str | None) -> CatalogItem | None:
    """An article page opened from this item's suggestions (`?de=<slug>`): count it (buffered)
    and return the item, or None when the slug names no item on offer (nothing counted)."""
    item = _active_item(session, item_slug or "")
    if item is not None:
        tallies.count(SUBJECT, item.id, OPENED)
    return item


def record_avoided(
    session: DbSession, actor: Actor, article_id: int, item_slug: str
) -> CatalogItem:
    """ "Isto resolveu meu problema": the reader read a published article about this item and
    opens no request. NotFound unless the reader may read the article and the item is offered."""
    begin_write(session)
    article = services.get_article(session, actor, article_id)
    item = _active_item(session, item_slug)
    if item is None or not article.is_live:
        raise NotFound()
    tallies.add_now(session, SUBJECT, item.id, AVOIDED)
    session.flush()
    return item
