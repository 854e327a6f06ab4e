"""Password reset and first-access links: single-use tokens (only their hash is stored) that
expire, e-mailed to the user; using one sets the password and ends every session."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update

from portal.accounts.models import LoginAttempt, PasswordResetToken, User
from portal.accounts.services import (
    _audit_password,
    _dummy_hash,
    _store_password,
    password_problem,
)
from portal.accounts.sessions import sign_out_everywhere
from portal.core.database import DbSession, affected_rows
from portal.core.errors import ServiceError, ValidationError
from portal.core.outbox import queue_email
from portal.core.timeutil import utcnow

log = logging.getLogger("portal.accounts")


class InvalidResetToken(ServiceError):
    status = 404

    def __init__(self) -> None:
        super().__init__(
            "Este link de redefinição de senha é inválido, já foi usado ou expirou. "
            "Peça um novo em “Esqueci minha senha”."
        )


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _issue_reset_link(session: DbSession, user: User, ttl: timedelta, now: datetime) -> str:
    """A new single-use token for the user (only its hash is stored) and the link that uses it;
    the link's address comes from configuration, never from the request."""
    raw = secrets.token_urlsafe(32)
    session.add(
        PasswordResetToken(
            user_id=user.id, token_hash=_token_hash(raw), created_at=now, expires_at=now + ttl
        )
    )
    return f"{current_app.config['BASE_URL']}/redefinir-senha/{raw}"


def send_first_access(session: DbSession, user: User, *, now: datetime | None = None) -> None:
    """E-mail a user created without a password (an external contact of a client) a single-use
    link to choose one: the reset-token flow, valid for PORTAL_FIRST_ACCESS_HOURS."""
    now = now or utcnow()
    ttl: timedelta = current_app.config["FIRST_ACCESS_TTL"]
    link = _issue_reset_link(session, user, ttl, now)
    queue_email(
        session,
        to=[user.email],
        subject="Seu acesso ao Portal de Atendimento",
        template="accounts/email/first_access",
        context={
            "user": user,
            "organisation": user.organisation,
            "link": link,
            "hours": int(ttl.total_seconds() // 3600),
        },
    )
    session.flush()
    log.info("first access sent user=%s", user.id)


def request_password_reset(
    session: DbSession, corporate_email: str, personal_email: str, *, now: datetime | None = None
) -> None:
    """Send a reset link when both emails identify an active user; silent otherwise, so the
    answer never tells whether an address is registered."""
    now = now or utcnow()
    corporate = corporate_email.strip().lower()
    personal = personal_email.strip().lower()
    if not corporate or not personal:
        return
    user = session.scalar(select(User).where(func.lower(User.email) == corporate, User.active))
    if user is None:
        _dummy_hash()
        return
    expected_personal = (user.personal_email or user.email).lower()
    if personal != expected_personal:
        return
    ttl: timedelta = current_app.config["PASSWORD_RESET_TTL"]
    link = _issue_reset_link(session, user, ttl, now)
    queue_email(
        session,
        to=[user.email],
        subject="Redefinição de senha do Portal de Atendimento",
        template="accounts/email/password_reset",
        context={"user": user, "link": link, "hours": int(ttl.total_seconds() // 3600)},
    )
    session.flush()
    log.info("password reset requested user=%s", user.id)


def find_valid_reset_token(
    session: DbSession, raw_token: str, *, now: datetime | None = None
) -> PasswordResetToken:
    now = now or utcnow()
    token = session.scalar(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == _token_hash(raw_token))
    )
    if token is None or token.used_at is not None or token.expires_at <= now:
        raise InvalidResetToken()
    if not token.user.active:
        raise InvalidResetToken()
    return token


def reset_password(
    session: DbSession, raw_token: str, new_password: str, *, now: datetime | None = None
) -> User:
    """Use a reset token once: set the password, burn every token of the user, end sessions."""
    now = now or utcnow()
    token = find_valid_reset_token(session, raw_token, now=now)
    user = token.user
    problem = password_problem(new_password, cpf=user.cpf)
    if problem:
        raise ValidationError(problem, field="password")
    # Compare-and-set: of two concurrent uses of one token, only one finds it unused.
    burned = session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.id == token.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if affected_rows(burned) != 1:
        raise InvalidResetToken()
    _store_password(user, new_password)
    sign_out_everywhere(session, user, now)
    for other in session.scalars(
        select(PasswordResetToken).where(
            PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None)
        )
    ):
        other.used_at = now
    session.execute(delete(LoginAttempt).where(LoginAttempt.cpf == user.cpf))
    session.flush()
    _audit_password(session, user, user, "user.reset_password")
    log.info("password reset done user=%s", user.id)
    return user
