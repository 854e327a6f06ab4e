"""Who may keep the registry of client organisations: the one place this rule lives."""

from __future__ import annotations

from portal.core.actors import Actor, is_system


def can_manage_clients(actor: Actor) -> bool:
    """Register and change organisations: admins and the system (command line, demo)."""
    return is_system(actor) or actor.is_admin
