"""Who may keep the catalog and its forms: the one place this rule lives."""

from __future__ import annotations

from portal.core.actors import Actor, is_system


def can_manage_catalog(actor: Actor) -> bool:
    """Create and change categories, items and their fields: admins and the system."""
    return is_system(actor) or actor.is_admin
