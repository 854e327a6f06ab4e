"""Two-factor sign-in (TOTP, RFC 6238): enrolment, the code step, recovery codes, and the
admin's reset.

Agents and admins must have it; requesters may. The secret is stored sealed with a key derived
from SECRET_KEY (portal.core.secretbox) because it has to be read back; recovery codes are
random and high-entropy, so a plain SHA-256 of each is enough. A code's time step is kept in
`totp_last_step` and the same or an older step is refused, so a code seen over a shoulder
cannot be used again. Wrong codes count in the same LoginAttempt throttle as wrong passwords.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import segno
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash

from portal.accounts import sessions as user_sessions
from portal.accounts.history import record_sign_in
from portal.accounts.models import RecoveryCode, User
from portal.accounts.policy import can_manage_accounts
from portal.accounts.services import (
    LoginThrottled,
    check_throttle,
    complete_sign_in,
    count_failure,
)
from portal.core import audit
from portal.core.actors import Actor
from portal.core.database import DbSession
from portal.core.errors import Conflict, ValidationError, require
from portal.core.secretbox import SecretUnreadable, open_sealed, seal
from portal.core.timeutil import utcnow

log = logging.getLogger("portal.accounts")

PURPOSE = "totp-secret"
ISSUER = "Portal de Atendimento"
STEP_SECONDS = 30
# One step either side of now: a phone clock a little off still works (RFC 6238 §5.2).
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
# 10 characters from 31 unambiguous ones (no 0/o, 1/l/i): about 49 bits per code.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"

WRONG_CODE = "Código incorreto ou já utilizado. Confira o aplicativo e tente novamente."


def is_enabled(user: User) -> bool:
    return user.totp_enabled_at is not None and user.totp_secret is not None


def required_for(user: User) -> bool:
    """Staff must sign in with a second factor; requesters choose."""
    return user.is_staff


def setup_required(user: User) -> bool:
    """A staff account without a second factor may only reach the set-up page (and logout)."""
    return required_for(user) and not is_enabled(user)


# ---------------------------------------------------------------- secrets and codes


def new_secret() -> str:
    """A fresh base32 secret (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32(32)


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(user: User, secret: str) -> str:
    # The account name is the first name, not the CPF or e-mail: the URI sits in a QR code
    # on screen and in the authenticator app's list.
    return pyotp.TOTP(secret).provisioning_uri(
        name=user.first_name or "usuario", issuer_name=ISSUER
    )


def qr_data_uri(uri: str) -> str:
    """The QR code as an SVG data URI: drawn here, no third-party service sees the secret."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


def _step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (within the window) whose code is `code`, or None."""
    totp = pyotp.TOTP(secret)
    current = _step(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _normalised(raw: str) -> str:
    return "".join(ch for ch in (raw or "").lower() if ch.isalnum())


def _hash_recovery(code: str) -> str:
    return hashlib.sha256(_normalised(code).encode()).hexdigest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _replace_recovery_codes(session: DbSession, user: User, now: datetime) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(
        RecoveryCode(user_id=user.id, code_hash=_hash_recovery(c), created_at=now) for c in codes
    )
    session.flush()
    return codes


def recovery_codes_left(session: DbSession, user: User) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def _stored_secret(user: User) -> str | None:
    if user.totp_secret is None:
        return None
    try:
        return open_sealed(user.totp_secret, PURPOSE)
    except SecretUnreadable:
        # SECRET_KEY changed: codes cannot be checked; recovery codes still work.
        log.error("totp secret unreadable user=%s", user.id)
        return None


# ---------------------------------------------------------------- enrolment


def enable(
    session: DbSession, user: User, secret: str, code: str, *, now: datetime | None = None
) -> list[str]:
    """Turn the second factor on once a code from the new secret proves the app has it;
    returns the ten recovery codes, shown once and kept only hashed."""
    now = now or utcnow()
    if is_enabled(user):
        raise Conflict("A verificação em duas etapas já está ativada.")
    step = matching_step(secret, _normalised(code), now)
    if step is None:
        raise ValidationError(
            "Código incorreto. Digite os 6 dígitos que o aplicativo mostra agora.", field="code"
        )
    user.totp_secret = seal(secret, PURPOSE)
    user.totp_enabled_at = now
    user.totp_last_step = step
    codes = _replace_recovery_codes(session, user, now)
    audit.record(
        session, user, "user.enable_two_factor", "user", user.id, after={"two_factor": True}
    )
    log.info("two-factor enabled user=%s", user.id)
    return codes


def regenerate_recovery_codes(
    session: DbSession, user: User, *, now: datetime | None = None
) -> list[str]:
    """New recovery codes; the old ones stop working."""
    if not is_enabled(user):
        raise Conflict("Ative a verificação em duas etapas primeiro.")
    codes = _replace_recovery_codes(session, user, now or utcnow())
    audit.record(
        session,
        user,
        "user.regenerate_recovery_codes",
        "user",
        user.id,
        after={"recovery_codes": RECOVERY_CODE_COUNT},
    )
    return codes


def _clear(session: DbSession, user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.flush()


def disable(session: DbSession, user: User, password: str) -> None:
    """A requester turns it off, confirming with the password; staff cannot."""
    if required_for(user):
        raise Conflict("Atendentes e administradores precisam da verificação em duas etapas.")
    if not user.password_hash or not check_password_hash(user.password_hash, password or ""):
        raise ValidationError("A senha não confere.", field="password")
    if not is_enabled(user):
        return
    _clear(session, user)
    audit.record(
        session,
        user,
        "user.disable_two_factor",
        "user",
        user.id,
        before={"two_factor": True},
        after={"two_factor": False},
    )
    log.info("two-factor disabled user=%s", user.id)


def reset(session: DbSession, actor: Actor, user: User) -> None:
    """Admin: forget the user's second factor (lost phone); every session of theirs ends and
    staff must set it up again at the next sign-in."""
    require(can_manage_accounts(actor))
    was_enabled = is_enabled(user)
    _clear(session, user)
    user_sessions.end_all(session, user)
    session.flush()
    audit.record(
        session,
        actor,
        "user.reset_two_factor",
        "user",
        user.id,
        before={"two_factor": was_enabled},
        after={"two_factor": False},
    )
    log.info("two-factor reset user=%s by=%s", user.id, actor.id)


# ---------------------------------------------------------------- the code step

# How long a right password waits for its code (the pending state in the Flask session).
PENDING_TTL = timedelta(minutes=5)


def pending_user(
    session: DbSession, token: str, started: datetime, *, now: datetime | None = None
) -> User | None:
    """The active user with a second factor whose password step left `token` at `started`,
    if that was less than PENDING_TTL ago; None otherwise (sign in again)."""
    if (now or utcnow()) - started > PENDING_TTL:
        return None
    user = session.scalar(select(User).where(User.session_token == token, User.active))
    return user if user is not None and is_enabled(user) else None


@dataclass(frozen=True)
class CodeAccepted:
    """What the code step accepted: a TOTP code, or a recovery code (with how many remain)."""

    recovery: bool
    recovery_left: int = 0

    @property
    def outcome(self) -> str:
        return "recovery_code" if self.recovery else "success"


def verify_sign_in(
    session: DbSession,
    user: User,
    raw_code: str,
    *,
    address: str,
    user_agent: str,
    now: datetime | None = None,
) -> CodeAccepted:
    """The second step of signing in. A wrong, replayed or unknown code counts as a failed
    sign-in (per CPF and per address), so five of them lock the account as passwords do."""
    now = now or utcnow()
    try:
        check_throttle(session, user.cpf, address, now)
    except LoginThrottled:
        record_sign_in(session, user, "throttled", address=address, user_agent=user_agent, now=now)
        raise
    code = _normalised(raw_code)
    accepted: CodeAccepted | None = None
    if user.active and len(code) == 6 and code.isdigit():
        secret = _stored_secret(user)
        step = matching_step(secret, code, now) if secret else None
        if step is not None and (user.totp_last_step is None or step > user.totp_last_step):
            user.totp_last_step = step
            accepted = CodeAccepted(recovery=False)
    elif user.active and code:
        found = session.scalar(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == _hash_recovery(code),
                RecoveryCode.used_at.is_(None),
            )
        )
        if found is not None:
            found.used_at = now
            session.flush()
            accepted = CodeAccepted(recovery=True, recovery_left=recovery_codes_left(session, user))
    if accepted is None:
        count_failure(session, user.cpf, address, now)
        record_sign_in(session, user, "wrong_code", address=address, user_agent=user_agent, now=now)
        log.warning("login code refused user=%s", user.id)
        raise ValidationError(WRONG_CODE, field="code")
    # The success ("success" or "recovery_code") is recorded where the session starts.
    complete_sign_in(session, user, address, now)
    return accepted
