"""Support groups kept by admins: create, rename and set the e-mail, set the members, archive
and reactivate.

A group is never deleted: closed requests keep naming it. Archiving is refused while anything
still sends work to it (open requests, catalog items, routing rules), so no request is left
in a queue nobody sees."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select

from portal.accounts.models import SupportGroup, User
from portal.accounts.policy import can_manage_accounts
from portal.accounts.services import normalise_email
from portal.catalog.models import CatalogItem, RoutingRule
from portal.core import audit
from portal.core.actors import Actor
from portal.core.database import DbSession
from portal.core.errors import Conflict, FormErrors, ValidationError, require
from portal.core.fulltext import fold
from portal.requests.lifecycle import ACTIVE_STATES
from portal.requests.models import ServiceRequest

log = logging.getLogger("portal.accounts")

NAME_MAX = 120


def _clean_name(session: DbSession, raw: str, group: SupportGroup | None) -> str:
    """The name as stored (spaces collapsed), unique ignoring case and accents: "Suporte
    Cadunico" next to "Suporte CadÚnico" would be two queues nobody tells apart."""
    name = " ".join((raw or "").split())
    if not name:
        raise ValidationError("Informe o nome do grupo.", "name")
    if len(name) > NAME_MAX:
        raise ValidationError(f"O nome pode ter no máximo {NAME_MAX} caracteres.", "name")
    others = session.execute(select(SupportGroup.id, SupportGroup.name))
    wanted = fold(name)
    for other_id, other_name in others:
        if fold(other_name) == wanted and (group is None or other_id != group.id):
            raise ValidationError(f"Já existe um grupo chamado “{other_name}”.", "name")
    return name


def _clean_email(raw: str) -> str | None:
    text = (raw or "").strip()
    return normalise_email(text) if text else None


def _checked(
    session: DbSession, name: str, email: str, group: SupportGroup | None
) -> tuple[str, str | None]:
    """Name and e-mail validated together, so the form shows every problem at once."""
    problems: list[ValidationError] = []
    clean_name, clean_email = "", None
    try:
        clean_name = _clean_name(session, name, group)
    except ValidationError as exc:
        problems.append(exc)
    try:
        clean_email = _clean_email(email)
    except ValidationError as exc:
        problems.append(exc)
    if problems:
        raise FormErrors(problems)
    return clean_name, clean_email


def create_group(session: DbSession, actor: Actor, *, name: str, email: str = "") -> SupportGroup:
    """A new, active group with no members (an optional e-mail receives its notices)."""
    require(can_manage_accounts(actor))
    clean_name, clean_email = _checked(session, name, email, None)
    group = SupportGroup(name=clean_name, email=clean_email, active=True)
    session.add(group)
    session.flush()
    audit.record(
        session,
        actor,
        "group.create",
        "group",
        group.id,
        after={"name": group.name, "email": group.email, "active": True},
    )
    log.info("group created group=%s", group.id)
    return group


def update_group(
    session: DbSession, actor: Actor, group: SupportGroup, *, name: str, email: str
) -> None:
    """Rename the group and set (or clear) its e-mail; one audit entry with what changed."""
    require(can_manage_accounts(actor))
    clean_name, clean_email = _checked(session, name, email, group)
    before = audit.snapshot(group, ("name", "email"))
    group.name, group.email = clean_name, clean_email
    session.flush()
    after = audit.snapshot(group, ("name", "email"))
    if before != after:
        audit.record(session, actor, "group.update", "group", group.id, before=before, after=after)


def _member_names(users: Iterable[User]) -> list[str]:
    return sorted(f"{u.full_name} (usuário {u.id})" for u in users)


def set_members(
    session: DbSession, actor: Actor, group: SupportGroup, members: Iterable[User]
) -> None:
    """The group's members become exactly `members`. Only agents and admins work queues, so a
    requester is refused by name; a deactivated person may stay but not be added."""
    require(can_manage_accounts(actor))
    wanted = {u.id: u for u in members}
    current = {u.id for u in group.members}
    requesters = sorted(u.full_name for u in wanted.values() if not u.is_staff)
    if requesters:
        verb = "é solicitante" if len(requesters) == 1 else "são solicitantes"
        raise ValidationError(
            "Só atendentes e administradores podem fazer parte de um grupo; "
            f"{', '.join(requesters)} {verb}.",
            "members",
        )
    inactive = sorted(u.full_name for u in wanted.values() if not u.active and u.id not in current)
    if inactive:
        raise ValidationError(
            f"Usuários desativados não entram em grupos: {', '.join(inactive)}.", "members"
        )
    before = _member_names(group.members)
    group.members = sorted(wanted.values(), key=lambda u: u.full_name)
    session.flush()
    after = _member_names(group.members)
    if before != after:
        audit.record(
            session,
            actor,
            "group.members",
            "group",
            group.id,
            before={"members": before},
            after={"members": after},
        )


@dataclass(frozen=True)
class RemovalBlockers:
    """What still sends work to a group: it cannot be archived until all are gone."""

    open_requests: int
    items: list[str]  # catalog items whose own group it is
    rules: list[str]  # items with a routing rule that sends requests to it

    def __bool__(self) -> bool:
        return bool(self.open_requests or self.items or self.rules)

    def messages(self, group_name: str) -> list[str]:
        found = []
        if self.open_requests:
            count = self.open_requests
            found.append(
                f"O grupo “{group_name}” tem {count} "
                f"{'solicitação' if count == 1 else 'solicitações'} em aberto: "
                "reatribua-as a outro grupo ou encerre-as antes de arquivá-lo."
            )
        if self.items:
            found.append(
                "Itens do catálogo ainda encaminham solicitações a este grupo: "
                f"{', '.join(self.items)}. Escolha outro grupo para eles."
            )
        if self.rules:
            found.append(
                "Regras de encaminhamento ainda enviam solicitações a este grupo, nos itens: "
                f"{', '.join(self.rules)}. Mude ou remova essas regras."
            )
        return found


def removal_blockers(session: DbSession, group: SupportGroup) -> RemovalBlockers:
    """Open requests (any non-final state), items (withdrawn ones too: they can come back) and
    routing rules that name the group."""
    open_requests = session.scalar(
        select(func.count())
        .select_from(ServiceRequest)
        .where(
            ServiceRequest.group_id == group.id,
            ServiceRequest.state.in_([s.value for s in ACTIVE_STATES]),
        )
    )
    items = session.scalars(
        select(CatalogItem.name).where(CatalogItem.group_id == group.id).order_by(CatalogItem.name)
    )
    rules = session.scalars(
        select(CatalogItem.name)
        .join(RoutingRule, RoutingRule.item_id == CatalogItem.id)
        .where(RoutingRule.group_id == group.id)
        .distinct()
        .order_by(CatalogItem.name)
    )
    return RemovalBlockers(int(open_requests or 0), list(items), list(rules))


def archive_group(session: DbSession, actor: Actor, group: SupportGroup) -> None:
    """ "Remover": the group leaves every picker; its old requests still show its name."""
    require(can_manage_accounts(actor))
    if not group.active:
        return
    blockers = removal_blockers(session, group)
    if blockers:
        raise Conflict(" ".join(blockers.messages(group.name)))
    group.active = False
    session.flush()
    audit.record(
        session,
        actor,
        "group.archive",
        "group",
        group.id,
        before={"active": True},
        after={"active": False},
    )
    log.info("group archived group=%s", group.id)


def reactivate_group(session: DbSession, actor: Actor, group: SupportGroup) -> None:
    """An archived group comes back to the pickers, with the members it had."""
    require(can_manage_accounts(actor))
    if group.active:
        return
    group.active = True
    session.flush()
    audit.record(
        session,
        actor,
        "group.reactivate",
        "group",
        group.id,
        before={"active": False},
        after={"active": True},
    )
