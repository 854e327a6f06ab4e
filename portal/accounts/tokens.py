"""Personal access tokens for the REST API (Perfil > Tokens de acesso).

A token is `pat_` + 40 url-safe characters, shown once when created; only its SHA-256 is kept,
with its first 8 characters to tell tokens apart. It acts as its user with exactly that user's
permissions, and stops working when revoked, expired, or when the user is deactivated or
anonymised (checked on every use, and `revoke_all` also marks the rows so the list is true).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from portal.accounts.models import ApiToken, User
from portal.accounts.policy import can_manage_tokens
from portal.core import audit
from portal.core.actors import Actor
from portal.core.database import DbSession, affected_rows
from portal.core.errors import FormErrors, NotFound, ValidationError, require
from portal.core.timeutil import utcnow

log = logging.getLogger(__name__)

TOKEN_PREFIX = "pat_"  # noqa: S105  (marks our tokens in logs and scanners; not a secret)
PREFIX_SHOWN = 8
NAME_MAX = 80
MAX_DAYS = 365
READ, WRITE = "read", "write"
# What the form offers, and what a token may carry: writing always includes reading.
SCOPE_CHOICES = {"read": "Leitura", "read write": "Leitura e escrita"}
# last_used_at is written at most this often per token, so reads do not all become writes.
TOUCH_EVERY = timedelta(minutes=1)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_raw_token() -> str:
    # 30 random bytes are exactly 40 url-safe base64 characters.
    return TOKEN_PREFIX + secrets.token_urlsafe(30)


@dataclass(frozen=True)
class CreatedToken:
    """A token just created: `raw` is shown once and never again."""

    id: int
    raw: str


def _parse_expiry(raw: str, today: date) -> date:
    try:
        day = datetime.strptime(raw.strip(), "%d/%m/%Y").date()
    except ValueError:
        raise ValidationError("Informe a data como DD/MM/AAAA.", "expires_on") from None
    if not 1 <= (day - today).days <= MAX_DAYS:
        raise ValidationError(
            f"Escolha uma data entre amanhã e {MAX_DAYS} dias a partir de hoje.", "expires_on"
        )
    return day


def create(
    session: DbSession,
    actor: Actor,
    *,
    name: str,
    scopes: str,
    expires_on: str,
    timezone: str,
    now: datetime | None = None,
) -> CreatedToken:
    """Criar token: a name, "read" or "read write", and the last day it works (DD/MM/AAAA,
    1 to 365 days ahead, in the portal's time zone); it ends at that day's midnight."""
    require(can_manage_tokens(actor, actor.id))
    assert isinstance(actor, User)
    now = now or utcnow()
    zone = ZoneInfo(timezone)
    errors: list[ValidationError] = []
    name = " ".join(name.split())
    if not name:
        errors.append(ValidationError("Dê um nome ao token.", "name"))
    elif len(name) > NAME_MAX:
        errors.append(ValidationError(f"Use até {NAME_MAX} caracteres.", "name"))
    if scopes not in SCOPE_CHOICES:
        errors.append(ValidationError("Escolha o escopo do token.", "scopes"))
    day: date | None = None
    try:
        day = _parse_expiry(expires_on, now.astimezone(zone).date())
    except ValidationError as error:
        errors.append(error)
    if errors or day is None:
        raise FormErrors(errors)
    raw = new_raw_token()
    token = ApiToken(
        user_id=actor.id,
        name=name,
        token_hash=token_hash(raw),
        prefix=raw[:PREFIX_SHOWN],
        scopes=scopes,
        created_at=now,
        expires_at=datetime.combine(day + timedelta(days=1), time(), zone),
    )
    session.add(token)
    session.flush()
    # Never the token itself, nor its hash: the name, scopes and expiry are what matters.
    audit.record(
        session,
        actor,
        "token.create",
        "token",
        token.id,
        after={"name": name, "scopes": scopes, "expires_at": day.strftime("%d/%m/%Y")},
    )
    return CreatedToken(id=token.id, raw=raw)


@dataclass(frozen=True)
class TokenLine:
    """One token as the Perfil list shows it."""

    id: int
    name: str
    prefix: str
    scopes: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    state: str

    @property
    def scopes_label(self) -> str:
        return SCOPE_CHOICES.get(self.scopes, self.scopes)

    @property
    def active(self) -> bool:
        return self.state == "Ativo"


def mine(session: DbSession, actor: Actor, *, now: datetime | None = None) -> list[TokenLine]:
    """The actor's tokens, newest first, with their state (Ativo, Expirado, Revogado)."""
    require(can_manage_tokens(actor, actor.id))
    now = now or utcnow()
    rows = session.scalars(
        select(ApiToken).where(ApiToken.user_id == actor.id).order_by(ApiToken.id.desc())
    )
    return [
        TokenLine(
            id=t.id,
            name=t.name,
            prefix=t.prefix,
            scopes=t.scopes,
            created_at=t.created_at,
            expires_at=t.expires_at,
            last_used_at=t.last_used_at,
            revoked_at=t.revoked_at,
            state="Revogado" if t.revoked_at else "Expirado" if t.expires_at <= now else "Ativo",
        )
        for t in rows
    ]


def revoke(session: DbSession, actor: Actor, token_id: int, *, now: datetime | None = None) -> None:
    """Revogar: one of the actor's own tokens stops working at once. Another person's token,
    or one already revoked, is NotFound (404), as if it did not exist."""
    owner = session.scalar(
        select(ApiToken.user_id).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
    )
    if owner is None:
        raise NotFound()
    require(can_manage_tokens(actor, owner))
    done = session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    if affected_rows(done) != 1:
        raise NotFound()
    audit.record(session, actor, "token.revoke", "token", token_id)


def revoke_all(session: DbSession, user: User, now: datetime | None = None) -> int:
    """Every live token of the user (deactivation, anonymisation); returns how many. The
    caller audits the reason (authenticate refuses them anyway, this keeps the list true)."""
    done = session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return affected_rows(done)


@dataclass(frozen=True)
class TokenUse:
    """An accepted token: its id (the rate limit's key), its scopes and its user, and whether
    its last use is due to be recorded (`record_use`)."""

    id: int
    scopes: frozenset[str]
    user: User
    use_due: bool = False


def authenticate(session: DbSession, raw: str, *, now: datetime | None = None) -> TokenUse | None:
    """The token's user, or None when the token is unknown, revoked or expired, or its user
    is inactive or anonymised. Only reads: the caller records the use when `use_due`, in a
    write of its own (the API does it apart from the request's transaction)."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    now = now or utcnow()
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(raw)))
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.active or user.anonymised_at is not None:
        return None
    due = token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY
    return TokenUse(id=token.id, scopes=frozenset(token.scopes.split()), user=user, use_due=due)


def record_use(session: DbSession, token_id: int, *, now: datetime | None = None) -> bool:
    """Note the token's use, at most once a minute: a compare-and-set, so requests arriving
    together write it once. Returns whether this call wrote it."""
    now = now or utcnow()
    t = ApiToken
    done = session.execute(
        update(t)
        .where(t.id == token_id)
        .where((t.last_used_at.is_(None)) | (t.last_used_at <= now - TOUCH_EVERY))
        .values(last_used_at=now)
    )
    return affected_rows(done) == 1


def has_scope(use: TokenUse, scope: str) -> bool:
    """Whether the token may do what `scope` names ("read" or "write")."""
    return scope in use.scopes
