"""An article version's lifecycle: Rascunho → Em revisão → Publicado → Arquivado. Pure Python.

The single authority on which move applies to a version as it is; who may make it is the
policy's business (portal.knowledge.policy).
"""

from __future__ import annotations

import enum

from portal.core.errors import Conflict
from portal.knowledge.models import VersionState


class Move(enum.StrEnum):
    SUBMIT = "submit"  # Enviar para revisão
    RETURN = "return"  # Devolver ao autor
    PUBLISH = "publish"  # Publicar
    DISCARD = "discard"  # Descartar rascunho
    ARCHIVE = "archive"  # Arquivar (the live version leaves the base)
    SUPERSEDE = "supersede"  # a newer version was published

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Move.SUBMIT: "Enviar para revisão",
    Move.RETURN: "Devolver ao autor",
    Move.PUBLISH: "Publicar",
    Move.DISCARD: "Descartar rascunho",
    Move.ARCHIVE: "Arquivar",
    Move.SUPERSEDE: "Substituir",
}

_RULES: dict[tuple[VersionState, Move], VersionState] = {
    (VersionState.DRAFT, Move.SUBMIT): VersionState.REVIEW,
    (VersionState.REVIEW, Move.RETURN): VersionState.DRAFT,
    (VersionState.REVIEW, Move.PUBLISH): VersionState.PUBLISHED,
    (VersionState.DRAFT, Move.DISCARD): VersionState.DISCARDED,
    (VersionState.REVIEW, Move.DISCARD): VersionState.DISCARDED,
    (VersionState.PUBLISHED, Move.ARCHIVE): VersionState.ARCHIVED,
    (VersionState.PUBLISHED, Move.SUPERSEDE): VersionState.ARCHIVED,
}

# A working version (not yet live) may still be edited; editing one in review sends it back.
EDITABLE = frozenset({VersionState.DRAFT, VersionState.REVIEW})


def moves_from(state: VersionState) -> list[Move]:
    """The moves that apply to a version in this state, in the order buttons show them."""
    return [move for (source, move) in _RULES if source is state]


def next_state(state: VersionState, move: Move) -> VersionState:
    """Where a move takes a version; Conflict (409) when it does not apply."""
    target = _RULES.get((state, move))
    if target is None:
        raise Conflict(f"“{move.label}” não se aplica a uma versão em “{state.label}”.")
    return target
