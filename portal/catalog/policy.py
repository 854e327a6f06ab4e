"""Who may keep the catalog and its forms: the one place this rule lives."""

from __future__ import annotations

from portal.core.actors import Actor, administers


def can_manage_catalog(actor: Actor) -> bool:
    """Create and change categories, items and their fields: admins and the system."""
    return administers(actor)
