"""Users, passwords, support groups and sign-in with throttling (reset and first-access links:
portal.accounts.reset)."""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime, timedelta
from functools import cache
from importlib import resources

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm import InstrumentedAttribute
from werkzeug.security import check_password_hash, generate_password_hash

from portal.accounts.history import record_sign_in
from portal.accounts.models import LoginAttempt, Role, SupportGroup, User
from portal.accounts.policy import can_edit_profile, can_manage_accounts
from portal.accounts.sessions import sign_out_everywhere
from portal.clients.models import Organisation
from portal.clients.policy import can_manage_clients
from portal.core import audit
from portal.core.actors import Actor
from portal.core.cpf import InvalidCPF, mask_cpf, normalize_cpf
from portal.core.database import DbSession
from portal.core.errors import Throttled, Unauthorized, ValidationError, require
from portal.core.phone import InvalidPhone, normalize_phone
from portal.core.timeutil import utcnow

log = logging.getLogger("portal.accounts")

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128
PASSWORD_RULES = (
    f"A senha deve ter pelo menos {PASSWORD_MIN_LENGTH} caracteres (até {PASSWORD_MAX_LENGTH}), "
    "não pode ser uma senha comum nem o seu CPF. Frases longas são bem-vindas."
)
USER_AUDITED = ("cpf", "full_name", "email", "personal_email", "phone", "role", "active")


class LoginRefused(Unauthorized):
    """Unknown CPF or wrong password: one message for both, so nobody learns which."""

    def __init__(self) -> None:
        super().__init__("CPF ou senha incorretos.")


class LoginThrottled(Throttled):
    def __init__(self, minutes: int) -> None:
        super().__init__(
            "Muitas tentativas de acesso sem sucesso. "
            f"Aguarde {minutes} minutos e tente novamente, ou redefina sua senha."
        )


# ---------------------------------------------------------------- passwords


@cache
def _common_passwords() -> frozenset[str]:
    text = resources.files("portal").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def password_problem(password: str, *, cpf: str | None = None) -> str | None:
    """Why a new password is refused, or None when it is acceptable (ASVS V6.2)."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"A senha deve ter pelo menos {PASSWORD_MIN_LENGTH} caracteres."
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"A senha pode ter no máximo {PASSWORD_MAX_LENGTH} caracteres."
    if password.strip().lower() in _common_passwords():
        return "Esta senha é muito comum. Escolha outra."
    if cpf and re.sub(r"\D", "", password) == cpf:
        return "A senha não pode ser o seu CPF."
    return None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


@cache
def _dummy_hash() -> str:
    # Checked when the CPF is unknown so both failures take the same time.
    return hash_password(secrets.token_hex(16))


def _store_password(user: User, new_password: str) -> None:
    """Validate and store a new password; every other session of the user ends."""
    problem = password_problem(new_password, cpf=user.cpf)
    if problem:
        raise ValidationError(problem, field="password")
    user.password_hash = hash_password(new_password)
    user.rotate_session_token()


def _audit_password(session: DbSession, actor: Actor, user: User, action: str) -> None:
    audit.record(
        session,
        actor,
        action,
        "user",
        user.id,
        before={"password_hash": "old"},
        after={"password_hash": "new"},
    )


def set_password(session: DbSession, actor: Actor, user: User, new_password: str) -> None:
    """An administrator (or the command line) sets someone's password."""
    require(can_manage_accounts(actor))
    _store_password(user, new_password)
    sign_out_everywhere(session, user)
    _audit_password(session, actor, user, "user.set_password")


def change_password(session: DbSession, user: User, current: str, new_password: str) -> None:
    """Perfil: the user changes their own password, proving they know the current one."""
    if not user.password_hash or not check_password_hash(user.password_hash, current):
        raise ValidationError("A senha atual não confere.", field="current_password")
    _store_password(user, new_password)
    # Every session ends, this browser's too: the view opens a new one for it.
    sign_out_everywhere(session, user)
    _audit_password(session, user, user, "user.change_password")


def update_extra_phone(session: DbSession, actor: Actor, user: User, raw: str) -> None:
    """Perfil: the one contact field people keep themselves (Telefone Adicional)."""
    require(can_edit_profile(actor, user))
    text = (raw or "").strip()
    if text:
        try:
            text = normalize_phone(text)
        except InvalidPhone as exc:
            raise ValidationError(
                "Telefone inválido. Informe o DDD e o número, ex.: (71) 3202-0000.", "extra_phone"
            ) from exc
    before = user.extra_phone
    user.extra_phone = text or None
    session.flush()
    if before != user.extra_phone:
        audit.record(
            session,
            actor,
            "user.update",
            "user",
            user.id,
            before={"extra_phone": before},
            after={"extra_phone": user.extra_phone},
        )


# ---------------------------------------------------------------- organisations and users


def parse_cpf(raw: str) -> str:
    try:
        return normalize_cpf(raw)
    except InvalidCPF as exc:
        raise ValidationError("CPF inválido. Confira os números digitados.", field="cpf") from exc


def normalise_email(raw: str, field: str = "email") -> str:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationError("E-mail inválido.", field=field) from exc


def create_user(
    session: DbSession,
    actor: Actor,
    *,
    cpf: str,
    full_name: str,
    email: str,
    role: str,
    organisation: Organisation,
    password: str | None = None,
    phone: str | None = None,
    personal_email: str | None = None,
    groups: list[SupportGroup] | None = None,
) -> User:
    require(can_manage_accounts(actor))
    return _new_user(
        session,
        actor,
        cpf=cpf,
        full_name=full_name,
        email=email,
        role=role,
        organisation=organisation,
        password=password,
        phone=phone,
        personal_email=personal_email,
        groups=groups,
    )


def create_external_user(
    session: DbSession,
    actor: Actor,
    *,
    cpf: str,
    full_name: str,
    email: str,
    organisation: Organisation,
    phone: str | None = None,
) -> User:
    """A client's contact made a portal user ("Contato como usuário externo"): a requester of
    that organisation without a password, who chooses one through `send_first_access`."""
    require(can_manage_clients(actor))
    return _new_user(
        session,
        actor,
        cpf=cpf,
        full_name=full_name,
        email=email,
        role=Role.REQUESTER.value,
        organisation=organisation,
        phone=phone,
    )


def _new_user(
    session: DbSession,
    actor: Actor,
    *,
    cpf: str,
    full_name: str,
    email: str,
    role: str,
    organisation: Organisation,
    password: str | None = None,
    phone: str | None = None,
    personal_email: str | None = None,
    groups: list[SupportGroup] | None = None,
) -> User:
    digits = parse_cpf(cpf)
    if session.scalar(select(User.id).where(User.cpf == digits)):
        raise ValidationError("Já existe um usuário com este CPF.", "cpf")
    if not (full_name or "").strip():
        raise ValidationError("Informe o nome completo.", "full_name")
    try:
        user_role = Role(role)
    except ValueError as exc:
        options = ", ".join(r.value for r in Role)
        raise ValidationError(f"Papel inválido. Use: {options}.", "role") from exc
    user = User(
        cpf=digits,
        full_name=" ".join(full_name.split()),
        email=normalise_email(email),
        personal_email=normalise_email(personal_email, "personal_email")
        if personal_email
        else None,
        phone=phone,
        role=user_role,
        organisation=organisation,
    )
    if password is not None:
        _store_password(user, password)
    user.groups = list(groups or [])
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        "user.create",
        "user",
        user.id,
        after={
            **audit.snapshot(user, USER_AUDITED),
            "organisation_id": organisation.id,
            "groups": sorted(g.name for g in user.groups),
            "password_hash": user.password_hash,
        },
    )
    return user


def set_client_registration(session: DbSession, actor: Actor, user: User, allowed: bool) -> None:
    """Give or take an agent's "cadastro" permission (registering and editing clients). Only
    agents hold it: admins always may, requesters never."""
    require(can_manage_accounts(actor))
    if allowed and user.role is not Role.AGENT:
        raise ValidationError("A permissão de cadastro é dada a atendentes.", "role")
    before = {"may_register_clients": user.may_register_clients}
    user.may_register_clients = allowed
    session.flush()
    audit.record(
        session,
        actor,
        "user.client_registration",
        "user",
        user.id,
        before=before,
        after={"may_register_clients": allowed},
    )


def find_or_create_group(session: DbSession, actor: Actor, name: str) -> SupportGroup:
    """The support group of that name, created (and audited) when it does not exist yet."""
    group = session.scalar(select(SupportGroup).where(SupportGroup.name == name))
    if group is None:
        require(can_manage_accounts(actor))
        group = SupportGroup(name=name)
        session.add(group)
        session.flush()
        audit.record(session, actor, "group.create", "group", group.id, after={"name": name})
    return group


# ---------------------------------------------------------------- sign-in


def failures_since(
    session: DbSession, column: InstrumentedAttribute[str], value: str, since: datetime
) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(column == value, LoginAttempt.attempted_at >= since)
        )
        or 0
    )


def check_throttle(session: DbSession, cpf: str, address: str, now: datetime) -> None:
    """Raise LoginThrottled when the CPF or the address has too many recent failures (the
    password step and the second-factor code step share this count)."""
    window: timedelta = current_app.config["LOGIN_WINDOW"]
    limit: int = current_app.config["LOGIN_MAX_FAILURES"]
    since = now - window
    if failures_since(session, LoginAttempt.address, address, since) >= limit or (
        cpf and failures_since(session, LoginAttempt.cpf, cpf, since) >= limit
    ):
        log.warning("login throttled cpf=%s address=%s", mask_cpf(cpf), address)
        raise LoginThrottled(int(window.total_seconds() // 60))


def count_failure(session: DbSession, cpf: str, address: str, now: datetime) -> None:
    """One failed attempt (wrong password or wrong code), seen by every worker."""
    session.add(LoginAttempt(cpf=cpf, address=address, attempted_at=now))
    session.flush()


def complete_sign_in(session: DbSession, user: User, address: str, now: datetime) -> None:
    """Every step passed: forget the CPF's failures and note the sign-in. With a second
    factor this waits for the code, or password-then-wrong-code cycles would reset the count."""
    session.execute(delete(LoginAttempt).where(LoginAttempt.cpf == user.cpf))
    user.last_login_at = now
    session.flush()
    log.info("login ok user=%s cpf=%s address=%s", user.id, mask_cpf(user.cpf), address)


def authenticate(
    session: DbSession,
    cpf_raw: str,
    password: str,
    address: str,
    *,
    now: datetime | None = None,
    finish: bool = True,
    user_agent: str = "",
) -> User:
    """Check a CPF and password; failures are counted per CPF and per address in the database
    so that every web worker enforces the same limit. `finish=False` checks the password only
    (the caller asks for the second factor, then calls complete_sign_in). A known user's
    failures go to their sign-in history; the success is recorded when the browser's session
    starts (routes.start_session), the one place both paths end."""
    now = now or utcnow()
    try:
        cpf = normalize_cpf(cpf_raw)
    except InvalidCPF:
        cpf = ""
    user = session.scalar(select(User).where(User.cpf == cpf)) if cpf else None
    try:
        check_throttle(session, cpf, address, now)
    except LoginThrottled:
        if user is not None:
            record_sign_in(session, user, "throttled", address=address, user_agent=user_agent)
        raise
    hashed = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    password_ok = check_password_hash(hashed, password or "")
    if user is None or not user.active or not user.password_hash or not password_ok:
        count_failure(session, cpf, address, now)
        if user is not None:
            # A right password on a deactivated account says so; anything else is a wrong one.
            outcome = "inactive" if password_ok and not user.active else "wrong_password"
            record_sign_in(session, user, outcome, address=address, user_agent=user_agent)
        log.warning("login failed cpf=%s address=%s", mask_cpf(cpf), address)
        raise LoginRefused()
    if finish:
        complete_sign_in(session, user, address, now)
    return user
