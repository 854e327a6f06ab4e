"""Opening requests and working on them: messages, followers, notes and assignment.

Every function takes the session and the acting user, asks the area's policy whether that
user may act, flushes and never commits: the caller commits once, with the emails queued in
the same transaction. State changes go through portal.requests.transitions.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from portal.accounts.models import SupportGroup, User
from portal.catalog import formdef, routing, versions
from portal.catalog.formdef import FieldSpec
from portal.catalog.models import CatalogItem
from portal.core import files, request_texts
from portal.core.database import DbSession, begin_write
from portal.core.errors import FormErrors, NotFound, StaleObject, ValidationError
from portal.core.models import PendingUpload
from portal.core.timeutil import utcnow
from portal.requests import notifications, policy
from portal.requests.lifecycle import State
from portal.requests.models import ENTRY_OWNER, EntryKind, Follower, ServiceRequest, TimelineEntry
from portal.requests.numbering import next_request_number
from portal.requests.transitions import fire, fire_as_system, touch
from portal.webhooks import events as webhooks

__all__ = ["FormErrors", "fire", "fire_as_system"]

log = logging.getLogger("portal.requests")

DESCRIPTION_MAX = 20_000
MESSAGE_MAX = 20_000
NOTE_MAX_MINUTES = 24 * 60 * 30


def _not_found() -> NotFound:
    return NotFound("Solicitação não encontrada.")


def clean_field_values(specs: list[FieldSpec], raw: dict[str, Any]) -> dict[str, str]:
    """Check the answers to the item's form (portal.catalog.formdef decides what is valid)."""
    values, errors = formdef.check_answers(specs, raw)
    if errors:
        raise FormErrors(errors)
    return values


def create_request(
    session: DbSession,
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
    version = versions.current_version(session, item)
    errors, cleaned = check_request_input(
        session,
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
        form_version_id=version.id if version is not None else None,
        field_values=cleaned,
        description=description,
        extra_phone=extra_phone or None,
        group_id=routing.route(item, requested_for.organisation),
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
    request_texts.set_request_text(session, request.id, description)
    session.flush()
    if uploads:
        files.attach(session, ENTRY_OWNER, created.id, uploads)
    notifications.request_created(session, request)
    webhooks.emit(session, "request.created", request)
    log.info("request %s opened by user=%s", request.number, actor.id)
    return request


def check_request_input(
    session: DbSession,
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
    if not item.active or item.published_version is None:
        errors.append(ValidationError("Este serviço não está mais disponível no catálogo.", "form"))
    if requested_for is None or not policy.may_name(actor, requested_for):
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
        cleaned = clean_field_values(versions.published_specs(session, item), values)
    except FormErrors as exc:
        errors.extend(exc.errors)
    if not all(policy.may_name(actor, f) for f in followers):
        errors.append(ValidationError("Só é possível indicar usuários do seu ente.", "followers"))
    return errors, cleaned


def _unique_users(users: Iterable[User]) -> list[User]:
    seen: dict[int, User] = {}
    for user in users:
        seen.setdefault(user.id, user)
    return list(seen.values())


def add_message(
    session: DbSession,
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
    if not policy.can_view(author, request):
        raise _not_found()
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
    touch(session, request, now)
    request_texts.append_request_text(session, request.id, text)
    session.flush()
    if uploads:
        files.attach(session, ENTRY_OWNER, entry.id, uploads)
    notifications.message_added(session, request, entry, author)
    webhooks.emit(session, "request.message_added", request, message={"body": text})
    return entry


def add_follower(
    session: DbSession,
    request: ServiceRequest,
    actor: User,
    user: User,
    *,
    now: datetime | None = None,
) -> Follower | None:
    """Name someone to follow the request; requesters may only name people of their ente."""
    if not policy.can_view(actor, request):
        raise _not_found()
    if not policy.may_name(actor, user):
        raise ValidationError("Só é possível indicar usuários do seu ente.", "follower")
    if not user.active:
        raise ValidationError("Este usuário está inativo.", "follower")
    if policy.is_requester(user, request) or policy.is_follower(user, request):
        return None
    follower = Follower(
        request_id=request.id, user_id=user.id, added_by_id=actor.id, created_at=now or utcnow()
    )
    request.followers.append(follower)
    session.flush()
    return follower


def remove_follower(session: DbSession, request: ServiceRequest, actor: User, user_id: int) -> None:
    """The opener (or staff) removes a follower; a follower may also leave by themselves."""
    if not policy.can_view(actor, request):
        raise _not_found()
    if not policy.can_remove_follower(actor, request, user_id):
        raise ValidationError("Apenas quem abriu a solicitação pode remover acompanhantes.")
    for follower in list(request.followers):
        if follower.user_id == user_id:
            request.followers.remove(follower)
    session.flush()


def add_note(
    session: DbSession,
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
    if not policy.can_work(author):
        raise _not_found()
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
    touch(session, request, now)
    request_texts.append_request_text(session, request.id, text)
    session.flush()
    if public and send_email:
        notifications.note_sent(session, request, entry, author)
    if public:  # an internal note is staff-only: no event, nothing of its text leaves
        webhooks.emit(session, "request.message_added", request, message={"body": text})
    return entry


def assign(
    session: DbSession,
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
    if not policy.can_work(actor):
        raise _not_found()
    if expected_version is not None and request.version != expected_version:
        raise StaleObject()
    if request.is_final:
        raise ValidationError("A solicitação está encerrada e não pode ser reatribuída.")
    if assignee is not None and (not assignee.is_staff or not assignee.active):
        raise ValidationError("Escolha um atendente ativo.", "assignee")
    if group is not None and not group.active and group.id != request.group_id:
        raise ValidationError(f"O grupo {group.name} está arquivado.", "group")
    new_group = group or request.group
    if assignee is not None and not policy.may_assign_to(actor, assignee, new_group):
        group_name = new_group.name if new_group else ""
        raise ValidationError(
            f"{assignee.full_name} não faz parte do grupo {group_name}.", "assignee"
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
    if reason and reason.strip():
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
    webhooks.emit(session, "request.assigned", request)
    return entry
