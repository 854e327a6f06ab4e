"""Read-side queries: what a person may see, lists paginated in SQL, counters.

Every query that returns requests goes through `visible_to`, so pages, counters, badges and
search never reveal a request the viewer cannot open.
"""

from __future__ import annotations

import functools
import math
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.orm import Session, defer, joinedload, lazyload, selectinload

from portal.lifecycle import ACTIVE_STATES, State
from portal.models import (
    NUMBER_DIGITS,
    NUMBER_PREFIX,
    STAFF_ROLES,
    Announcement,
    Attachment,
    CatalogItem,
    EntryKind,
    Follower,
    Organisation,
    PartyCount,
    PartyRelation,
    QueueCount,
    RequestParty,
    ServiceRequest,
    SupportGroup,
    TimelineEntry,
    User,
    format_number,
    group_members,
)
from portal.models.request import ACTIVE_SQL
from portal.models.user import initials_of

PAGE_SIZE = 20
SR = ServiceRequest
MINE = PartyRelation.MINE.value


def visible_to(user: User) -> ColumnElement[bool]:
    """Opener, requested-for user, followers and staff may see a request."""
    if user.is_staff:
        return true()
    return exists().where(RequestParty.request_id == SR.id, RequestParty.user_id == user.id)


def get_visible_request(session: Session, user: User, number: str) -> ServiceRequest | None:
    """By number (unique index), then the visibility rule on the loaded row and its followers."""
    found = session.scalar(
        select(SR)
        .where(SR.number == number.upper())
        .options(
            joinedload(SR.item).joinedload(CatalogItem.category),
            joinedload(SR.opened_by),
            joinedload(SR.requested_for),
            selectinload(SR.followers).joinedload(Follower.user),
        )
    )
    if found is None or user.is_staff:
        return found
    people = {found.opened_by_id, found.requested_for_id} | {f.user_id for f in found.followers}
    return found if user.id in people else None


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
    # True when `total` only says "at least this many" (counting stopped past the pages near
    # this one, so a deep page never costs a count of the whole table).
    more: bool = False

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


def _count_to_horizon(
    session: Session, ids: Select[Any], page: int, per_page: int
) -> tuple[int, bool]:
    """Count only as far as ten pages past this one: (total, whether there are more).

    A person with 12,000 requests would otherwise count them all on every page view.
    """
    horizon = (max(1, page) + 10) * per_page
    total = session.scalar(select(func.count()).select_from(ids.limit(horizon + 1).subquery()))
    total = total or 0
    return min(total, horizon), total > horizon


def _clamp(page: int, total: int, per_page: int) -> int:
    return max(1, min(page, max(1, math.ceil(total / per_page))))


LIST_DEFERRED = (defer(SR.description), defer(SR.field_values))


def _rows_by_id(session: Session, ids: list[int], *options: Any) -> list[ServiceRequest]:
    """Load a page of requests by id, in the order of `ids` (the deferred join).

    Lists never show the description or the form's values: not loading them spares a JSON
    parse and a long text per row.
    """
    if not ids:
        return []
    query = select(SR).where(SR.id.in_(ids)).options(*LIST_DEFERRED, *options)
    found = {r.id: r for r in session.scalars(query)}
    return [found[i] for i in ids if i in found]


def exact_number(text: str) -> str | None:
    """ "CS0000123", "cs 123" or "0000123" name one request; partial digits do not."""
    cleaned = "".join(ch for ch in text if ch.isalnum()).upper()
    digits = cleaned.removeprefix(NUMBER_PREFIX)
    if digits.isdigit() and (cleaned.startswith(NUMBER_PREFIX) or len(digits) == NUMBER_DIGITS):
        return format_number(int(digits)) if len(digits) <= NUMBER_DIGITS else None
    return None


def request_list(
    session: Session,
    user: User,
    relation: PartyRelation,
    *,
    number: str = "",
    state: str = "",
    sort: str = "aberto",
    descending: bool = True,
    page: int = 1,
    per_page: int = PAGE_SIZE,
) -> Page:
    """One page of the requests a person takes part in (Minhas Solicitações, Acompanhamentos).

    Ids come from request_parties in index order (opening date) and only that page's rows are
    loaded; other sorts and partial numbers join the requests table.
    """
    P = RequestParty  # noqa: N806
    ids = select(P.request_id).where(P.user_id == user.id, P.relation == relation.value)
    if state in {s.value for s in State}:
        ids = ids.where(P.state == state)
    cleaned = "".join(ch for ch in number if ch.isalnum()).upper()
    joined = sort != "aberto" or bool(cleaned)
    if joined:
        ids = ids.join(SR, SR.id == P.request_id)
    if exact := exact_number(cleaned):
        ids = ids.where(SR.number == exact)
    elif cleaned:
        ids = ids.where(SR.number.contains(cleaned, autoescape=True))
    if cleaned:
        total, more = _count_to_horizon(session, ids, page, per_page)
    else:
        states = [state] if state in {s.value for s in State} else None
        total, more = _party_sum(session, user, relation, states), False
    page = _clamp(page, total, per_page)
    if sort == "aberto" or sort not in SORTS:
        order = [P.opened_at, P.request_id]
    else:
        if sort == "servico":
            ids = ids.join(CatalogItem, CatalogItem.id == SR.item_id)
        order = [SORTS[sort], P.request_id]
    ids = ids.order_by(*(c.desc() if descending else c.asc() for c in order))
    page_ids = list(session.scalars(ids.limit(per_page).offset((page - 1) * per_page)))
    rows = _rows_by_id(session, page_ids, joinedload(SR.item))
    return Page(rows=rows, total=total, page=page, per_page=per_page, more=more)


def _party_sum(
    session: Session, user: User, relation: PartyRelation, states: list[str] | None = None
) -> int:
    """How many requests `user` has in `relation` (in `states`), from party_counts."""
    statement = _party_sum_statement(relation.value, None if states is None else tuple(states))
    return session.scalar(statement, {"user_id": user.id}) or 0


@functools.cache
def _party_sum_statement(relation: str, states: tuple[str, ...] | None) -> Select[Any]:
    """Built once per shape: list totals run it, and building the statement cost four times
    what running it does (0.56 against 0.13 ms)."""
    return _party_sum_select(bindparam("user_id"), relation, states)


def _party_sum_select(
    user_id: ColumnElement[int], relation: str, states: tuple[str, ...] | None
) -> Select[Any]:
    C = PartyCount  # noqa: N806
    query = select(func.coalesce(func.sum(C.total), 0)).where(
        C.user_id == user_id, C.relation == relation
    )
    if states is not None:
        # Inline constants (states are the enum's values): an expanding IN is re-rendered
        # on every execution.
        query = query.where(C.state.in_([literal_column(f"'{State(s).value}'") for s in states]))
    return query


OPEN_STATES = tuple(sorted(s.value for s in ACTIVE_STATES))


def open_count(session: Session, user: User) -> int:
    """The badge: my requests not yet final (a few counter rows, never my list)."""
    return _party_sum(session, user, PartyRelation.MINE, list(OPEN_STATES))


def signed_in_user(session: Session, token: str) -> tuple[User, int] | None:
    """The user of a session token, with the badge (open_count) read in the same statement.

    The token changes on logout, so an old cookie finds nobody. Every signed-in page needs
    both, and on PostgreSQL each statement is a round trip.
    """
    if not token:
        return None
    row = session.execute(_signed_in_user_statement(), {"token": token}).first()
    return None if row is None else (row[0], row[1])


@functools.cache
def _signed_in_user_statement() -> Select[Any]:
    # Built once; without the organisation, which the layout never shows (a page that does
    # loads it then).
    badge = _party_sum_select(User.id, MINE, OPEN_STATES).scalar_subquery()
    return (
        select(User, badge)
        .where(User.session_token == bindparam("token"), User.active)
        .options(lazyload(User.organisation))
    )


def counts_by_service_and_state(session: Session, user: User) -> list[tuple[str, str, int]]:
    """As Solicitações on the home page: (service, state label, count) of my requests."""
    C = PartyCount  # noqa: N806
    rows = session.execute(
        select(CatalogItem.name, C.state, C.total)
        .join(CatalogItem, CatalogItem.id == C.item_id)
        .where(C.user_id == user.id, C.relation == MINE, C.total > 0)
        .order_by(CatalogItem.name, C.state)
    )
    return [(name, State(state).label, count) for name, state, count in rows]


POPULAR_TTL = 300.0  # seconds


def popular_items(session: Session, user: User, limit: int = 4) -> list[CatalogItem]:
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


def _rank_items(session: Session, organisation_id: int, limit: int) -> list[int]:
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


def current_announcement(session: Session) -> Announcement | None:
    return session.scalar(
        select(Announcement)
        .where(Announcement.active)
        .order_by(Announcement.published_at.desc())
        .limit(1)
    )


class Author(NamedTuple):
    full_name: str

    @property
    def initials(self) -> str:
        return initials_of(self.full_name)


@dataclass(frozen=True)
class TimelineItem:
    """One entry as the request page shows it: read as a plain row, not a TimelineEntry (50
    entries with their authors as ORM objects were a fifth of the page)."""

    id: int
    kind: EntryKind
    public: bool
    body: str
    time_spent_minutes: int | None
    action: str | None
    from_state: str | None
    to_state: str | None
    occurred_at: datetime
    created_at: datetime
    author: Author | None
    attachments: list[Attachment]


# In TimelineItem's field order (timeline() passes them by position), then the author's name.
_TIMELINE_COLUMNS = (
    TimelineEntry.id,
    TimelineEntry.kind,
    TimelineEntry.public,
    TimelineEntry.body,
    TimelineEntry.time_spent_minutes,
    TimelineEntry.action,
    TimelineEntry.from_state,
    TimelineEntry.to_state,
    TimelineEntry.occurred_at,
    TimelineEntry.created_at,
    User.full_name,
)


def timeline(
    session: Session,
    request: ServiceRequest,
    *,
    include_internal: bool,
    attachments: list[Attachment],
) -> list[TimelineItem]:
    """Newest first, with author names; each entry's files come from `attachments` (the
    request's, as attachments_of reads them for the same viewer), so no query per entry."""
    query = (
        select(*_TIMELINE_COLUMNS)
        .outerjoin(User, User.id == TimelineEntry.author_id)
        .where(TimelineEntry.request_id == request.id)
        .order_by(TimelineEntry.created_at.desc(), TimelineEntry.id.desc())
    )
    if not include_internal:
        query = query.where(TimelineEntry.public)
    files: dict[int, list[Attachment]] = defaultdict(list)
    for attachment in reversed(attachments):  # newest first there, in upload order here
        if attachment.entry_id is not None:
            files[attachment.entry_id].append(attachment)
    return [
        TimelineItem(
            *row[:-1],
            author=None if row.full_name is None else Author(row.full_name),
            attachments=files.get(row.id, []),
        )
        for row in session.execute(query)
    ]


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


def _group_condition(group_ids: list[int]) -> ColumnElement[bool]:
    if not group_ids:
        return false()
    # One group as an equality, so the planner reads the queue index in order.
    return SR.group_id == group_ids[0] if len(group_ids) == 1 else SR.group_id.in_(group_ids)


def queue_groups(agent: User, filters: QueueFilters) -> list[int] | None:
    """The groups whose queues the page shows; None means every request (admins)."""
    mine = [g.id for g in agent.groups]
    if filters.group_id:
        return [filters.group_id] if agent.is_admin or filters.group_id in mine else []
    return None if agent.is_admin else mine


def _queue_conditions(agent: User, filters: QueueFilters) -> list[ColumnElement[bool]]:
    """Agents see their groups' queues; "Atribuídas a mim" shows theirs from any group."""
    conditions: list[ColumnElement[bool]] = []
    groups = queue_groups(agent, filters)
    if filters.assigned == "eu":
        conditions.append(SR.assignee_id == agent.id)
        if filters.group_id:
            conditions.append(_group_condition(groups or []))
    elif groups is not None:
        conditions.append(_group_condition(groups))
    if filters.assigned == "ninguem":
        conditions.append(SR.assignee_id.is_(None))
    if filters.state == "todos":
        pass
    elif filters.state in {s.value for s in State}:
        conditions.append(SR.state == filters.state)
    else:
        conditions.append(text(ACTIVE_SQL))  # literal: matches the partial queue indexes
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
        typed = filters.text.strip()
        conditions.append(
            or_(
                SR.number.contains(typed.upper(), autoescape=True),
                SR.description.icontains(typed, autoescape=True),
            )
        )
    return conditions


def _counted_total(session: Session, agent: User, filters: QueueFilters) -> int | None:
    """The exact total from queue_counts when only groups and state filter the queue."""
    if filters.assigned != "qualquer" or filters.item_id or filters.organisation.strip():
        return None
    if filters.text.strip():
        return None
    if filters.state == "todos":
        states = [s.value for s in State]
    elif filters.state in {s.value for s in State}:
        states = [filters.state]
    else:
        states = [s.value for s in ACTIVE_STATES]
    query = select(func.coalesce(func.sum(QueueCount.total), 0)).where(QueueCount.state.in_(states))
    groups = queue_groups(agent, filters)
    if groups is not None:
        query = query.where(QueueCount.group_key.in_(groups))
    return session.scalar(query) or 0


def agent_queue(
    session: Session,
    agent: User,
    filters: QueueFilters,
    *,
    page: int = 1,
    per_page: int = PAGE_SIZE,
) -> Page:
    """One page of the queue: ids read in index order, then that page's rows.

    The total comes from queue_counts when it can; other filters count only as far as ten
    pages past this one ("mais de ..."), so no page ever counts the whole table.
    """
    ids = select(SR.id).where(*_queue_conditions(agent, filters))
    total = _counted_total(session, agent, filters)
    more = False
    if total is None:
        total, more = _count_to_horizon(session, ids, page, per_page)
    page = _clamp(page, total, per_page)
    order = [SR.opened_at, SR.id]
    ids = ids.order_by(*(c.asc() if filters.oldest_first else c.desc() for c in order))
    page_ids = list(session.scalars(ids.limit(per_page).offset((page - 1) * per_page)))
    rows = _rows_by_id(
        session,
        page_ids,
        joinedload(SR.item),
        joinedload(SR.organisation),
        joinedload(SR.assignee).lazyload(User.organisation),
        joinedload(SR.group),
    )
    return Page(rows=rows, total=total, page=page, per_page=per_page, more=more)


def queue_counters(session: Session, agent: User) -> dict[str, int]:
    """Requests per state in the agent's queues, from queue_counts (admins: every group)."""
    query = select(QueueCount.state, func.sum(QueueCount.total)).group_by(QueueCount.state)
    groups = queue_groups(agent, QueueFilters())
    if groups is not None:
        query = query.where(QueueCount.group_key.in_(groups))
    counts = {s.value: 0 for s in State}
    counts.update({state: int(total or 0) for state, total in session.execute(query)})
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


@dataclass(frozen=True)
class StaffOption:
    """One line of the assignment picker."""

    id: int
    full_name: str
    group_names: tuple[str, ...]


def staff_members(session: Session) -> list[StaffOption]:
    """Every active agent and admin with the names of their groups, as plain rows: loading them
    as User objects with organisations and groups was a quarter of a staff request page."""
    groups: dict[int, list[str]] = defaultdict(list)
    memberships = (
        select(group_members.c.user_id, SupportGroup.name)
        .join(SupportGroup, SupportGroup.id == group_members.c.group_id)
        .order_by(SupportGroup.name)
    )
    for user_id, name in session.execute(memberships):
        groups[user_id].append(name)
    people = session.execute(
        select(User.id, User.full_name)
        .where(User.active, User.role.in_(STAFF_ROLES))
        .order_by(User.full_name)
    )
    return [StaffOption(id_, name, tuple(groups[id_])) for id_, name in people]


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
