"""People who sign in, the support groups agents work in, and sign-in bookkeeping."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import Column, Enum, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clients.models import Organisation
from portal.core.extensions import Model, db
from portal.core.timeutil import utcnow
from portal.core.types import UTCDateTime


class Role(enum.StrEnum):
    REQUESTER = "requester"
    AGENT = "agent"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return {"requester": "Solicitante", "agent": "Atendente", "admin": "Administrador"}[
            self.value
        ]


# Who works requests (queue, internal notes, every request visible): one definition for the
# property and for queries.
STAFF_ROLES = (Role.AGENT, Role.ADMIN)


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


group_members = Table(
    "group_members",
    db.Model.metadata,
    Column("group_id", ForeignKey("support_groups.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class SupportGroup(Model):
    __tablename__ = "support_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    # A removed group is archived, not deleted: closed requests still name it.
    active: Mapped[bool] = mapped_column(default=True)

    members: Mapped[list[User]] = relationship(secondary=group_members, back_populates="groups")

    def __repr__(self) -> str:
        return f"<SupportGroup {self.name}>"


class User(Model):
    __tablename__ = "users"
    __table_args__ = (
        Index("ix_users_org_active_name", "organisation_id", "active", "full_name"),
        # The staff pickers (assignee, the Ocorrências author filter) read agents and admins
        # by name without scanning every requester.
        Index("ix_users_role_name", "role", "full_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cpf: Mapped[str] = mapped_column(String(11), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), index=True)
    # "Email Particular" of the reset form; for most users it is the corporate email itself.
    personal_email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    extra_phone: Mapped[str | None] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=Role.REQUESTER,
    )
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    active: Mapped[bool] = mapped_column(default=True)
    # The "cadastro" permission: an agent who may register and edit clients (admins always may).
    may_register_clients: Mapped[bool] = mapped_column(default=False)
    # Returned by get_id(): rotating it ends every session of the user (logout, new password).
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Second factor (TOTP, RFC 6238): the secret is encrypted with a key derived from the
    # app's SECRET_KEY (it must be read back, so it cannot be hashed); last_step refuses a
    # code used twice.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int | None] = mapped_column()
    # LGPD: set when an admin anonymised a deactivated user; no page shows the person again.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # "unnested": under an outer join (request.opened_by, entry.author) this renders as a flat
    # LEFT OUTER JOIN; the nested "(users JOIN organisations)" form makes SQLite materialise both
    # tables on every request page.
    organisation: Mapped[Organisation] = relationship(
        lazy="joined",
        innerjoin="unnested",  # type: ignore[arg-type]  # documented value, typed as bool
    )
    groups: Mapped[list[SupportGroup]] = relationship(
        secondary=group_members, back_populates="members"
    )

    # Flask-Login protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.session_token

    def rotate_session_token(self) -> None:
        self.session_token = new_session_token()

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def first_name(self) -> str:
        return self.full_name.split()[0] if self.full_name else ""

    @property
    def initials(self) -> str:
        return initials_of(self.full_name)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"


class PasswordResetToken(Model):
    """A single-use, expiring password reset link; only the token's hash is stored."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class RecoveryCode(Model):
    """One of a user's ten single-use second-factor recovery codes, stored hashed."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UserSession(Model):
    """One signed-in browser: the cookie holds a random key, this row its hash. Ending the row
    signs that browser out on every worker at its next request (Sessões ativas)."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_ended", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SignInEvent(Model):
    """A sign-in or a failed one, of a known user: the history shown under Perfil and to
    admins. Failures for unknown CPFs are only counted (LoginAttempt), never kept here."""

    __tablename__ = "sign_in_events"
    __table_args__ = (Index("ix_sign_in_events_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # "success", "wrong_password", "wrong_code", "throttled", "inactive", "recovery_code"
    outcome: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")


class ApiToken(Model):
    """A personal access token for the REST API: only its SHA-256 is stored, with the first
    characters (`prefix`) so the owner can tell their tokens apart in Perfil."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(8))
    # "read" or "read write" (space-separated, as OAuth scopes are).
    scopes: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LoginAttempt(Model):
    """Failed sign-ins, counted in the database so every web worker sees the same throttle."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_cpf_at", "cpf", "attempted_at"),
        Index("ix_login_attempts_address_at", "address", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cpf: Mapped[str] = mapped_column(String(11))
    address: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def initials_of(full_name: str) -> str:
    """The avatar's letters: first and last name, skipping "da", "de", "dos"."""
    parts = [p for p in full_name.split() if len(p) > 2 or p[:1].isupper()]
    if not parts:
        return "?"
    letters = parts[0][0] + (parts[-1][0] if len(parts) > 1 else "")
    return letters.upper()
