"""Who may keep the registry of client organisations: the one place this rule lives."""

from __future__ import annotations

from portal.core.actors import Actor, administers


def can_manage_clients(actor: Actor) -> bool:
    """Register and change organisations: admins and the system (command line, demo)."""
    return administers(actor)
