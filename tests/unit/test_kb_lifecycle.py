"""An article version's lifecycle, every state × move (expectations written out here, apart
from portal/knowledge/lifecycle.py's own table)."""

from __future__ import annotations

import itertools

import pytest

from portal.core.errors import Conflict
from portal.knowledge.lifecycle import EDITABLE, Move, moves_from, next_state
from portal.knowledge.models import VersionState

D, R, P, A, X = (
    VersionState.DRAFT,
    VersionState.REVIEW,
    VersionState.PUBLISHED,
    VersionState.ARCHIVED,
    VersionState.DISCARDED,
)

EXPECTED: dict[tuple[VersionState, Move], VersionState] = {
    (D, Move.SUBMIT): R,
    (D, Move.DISCARD): X,
    (R, Move.RETURN): D,
    (R, Move.PUBLISH): P,
    (R, Move.DISCARD): X,
    (P, Move.ARCHIVE): A,
    (P, Move.SUPERSEDE): A,
}
ALL = list(itertools.product(VersionState, Move))


@pytest.mark.parametrize(("state", "move"), [pair for pair in ALL if pair in EXPECTED])
def test_legal_moves(state: VersionState, move: Move) -> None:
    assert next_state(state, move) is EXPECTED[(state, move)]


@pytest.mark.parametrize(("state", "move"), [pair for pair in ALL if pair not in EXPECTED])
def test_every_other_move_is_a_conflict(state: VersionState, move: Move) -> None:
    with pytest.raises(Conflict) as caught:
        next_state(state, move)
    # The message names the move and the state in Portuguese, for the flash.
    assert move.label in str(caught.value) and state.label in str(caught.value)


@pytest.mark.parametrize("state", list(VersionState))
def test_moves_from_lists_exactly_the_legal_moves(state: VersionState) -> None:
    assert set(moves_from(state)) == {m for (s, m) in EXPECTED if s is state}


def test_a_published_version_never_becomes_a_draft_again() -> None:
    reachable = {P}
    frontier = [P]
    while frontier:
        state = frontier.pop()
        for move in moves_from(state):
            target = next_state(state, move)
            if target not in reachable:
                reachable.add(target)
                frontier.append(target)
    assert reachable == {P, A}


def test_ends_have_no_moves() -> None:
    assert moves_from(A) == [] and moves_from(X) == []


def test_only_working_versions_are_editable() -> None:
    assert frozenset({D, R}) == EDITABLE


def test_labels_are_portuguese() -> None:
    assert [s.label for s in (D, R, P, A, X)] == [
        "Rascunho",
        "Em revisão",
        "Publicado",
        "Arquivado",
        "Descartado",
    ]
    assert Move.PUBLISH.label == "Publicar" and Move.SUBMIT.label == "Enviar para revisão"
