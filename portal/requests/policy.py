"""Who may see and do what on a request: the one place these rules live.

Services call these before they act (and raise NotFound, so an outsider learns nothing), the
views pass their answers to the templates, and the read queries follow the same rules: the
personal lists read request_parties, which holds exactly the people `can_view` names besides
staff, and the queue is staff-only and limited by `queue_groups`. Staff here means agents and
admins (`User.is_staff`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.requests.lifecycle import Actor

if TYPE_CHECKING:
    from portal.accounts.models import SupportGroup, User
    from portal.requests.models import ServiceRequest


def is_requester(user: User, request: ServiceRequest) -> bool:
    """The opener or the person the request was opened for."""
    return user.id in (request.opened_by_id, request.requested_for_id)


def is_follower(user: User, request: ServiceRequest) -> bool:
    return any(f.user_id == user.id for f in request.followers)


def roles_on(user: User | None, request: ServiceRequest) -> set[Actor]:
    """The state-machine roles a user holds on one request (a staff opener holds both)."""
    if user is None:
        return {Actor.SYSTEM}
    roles: set[Actor] = set()
    if user.is_staff:
        roles.add(Actor.AGENT)
    if is_requester(user, request):
        roles.add(Actor.REQUESTER)
    return roles


def can_view(user: User, request: ServiceRequest) -> bool:
    """Staff, the opener, the requested-for user and the followers; nobody else."""
    return user.is_staff or is_requester(user, request) or is_follower(user, request)


def sees_internal(user: User) -> bool:
    """Internal notes, their files, the assignment and the Histórico are for staff only."""
    return user.is_staff


def can_download(user: User, request: ServiceRequest, *, entry_public: bool) -> bool:
    """A file of a request: whoever sees the request, when its entry is public; staff always."""
    return can_view(user, request) and (entry_public or sees_internal(user))


def can_work(user: User) -> bool:
    """Notes, assignment and the queue: the support staff."""
    return user.is_staff


def may_name(actor: User, person: User) -> bool:
    """Whom someone may name as requested-for user or follower: staff anyone, a requester
    only people of their own ente."""
    return actor.is_staff or person.organisation_id == actor.organisation_id


def can_remove_any_follower(actor: User, request: ServiceRequest) -> bool:
    """Staff and the opener manage the followers."""
    return actor.is_staff or actor.id == request.opened_by_id


def can_remove_follower(actor: User, request: ServiceRequest, user_id: int) -> bool:
    """...and a follower may always leave by themselves."""
    return can_remove_any_follower(actor, request) or actor.id == user_id


def may_assign_to(actor: User, assignee: User, group: SupportGroup | None) -> bool:
    """An agent assigns within the assignee's groups (or to themselves); admins anywhere."""
    return actor.is_admin or group is None or assignee.id == actor.id or group in assignee.groups


def queue_groups(agent: User, group_id: int | None = None) -> list[int] | None:
    """The groups whose queue an agent may see (filtered to `group_id`); None: every request
    (admins). An agent asking for another group's queue gets none."""
    mine = [g.id for g in agent.groups]
    if group_id:
        return [group_id] if agent.is_admin or group_id in mine else []
    return None if agent.is_admin else mine
