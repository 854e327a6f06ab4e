"""Who may see and keep clients, their contacts and occurrences: the one place these rules
live. Clients and occurrences are staff-only; requesters get 404 everywhere in the area."""

from __future__ import annotations

from typing import Protocol

from portal.core.actors import Actor, SystemActor, administers


class Authored(Protocol):
    """An occurrence, or a list line of one: what the rule reads."""

    @property
    def author_id(self) -> int: ...


def can_see_clients(actor: Actor) -> bool:
    """Clients, their pages and occurrences: agents, admins and the system."""
    return administers(actor) or actor.is_staff


def can_manage_clients(actor: Actor) -> bool:
    """Register and change clients (the wizard, "Dados do cliente"): admins, the system, and
    agents given the "cadastro" permission."""
    if administers(actor):
        return True
    return (
        not isinstance(actor, SystemActor)
        and actor.is_staff
        and bool(getattr(actor, "may_register_clients", False))
    )


def can_record_occurrence(actor: Actor) -> bool:
    return can_see_clients(actor)


def can_edit_occurrence(actor: Actor, occurrence: Authored) -> bool:
    """Only its author changes an occurrence's text, category, impact or date."""
    return not isinstance(actor, SystemActor) and actor.id == occurrence.author_id


def can_remove_occurrence(actor: Actor) -> bool:
    """Removing is an admin's call (and the system's)."""
    return administers(actor)
