"""Keeping an item's routing rules from Administração: add, remove and order them.

A rule sends the item's new requests to another group when the requester's organisation is
in one of its UFs and/or of one of its kinds ("Portal Rede Atendimento from the Nordeste goes
to Suporte CadÚnico NE"); portal.catalog.routing applies them, first match wins. Same habits
as portal.catalog.admin_services: session and actor, the catalog policy, flush, audit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from portal.accounts.models import SupportGroup
from portal.catalog.admin_services import load_item, step
from portal.catalog.models import RoutingRule
from portal.catalog.policy import can_manage_catalog
from portal.catalog.regions import ALL_UFS, describe_places
from portal.clients.models import OrganisationKind
from portal.core import audit
from portal.core.actors import Actor
from portal.core.database import DbSession
from portal.core.errors import FormErrors, NotFound, ValidationError, require

KIND_ORDER = [kind.value for kind in OrganisationKind]


def _rule_state(rule: RoutingRule) -> dict[str, Any]:
    return {
        "item_id": rule.item_id,
        **audit.snapshot(rule, ("group_id", "ufs", "organisation_kinds", "position")),
    }


def describe_rule(rule: RoutingRule) -> str:
    """The rule in words: "Do Nordeste (AL, BA, ...) → Suporte CadÚnico NE"."""
    parts = []
    if rule.ufs:
        parts.append(describe_places(rule.ufs))
    if rule.organisation_kinds:
        labels = [OrganisationKind(k).label for k in rule.organisation_kinds]
        listed = ", ".join(labels[:-1]) + " ou " + labels[-1] if len(labels) > 1 else labels[0]
        parts.append(f"{'organizações' if parts else 'De organizações'} do tipo {listed}")
    text = ", ".join(parts)
    return f"{text[:1].upper()}{text[1:]} → {rule.group.name}"


def _check_rule(
    session: DbSession, group_id: int | None, ufs: Iterable[str], kinds: Iterable[str]
) -> tuple[list[str], list[str], list[ValidationError]]:
    chosen_ufs = sorted({u.strip().upper() for u in ufs if u.strip()})
    chosen_kinds = sorted({k.strip() for k in kinds if k.strip()}, key=_kind_rank)
    errors = []
    group = session.get(SupportGroup, group_id) if group_id is not None else None
    if group is None or not group.active:
        errors.append(ValidationError("Escolha o grupo que recebe as solicitações.", "group_id"))
    unknown = [u for u in chosen_ufs if u not in ALL_UFS]
    if unknown:
        errors.append(ValidationError(f"UF desconhecida: {', '.join(unknown)}.", "ufs"))
    if any(k not in KIND_ORDER for k in chosen_kinds):
        errors.append(ValidationError("Escolha os tipos de organização da lista.", "kinds"))
    if not chosen_ufs and not chosen_kinds:
        errors.append(
            ValidationError(
                "Escolha ao menos uma UF, região ou tipo de organização: sem condição, a regra "
                "valeria para todos (para isso, mude o grupo do item).",
                "ufs",
            )
        )
    return chosen_ufs, chosen_kinds, errors


def _kind_rank(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def add_rule(
    session: DbSession,
    actor: Actor,
    item_id: int,
    group_id: int | None,
    ufs: Iterable[str] = (),
    kinds: Iterable[str] = (),
) -> RoutingRule:
    """A new rule after the item's others (the first rule that matches wins)."""
    require(can_manage_catalog(actor))
    item = load_item(session, item_id)
    chosen_ufs, chosen_kinds, errors = _check_rule(session, group_id, ufs, kinds)
    same = next(
        (
            r
            for r in item.routing_rules
            if sorted(r.ufs) == chosen_ufs and sorted(r.organisation_kinds) == sorted(chosen_kinds)
        ),
        None,
    )
    if same is not None and not errors:
        errors.append(
            ValidationError(
                f"Já existe uma regra com essas condições: {describe_rule(same)}.", "ufs"
            )
        )
    if errors:
        raise FormErrors(errors)
    rule = RoutingRule(
        item_id=item.id,
        group_id=group_id,
        ufs=chosen_ufs,
        organisation_kinds=chosen_kinds,
        position=len(item.routing_rules),
    )
    item.routing_rules.append(rule)
    session.flush()
    audit.record(
        session, actor, "routing_rule.create", "routing_rule", rule.id, after=_rule_state(rule)
    )
    return rule


def _rule(session: DbSession, item_id: int, rule_id: int) -> RoutingRule:
    """The rule, when it belongs to this item (an id from another item's page is 404)."""
    rule = session.scalar(
        select(RoutingRule).where(RoutingRule.id == rule_id, RoutingRule.item_id == item_id)
    )
    if rule is None:
        raise NotFound()
    return rule


def remove_rule(session: DbSession, actor: Actor, item_id: int, rule_id: int) -> None:
    require(can_manage_catalog(actor))
    item = load_item(session, item_id)
    rule = _rule(session, item_id, rule_id)
    before = _rule_state(rule)
    item.routing_rules.remove(rule)
    for position, other in enumerate(item.routing_rules):
        other.position = position
    session.flush()
    audit.record(session, actor, "routing_rule.remove", "routing_rule", rule_id, before=before)


def move_rule(
    session: DbSession, actor: Actor, item_id: int, rule_id: int, direction: str
) -> RoutingRule:
    """One step up or down: the rules are tried in order, so order decides which group wins."""
    require(can_manage_catalog(actor))
    item = load_item(session, item_id)
    rule = _rule(session, item_id, rule_id)
    before = [r.id for r in item.routing_rules]
    order = step(item.routing_rules, rule.id, direction)
    if order is not None:
        session.flush()
        session.expire(item, ["routing_rules"])
        audit.record(
            session,
            actor,
            "routing_rule.reorder",
            "routing_rule",
            rule.id,
            before={"item_id": item.id, "order": before},
            after={"item_id": item.id, "order": [r.id for r in order]},
        )
    return rule
