"""Read side of accounts: people to name on a request, and the staff and their groups."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import cast

from sqlalchemy import or_, select

from portal.accounts.models import STAFF_ROLES, SupportGroup, User, group_members
from portal.core.database import DbSession


def colleagues(session: DbSession, user: User, *, query: str = "", limit: int = 500) -> list[User]:
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
class StaffOption:
    """One line of the assignment picker."""

    id: int
    full_name: str
    group_names: tuple[str, ...]


def staff_members(session: DbSession) -> list[StaffOption]:
    """Every active agent and admin with the names of their groups, as plain rows: loading them
    as User objects with organisations and groups was a quarter of a staff request page."""
    groups: dict[int, list[str]] = defaultdict(list)
    memberships = (
        select(group_members.c.user_id, SupportGroup.name)
        .join(SupportGroup, SupportGroup.id == group_members.c.group_id)
        .where(SupportGroup.active)
        .order_by(SupportGroup.name)
    )
    for member_id, group_name in session.execute(memberships):
        groups[cast(int, member_id)].append(cast(str, group_name))
    people = session.execute(
        select(User.id, User.full_name)
        .where(User.active, User.role.in_(STAFF_ROLES))
        .order_by(User.full_name)
    )
    return [StaffOption(id_, name, tuple(groups[id_])) for id_, name in people]


def find_people(session: DbSession, text: str, limit: int = 20) -> list[User]:
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


def support_groups(session: DbSession) -> list[SupportGroup]:
    """The groups a picker offers: active ones (an archived group only names old requests)."""
    return list(
        session.scalars(select(SupportGroup).where(SupportGroup.active).order_by(SupportGroup.name))
    )


# ------------------------------------------------------------------ who, for the Auditoria

AUDIT_PEOPLE_LIMIT = 200


def audited_staff(session: DbSession) -> list[tuple[int, str, bool]]:
    """(id, name, active) of the agents and admins who have audit entries (the Auditoria's
    "Quem" select): one index probe per person on audit_entries (actor_id, id)."""
    from portal.core.models import AuditEntry

    has_entries = select(AuditEntry.id).where(AuditEntry.actor_id == User.id).exists()
    rows = session.execute(
        select(User.id, User.full_name, User.active)
        .where(User.role.in_(STAFF_ROLES), has_entries)
        .order_by(User.full_name, User.id)
    )
    return [(row[0], row[1], row[2]) for row in rows]


def people_matching(session: DbSession, typed: str, limit: int = AUDIT_PEOPLE_LIMIT) -> list[int]:
    """Ids of the users (active or not) that the admin user search finds for `typed` (name,
    CPF, e-mail or organisation), for the Auditoria's name filter."""
    from portal.accounts.admin_queries import text_condition

    condition = text_condition(session, typed)
    if condition is None:
        return []
    return list(session.scalars(select(User.id).where(condition).order_by(User.id).limit(limit)))
