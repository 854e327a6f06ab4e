"""Who is told what by email. Messages go to the outbox inside the caller's transaction.

Rules: nobody is emailed about their own action (the creation receipt excepted), internal
notes never reach the requester side, and every recipient can see the request (requester
side: opener, requested-for user and followers; staff side: the assignee, else the group).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import NamedTuple, Protocol

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import object_session

from portal.accounts.models import STAFF_ROLES, User, group_members
from portal.core.database import DbSession
from portal.core.outbox import queue_email
from portal.requests import lifecycle
from portal.requests.lifecycle import Action, Outcome
from portal.requests.models import RequestParty, ServiceRequest, TimelineEntry

CANCELLATIONS = {Action.CANCEL, Action.CONFIRM_CANCEL, Action.REQUESTER_CANCEL}
# action: (who hears of it, subject, headline)
EVENTS: dict[Action, tuple[str, str, str]] = {
    Action.ACCEPT: ("staff", "Solução aceita", "{actor} aceitou a solução da solicitação."),
    Action.REJECT: ("staff", "Solução rejeitada", "{actor} rejeitou a solução da solicitação."),
    Action.REQUEST_CANCEL: (
        "staff",
        "Cancelamento pedido",
        "{actor} pediu o cancelamento da solicitação.",
    ),
    Action.DECLINE_CANCEL: (
        "requester",
        "Cancelamento recusado",
        "O atendimento recusou o pedido de cancelamento.",
    ),
    Action.CANCEL: ("both", "Solicitação cancelada", "A solicitação foi cancelada."),
    Action.CONFIRM_CANCEL: ("both", "Solicitação cancelada", "O cancelamento foi confirmado."),
    Action.REQUESTER_CANCEL: ("both", "Solicitação cancelada", "{actor} cancelou a solicitação."),
}


def request_url(request: ServiceRequest) -> str:
    # From configuration, never from the Host header of whoever triggered the email.
    return f"{current_app.config['BASE_URL']}/solicitacoes/{request.number}"


class Addressee(Protocol):
    """What an email needs of a person: a User, or a Recipient read without one."""

    @property
    def id(self) -> int: ...

    @property
    def email(self) -> str: ...


class Recipient(NamedTuple):
    id: int
    email: str


def requester_side(request: ServiceRequest) -> list[User]:
    """Opener, requested-for user and followers: everyone on the requester's side."""
    people = [request.opened_by, request.requested_for, *(f.user for f in request.followers)]
    return [p for p in people if p is not None and p.active]


def requester_sides(session: DbSession, request_ids: Sequence[int]) -> dict[int, list[Recipient]]:
    """requester_side of many requests in one query, as addresses, for bulk jobs: the same
    people, read from request_parties, which the database keeps equal to the opener, the
    requested-for user and the followers (no User object per person and request)."""
    rows = session.execute(
        select(RequestParty.request_id, User.id, User.email)
        .join(User, User.id == RequestParty.user_id)
        .where(RequestParty.request_id.in_(request_ids), User.active)
    )
    sides: dict[int, list[Recipient]] = defaultdict(list)
    for request_id, user_id, email in rows:
        sides[request_id].append(Recipient(user_id, email))
    return sides


def staff_side(request: ServiceRequest) -> list[Addressee]:
    """The assignee, or else the active staff members of the assignment group."""
    if request.assignee is not None:
        return [request.assignee] if request.assignee.active else []
    if request.group_id is None:
        return []
    # Addresses only: a group has dozens of agents, and every new request emails them all.
    session = object_session(request)
    assert session is not None
    rows = session.execute(
        select(User.id, User.email)
        .join(group_members, group_members.c.user_id == User.id)
        .where(
            group_members.c.group_id == request.group_id,
            User.active,
            User.role.in_(STAFF_ROLES),
        )
    )
    return [Recipient(id, email) for id, email in rows]


def _emails(people: Iterable[Addressee], *, exclude: User | None = None) -> list[str]:
    return sorted({p.email for p in people if exclude is None or p.id != exclude.id})


def _subject(request: ServiceRequest, text: str) -> str:
    return f"[{request.number}] {text}"


def request_created(session: DbSession, request: ServiceRequest) -> None:
    """Receipt with the number and a link to the requester side; the queue hears of it too."""
    queue_email(
        session,
        to=_emails(requester_side(request)),
        subject=_subject(request, f"Solicitação registrada: {request.item.name}"),
        template="requests/email/created",
        context={"request": request, "link": request_url(request)},
        request_id=request.id,
        dedupe_key=f"created:{request.id}",
    )
    queue_email(
        session,
        to=_emails(staff_side(request), exclude=request.opened_by),
        subject=_subject(request, f"Nova solicitação na fila: {request.item.name}"),
        template="requests/email/created_staff",
        context={"request": request, "link": request_url(request)},
        request_id=request.id,
        dedupe_key=f"created-staff:{request.id}",
    )


def message_added(
    session: DbSession, request: ServiceRequest, entry: TimelineEntry, author: User
) -> None:
    """A public message goes to the other side: staff → requester side, requester → staff."""
    recipients = requester_side(request) if author.is_staff else staff_side(request)
    _message(session, request, entry, author, recipients, f"Nova mensagem de {author.full_name}")


def note_sent(
    session: DbSession, request: ServiceRequest, entry: TimelineEntry, author: User
) -> None:
    """A visible note with "Enviar ao e-mail" checked ("Mensagem ao solicitante")."""
    _message(session, request, entry, author, requester_side(request), "Mensagem do atendimento")


def _message(
    session: DbSession,
    request: ServiceRequest,
    entry: TimelineEntry,
    author: User,
    recipients: Iterable[Addressee],
    subject: str,
) -> None:
    if not entry.public:  # internal notes never leave the staff side
        return
    queue_email(
        session,
        to=_emails(recipients, exclude=author),
        subject=_subject(request, subject),
        template="requests/email/message_added",
        context={
            "request": request,
            "entry": entry,
            "author": author,
            "link": request_url(request),
        },
        request_id=request.id,
        dedupe_key=f"message:{entry.id}",
    )


def transition(
    session: DbSession,
    request: ServiceRequest,
    outcome: Outcome,
    actor: User | None,
    *,
    requester: Sequence[Addressee] | None = None,
) -> None:
    """Emails for the state changes each side must know about. A bulk job passes the
    requester side it read for the whole batch (requester_sides)."""
    action = outcome.action

    def requester_people() -> Sequence[Addressee]:
        # Only when the action concerns them: a staff-only event loads no requester side.
        return requester_side(request) if requester is None else requester

    key = f"{action.value}:{request.id}:{request.version}"
    if action is Action.RESOLVE:
        days = current_app.config["AUTO_CLOSE_DAYS"]
        closes_at = lifecycle.closes_at(outcome.after, days)
        queue_email(
            session,
            to=_emails(requester_people(), exclude=actor),
            subject=_subject(request, "Solicitação resolvida: aceite ou rejeite a solução"),
            template="requests/email/resolved",
            context={
                "request": request,
                "link": request_url(request),
                "solution": outcome.reason,
                "days": days,
                "closes_at": closes_at,
            },
            request_id=request.id,
            dedupe_key=key,
        )
    elif action is Action.AUTO_CLOSE:
        queue_email(
            session,
            to=_emails(requester_people()),
            subject=_subject(request, "Solicitação fechada automaticamente"),
            template="requests/email/auto_closed",
            context={"request": request, "link": request_url(request)},
            request_id=request.id,
            dedupe_key=f"autoclosed:{request.id}",
        )
    elif action in EVENTS:
        side, subject, headline = EVENTS[action]
        people: list[Addressee] = []
        if side in ("requester", "both"):
            people += requester_people()
        if side in ("staff", "both"):
            people += staff_side(request)
        queue_email(
            session,
            to=_emails(people, exclude=actor),
            subject=_subject(request, subject),
            template="requests/email/event",
            context={
                "request": request,
                "link": request_url(request),
                "headline": headline.format(actor=actor.full_name if actor else "O sistema"),
                "reason": outcome.reason,
            },
            request_id=request.id,
            dedupe_key=key,
        )


def reminder(session: DbSession, request: ServiceRequest, *, days_left: int) -> None:
    """ "Sua solicitação CS... será fechada em 2 dias", once per resolution."""
    resolved = request.resolved_at.isoformat() if request.resolved_at else ""
    closes_at = lifecycle.closes_at(request.snapshot(), current_app.config["AUTO_CLOSE_DAYS"])
    queue_email(
        session,
        to=_emails(requester_side(request)),
        subject=_subject(
            request, f"Sua solicitação {request.number} será fechada em {days_left} dias"
        ),
        template="requests/email/reminder",
        context={
            "request": request,
            "link": request_url(request),
            "days_left": days_left,
            "closes_at": closes_at,
        },
        request_id=request.id,
        dedupe_key=f"remind:{request.id}:{resolved}",
    )
