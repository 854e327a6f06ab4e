"""Read side of Administração > Usuários and Grupos: the user search, the pickers (people,
organisations, groups) and the group list with its counts. Lists page in SQL and load what
their templates show up front."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, func, or_, select
from sqlalchemy.orm import lazyload, selectinload

from portal.accounts.models import STAFF_ROLES, Role, SupportGroup, User, group_members
from portal.clients.models import Organisation
from portal.clients.queries import folded_match, identifier_prefix, name_matches
from portal.core.database import DbSession
from portal.core.paging import Page
from portal.requests.lifecycle import ACTIVE_STATES
from portal.requests.models import ServiceRequest
from portal.requests.queries import clamp_page, count_to_horizon

PER_PAGE = 25
PICKER_LIMIT = 20
STAFF_PICKER_LIMIT = 200
_CPF_LIKE = re.compile(r"[\d.\-\s/]+")


# ---------------------------------------------------------------- users


@dataclass(frozen=True)
class UserFilters:
    """The user list's filters, as typed in the query string."""

    text: str = ""  # name, CPF (with or without punctuation), e-mail or organisation name
    role: str = ""  # a Role value, or "" for any
    status: str = ""  # "ativos", "desativados" or "" for both

    @classmethod
    def parse(cls, args: Any) -> UserFilters:
        role = args.get("papel", "")
        status = args.get("situacao", "")
        return cls(
            text=" ".join(args.get("q", "").split())[:100],
            role=role if role in {r.value for r in Role} else "",
            status=status if status in ("ativos", "desativados") else "",
        )


def text_condition(session: DbSession, typed: str) -> ColumnElement[bool] | None:
    """What the search box means: digits (formatted or not) search the CPF, an "@" the
    e-mails, anything else the name, the e-mail and the organisation's name (accents and case
    ignored)."""
    if not typed:
        return None
    digits = re.sub(r"\D", "", typed)
    if _CPF_LIKE.fullmatch(typed) and len(digits) >= 3:
        return User.cpf.contains(digits, autoescape=True)
    lowered = typed.lower()
    email = or_(
        User.email.contains(lowered, autoescape=True),
        User.personal_email.contains(lowered, autoescape=True),
    )
    if "@" in typed:
        return email
    organisations = select(Organisation.id).where(name_matches(session, typed))
    return or_(
        folded_match(session, User.full_name, typed),
        email,
        User.organisation_id.in_(organisations),
    )


def _user_ids(session: DbSession, filters: UserFilters) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = []
    if filters.role:
        conditions.append(User.role == Role(filters.role))
    if filters.status:
        conditions.append(User.active.is_(filters.status == "ativos"))
    text = text_condition(session, filters.text)
    if text is not None:
        conditions.append(text)
    return select(User.id).where(*conditions).order_by(User.full_name, User.id)


def user_page(
    session: DbSession, filters: UserFilters, *, page: int = 1, per_page: int = PER_PAGE
) -> Page[User]:
    """One page of users by name: the page's ids, then those users with their organisation
    (joined) and groups (one more statement), however long the page."""
    ids = _user_ids(session, filters)
    total, more = count_to_horizon(session, ids.order_by(None), page, per_page)
    page = clamp_page(page, total, per_page)
    page_ids = list(session.scalars(ids.limit(per_page).offset((page - 1) * per_page)))
    found: dict[int, User] = {}
    if page_ids:
        users = session.scalars(
            select(User).where(User.id.in_(page_ids)).options(selectinload(User.groups))
        )
        found = {u.id: u for u in users}
    rows = [found[i] for i in page_ids if i in found]
    return Page(rows=rows, total=total, page=page, per_page=per_page, more=more)


def users_by_ids(session: DbSession, ids: Iterable[int]) -> list[User]:
    """The users of a submitted picker (ids the server re-checks through the services)."""
    wanted = list(ids)
    if not wanted:
        return []
    return list(
        session.scalars(
            select(User).where(User.id.in_(wanted)).options(lazyload(User.organisation))
        )
    )


def get_user(session: DbSession, user_id: int) -> User | None:
    return session.scalar(select(User).where(User.id == user_id).options(selectinload(User.groups)))


# ---------------------------------------------------------------- pickers


@dataclass(frozen=True)
class OrganisationOption:
    id: int
    name: str
    identifier: str
    uf: str | None

    @property
    def label(self) -> str:
        place = f" ({self.uf})" if self.uf else ""
        return f"{self.name}{place} – {self.identifier}"


def _organisation_options() -> Select[int, str, str, str | None]:
    o = Organisation
    return select(o.id, o.name, o.identifier, o.uf).order_by(o.name, o.id)


def _option(row: Row[int, str, str, str | None]) -> OrganisationOption:
    return OrganisationOption(row[0], row[1], row[2], row[3])


def organisation_options(
    session: DbSession, typed: str, *, chosen_id: int | None = None, limit: int = PICKER_LIMIT
) -> list[OrganisationOption]:
    """Organisations (every one, client or not: 5,597 with every município and UF) whose
    name contains the text or whose identifier starts with it; the chosen one always first."""
    words = " ".join(typed.split())[:100]
    query = _organisation_options()
    if words:
        conditions = [name_matches(session, words)]
        code = identifier_prefix(words)
        if code:
            conditions.append(Organisation.identifier.startswith(code, autoescape=True))
        query = query.where(or_(*conditions))
    found = [_option(row) for row in session.execute(query.limit(limit))]
    if chosen_id and all(o.id != chosen_id for o in found):
        row = session.execute(_organisation_options().where(Organisation.id == chosen_id)).first()
        if row is not None:
            found.insert(0, _option(row))
    return found


def active_groups(session: DbSession) -> list[SupportGroup]:
    """Groups a user may join, by name."""
    return list(
        session.scalars(select(SupportGroup).where(SupportGroup.active).order_by(SupportGroup.name))
    )


@dataclass(frozen=True)
class StaffOption:
    id: int
    full_name: str
    role: Role
    active: bool


def staff_options(
    session: DbSession, typed: str = "", *, limit: int = STAFF_PICKER_LIMIT
) -> list[StaffOption]:
    """Active agents and admins by name (accents ignored): the members picker's options."""
    query = (
        select(User.id, User.full_name, User.role, User.active)
        .where(User.active, User.role.in_(STAFF_ROLES))
        .order_by(User.full_name, User.id)
        .limit(limit)
    )
    if typed.strip():
        query = query.where(folded_match(session, User.full_name, typed))
    return [StaffOption(*row) for row in session.execute(query)]


# ---------------------------------------------------------------- groups


@dataclass(frozen=True)
class GroupRow:
    """One line of the group list."""

    id: int
    name: str
    email: str | None
    active: bool
    members: int
    open_requests: int


def group_rows(session: DbSession) -> list[GroupRow]:
    """Every group, active first, with its member and open-request counts: one statement."""
    members = (
        select(func.count())
        .select_from(group_members)
        .where(group_members.c.group_id == SupportGroup.id)
        .scalar_subquery()
    )
    open_requests = (
        select(func.count())
        .select_from(ServiceRequest)
        .where(
            ServiceRequest.group_id == SupportGroup.id,
            ServiceRequest.state.in_([s.value for s in ACTIVE_STATES]),
        )
        .scalar_subquery()
    )
    query = select(
        SupportGroup.id,
        SupportGroup.name,
        SupportGroup.email,
        SupportGroup.active,
        members,
        open_requests,
    ).order_by(SupportGroup.active.desc(), SupportGroup.name)
    return [
        GroupRow(row[0], row[1], row[2], bool(row[3]), int(row[4] or 0), int(row[5] or 0))
        for row in session.execute(query)
    ]


def get_group(session: DbSession, group_id: int) -> SupportGroup | None:
    return session.scalar(
        select(SupportGroup)
        .where(SupportGroup.id == group_id)
        .options(selectinload(SupportGroup.members).lazyload(User.organisation))
    )
