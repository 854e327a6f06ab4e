"""The whole transition table: every state × action × actor × pending-cancellation flag.

The expectations below are written out independently of portal/lifecycle.py's own table.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from portal.requests.lifecycle import (
    Action,
    ActionNotAllowed,
    Actor,
    ReasonRequired,
    Snapshot,
    State,
    allowed_actions,
    reason_label,
    requires_reason,
    transition,
)

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
EARLIER = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
OP, P, S, U, C, X = (
    State.OPEN,
    State.IN_PROGRESS,
    State.AWAITING_SUPPORT,
    State.AWAITING_USER,
    State.CLOSED,
    State.CANCELLED,
)
A, R, SYS = Actor.AGENT, Actor.REQUESTER, Actor.SYSTEM
SAME = "same"  # the state does not change

# action: (who, {source state: target state}, needs the flag: True / False / None = either)
EXPECTED: dict[Action, tuple[Actor, dict[State, State | str], bool | None]] = {
    Action.START: (A, {OP: P}, None),
    Action.AWAIT_SUPPORT: (A, {P: S}, None),
    Action.RESUME: (A, {S: P}, None),
    Action.RESOLVE: (A, {P: U, S: U}, None),
    Action.CANCEL: (A, {OP: X, P: X, S: X, U: X}, None),
    Action.CONFIRM_CANCEL: (A, {P: X, S: X}, True),
    Action.DECLINE_CANCEL: (A, {P: SAME, S: SAME}, True),
    Action.ACCEPT: (R, {U: C}, None),
    Action.REJECT: (R, {U: P}, None),
    Action.REQUESTER_CANCEL: (R, {OP: X}, None),
    Action.REQUEST_CANCEL: (R, {P: SAME, S: SAME}, False),
    Action.AUTO_CLOSE: (SYS, {U: C}, None),
}
NEEDS_REASON = {
    Action.AWAIT_SUPPORT,
    Action.RESOLVE,
    Action.CANCEL,
    Action.REJECT,
    Action.REQUESTER_CANCEL,
    Action.REQUEST_CANCEL,
}


def snapshot_in(state: State, flag: bool) -> Snapshot:
    """A consistent snapshot for a state (resolved/closed dates where they belong)."""
    resolved = EARLIER if state in (U, C) else None
    closed = EARLIER if state.is_final else None
    return Snapshot(state, resolved, closed, flag and state in (P, S))


CASES = list(itertools.product(State, Action, Actor, (False, True)))


@pytest.mark.parametrize(("state", "action", "actor", "flag"), CASES)
def test_transition_table(state: State, action: Action, actor: Actor, flag: bool) -> None:
    before = snapshot_in(state, flag)
    who, moves, needs_flag = EXPECTED[action]
    allowed = (
        actor is who
        and state in moves
        and (needs_flag is None or needs_flag == before.cancellation_requested)
    )
    if not allowed:
        with pytest.raises(ActionNotAllowed):
            transition(before, action, {actor}, now=NOW, reason="motivo")
        assert action not in allowed_actions(before, {actor})
        return
    outcome = transition(before, action, {actor}, now=NOW, reason="  motivo  ")
    target = state if moves[state] == SAME else moves[state]
    after = outcome.after
    assert after.state is target
    assert outcome.before == before and outcome.reason == "motivo"
    assert after.closed_at == (NOW if target.is_final else None)
    if action is Action.RESOLVE:
        assert after.resolved_at == NOW
    elif action is Action.REJECT:
        assert after.resolved_at is None
    else:
        assert after.resolved_at == before.resolved_at
    if action is Action.REQUEST_CANCEL:
        assert after.cancellation_requested is True
    elif action is Action.DECLINE_CANCEL or target not in (P, S):
        assert after.cancellation_requested is False
    else:
        assert after.cancellation_requested == before.cancellation_requested
    assert action in allowed_actions(before, {actor})


def test_state_labels_are_the_portal_words() -> None:
    assert [s.label for s in State] == [
        "Aberto",
        "Em andamento",
        "Aguardando suporte ao atendimento",
        "Aguardando posição do usuário final",
        "Fechado",
        "Cancelado",
    ]
    assert {s for s in State if s.is_final} == {C, X}


@pytest.mark.parametrize("action", sorted(NEEDS_REASON))
@pytest.mark.parametrize("reason", [None, "", "   \n\t"])
def test_reason_is_required(action: Action, reason: str | None) -> None:
    who, moves, needs_flag = EXPECTED[action]
    state = next(iter(moves))
    before = snapshot_in(state, bool(needs_flag))
    assert requires_reason(action)
    with pytest.raises(ReasonRequired, match=reason_label(action)):
        transition(before, action, {who}, now=NOW, reason=reason)


def test_actions_without_required_reason() -> None:
    assert {a for a in Action if requires_reason(a)} == NEEDS_REASON
    outcome = transition(snapshot_in(OP, False), Action.START, {A}, now=NOW)
    assert outcome.reason is None


def test_labels_of_buttons_and_reasons() -> None:
    assert Action.ACCEPT.label == "Aceitar Solução"
    assert Action.REJECT.label == "Rejeitar Solução"
    assert Action.REQUESTER_CANCEL.label == "Cancelar Solicitação"
    assert Action.REQUEST_CANCEL.label == "Pedir Cancelamento"
    assert reason_label(Action.REQUESTER_CANCEL) == "Motivo do Cancelamento"
    assert reason_label(Action.RESOLVE) == "Solução"


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        transition(snapshot_in(OP, False), Action.START, {A}, now=datetime(2026, 1, 1))


def test_a_staff_opener_holds_both_roles() -> None:
    both = {A, R}
    assert Action.START in allowed_actions(snapshot_in(OP, False), both)
    assert Action.REQUESTER_CANCEL in allowed_actions(snapshot_in(OP, False), both)
    assert {Action.ACCEPT, Action.CANCEL} <= set(allowed_actions(snapshot_in(U, False), both))


def test_wrong_actor_and_wrong_state_have_clear_messages() -> None:
    with pytest.raises(ActionNotAllowed, match="Você não tem permissão para “Resolver”"):
        transition(snapshot_in(P, False), Action.RESOLVE, {R}, now=NOW, reason="x")
    with pytest.raises(ActionNotAllowed, match="não é permitida no estado “Aberto”"):
        transition(snapshot_in(OP, False), Action.ACCEPT, {R}, now=NOW)


def test_input_snapshot_is_never_mutated() -> None:
    before = snapshot_in(U, False)
    transition(before, Action.REJECT, {R}, now=NOW, reason="x")
    assert before == snapshot_in(U, False)
