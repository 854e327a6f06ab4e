"""Who may do what to accounts: the one place these rules live.

Services call these through `require(...)`; views and templates get their answers from the
services or the views, never by re-deriving them from roles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.core.actors import Actor, administers, is_system

if TYPE_CHECKING:
    from portal.accounts.models import User


def can_manage_accounts(actor: Actor) -> bool:
    """Create users, set another person's password, keep support groups: admins and the
    system (command line, demo loader)."""
    return administers(actor)


def can_edit_profile(actor: Actor, user: User) -> bool:
    """Perfil: people keep their own contact phone and password."""
    return not is_system(actor) and actor.id == user.id


def can_end_session(actor: Actor, owner_id: int | None) -> bool:
    """Sessões ativas: people end their own browsers' sessions only (admins deactivate or reset
    a password to end someone else's)."""
    return not is_system(actor) and owner_id is not None and actor.id == owner_id


def can_see_sign_ins(actor: Actor, user: User) -> bool:
    """The sign-in history: the person themselves (Perfil) and admins (Auditoria)."""
    return administers(actor) or (not is_system(actor) and actor.id == user.id)


def can_manage_tokens(actor: Actor, owner_id: int | None) -> bool:
    """Tokens de acesso: people create, list and revoke their own personal access tokens only
    (a deactivation ends everyone's at once)."""
    return not is_system(actor) and owner_id is not None and actor.id == owner_id
