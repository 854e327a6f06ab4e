"""Server-side sign-in sessions: each signed-in browser is a row (Sessões ativas).

The session cookie (signed by Flask) holds the user's session_token, as before, and a random
key whose SHA-256 is the row's key_hash. The user loader finds the user only through a row
that has not ended, so ending a row signs that browser out at its next request, on every
worker: the decision is in the database, not in any worker's memory.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from portal.accounts.devices import describe
from portal.accounts.models import User, UserSession
from portal.accounts.policy import can_end_session
from portal.core.actors import Actor
from portal.core.database import DbSession, affected_rows
from portal.core.errors import NotFound, require
from portal.core.timeutil import utcnow

# The key of the Flask session entry that holds this browser's session key.
SESSION_KEY = "sid"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def open_session(
    session: DbSession, user: User, *, address: str, user_agent: str, now: datetime | None = None
) -> str:
    """A new row for this browser; returns the key to keep in its cookie (shown nowhere)."""
    now = now or utcnow()
    key = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            user_id=user.id,
            key_hash=key_hash(key),
            user_agent=(user_agent or "")[:300],
            address=(address or "")[:64],
            created_at=now,
            last_seen_at=now,
        )
    )
    session.flush()
    return key


def touch(session: DbSession, key: str, now: datetime | None = None) -> None:
    """Record that the browser was seen (called at most once a minute per browser)."""
    session.execute(
        update(UserSession)
        .where(UserSession.key_hash == key_hash(key), UserSession.ended_at.is_(None))
        .values(last_seen_at=now or utcnow())
    )


def end_by_key(session: DbSession, key: str, now: datetime | None = None) -> None:
    """Sign-out of this browser."""
    session.execute(
        update(UserSession)
        .where(UserSession.key_hash == key_hash(key), UserSession.ended_at.is_(None))
        .values(ended_at=now or utcnow())
    )


def end_all(session: DbSession, user: User, now: datetime | None = None) -> None:
    """Every browser of the user (deactivation, a new password, anonymisation)."""
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=now or utcnow())
    )


def sign_out_everywhere(session: DbSession, user: User, now: datetime | None = None) -> None:
    """End every session of the user: the rows (so Sessões ativas tells the truth) and the
    session token (so even a cookie from before the rows existed finds nobody). Called by
    every service that must sign a person out: a new password, a reset, a deactivation."""
    user.rotate_session_token()
    end_all(session, user, now)
    session.flush()


# ---------------------------------------------------------------- Sessões ativas


@dataclass(frozen=True)
class SessionLine:
    """One open session as the list shows it."""

    id: int
    device: str
    user_agent: str
    address: str
    created_at: datetime
    last_seen_at: datetime
    current: bool


def open_sessions(session: DbSession, user: User, current_key: str) -> list[SessionLine]:
    """The user's sessions that have not ended, most recently used first; `current` marks this
    browser's. One statement over ix_user_sessions_user_ended."""
    this_browser = key_hash(current_key) if current_key else ""
    rows = session.execute(
        select(
            UserSession.id,
            UserSession.user_agent,
            UserSession.address,
            UserSession.created_at,
            UserSession.last_seen_at,
            UserSession.key_hash,
        )
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    )
    lines = [
        SessionLine(
            id=row.id,
            device=describe(row.user_agent),
            user_agent=row.user_agent,
            address=row.address,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            current=bool(this_browser) and row.key_hash == this_browser,
        )
        for row in rows
    ]
    # This browser first: it is the one people look for to know which the others are.
    return sorted(lines, key=lambda line: not line.current)


def end_one(
    session: DbSession,
    actor: Actor,
    session_id: int,
    current_key: str,
    *,
    now: datetime | None = None,
) -> bool:
    """Encerrar: end one of the actor's own open sessions; returns True when it was this
    browser's (the caller then signs it out now). Another person's session, or one already
    ended, is NotFound (404), as if it did not exist."""
    row = session.execute(
        select(UserSession.user_id, UserSession.key_hash).where(
            UserSession.id == session_id, UserSession.ended_at.is_(None)
        )
    ).first()
    if row is None:
        raise NotFound()
    require(can_end_session(actor, row.user_id))
    ended = session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.ended_at.is_(None))
        .values(ended_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    # Of two concurrent clicks only one ends it; the other is told it no longer exists.
    if affected_rows(ended) != 1:
        raise NotFound()
    return bool(current_key) and row.key_hash == key_hash(current_key)


def end_others(
    session: DbSession, actor: Actor, current_key: str, *, now: datetime | None = None
) -> int:
    """Encerrar todas as outras: every open session of the actor but this browser's; returns
    how many ended."""
    require(can_end_session(actor, actor.id))
    ended = session.execute(
        update(UserSession)
        .where(
            UserSession.user_id == actor.id,
            UserSession.ended_at.is_(None),
            UserSession.key_hash != key_hash(current_key),
        )
        .values(ended_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return affected_rows(ended)
