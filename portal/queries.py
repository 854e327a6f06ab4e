"""Read-side queries: what a person may see, lists paginated in SQL, counters.

Every query that returns requests goes through `visible_to`, so pages, counters, badges and
search never reveal a request the viewer cannot open.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, true
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.lifecycle import ACTIVE_STATES, State
from portal.models import (
    Announcement,
    Attachment,
    CatalogItem,
    Follower,
    Organisation,
    Role,
    ServiceRequest,
    SupportGroup,
    TimelineEntry,
    User,
)

PAGE_SIZE = 20
SR = ServiceRequest


def visible_to(user: User) -> ColumnElement[bool]:
    """Opener, requested-for user, followers and staff may see a request."""
    if user.is_staff:
        return true()
    is_follower = exists().where(Follower.request_id == SR.id, Follower.user_id == user.id)
    return or_(SR.opened_by_id == user.id, SR.requested_for_id == user.id, is_follower)


def mine(user: User) -> ColumnElement[bool]:
    """Minhas Solicitações: requests I opened or that were opened for me."""
    return or_(SR.opened_by_id == user.id, SR.requested_for_id == user.id)


def following(user: User) -> ColumnElement[bool]:
    return exists().where(Follower.request_id == SR.id, Follower.user_id == user.id)


def get_visible_request(session: Session, user: User, number: str) -> ServiceRequest | None:
    return session.scalar(
        select(SR)
        .where(SR.number == number.upper(), visible_to(user))
        .options(
            joinedload(SR.item).joinedload(CatalogItem.category),
            joinedload(SR.opened_by),
            joinedload(SR.requested_for),
            selectinload(SR.followers).joinedload(Follower.user),
        )
    )


SORTS: dict[str, Any] = {
    "numero": SR.number,
    "servico": CatalogItem.name,
    "estado": SR.state,
    "aberto": SR.opened_at,
    "resolvido": SR.resolved_at,
    "encerrado": SR.closed_at,
}


@dataclass(frozen=True)
class Page:
    rows: list[ServiceRequest]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first_row(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last_row(self) -> int:
        return min(self.page * self.per_page, self.total)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def request_list(
    session: Session,
    scope: ColumnElement[bool],
    *,
    number: str = "",
    state: str = "",
    sort: str = "aberto",
    descending: bool = True,
    page: int = 1,
    per_page: int = PAGE_SIZE,
) -> Page:
    """One page of requests in `scope`, filtered and sorted in SQL."""
    conditions = [scope]
    digits = "".join(ch for ch in number if ch.isalnum()).upper()
    if digits:
        conditions.append(SR.number.contains(digits, autoescape=True))
    if state in {s.value for s in State}:
        conditions.append(SR.state == state)
    where = and_(*conditions)
    total = session.scalar(select(func.count()).select_from(SR).where(where)) or 0
    column = SORTS.get(sort, SR.opened_at)
    order = column.desc() if descending else column.asc()
    page = max(1, min(page, max(1, math.ceil(total / per_page))))
    query: Select[tuple[ServiceRequest]] = (
        select(SR)
        .join(CatalogItem, CatalogItem.id == SR.item_id)
        .where(where)
        .options(joinedload(SR.item))
        .order_by(order, SR.id.desc() if descending else SR.id.asc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return Page(rows=list(session.scalars(query)), total=total, page=page, per_page=per_page)


def open_count(session: Session, user: User) -> int:
    """The badge: my requests not yet final."""
    active = [s.value for s in ACTIVE_STATES]
    return (
        session.scalar(select(func.count()).select_from(SR).where(mine(user), SR.state.in_(active)))
        or 0
    )


def counts_by_service_and_state(session: Session, user: User) -> list[tuple[str, str, int]]:
    """As Solicitações on the home page: (service, state label, count) of my requests."""
    rows = session.execute(
        select(CatalogItem.name, SR.state, func.count())
        .join(CatalogItem, CatalogItem.id == SR.item_id)
        .where(mine(user))
        .group_by(CatalogItem.name, SR.state)
        .order_by(CatalogItem.name, SR.state)
    )
    return [(name, State(state).label, count) for name, state, count in rows]


def popular_items(session: Session, user: User, limit: int = 4) -> list[CatalogItem]:
    """Itens Populares: the catalog items my organisation uses most (then the catalog order)."""
    usage = (
        select(SR.item_id, func.count().label("uses"))
        .where(SR.organisation_id == user.organisation_id)
        .group_by(SR.item_id)
        .subquery()
    )
    query = (
        select(CatalogItem)
        .outerjoin(usage, usage.c.item_id == CatalogItem.id)
        .where(CatalogItem.active)
        .order_by(func.coalesce(usage.c.uses, 0).desc(), CatalogItem.position, CatalogItem.name)
        .limit(limit)
    )
    return list(session.scalars(query))


def current_announcement(session: Session) -> Announcement | None:
    return session.scalar(
        select(Announcement)
        .where(Announcement.active)
        .order_by(Announcement.published_at.desc())
        .limit(1)
    )


def timeline(
    session: Session, request: ServiceRequest, *, include_internal: bool
) -> list[TimelineEntry]:
    """Newest first, with authors and attachments loaded up front (no lazy loads in templates)."""
    query = (
        select(TimelineEntry)
        .where(TimelineEntry.request_id == request.id)
        .options(joinedload(TimelineEntry.author), selectinload(TimelineEntry.attachments))
        .order_by(TimelineEntry.created_at.desc(), TimelineEntry.id.desc())
    )
    if not include_internal:
        query = query.where(TimelineEntry.public)
    return list(session.scalars(query))


def attachments_of(
    session: Session, request: ServiceRequest, *, include_internal: bool
) -> list[Attachment]:
    query = (
        select(Attachment)
        .outerjoin(TimelineEntry, TimelineEntry.id == Attachment.entry_id)
        .where(Attachment.request_id == request.id)
        .order_by(Attachment.created_at.desc(), Attachment.id.desc())
    )
    if not include_internal:
        query = query.where(or_(Attachment.entry_id.is_(None), TimelineEntry.public))
    return list(session.scalars(query))


def colleagues(session: Session, user: User, *, query: str = "", limit: int = 500) -> list[User]:
    """Active users of my organisation, by name (Requisitado para, followers)."""
    statement = (
        select(User)
        .where(User.organisation_id == user.organisation_id, User.active)
        .order_by(User.full_name)
        .limit(limit)
    )
    if query.strip():
        statement = statement.where(User.full_name.icontains(query.strip(), autoescape=True))
    return list(session.scalars(statement))


@dataclass(frozen=True)
class QueueFilters:
    """Fila de Atendimento filters, as typed in the query string."""

    state: str = ""  # "" = every active state, "todos" = all
    group_id: int | None = None
    assigned: str = "qualquer"  # "eu", "ninguem", "qualquer"
    item_id: int | None = None
    organisation: str = ""
    text: str = ""
    oldest_first: bool = False


def queue_scope(agent: User) -> ColumnElement[bool]:
    """Admins see every group's queue; agents the queues of their groups (and what is theirs)."""
    if agent.is_admin:
        return true()
    group_ids = [g.id for g in agent.groups]
    return or_(SR.group_id.in_(group_ids), SR.assignee_id == agent.id)


def _queue_conditions(agent: User, filters: QueueFilters) -> list[ColumnElement[bool]]:
    conditions = [queue_scope(agent)]
    if filters.state == "todos":
        pass
    elif filters.state in {s.value for s in State}:
        conditions.append(SR.state == filters.state)
    else:
        conditions.append(SR.state.in_([s.value for s in ACTIVE_STATES]))
    if filters.group_id:
        conditions.append(SR.group_id == filters.group_id)
    if filters.assigned == "eu":
        conditions.append(SR.assignee_id == agent.id)
    elif filters.assigned == "ninguem":
        conditions.append(SR.assignee_id.is_(None))
    if filters.item_id:
        conditions.append(SR.item_id == filters.item_id)
    if filters.organisation.strip():
        conditions.append(
            SR.organisation_id.in_(
                select(Organisation.id).where(
                    Organisation.name.icontains(filters.organisation.strip(), autoescape=True)
                )
            )
        )
    if filters.text.strip():
        text = filters.text.strip()
        conditions.append(
            or_(
                SR.number.contains(text.upper(), autoescape=True),
                SR.description.icontains(text, autoescape=True),
            )
        )
    return conditions


def agent_queue(
    session: Session,
    agent: User,
    filters: QueueFilters,
    *,
    page: int = 1,
    per_page: int = PAGE_SIZE,
) -> Page:
    where = and_(*_queue_conditions(agent, filters))
    total = session.scalar(select(func.count()).select_from(SR).where(where)) or 0
    page = max(1, min(page, max(1, math.ceil(total / per_page))))
    order = SR.opened_at.asc() if filters.oldest_first else SR.opened_at.desc()
    rows = session.scalars(
        select(SR)
        .where(where)
        .options(
            joinedload(SR.item),
            joinedload(SR.organisation),
            joinedload(SR.assignee),
            joinedload(SR.group),
        )
        .order_by(order, SR.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return Page(rows=list(rows), total=total, page=page, per_page=per_page)


def queue_counters(session: Session, agent: User) -> dict[str, int]:
    """Requests per state in the agent's queues (one grouped query)."""
    rows = session.execute(
        select(SR.state, func.count()).where(queue_scope(agent)).group_by(SR.state)
    )
    counts = {s.value: 0 for s in State}
    counts.update({state: count for state, count in rows})
    return counts


def time_spent_total(session: Session, request: ServiceRequest) -> int:
    return (
        session.scalar(
            select(func.coalesce(func.sum(TimelineEntry.time_spent_minutes), 0)).where(
                TimelineEntry.request_id == request.id
            )
        )
        or 0
    )


def staff_members(session: Session) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .where(User.active, User.role.in_([Role.AGENT, Role.ADMIN]))
            .order_by(User.full_name)
            .options(selectinload(User.groups))
        )
    )


def find_people(session: Session, text: str, limit: int = 20) -> list[User]:
    """Staff may name followers from any organisation: search by name or CPF digits."""
    text = text.strip()
    if len(text) < 2:
        return []
    digits = "".join(ch for ch in text if ch.isdigit())
    condition = User.full_name.icontains(text, autoescape=True)
    if len(digits) >= 3:
        condition = or_(condition, User.cpf.contains(digits, autoescape=True))
    return list(
        session.scalars(
            select(User).where(User.active, condition).order_by(User.full_name).limit(limit)
        )
    )


def support_groups(session: Session) -> list[SupportGroup]:
    return list(session.scalars(select(SupportGroup).order_by(SupportGroup.name)))
