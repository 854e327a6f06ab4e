"""Read side of the home page: the Comunicados that apply to the user, the critical ones for
the banner on every page, the Itens Populares of the user's ente, and the admins' list of
Comunicados."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from portal.accounts.models import User
from portal.catalog.models import CatalogItem
from portal.catalog.queries import offered
from portal.clients.models import Organisation, OrganisationKind
from portal.clients.queries import identifier_prefix, name_matches
from portal.core.database import DbSession
from portal.core.paging import Page
from portal.core.timeutil import as_utc, utcnow
from portal.home.models import (
    Announcement,
    AnnouncementDismissal,
    AnnouncementState,
    Audience,
    Severity,
)
from portal.requests.models import PartyCount, PartyRelation, ServiceRequest

SR = ServiceRequest

POPULAR_TTL = 300.0  # seconds
POPULAR_SPARE = 5  # ranked ids kept per item shown


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
    # Read again: an item withdrawn, hidden or never published leaves at once, and one offered
    # again comes back at once (the ranking covers every item, offered or not).
    found = {
        i.id: i
        for i in session.scalars(select(CatalogItem).where(CatalogItem.id.in_(ids), offered()))
    }
    return [found[i] for i in ids if i in found][:limit]


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
    items = session.execute(select(CatalogItem.id, CatalogItem.position, CatalogItem.name)).all()
    ranked = sorted(
        items,
        key=lambda row: (
            -mine.get(row.id, 0),
            -portal_usage.get(row.id, 0),
            row.position,
            row.name,
        ),
    )
    # Some spare ones, for when the top items are not on offer at the moment.
    return [row.id for row in ranked[: limit * POPULAR_SPARE]]


# ------------------------------------------------------------------ Comunicados

A = Announcement
PUBLISHED = AnnouncementState.PUBLISHED.value


def _in_window(now: datetime) -> ColumnElement[bool]:
    """Shown from starts_at (or publication) until ends_at (or for good)."""
    return and_(
        or_(A.starts_at.is_(None), A.starts_at <= now), or_(A.ends_at.is_(None), A.ends_at > now)
    )


def window_status(announcement: Announcement, now: datetime | None = None) -> str | None:
    """For the admins' list, the same rule as _in_window: "no ar", "agendado" or "encerrado"
    for a published Comunicado; None for a draft."""
    if announcement.state != PUBLISHED:
        return None
    now = now or utcnow()
    if announcement.ends_at is not None and as_utc(announcement.ends_at) <= now:
        return "encerrado"
    if announcement.starts_at is not None and as_utc(announcement.starts_at) > now:
        return "agendado"
    return "no ar"


def _visible(user: User, now: datetime) -> Select[Announcement]:
    """Published, inside its window, for everyone or for the user's organisation's UF, kind or
    the organisation itself: the one rule of who sees a Comunicado (home, banner, dismissal).

    The user's organisation is joined by id, so the audience is matched in the same statement
    (the signed-in user is loaded without it)."""
    org = aliased(Organisation)
    audience = or_(
        A.audience == Audience.ALL.value,
        and_(A.audience == Audience.UF.value, A.audience_value == org.uf),
        and_(A.audience == Audience.KIND.value, A.audience_value == org.kind),
        and_(A.audience == Audience.ORGANISATION.value, A.audience_organisation_id == org.id),
    )
    return (
        select(A)
        .join(org, org.id == user.organisation_id)
        .where(A.state == PUBLISHED, _in_window(now), audience)
        .order_by(func.coalesce(A.starts_at, A.published_at).desc(), A.id.desc())
    )


def visible_announcements(
    session: DbSession,
    user: User,
    *,
    now: datetime | None = None,
    ids: Sequence[int] | None = None,
) -> list[Announcement]:
    """The Comunicados that apply to the user now, newest first (the home's list); `ids`
    narrows them to those (a dismissal checks its one)."""
    statement = _visible(user, now or utcnow())
    if ids is not None:
        statement = statement.where(A.id.in_(ids))
    return list(session.scalars(statement))


def banner_announcements(
    session: DbSession, user: User, *, now: datetime | None = None
) -> list[Announcement]:
    """The critical Comunicados the user has not closed: the banner on every page, in one
    statement (the table is small, and (state, starts_at) is indexed)."""
    closed = exists().where(
        AnnouncementDismissal.user_id == user.id, AnnouncementDismissal.announcement_id == A.id
    )
    statement = _visible(user, now or utcnow()).where(
        A.severity == Severity.CRITICAL.value, ~closed
    )
    return list(session.scalars(statement))


@dataclass(frozen=True)
class AnnouncementRow:
    """A line of the admins' list: the Comunicado and the name of its one-organisation
    audience, read in the same statement."""

    announcement: Announcement
    organisation_name: str | None

    @property
    def audience_text(self) -> str:
        return audience_text(self.announcement, self.organisation_name)


def audience_text(announcement: Announcement, organisation_name: str | None = None) -> str:
    """ "Todos", "UF: BA", "Tipo de ente: Município", "Ente: Prefeitura ...": who sees it."""
    value = announcement.audience_value or ""
    match announcement.audience:
        case Audience.UF:
            return f"UF: {value}"
        case Audience.KIND:
            kinds = {k.value: k.label for k in OrganisationKind}
            return f"Tipo de ente: {kinds.get(value, value)}"
        case Audience.ORGANISATION:
            return f"Ente: {organisation_name or '?'}"
    return "Todos"


def announcement_page(
    session: DbSession, page: int = 1, per_page: int = 25
) -> Page[AnnouncementRow]:
    """Every Comunicado, newest first, paged in SQL with the audience's organisation joined."""
    page = max(page, 1)
    rows = session.execute(
        select(A, Organisation.name, func.count().over())
        .outerjoin(Organisation, Organisation.id == A.audience_organisation_id)
        .order_by(A.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    total = rows[0][2] if rows else 0
    if not rows and page > 1:
        total = session.scalar(select(func.count()).select_from(A)) or 0
    return Page(
        rows=[AnnouncementRow(row[0], row[1]) for row in rows],
        total=total,
        page=page,
        per_page=per_page,
    )


def get_announcement(session: DbSession, announcement_id: int) -> AnnouncementRow | None:
    row = session.execute(
        select(A, Organisation.name)
        .outerjoin(Organisation, Organisation.id == A.audience_organisation_id)
        .where(A.id == announcement_id)
    ).first()
    return AnnouncementRow(row[0], row[1]) if row else None


# ------------------------------------------------------------------ the audience's ente


ORGANISATION_LIMIT = 20


@dataclass(frozen=True)
class OrganisationOption:
    id: int
    name: str
    uf: str | None
    identifier: str

    @property
    def label(self) -> str:
        place = f" ({self.uf})" if self.uf else ""
        return f"{self.name}{place} – {self.identifier}"


def _organisations() -> Select[int, str, str | None, str]:
    o = Organisation
    return select(o.id, o.name, o.uf, o.identifier).order_by(o.name, o.id)


def organisation_options(
    session: DbSession, typed: str, limit: int = ORGANISATION_LIMIT
) -> list[OrganisationOption]:
    """Any organisation (client or not: 5,597 of them) by identifier prefix or name, names
    starting with the text first; at most `limit`, so the picker stays a short select."""
    words = " ".join(typed.split())[:100]
    if not words:
        return []
    conditions = [name_matches(session, words, prefix=True), name_matches(session, words)]
    if code := identifier_prefix(words):
        conditions.insert(0, Organisation.identifier.startswith(code, autoescape=True))
    found: dict[int, OrganisationOption] = {}
    for condition in conditions:
        if len(found) >= limit:
            break
        for row in session.execute(_organisations().where(condition).limit(limit)):
            found.setdefault(row.id, OrganisationOption(row.id, row.name, row.uf, row.identifier))
    return list(found.values())[:limit]


def organisation_option(session: DbSession, org_id: int | None) -> OrganisationOption | None:
    if not org_id:
        return None
    row = session.execute(_organisations().where(Organisation.id == org_id)).first()
    return OrganisationOption(row.id, row.name, row.uf, row.identifier) if row else None
