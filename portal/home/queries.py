"""Read side of the home page: the Comunicado and the Itens Populares of the user's ente."""

from __future__ import annotations

import time
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.catalog.models import CatalogItem
from portal.core.database import DbSession
from portal.home.models import Announcement
from portal.requests.models import PartyCount, PartyRelation, ServiceRequest

SR = ServiceRequest

POPULAR_TTL = 300.0  # seconds


def popular_items(session: DbSession, user: User, limit: int = 4) -> list[CatalogItem]:
    """Itens Populares: the items my organisation uses most, then those the whole portal uses
    most (so a new ente's first visit already shows what others ask for), then the catalog
    order.

    The ranking is kept per organisation for five minutes in each process: it moves slowly,
    and counting an organisation's requests was the dearest query of the home page.
    """
    cache = current_app.extensions.setdefault("popular_items", {})
    key = (user.organisation_id, limit)
    now = time.monotonic()
    expires, ids = cache.get(key, (0.0, []))
    if expires <= now:
        ids = _rank_items(session, user.organisation_id, _portal_usage(session, cache, now), limit)
        cache[key] = (now + POPULAR_TTL, ids)
    found = {i.id: i for i in session.scalars(select(CatalogItem).where(CatalogItem.id.in_(ids)))}
    return [found[i] for i in ids if i in found and found[i].active]


def _portal_usage(session: DbSession, cache: dict[Any, Any], now: float) -> dict[int, int]:
    """Requests per item over the whole portal, from party_counts (a few rows per person and
    item, kept by triggers), cached as the rankings are."""
    expires, usage = cache.get("portal", (0.0, {}))
    if expires <= now:
        rows = session.execute(
            select(PartyCount.item_id, func.sum(PartyCount.total))
            .where(PartyCount.relation == PartyRelation.MINE.value)
            .group_by(PartyCount.item_id)
        )
        usage = {int(item_id): int(total or 0) for item_id, total in rows}
        cache["portal"] = (now + POPULAR_TTL, usage)
    return usage  # type: ignore[no-any-return]


def _rank_items(
    session: DbSession, organisation_id: int, portal_usage: dict[int, int], limit: int
) -> list[int]:
    mine = dict(
        session.execute(
            select(SR.item_id, func.count())
            .where(SR.organisation_id == organisation_id)
            .group_by(SR.item_id)
        ).all()
    )
    items = session.execute(
        select(CatalogItem.id, CatalogItem.position, CatalogItem.name).where(CatalogItem.active)
    ).all()
    ranked = sorted(
        items,
        key=lambda row: (
            -mine.get(row.id, 0),
            -portal_usage.get(row.id, 0),
            row.position,
            row.name,
        ),
    )
    return [row.id for row in ranked[:limit]]


def current_announcement(session: DbSession) -> Announcement | None:
    return session.scalar(
        select(Announcement)
        .where(Announcement.active)
        .order_by(Announcement.published_at.desc())
        .limit(1)
    )
