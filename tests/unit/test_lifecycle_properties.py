"""Random sequences of actions keep the state machine's invariants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.requests.lifecycle import Action, Actor, Snapshot, State, TransitionError, transition

START = datetime(2026, 1, 1, tzinfo=UTC)
actor_sets = st.sampled_from(
    [
        frozenset({Actor.AGENT}),
        frozenset({Actor.REQUESTER}),
        frozenset({Actor.SYSTEM}),
        frozenset({Actor.AGENT, Actor.REQUESTER}),
    ]
)
steps = st.lists(
    st.tuples(st.sampled_from(list(Action)), actor_sets, st.sampled_from(["motivo", "", None])),
    max_size=40,
)


def check_invariants(snap: Snapshot, cancelled_from_awaiting: bool) -> None:
    if snap.state in (State.AWAITING_USER, State.CLOSED):
        assert snap.resolved_at is not None
    elif snap.state is State.CANCELLED:
        assert (snap.resolved_at is not None) == cancelled_from_awaiting
    else:
        assert snap.resolved_at is None
    assert (snap.closed_at is not None) == snap.state.is_final
    if snap.cancellation_requested:
        assert snap.state in (State.IN_PROGRESS, State.AWAITING_SUPPORT)


@settings(max_examples=300, deadline=None)
@given(steps)
def test_random_sequences_keep_the_invariants(sequence) -> None:
    snap = Snapshot(State.OPEN)
    now = START
    outcomes = 0
    successes = 0
    cancelled_from_awaiting = False
    for action, actors, reason in sequence:
        now += timedelta(hours=1)
        was_final = snap.state.is_final
        try:
            outcome = transition(snap, action, actors, now=now, reason=reason)
        except TransitionError:
            continue  # a refused call changes nothing: snap is untouched
        successes += 1
        assert not was_final, "final states stay final"
        assert outcome.before == snap
        outcomes += 1
        if outcome.after.state is State.CANCELLED:
            cancelled_from_awaiting = snap.state is State.AWAITING_USER
        if action.value == "resolve":
            assert outcome.after.resolved_at == now
        if outcome.after.state.is_final:
            assert outcome.after.closed_at == now
        snap = outcome.after
        check_invariants(snap, cancelled_from_awaiting)
    assert outcomes == successes  # one Outcome, so one timeline entry, per accepted transition
