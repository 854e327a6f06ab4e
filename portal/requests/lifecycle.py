"""The request state machine: states, actions, who may fire them. Pure Python, no I/O.

This module is the single authority on transitions: views, the API and the jobs ask it what a
request may do next and apply the Outcome it returns; nothing else assigns a request's state.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from portal.core.errors import Conflict


class State(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    AWAITING_SUPPORT = "awaiting_support"
    AWAITING_USER = "awaiting_user"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES


_STATE_LABELS = {
    State.OPEN: "Aberto",
    State.IN_PROGRESS: "Em andamento",
    State.AWAITING_SUPPORT: "Aguardando suporte ao atendimento",
    State.AWAITING_USER: "Aguardando posição do usuário final",
    State.CLOSED: "Fechado",
    State.CANCELLED: "Cancelado",
}
FINAL_STATES = frozenset({State.CLOSED, State.CANCELLED})
ACTIVE_STATES = frozenset(set(State) - FINAL_STATES)
# A pending cancellation request only makes sense while the request is being worked.
WORKING_STATES = frozenset({State.IN_PROGRESS, State.AWAITING_SUPPORT})
# The support team holds the next move (the queue highlights these when they sit idle).
SUPPORT_MOVES_STATES = frozenset({State.OPEN, State.IN_PROGRESS})


class Actor(enum.StrEnum):
    AGENT = "agent"  # staff: agents and admins
    REQUESTER = "requester"  # the opener or the requested-for user
    SYSTEM = "system"  # the scheduler


class Action(enum.StrEnum):
    START = "start"
    AWAIT_SUPPORT = "await_support"
    RESUME = "resume"
    RESOLVE = "resolve"
    CANCEL = "cancel"
    CONFIRM_CANCEL = "confirm_cancel"
    DECLINE_CANCEL = "decline_cancel"
    ACCEPT = "accept"
    REJECT = "reject"
    REQUESTER_CANCEL = "requester_cancel"
    REQUEST_CANCEL = "request_cancel"
    AUTO_CLOSE = "auto_close"

    @property
    def label(self) -> str:
        return _RULES[self].label


class Flag(enum.Enum):
    """What the cancellation-requested flag must be for the action to apply."""

    ANY = "any"
    SET = "set"
    UNSET = "unset"


@dataclass(frozen=True)
class Rule:
    actor: Actor
    label: str
    sources: frozenset[State]
    target: State | None  # None: the state does not change
    reason_label: str | None = None
    reason_required: bool = False
    flag: Flag = Flag.ANY


_CANCEL_REASON = "Motivo do Cancelamento"
_RULES: dict[Action, Rule] = {
    Action.START: Rule(
        Actor.AGENT, "Iniciar atendimento", frozenset({State.OPEN}), State.IN_PROGRESS
    ),
    Action.AWAIT_SUPPORT: Rule(
        Actor.AGENT,
        "Aguardar suporte",
        frozenset({State.IN_PROGRESS}),
        State.AWAITING_SUPPORT,
        "Motivo da espera",
        reason_required=True,
    ),
    Action.RESUME: Rule(
        Actor.AGENT, "Retomar", frozenset({State.AWAITING_SUPPORT}), State.IN_PROGRESS
    ),
    Action.RESOLVE: Rule(
        Actor.AGENT,
        "Resolver",
        WORKING_STATES,
        State.AWAITING_USER,
        "Solução",
        reason_required=True,
    ),
    Action.CANCEL: Rule(
        Actor.AGENT,
        "Cancelar",
        ACTIVE_STATES,
        State.CANCELLED,
        _CANCEL_REASON,
        reason_required=True,
    ),
    Action.CONFIRM_CANCEL: Rule(
        Actor.AGENT,
        "Confirmar cancelamento",
        WORKING_STATES,
        State.CANCELLED,
        _CANCEL_REASON,
        flag=Flag.SET,
    ),
    Action.DECLINE_CANCEL: Rule(
        Actor.AGENT, "Recusar cancelamento", WORKING_STATES, None, "Motivo", flag=Flag.SET
    ),
    Action.ACCEPT: Rule(
        Actor.REQUESTER, "Aceitar Solução", frozenset({State.AWAITING_USER}), State.CLOSED
    ),
    Action.REJECT: Rule(
        Actor.REQUESTER,
        "Rejeitar Solução",
        frozenset({State.AWAITING_USER}),
        State.IN_PROGRESS,
        "Motivo da rejeição",
        reason_required=True,
    ),
    Action.REQUESTER_CANCEL: Rule(
        Actor.REQUESTER,
        "Cancelar Solicitação",
        frozenset({State.OPEN}),
        State.CANCELLED,
        _CANCEL_REASON,
        reason_required=True,
    ),
    Action.REQUEST_CANCEL: Rule(
        Actor.REQUESTER,
        "Pedir Cancelamento",
        WORKING_STATES,
        None,
        _CANCEL_REASON,
        reason_required=True,
        flag=Flag.UNSET,
    ),
    Action.AUTO_CLOSE: Rule(
        Actor.SYSTEM, "Fechar automaticamente", frozenset({State.AWAITING_USER}), State.CLOSED
    ),
}


@dataclass(frozen=True)
class Snapshot:
    """What the machine needs to know about a request."""

    state: State
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    cancellation_requested: bool = False


@dataclass(frozen=True)
class Outcome:
    """One accepted transition; the service applies `after` and writes one timeline entry."""

    action: Action
    actor: Actor
    before: Snapshot
    after: Snapshot
    reason: str | None


class TransitionError(Conflict):
    """A refused transition; the message is Portuguese and shown to people as-is."""


class ActionNotAllowed(TransitionError):
    pass


class ReasonRequired(TransitionError):
    status = 400  # the person must fill in the reason, the request itself is fine


def requires_reason(action: Action) -> bool:
    return _RULES[action].reason_required


def reason_label(action: Action) -> str | None:
    return _RULES[action].reason_label


def _refusal(action: Action, snapshot: Snapshot, actors: Collection[Actor]) -> str | None:
    """Why the action cannot fire now (ignoring the reason text), or None when it can."""
    rule = _RULES[action]
    if rule.actor not in actors:
        return f"Você não tem permissão para “{rule.label}” esta solicitação."
    if snapshot.state not in rule.sources:
        return f"A ação “{rule.label}” não é permitida no estado “{snapshot.state.label}”."
    if rule.flag is Flag.SET and not snapshot.cancellation_requested:
        return "Não há pedido de cancelamento pendente nesta solicitação."
    if rule.flag is Flag.UNSET and snapshot.cancellation_requested:
        return "O cancelamento desta solicitação já foi pedido e aguarda o atendente."
    return None


def allowed_actions(snapshot: Snapshot, actors: Collection[Actor]) -> list[Action]:
    """The actions that could fire now, in a stable order (the UI shows only these)."""
    return [a for a in Action if _refusal(a, snapshot, actors) is None]


def transition(
    snapshot: Snapshot,
    action: Action,
    actors: Collection[Actor],
    *,
    now: datetime,
    reason: str | None = None,
) -> Outcome:
    """Fire `action` on a request in `snapshot` by someone holding `actors` roles on it."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    refusal = _refusal(action, snapshot, actors)
    if refusal is not None:
        raise ActionNotAllowed(refusal)
    rule = _RULES[action]
    text = (reason or "").strip() or None
    if rule.reason_required and text is None:
        raise ReasonRequired(f"O campo “{rule.reason_label}” é obrigatório.")
    after = _apply(snapshot, action, rule, now)
    return Outcome(action=action, actor=rule.actor, before=snapshot, after=after, reason=text)


def _apply(snapshot: Snapshot, action: Action, rule: Rule, now: datetime) -> Snapshot:
    state = rule.target or snapshot.state
    resolved_at = snapshot.resolved_at
    if action is Action.RESOLVE:
        resolved_at = now
    elif action is Action.REJECT:
        resolved_at = None
    closed_at = now if state.is_final else None
    if action is Action.REQUEST_CANCEL:
        flag = True
    elif action is Action.DECLINE_CANCEL or state not in WORKING_STATES:
        flag = False
    else:
        flag = snapshot.cancellation_requested
    return replace(
        snapshot,
        state=state,
        resolved_at=resolved_at,
        closed_at=closed_at,
        cancellation_requested=flag,
    )


def waits_on_support(snapshot: Snapshot) -> bool:
    """Whether the next move is the support team's: a request not yet or being worked, or a
    cancellation the requester asked for."""
    return snapshot.state in SUPPORT_MOVES_STATES or snapshot.cancellation_requested


# ---------------------------------------------------------------- the auto-close deadline
# A resolved request waits `days` for the requester, then the system closes it. The page,
# the emails and the jobs all take the deadline from these two functions.


def closes_at(snapshot: Snapshot, days: int) -> datetime | None:
    """When a request awaiting the requester closes by itself (None in any other state)."""
    if snapshot.state is not State.AWAITING_USER or snapshot.resolved_at is None:
        return None
    return snapshot.resolved_at + timedelta(days=days)


def resolved_by_for_deadline(now: datetime, days: int) -> datetime:
    """Requests resolved at or before this moment have reached their deadline at `now`
    (closes_at(...) <= now); the reminder asks with `days - days_before`."""
    return now - timedelta(days=days)
