"""Which group receives a new request: the item's first routing rule that matches the
requester's organisation, else the item's own group."""

from __future__ import annotations

from portal.catalog.models import CatalogItem, RoutingRule
from portal.clients.models import Organisation


def rule_matches(rule: RoutingRule, organisation: Organisation | None) -> bool:
    if organisation is None:
        return False
    if rule.ufs and (organisation.uf or "") not in rule.ufs:
        return False
    kind = organisation.kind.value if organisation.kind is not None else ""
    return not (rule.organisation_kinds and kind not in rule.organisation_kinds)


def route(item: CatalogItem, organisation: Organisation | None) -> int | None:
    """The group id for a request of `item` opened for someone of `organisation`."""
    for rule in item.routing_rules:
        if rule_matches(rule, organisation):
            return rule.group_id
    return item.group_id
