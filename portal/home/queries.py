"""Read side of the home page: the Comunicado and the Itens Populares of the user's ente."""

from __future__ import annotations

import time

from flask import current_app
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.catalog.models import CatalogItem
from portal.core.database import DbSession
from portal.home.models import Announcement
from portal.requests.models import ServiceRequest

SR = ServiceRequest

POPULAR_TTL = 300.0  # seconds


def popular_items(session: DbSession, user: User, limit: int = 4) -> list[CatalogItem]:
    """Itens Populares: the catalog items my organisation uses most (then the catalog order).

    The ranking is kept per organisation for five minutes in each process: it moves slowly,
    and counting an organisation's requests was the dearest query of the home page.
    """
    cache = current_app.extensions.setdefault("popular_items", {})
    key = (user.organisation_id, limit)
    now = time.monotonic()
    expires, ids = cache.get(key, (0.0, []))
    if expires <= now:
        ids = _rank_items(session, user.organisation_id, limit)
        cache[key] = (now + POPULAR_TTL, ids)
    found = {i.id: i for i in session.scalars(select(CatalogItem).where(CatalogItem.id.in_(ids)))}
    return [found[i] for i in ids if i in found and found[i].active]


def _rank_items(session: DbSession, organisation_id: int, limit: int) -> list[int]:
    usage = (
        select(SR.item_id, func.count().label("uses"))
        .where(SR.organisation_id == organisation_id)
        .group_by(SR.item_id)
        .subquery()
    )
    query = (
        select(CatalogItem.id)
        .outerjoin(usage, usage.c.item_id == CatalogItem.id)
        .where(CatalogItem.active)
        .order_by(func.coalesce(usage.c.uses, 0).desc(), CatalogItem.position, CatalogItem.name)
        .limit(limit)
    )
    return list(session.scalars(query))


def current_announcement(session: DbSession) -> Announcement | None:
    return session.scalar(
        select(Announcement)
        .where(Announcement.active)
        .order_by(Announcement.published_at.desc())
        .limit(1)
    )
