"""Who may read, write, review and handle feedback in the Base de Conhecimento: the one place
these rules live. Services require them, views and the search pass their answers on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.core.actors import Actor, SystemActor, administers
from portal.knowledge.models import Visibility

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.knowledge.models import Article, ArticleFeedback, ArticleVersion


def can_read(user: User, article: Article) -> bool:
    """Staff read everything (drafts and internal articles included); everyone else only
    published public articles."""
    if user.is_staff:
        return True
    return article.is_live and not article.archived and article.visibility is Visibility.PUBLIC


def sees_restricted(user: User) -> bool:
    """Internal articles, drafts, counts, feedback and deflection figures."""
    return user.is_staff


def can_write(actor: Actor) -> bool:
    """Agents write drafts (and the system: demo data, the command line)."""
    return administers(actor) or actor.is_staff


def _in_owner_group(user: User, group_id: int | None) -> bool:
    return group_id is not None and any(g.id == group_id for g in user.groups)


def can_review(actor: Actor, version: ArticleVersion) -> bool:
    """Publishing: an admin, or another agent of the owner group than whoever wrote it."""
    if administers(actor):
        return True
    if isinstance(actor, SystemActor) or not actor.is_staff:
        return False
    wrote_it = actor.id in (version.created_by_id, version.updated_by_id)
    return _in_owner_group(actor, version.owner_group_id) and not wrote_it


def can_archive(actor: Actor, article: Article) -> bool:
    return administers(actor) or (
        not isinstance(actor, SystemActor)
        and actor.is_staff
        and _in_owner_group(actor, article.owner_group_id)
    )


def can_handle_feedback(actor: Actor, feedback: ArticleFeedback) -> bool:
    """The owner group's agents (any agent when the article has none), and admins."""
    if administers(actor):
        return True
    if isinstance(actor, SystemActor) or not actor.is_staff:
        return False
    return feedback.owner_group_id is None or _in_owner_group(actor, feedback.owner_group_id)


def can_manage_categories(actor: Actor) -> bool:
    return can_write(actor)
