"""Users kept by admins (Administração > Usuários): create with a first-access e-mail, change
the role, organisation, groups and the "cadastro" permission, deactivate and reactivate,
unlock the sign-in throttle and send a password reset.

It composes services.py and reset.py (one authority each for users, passwords and links) and
adds the rules only an admin's changes need: nobody demotes or deactivates themselves, and
the last active admin stays one. Logs name users by id, never by CPF or e-mail."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select

from portal.accounts import reset, tokens
from portal.accounts.models import LoginAttempt, PasswordResetToken, Role, SupportGroup, User
from portal.accounts.policy import can_manage_accounts
from portal.accounts.services import (
    create_user,
    failures_since,
    normalise_email,
    parse_cpf,
    set_client_registration,
)
from portal.accounts.sessions import sign_out_everywhere
from portal.clients.models import Organisation
from portal.core import audit
from portal.core.actors import Actor
from portal.core.database import DbSession, affected_rows
from portal.core.errors import Conflict, FormErrors, ValidationError, require
from portal.core.outbox import queue_email
from portal.core.timeutil import utcnow

log = logging.getLogger("portal.accounts")


def _group_names(groups: list[SupportGroup]) -> list[str]:
    return sorted(g.name for g in groups)


def _is_self(actor: Actor, user: User) -> bool:
    return actor.id is not None and actor.id == user.id


def _keeps_an_admin(session: DbSession, user: User) -> bool:
    """Whether another active admin remains once `user` stops being one. The active admins'
    rows are locked (PostgreSQL), so two admins demoting each other cannot both succeed."""
    if user.role is not Role.ADMIN or not user.active:
        return True
    admins = session.scalars(
        select(User.id).where(User.role == Role.ADMIN, User.active).with_for_update()
    )
    return any(admin_id != user.id for admin_id in admins)


# ---------------------------------------------------------------- creating


@dataclass
class NewAccount:
    """The new-user form, as typed (organisation and groups already looked up)."""

    cpf: str = ""
    full_name: str = ""
    email: str = ""
    role: str = Role.AGENT.value
    organisation: Organisation | None = None
    groups: list[SupportGroup] = field(default_factory=list)
    may_register_clients: bool = False


def _new_account_problems(session: DbSession, data: NewAccount) -> list[ValidationError]:
    """Every problem of the form at once, with the same checks create_user makes."""
    problems: list[ValidationError] = []
    try:
        digits = parse_cpf(data.cpf)
        if session.scalar(select(User.id).where(User.cpf == digits)):
            problems.append(ValidationError("Já existe um usuário com este CPF.", "cpf"))
    except ValidationError as exc:
        problems.append(exc)
    if not data.full_name.strip():
        problems.append(ValidationError("Informe o nome completo.", "full_name"))
    try:
        normalise_email(data.email)
    except ValidationError as exc:
        problems.append(exc)
    role = Role(data.role) if data.role in {r.value for r in Role} else None
    if role is None:
        problems.append(ValidationError("Escolha o papel.", "role"))
    if data.organisation is None:
        problems.append(ValidationError("Escolha a organização.", "organisation"))
    if data.groups and role is not None and role not in (Role.AGENT, Role.ADMIN):
        problems.append(ValidationError("Solicitantes não fazem parte de grupos.", "groups"))
    archived = [g.name for g in data.groups if not g.active]
    if archived:
        problems.append(ValidationError(f"Grupo arquivado: {', '.join(archived)}.", "groups"))
    if data.may_register_clients and role is not Role.AGENT:
        problems.append(
            ValidationError("A permissão de cadastro é dada a atendentes.", "may_register_clients")
        )
    return problems


def create_account(session: DbSession, actor: Actor, data: NewAccount) -> User:
    """A user without a password, who gets a single-use first-access link by e-mail: an admin
    never types (or learns) anyone's password."""
    require(can_manage_accounts(actor))
    problems = _new_account_problems(session, data)
    if problems:
        raise FormErrors(problems)
    assert data.organisation is not None  # checked above
    user = create_user(
        session,
        actor,
        cpf=data.cpf,
        full_name=data.full_name,
        email=data.email,
        role=data.role,
        organisation=data.organisation,
        password=None,
        groups=data.groups,
    )
    if data.may_register_clients:
        set_client_registration(session, actor, user, True)
    reset.send_first_access(session, user)
    log.info("user created user=%s by=%s", user.id, actor.id)
    return user


# ---------------------------------------------------------------- role, organisation, groups


def change_role(session: DbSession, actor: Actor, user: User, role: str) -> None:
    """A new role. A requester leaves their groups, and only an agent keeps "cadastro"."""
    require(can_manage_accounts(actor))
    try:
        new_role = Role(role)
    except ValueError:
        raise ValidationError("Escolha um papel válido.", "role") from None
    if new_role is user.role:
        return
    if _is_self(actor, user):
        raise ValidationError(
            "Você não pode mudar o seu próprio papel: peça a outro administrador.", "role"
        )
    if new_role is not Role.ADMIN and not _keeps_an_admin(session, user):
        raise ValidationError(
            f"{user.full_name} é o último administrador ativo: dê o papel de administrador a "
            "outra pessoa antes de mudar este.",
            "role",
        )
    before = {
        "role": user.role,
        "groups": _group_names(user.groups),
        "may_register_clients": user.may_register_clients,
    }
    user.role = new_role
    if new_role is Role.REQUESTER:
        user.groups = []
    if new_role is not Role.AGENT:
        user.may_register_clients = False
    session.flush()
    after = {
        "role": user.role,
        "groups": _group_names(user.groups),
        "may_register_clients": user.may_register_clients,
    }
    audit.record(session, actor, "user.role", "user", user.id, before=before, after=after)
    log.info("user role changed user=%s role=%s by=%s", user.id, new_role.value, actor.id)


def change_organisation(
    session: DbSession, actor: Actor, user: User, organisation: Organisation | None
) -> None:
    """The user's ente; requests already opened keep the one they were opened for."""
    require(can_manage_accounts(actor))
    if organisation is None:
        raise ValidationError("Escolha a organização.", "organisation")
    if organisation.id == user.organisation_id:
        return
    before = {"organisation_id": user.organisation_id, "organisation": user.organisation.name}
    user.organisation = organisation
    session.flush()
    after = {"organisation_id": organisation.id, "organisation": organisation.name}
    audit.record(session, actor, "user.organisation", "user", user.id, before=before, after=after)


def set_groups(session: DbSession, actor: Actor, user: User, groups: list[SupportGroup]) -> None:
    """The active groups the user works in become `groups`; memberships of archived groups
    are history and stay as they are."""
    require(can_manage_accounts(actor))
    if groups and not user.is_staff:
        raise ValidationError("Solicitantes não fazem parte de grupos.", "groups")
    current = {g.id for g in user.groups}
    archived = sorted(g.name for g in groups if not g.active and g.id not in current)
    if archived:
        raise ValidationError(f"Grupo arquivado: {', '.join(archived)}.", "groups")
    kept = [g for g in user.groups if not g.active]
    wanted = {g.id: g for g in [*groups, *kept]}
    before = _group_names(user.groups)
    user.groups = sorted(wanted.values(), key=lambda g: g.name)
    session.flush()
    after = _group_names(user.groups)
    if before != after:
        audit.record(
            session,
            actor,
            "user.groups",
            "user",
            user.id,
            before={"groups": before},
            after={"groups": after},
        )


# ---------------------------------------------------------------- active or not


def deactivate(
    session: DbSession, actor: Actor, user: User, *, now: datetime | None = None
) -> None:
    """Desativar: the user can no longer sign in, every session ends at once (the session
    token rotates) and unused reset links die; requests, messages and audit stay."""
    require(can_manage_accounts(actor))
    if not user.active:
        return
    if _is_self(actor, user):
        raise Conflict("Você não pode desativar a sua própria conta.")
    if not _keeps_an_admin(session, user):
        raise Conflict(
            f"{user.full_name} é o último administrador ativo e não pode ser desativado."
        )
    now = now or utcnow()
    user.active = False
    sign_out_everywhere(session, user, now)
    # Their API tokens die with the sessions (authenticate refuses them anyway; this keeps
    # Tokens de acesso true if the user is reactivated).
    tokens.revoke_all(session, user, now)
    for token in session.scalars(
        select(PasswordResetToken).where(
            PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None)
        )
    ):
        token.used_at = now
    session.flush()
    audit.record(
        session,
        actor,
        "user.deactivate",
        "user",
        user.id,
        before={"active": True},
        after={"active": False},
    )
    log.info("user deactivated user=%s by=%s", user.id, actor.id)


def reactivate(session: DbSession, actor: Actor, user: User) -> None:
    """Reativar: the user may sign in again with their password (old sessions stay ended)."""
    require(can_manage_accounts(actor))
    if user.active:
        return
    if user.anonymised_at is not None:  # LGPD: the person is gone for good
        raise Conflict("Um usuário anonimizado não pode ser reativado.")
    user.active = True
    session.flush()
    audit.record(
        session,
        actor,
        "user.reactivate",
        "user",
        user.id,
        before={"active": False},
        after={"active": True},
    )
    log.info("user reactivated user=%s by=%s", user.id, actor.id)


# ---------------------------------------------------------------- sign-in help


@dataclass(frozen=True)
class SignInStatus:
    """The throttle as the sign-in sees it for this user's CPF right now."""

    failures: int
    limit: int
    window_minutes: int

    @property
    def throttled(self) -> bool:
        return self.failures >= self.limit


def sign_in_status(session: DbSession, user: User, *, now: datetime | None = None) -> SignInStatus:
    window: timedelta = current_app.config["LOGIN_WINDOW"]
    since = (now or utcnow()) - window
    failures = failures_since(session, LoginAttempt.cpf, user.cpf, since)
    limit: int = current_app.config["LOGIN_MAX_FAILURES"]
    return SignInStatus(failures, limit, int(window.total_seconds() // 60))


@dataclass(frozen=True)
class Unlocked:
    removed: int
    # An address this CPF failed from that stays over the limit through other CPFs' failures.
    address_still_throttled: bool


def unlock_sign_in(
    session: DbSession, actor: Actor, user: User, *, now: datetime | None = None
) -> Unlocked:
    """Desbloquear acesso: forget the CPF's failed sign-ins. authenticate() counts failures per
    CPF and per address; each row holds both, so deleting the CPF's rows also takes them out
    of their addresses' counts. Other CPFs' failures from the same address are kept: clearing
    them would free an address that is guessing other people's passwords."""
    require(can_manage_accounts(actor))
    now = now or utcnow()
    window: timedelta = current_app.config["LOGIN_WINDOW"]
    limit: int = current_app.config["LOGIN_MAX_FAILURES"]
    since = now - window
    recent = session.scalars(
        select(LoginAttempt.address)
        .where(LoginAttempt.cpf == user.cpf, LoginAttempt.attempted_at >= since)
        .distinct()
    )
    addresses = list(recent)
    before = failures_since(session, LoginAttempt.cpf, user.cpf, since)
    removed = affected_rows(
        session.execute(delete(LoginAttempt).where(LoginAttempt.cpf == user.cpf))
    )
    still = any(
        failures_since(session, LoginAttempt.address, address, since) >= limit
        for address in addresses
    )
    session.flush()
    audit.record(
        session,
        actor,
        "user.unlock",
        "user",
        user.id,
        before={"failed_attempts": before},
        after={"failed_attempts": 0},
    )
    log.info("sign-in unlocked user=%s removed=%s by=%s", user.id, removed, actor.id)
    return Unlocked(removed, still)


def send_password_reset(
    session: DbSession, actor: Actor, user: User, *, now: datetime | None = None
) -> str:
    """E-mail the user a single-use link to choose a new password; someone who never chose one
    gets the first-access e-mail instead. Returns which: "first_access" or "password_reset"."""
    require(can_manage_accounts(actor))
    if not user.active:
        raise Conflict("Reative o usuário antes de enviar a redefinição de senha.")
    now = now or utcnow()
    if user.password_hash is None:
        kind = "first_access"
        reset.send_first_access(session, user, now=now)
    else:
        kind = "password_reset"
        ttl: timedelta = current_app.config["PASSWORD_RESET_TTL"]
        link = reset._issue_reset_link(session, user, ttl, now)
        queue_email(
            session,
            to=[user.email],
            subject="Redefinição de senha do Portal de Atendimento",
            template="accounts/email/password_reset",
            context={"user": user, "link": link, "hours": int(ttl.total_seconds() // 3600)},
        )
        session.flush()
    audit.record(session, actor, "user.send_password_reset", "user", user.id, after={"kind": kind})
    log.info("password link sent user=%s kind=%s by=%s", user.id, kind, actor.id)
    return kind
