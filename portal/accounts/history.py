"""Sign-in history: each sign-in or failed one of a KNOWN user (Perfil > Acessos, admin audit).

Failures for unknown CPFs are never recorded here; they only feed the LoginAttempt throttle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select

from portal.accounts.devices import describe
from portal.accounts.models import SignInEvent, User
from portal.accounts.policy import can_see_sign_ins
from portal.core.actors import Actor
from portal.core.database import DbSession
from portal.core.errors import require
from portal.core.timeutil import utcnow

# Each outcome and how the history says it.
OUTCOME_LABELS: Final = {
    "success": "Acesso realizado",
    "wrong_password": "Senha incorreta",
    "wrong_code": "Código incorreto",
    "throttled": "Bloqueado por excesso de tentativas",
    "inactive": "Conta desativada",
    "recovery_code": "Código de recuperação usado",
}
OUTCOMES: Final = tuple(OUTCOME_LABELS)
# How many sign-ins the history shows: enough to spot a stranger, read by index alone.
HISTORY_SIZE: Final = 20


def record_sign_in(
    db: DbSession,
    user: User,
    outcome: str,
    *,
    address: str,
    user_agent: str,
    now: datetime | None = None,
) -> None:
    """Add one history row; the caller commits (with the sign-in or the failure count)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown sign-in outcome {outcome!r}")
    db.add(
        SignInEvent(
            user_id=user.id,
            at=now or utcnow(),
            outcome=outcome,
            address=(address or "")[:64],
            user_agent=(user_agent or "")[:300],
        )
    )
    db.flush()


@dataclass(frozen=True)
class SignInLine:
    """One line of the history."""

    at: datetime
    outcome: str
    label: str
    address: str
    device: str
    user_agent: str

    @property
    def succeeded(self) -> bool:
        return self.outcome in ("success", "recovery_code")


def recent_sign_ins(
    db: DbSession, actor: Actor, user: User, *, limit: int = HISTORY_SIZE
) -> list[SignInLine]:
    """The user's newest sign-ins and failures, newest first: the user's own (Perfil) or any
    user's for an admin. Reads `limit` rows through ix_sign_in_events_user_at."""
    require(can_see_sign_ins(actor, user))
    rows = db.execute(
        select(SignInEvent.at, SignInEvent.outcome, SignInEvent.address, SignInEvent.user_agent)
        .where(SignInEvent.user_id == user.id)
        .order_by(SignInEvent.at.desc(), SignInEvent.id.desc())
        .limit(limit)
    )
    return [
        SignInLine(
            at=row.at,
            outcome=row.outcome,
            label=OUTCOME_LABELS.get(row.outcome, row.outcome),
            address=row.address,
            device=describe(row.user_agent),
            user_agent=row.user_agent,
        )
        for row in rows
    ]
