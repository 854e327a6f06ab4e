"""Who is told what by email. Messages go to the outbox inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from flask import current_app
from sqlalchemy.orm import Session

from portal.lifecycle import Action, Outcome
from portal.models import ServiceRequest, TimelineEntry, User
from portal.services.mail import queue_email


def request_url(request: ServiceRequest) -> str:
    # From configuration, never from the Host header of whoever triggered the email.
    return f"{current_app.config['BASE_URL']}/solicitacoes/{request.number}"


def requester_side(request: ServiceRequest) -> list[User]:
    """Opener, requested-for user and followers: everyone on the requester's side."""
    people = [request.opened_by, request.requested_for, *(f.user for f in request.followers)]
    return [p for p in people if p is not None and p.active]


def _emails(people: Iterable[User], *, exclude: User | None = None) -> list[str]:
    return sorted({p.email for p in people if exclude is None or p.id != exclude.id})


def _subject(request: ServiceRequest, text: str) -> str:
    return f"[{request.number}] {text}"


def request_created(session: Session, request: ServiceRequest) -> None:
    """Confirmation with the number and a link, to the requester side (the opener included)."""
    queue_email(
        session,
        to=_emails(requester_side(request)),
        subject=_subject(request, f"Solicitação registrada: {request.item.name}"),
        template="request_created",
        context={"request": request, "link": request_url(request)},
        request_id=request.id,
        dedupe_key=f"created:{request.id}",
    )


def staff_side(request: ServiceRequest) -> list[User]:
    """The assignee, or else the members of the assignment group."""
    if request.assignee is not None:
        return [request.assignee] if request.assignee.active else []
    if request.group is not None:
        return [m for m in request.group.members if m.active]
    return []


def message_added(
    session: Session, request: ServiceRequest, entry: TimelineEntry, author: User
) -> None:
    """A public message goes to the other side; nobody is emailed about their own message."""
    if not entry.public:
        return
    recipients = requester_side(request) if author.is_staff else staff_side(request)
    if not author.is_staff:
        # Followers and the requester see each other's messages too.
        recipients = recipients + requester_side(request)
    queue_email(
        session,
        to=_emails(recipients, exclude=author),
        subject=_subject(request, f"Nova mensagem de {author.full_name}"),
        template="message_added",
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
    session: Session, request: ServiceRequest, outcome: Outcome, actor: User | None
) -> None:
    """Emails for state changes the requester side must know about."""
    if outcome.action is Action.RESOLVE:
        days = current_app.config["AUTO_CLOSE_DAYS"]
        closes_at = request.resolved_at + timedelta(days=days) if request.resolved_at else None
        queue_email(
            session,
            to=_emails(requester_side(request), exclude=actor),
            subject=_subject(request, "Solicitação resolvida: aceite ou rejeite a solução"),
            template="request_resolved",
            context={
                "request": request,
                "link": request_url(request),
                "solution": outcome.reason,
                "days": days,
                "closes_at": closes_at,
            },
            request_id=request.id,
            dedupe_key=f"resolved:{request.id}:{request.version}",
        )
    elif outcome.action is Action.AUTO_CLOSE:
        queue_email(
            session,
            to=_emails(requester_side(request)),
            subject=_subject(request, "Solicitação fechada automaticamente"),
            template="request_auto_closed",
            context={"request": request, "link": request_url(request)},
            request_id=request.id,
            dedupe_key=f"autoclosed:{request.id}",
        )


def reminder(session: Session, request: ServiceRequest, *, days_left: int) -> None:
    """ "Sua solicitação CS... será fechada em 2 dias", once per resolution."""
    closes_at = None
    resolved = request.resolved_at.isoformat() if request.resolved_at else ""
    if request.resolved_at:
        closes_at = request.resolved_at + timedelta(days=current_app.config["AUTO_CLOSE_DAYS"])
    queue_email(
        session,
        to=_emails(requester_side(request)),
        subject=_subject(
            request, f"Sua solicitação {request.number} será fechada em {days_left} dias"
        ),
        template="request_reminder",
        context={
            "request": request,
            "link": request_url(request),
            "days_left": days_left,
            "closes_at": closes_at,
        },
        request_id=request.id,
        dedupe_key=f"remind:{request.id}:{resolved}",
    )
