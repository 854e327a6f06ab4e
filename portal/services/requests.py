"""Opening requests and moving them through the state machine."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from portal import lifecycle
from portal.database import begin_write
from portal.lifecycle import Action, Actor, Outcome, State
from portal.models import (
    CatalogItem,
    EntryKind,
    FieldType,
    Follower,
    PendingUpload,
    ServiceRequest,
    SupportGroup,
    TimelineEntry,
    User,
)
from portal.services import mail, notifications
from portal.services.errors import NotFound, StaleObject, ValidationError
from portal.services.numbering import next_request_number
from portal.services.uploads import attach
from portal.timeutil import utcnow

log = logging.getLogger("portal.requests")

DESCRIPTION_MAX = 20_000


def roles_on(user: User | None, request: ServiceRequest) -> set[Actor]:
    """The state-machine roles a user holds on one request (a staff opener holds both)."""
    if user is None:
        return {Actor.SYSTEM}
    roles: set[Actor] = set()
    if user.is_staff:
        roles.add(Actor.AGENT)
    if user.id in (request.opened_by_id, request.requested_for_id):
        roles.add(Actor.REQUESTER)
    return roles


def clean_field_values(item: CatalogItem, raw: dict[str, Any]) -> dict[str, str]:
    """Check the item's own fields; presets always win over whatever the form sent."""
    values: dict[str, str] = {}
    errors: list[ValidationError] = []
    for field in item.fields:
        if field.preset is not None:
            values[field.key] = field.preset
            continue
        value = str(raw.get(field.key) or "").strip()
        if field.type is FieldType.SELECT and value:
            choices = field.choices_for({**raw, **values})
            if value not in choices:
                errors.append(
                    ValidationError(f"Escolha uma opção válida para {field.label}.", field.key)
                )
                continue
        if field.required and not value:
            errors.append(ValidationError(f"O campo “{field.label}” é obrigatório.", field.key))
            continue
        if len(value) > 2000:
            errors.append(ValidationError(f"O campo “{field.label}” é longo demais.", field.key))
            continue
        if value:
            values[field.key] = value
    if errors:
        raise FormErrors(errors)
    return values


class FormErrors(ValidationError):
    """Several field errors at once, so a form can show them all."""

    def __init__(self, errors: list[ValidationError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def create_request(
    session: Session,
    *,
    actor: User,
    item: CatalogItem,
    requested_for: User,
    description: str,
    values: dict[str, Any],
    followers: Iterable[User] = (),
    extra_phone: str | None = None,
    uploads: list[PendingUpload] | None = None,
    now: datetime | None = None,
) -> ServiceRequest:
    """Open a request: number, state Aberto, "CS... Criado" on the timeline, emails queued."""
    begin_write(session)
    now = now or utcnow()
    follower_list = _unique_users(followers)
    errors, cleaned = check_request_input(
        actor=actor,
        item=item,
        requested_for=requested_for,
        description=description,
        values=values,
        followers=follower_list,
    )
    if errors:
        raise FormErrors(errors)
    description = description.strip()
    request = ServiceRequest(
        number=next_request_number(session),
        item=item,
        opened_by=actor,
        requested_for=requested_for,
        organisation_id=requested_for.organisation_id,
        state=State.OPEN.value,
        field_values=cleaned,
        description=description,
        extra_phone=extra_phone or None,
        group_id=item.group_id,
        opened_at=now,
        updated_at=now,
    )
    session.add(request)
    session.flush()
    for follower in follower_list:
        if follower.id not in (actor.id, requested_for.id):
            session.add(
                Follower(
                    request_id=request.id, user_id=follower.id, added_by_id=actor.id, created_at=now
                )
            )
    created = TimelineEntry(
        request_id=request.id,
        kind=EntryKind.CREATED,
        author_id=actor.id,
        body=f"{request.number} Criado",
        public=True,
        to_state=State.OPEN.value,
        occurred_at=now,
        created_at=now,
    )
    session.add(created)
    session.flush()
    if uploads:
        attach(session, request, created, uploads)
    notifications.request_created(session, request)
    log.info("request %s opened by user=%s", request.number, actor.id)
    return request


def check_request_input(
    *,
    actor: User,
    item: CatalogItem,
    requested_for: User | None,
    description: str,
    values: dict[str, Any],
    followers: Iterable[User],
) -> tuple[list[ValidationError], dict[str, str]]:
    """Every problem of a new request's input at once, and the cleaned item values."""
    errors: list[ValidationError] = []
    if not item.active:
        errors.append(ValidationError("Este serviço não está mais disponível no catálogo.", "form"))
    if requested_for is None or (
        not actor.is_staff and requested_for.organisation_id != actor.organisation_id
    ):
        errors.append(ValidationError("Escolha um usuário do seu ente.", "requested_for"))
    elif not requested_for.active:
        errors.append(ValidationError("Este usuário está inativo.", "requested_for"))
    text = (description or "").strip()
    if not text:
        errors.append(ValidationError("O campo “Descrição” é obrigatório.", "description"))
    elif len(text) > DESCRIPTION_MAX:
        errors.append(ValidationError("A descrição é longa demais.", "description"))
    cleaned: dict[str, str] = {}
    try:
        cleaned = clean_field_values(item, values)
    except FormErrors as exc:
        errors.extend(exc.errors)
    if not actor.is_staff and any(f.organisation_id != actor.organisation_id for f in followers):
        errors.append(ValidationError("Só é possível indicar usuários do seu ente.", "followers"))
    return errors, cleaned


def _unique_users(users: Iterable[User]) -> list[User]:
    seen: dict[int, User] = {}
    for user in users:
        seen.setdefault(user.id, user)
    return list(seen.values())


def fire(
    session: Session,
    request: ServiceRequest,
    action: Action,
    *,
    actor: User | None,
    reason: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Apply one state-machine action and write its timeline entry; actor None is the system.

    `expected_version` is the version the person saw: if the request changed since, nothing is
    written and StaleObject tells them to reload. A concurrent UPDATE is caught the same way.
    """
    now = now or utcnow()
    if expected_version is not None and request.version != expected_version:
        raise StaleObject()
    outcome = lifecycle.transition(
        request.snapshot(), action, roles_on(actor, request), now=now, reason=reason
    )
    for name, value in _after_columns(outcome).items():
        setattr(request, name, value)
    request.updated_at = now
    if action is Action.RESOLVE:
        request.reminded_at = None
    session.add(TimelineEntry(**_transition_entry(request.id, outcome, actor, now)))
    try:
        session.flush()
    except StaleDataError as exc:
        raise StaleObject() from exc
    notifications.transition(session, request, outcome, actor)
    log.info("request %s %s by %s", request.number, action.value, actor.id if actor else "system")
    return outcome


def _after_columns(outcome: Outcome) -> dict[str, Any]:
    """The request's columns a transition sets (besides updated_at and the version)."""
    after = outcome.after
    return {
        "state": after.state.value,
        "resolved_at": after.resolved_at,
        "closed_at": after.closed_at,
        "cancellation_requested": after.cancellation_requested,
    }


def _transition_entry(
    request_id: int, outcome: Outcome, actor: User | None, now: datetime
) -> dict[str, Any]:
    """The timeline entry's columns for one transition."""
    return {
        "request_id": request_id,
        "kind": EntryKind.TRANSITION,
        "author_id": actor.id if actor else None,
        "body": transition_text(outcome),
        "public": True,
        "action": outcome.action.value,
        "from_state": outcome.before.state.value,
        "to_state": outcome.after.state.value,
        "occurred_at": now,
        "created_at": now,
    }


def fire_as_system(
    session: Session,
    batch: list[ServiceRequest],
    action: Action,
    *,
    reason: str | None = None,
    now: datetime | None = None,
) -> int:
    """The system's `action` on many requests at once, for jobs; returns how many moved.

    Each request still goes through the state machine (one it refuses is skipped), but the
    writes are one UPDATE and one INSERT of timeline entries per batch, and the emails one INSERT
    into the outbox. The caller must hold the rows: inside SQLite's write transaction, or
    claimed with FOR UPDATE on PostgreSQL, so no version can change between read and write.
    """
    now = now or utcnow()
    moved: list[tuple[ServiceRequest, Outcome]] = []
    for request in batch:
        try:
            outcome = lifecycle.transition(
                request.snapshot(), action, {Actor.SYSTEM}, now=now, reason=reason
            )
        except lifecycle.TransitionError as exc:
            log.info("%s skipped %s: %s", action.value, request.number, exc)
            continue
        moved.append((request, outcome))
    if not moved:
        return 0
    table = ServiceRequest.__table__
    changed = [_after_columns(outcome) for _, outcome in moved]
    session.execute(
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(
            {
                **{name: bindparam(f"new_{name}") for name in changed[0]},
                "updated_at": now,
                "version": table.c.version + 1,
            }
        ),
        [
            {"row_id": request.id, **{f"new_{name}": value for name, value in columns.items()}}
            for (request, _), columns in zip(moved, changed, strict=True)
        ],
    )
    session.execute(
        insert(TimelineEntry.__table__),
        [_transition_entry(request.id, outcome, None, now) for request, outcome in moved],
    )
    requester = notifications.requester_sides(session, [request.id for request, _ in moved])
    with mail.batched(session):
        for (request, outcome), columns in zip(moved, changed, strict=True):
            _mirror(request, {**columns, "updated_at": now, "version": request.version + 1})
            notifications.transition(
                session, request, outcome, None, requester=requester.get(request.id, [])
            )
    log.info("%s: %d requests by system", action.value, len(moved))
    return len(moved)


def _mirror(request: ServiceRequest, columns: dict[str, Any]) -> None:
    """Show a bulk UPDATE on the loaded object without making the session write it again."""
    for name, value in columns.items():
        set_committed_value(request, name, value)


def _touch(session: Session, request: ServiceRequest, now: datetime) -> None:
    """Note activity without bumping the version: messages and notes never conflict with one
    another, so two people writing on one request at once must both succeed (a version check
    here made the second one fail on PostgreSQL)."""
    table = ServiceRequest.__table__
    session.execute(update(table).where(table.c.id == request.id).values(updated_at=now))
    _mirror(request, {"updated_at": now})


def transition_text(outcome: Outcome) -> str:
    """What the timeline says about a transition (the reason under its label)."""
    label = lifecycle.reason_label(outcome.action)
    if outcome.action is Action.AUTO_CLOSE:
        return outcome.reason or "Fechado automaticamente após o prazo sem resposta."
    if outcome.reason and label:
        return f"{label}:\n{outcome.reason}"
    return outcome.action.label


def get_by_number(session: Session, number: str) -> ServiceRequest | None:
    return session.scalar(select(ServiceRequest).where(ServiceRequest.number == number))


MESSAGE_MAX = 20_000


def can_view(user: User, request: ServiceRequest) -> bool:
    if user.is_staff or user.id in (request.opened_by_id, request.requested_for_id):
        return True
    return any(f.user_id == user.id for f in request.followers)


def add_message(
    session: Session,
    request: ServiceRequest,
    author: User,
    body: str,
    uploads: list[PendingUpload] | None = None,
    *,
    now: datetime | None = None,
) -> TimelineEntry:
    """A public message ("Comentários adicionais") and/or files from anyone who can see it."""
    begin_write(session)
    now = now or utcnow()
    if not can_view(author, request):
        raise NotFound("Solicitação não encontrada.")
    if request.is_final:
        raise ValidationError(
            f"A solicitação está {request.state_label.lower()} e não recebe mais mensagens ou "
            "anexos.",
            "body",
        )
    text = (body or "").strip()
    if not text and not uploads:
        raise ValidationError("Digite uma mensagem ou escolha um arquivo.", "body")
    if len(text) > MESSAGE_MAX:
        raise ValidationError("A mensagem é longa demais.", "body")
    entry = TimelineEntry(
        request_id=request.id,
        kind=EntryKind.COMMENT if text else EntryKind.ATTACHMENT,
        author_id=author.id,
        body=text,
        public=True,
        occurred_at=now,
        created_at=now,
    )
    session.add(entry)
    _touch(session, request, now)
    session.flush()
    if uploads:
        attach(session, request, entry, uploads)
    notifications.message_added(session, request, entry, author)
    return entry


def add_follower(
    session: Session,
    request: ServiceRequest,
    actor: User,
    user: User,
    *,
    now: datetime | None = None,
) -> Follower | None:
    """Name someone to follow the request; requesters may only name people of their ente."""
    if not can_view(actor, request):
        raise NotFound("Solicitação não encontrada.")
    if not actor.is_staff and user.organisation_id != actor.organisation_id:
        raise ValidationError("Só é possível indicar usuários do seu ente.", "follower")
    if not user.active:
        raise ValidationError("Este usuário está inativo.", "follower")
    if user.id in (request.opened_by_id, request.requested_for_id) or any(
        f.user_id == user.id for f in request.followers
    ):
        return None
    follower = Follower(
        request_id=request.id, user_id=user.id, added_by_id=actor.id, created_at=now or utcnow()
    )
    request.followers.append(follower)
    session.flush()
    return follower


def remove_follower(session: Session, request: ServiceRequest, actor: User, user_id: int) -> None:
    """The opener (or staff) removes a follower; a follower may also leave by themselves."""
    if not can_view(actor, request):
        raise NotFound("Solicitação não encontrada.")
    if not (actor.is_staff or actor.id == request.opened_by_id or actor.id == user_id):
        raise ValidationError("Apenas quem abriu a solicitação pode remover acompanhantes.")
    for follower in list(request.followers):
        if follower.user_id == user_id:
            request.followers.remove(follower)
    session.flush()


NOTE_MAX_MINUTES = 24 * 60 * 30


def add_note(
    session: Session,
    request: ServiceRequest,
    author: User,
    body: str,
    *,
    public: bool,
    send_email: bool = False,
    time_spent_minutes: int | None = None,
    occurred_at: datetime | None = None,
    now: datetime | None = None,
) -> TimelineEntry:
    """An agent's note on the work: when it happened, time spent, visible to the requester or
    internal ("Nota interna", staff only), and optionally e-mailed when visible."""
    now = now or utcnow()
    if not author.is_staff:
        raise NotFound("Solicitação não encontrada.")
    text = (body or "").strip()
    if not text:
        raise ValidationError("Escreva a nota.", "body")
    if len(text) > MESSAGE_MAX:
        raise ValidationError("A nota é longa demais.", "body")
    if time_spent_minutes is not None and not 0 <= time_spent_minutes <= NOTE_MAX_MINUTES:
        raise ValidationError("Informe o tempo gasto em minutos (0 ou mais).", "time_spent")
    occurred = occurred_at or now
    if occurred > now + timedelta(minutes=5):
        raise ValidationError("A data da ocorrência não pode estar no futuro.", "occurred_at")
    if send_email and not public:
        raise ValidationError(
            "Só notas visíveis ao solicitante podem ser enviadas ao e-mail.", "send_email"
        )
    entry = TimelineEntry(
        request_id=request.id,
        kind=EntryKind.NOTE,
        author_id=author.id,
        body=text,
        public=public,
        time_spent_minutes=time_spent_minutes or None,
        occurred_at=occurred,
        created_at=now,
    )
    session.add(entry)
    _touch(session, request, now)
    session.flush()
    if public and send_email:
        notifications.note_sent(session, request, entry, author)
    return entry


def assign(
    session: Session,
    request: ServiceRequest,
    actor: User,
    *,
    assignee: User | None,
    group: SupportGroup | None,
    reason: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> TimelineEntry:
    """Atribuir: to an agent (who must be staff) and/or another group; the change and its
    reason go to the timeline as an internal entry."""
    now = now or utcnow()
    if not actor.is_staff:
        raise NotFound("Solicitação não encontrada.")
    if expected_version is not None and request.version != expected_version:
        raise StaleObject()
    if request.is_final:
        raise ValidationError("A solicitação está encerrada e não pode ser reatribuída.")
    if assignee is not None and (not assignee.is_staff or not assignee.active):
        raise ValidationError("Escolha um atendente ativo.", "assignee")
    new_group = group or request.group
    if (
        assignee is not None
        and new_group is not None
        and not actor.is_admin
        and (assignee.id != actor.id and new_group not in assignee.groups)
    ):
        raise ValidationError(
            f"{assignee.full_name} não faz parte do grupo {new_group.name}.", "assignee"
        )
    before = (
        request.assignee.full_name if request.assignee else "ninguém",
        request.group.name if request.group else "nenhum",
    )
    request.assignee = assignee
    request.group = new_group
    request.updated_at = now
    after = (
        assignee.full_name if assignee else "ninguém",
        new_group.name if new_group else "nenhum",
    )
    text = f"Atribuído a {after[0]} (grupo {after[1]}); antes: {before[0]} (grupo {before[1]})."
    if (reason or "").strip():
        text += f"\nMotivo: {reason.strip()}"
    entry = TimelineEntry(
        request_id=request.id,
        kind=EntryKind.ASSIGNMENT,
        author_id=actor.id,
        body=text,
        public=False,
        occurred_at=now,
        created_at=now,
    )
    session.add(entry)
    try:
        session.flush()
    except StaleDataError as exc:
        raise StaleObject() from exc
    return entry
