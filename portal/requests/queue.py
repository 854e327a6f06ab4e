"""The Fila de Atendimento: the queue paged in SQL, its filters and counters.

Which groups an agent sees is policy.queue_groups; the totals come from queue_counts (kept by
triggers) whenever only groups and state filter the queue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, select, text
from sqlalchemy.orm import joinedload

from portal.accounts.models import User
from portal.clients.models import Organisation
from portal.core import request_texts
from portal.core.database import DbSession
from portal.core.paging import Page
from portal.requests import policy
from portal.requests.lifecycle import ACTIVE_STATES, State
from portal.requests.models import (
    ACTIVE_SQL,
    NUMBER_DIGITS,
    QueueCount,
    ServiceRequest,
    format_number,
)
from portal.requests.queries import PAGE_SIZE, clamp_page, count_to_horizon, rows_by_id

SR = ServiceRequest
# A text search counts two pages ahead ("mais de 60"), not ten: each row counted costs a
# look-up in the text index, the largest part of a text search's time (bench: 157 req/s
# against 224 for the plain queue on PostgreSQL at 100k).
TEXT_PAGES_AHEAD = 2
# What a typed request number looks like: "CS0000123", "cs123", or digits only.
NUMBER_TYPED = re.compile(r"(cs)?(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class QueueFilters:
    """Fila de Atendimento filters, as typed in the query string."""

    state: str = ""  # "" = every active state, "todos" = all
    group_id: int | None = None
    assigned: str = "qualquer"  # "eu", "ninguem", "qualquer"
    item_id: int | None = None
    organisation: str = ""
    # One client's requests (the client page links here): an organisation id.
    client_id: int | None = None
    text: str = ""
    oldest_first: bool = False


def _group_condition(group_ids: list[int]) -> ColumnElement[bool]:
    if not group_ids:
        return false()
    # One group as an equality, so the planner reads the queue index in order.
    return SR.group_id == group_ids[0] if len(group_ids) == 1 else SR.group_id.in_(group_ids)


def _queue_conditions(
    session: DbSession, agent: User, filters: QueueFilters
) -> list[ColumnElement[bool]]:
    """Agents see their groups' queues; "Atribuídas a mim" shows theirs from any group."""
    conditions: list[ColumnElement[bool]] = []
    groups = policy.queue_groups(agent, filters.group_id)
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
        # Literal: matches the partial queue indexes.
        conditions.append(text(ACTIVE_SQL))  # type: ignore[arg-type]
    if filters.item_id:
        conditions.append(SR.item_id == filters.item_id)
    if filters.client_id:
        conditions.append(SR.organisation_id == filters.client_id)
    if filters.organisation.strip():
        conditions.append(
            SR.organisation_id.in_(
                select(Organisation.id).where(
                    Organisation.name.icontains(filters.organisation.strip(), autoescape=True)
                )
            )
        )
    number = _number_condition(filters.text)
    if number is not None:
        conditions.append(number)
    return conditions


def _number_condition(typed: str) -> ColumnElement[bool] | None:
    """A request number ("CS0000123", "cs123", digits) matches the number."""
    number = NUMBER_TYPED.fullmatch("".join(typed.split()))
    if not number:
        return None
    digits = number.group(2)
    if number.group(1) and len(digits) <= NUMBER_DIGITS:
        return SR.number == format_number(int(digits))
    return SR.number.contains(digits, autoescape=True)


def searches_text(filters: QueueFilters) -> bool:
    typed = filters.text.strip()
    return bool(typed) and _number_condition(typed) is None


def queue_ids(session: DbSession, agent: User, filters: QueueFilters) -> Select[Any]:
    """The queue's ids in its order. Other text than a number searches the full-text index of
    the description, messages, notes and reasons (portal.core.fulltext), and the index drives:
    the newest matches by number (the order requests were opened) are read until the page is
    full, so a common word costs the same at 10k and 1M requests."""
    conditions = _queue_conditions(session, agent, filters)
    typed = filters.text.strip()
    ascending = filters.oldest_first
    if not searches_text(filters):
        order = [SR.opened_at, SR.id]
        ids = select(SR.id).where(*conditions)
        return ids.order_by(*(c.asc() if ascending else c.desc() for c in order))
    match = request_texts.requests_matching(session, typed)
    if match is None:
        return select(SR.id).where(false())
    ids = select(SR.id).select_from(match.source).join(SR, SR.id == match.key)
    ids = ids.where(match.condition, *conditions)
    return ids.order_by(match.key.asc() if ascending else match.key.desc())


def _counted_total(session: DbSession, agent: User, filters: QueueFilters) -> int | None:
    """The exact total from queue_counts when only groups and state filter the queue."""
    if filters.assigned != "qualquer" or filters.item_id or filters.organisation.strip():
        return None
    if filters.client_id:
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
    groups = policy.queue_groups(agent, filters.group_id)
    if groups is not None:
        query = query.where(QueueCount.group_key.in_(groups))
    return session.scalar(query) or 0


def agent_queue(
    session: DbSession,
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
    ids = queue_ids(session, agent, filters)
    total = _counted_total(session, agent, filters)
    more = False
    if total is None:
        ahead = TEXT_PAGES_AHEAD if searches_text(filters) else 10
        total, more = count_to_horizon(session, ids.order_by(None), page, per_page, ahead)
    page = clamp_page(page, total, per_page)
    page_ids = list(session.scalars(ids.limit(per_page).offset((page - 1) * per_page)))
    rows = rows_by_id(
        session,
        page_ids,
        joinedload(SR.item),
        joinedload(SR.organisation),
        joinedload(SR.assignee).lazyload(User.organisation),
        joinedload(SR.group),
    )
    return Page(rows=rows, total=total, page=page, per_page=per_page, more=more)


def queue_counters(session: DbSession, agent: User) -> dict[str, int]:
    """Requests per state in the agent's queues, from queue_counts (admins: every group)."""
    query = select(QueueCount.state, func.sum(QueueCount.total)).group_by(QueueCount.state)
    groups = policy.queue_groups(agent)
    if groups is not None:
        query = query.where(QueueCount.group_key.in_(groups))
    counts = {s.value: 0 for s in State}
    counts.update({state: int(total or 0) for state, total in session.execute(query)})
    return counts
