"""The difference between two article versions, line by line, for the Histórico page.

Plain text in, plain rows out (difflib): the template escapes every line and marks it with
"+" or "−" and a word, so a change never shows by colour alone.
"""

from __future__ import annotations

import difflib
import enum
from dataclasses import dataclass
from typing import Any

# Runs of unchanged lines longer than this fold into one "N linhas iguais" row.
CONTEXT = 3


class Change(enum.StrEnum):
    SAME = "same"
    ADDED = "added"
    REMOVED = "removed"
    FOLDED = "folded"

    @property
    def marker(self) -> str:
        return {"same": " ", "added": "+", "removed": "−", "folded": "…"}[self.value]

    @property
    def label(self) -> str:
        return {"same": "", "added": "adicionada", "removed": "removida", "folded": ""}[self.value]


@dataclass(frozen=True)
class DiffLine:
    change: Change
    text: str


@dataclass(frozen=True)
class FieldDiff:
    """One compared field: its label and its lines (empty when both sides are equal)."""

    label: str
    lines: list[DiffLine]

    @property
    def changed(self) -> bool:
        return any(line.change in (Change.ADDED, Change.REMOVED) for line in self.lines)


# What the history compares, in the order it shows them.
FIELDS = (
    ("title", "Título"),
    ("summary", "Resumo"),
    ("keywords", "Palavras-chave"),
    ("body", "Conteúdo"),
)


def _fold(lines: list[str]) -> list[DiffLine]:
    """Unchanged lines, keeping CONTEXT at each end of a long run."""
    if len(lines) <= 2 * CONTEXT + 1:
        return [DiffLine(Change.SAME, line) for line in lines]
    hidden = len(lines) - 2 * CONTEXT
    return [
        *(DiffLine(Change.SAME, line) for line in lines[:CONTEXT]),
        DiffLine(Change.FOLDED, f"{hidden} linhas iguais"),
        *(DiffLine(Change.SAME, line) for line in lines[-CONTEXT:]),
    ]


def line_diff(old: str, new: str) -> list[DiffLine]:
    """`old` → `new` as removed, added and unchanged lines, in reading order."""
    before = (old or "").replace("\r\n", "\n").split("\n")
    after = (new or "").replace("\r\n", "\n").split("\n")
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    lines: list[DiffLine] = []
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            lines.extend(_fold(before[a1:a2]))
            continue
        lines.extend(DiffLine(Change.REMOVED, line) for line in before[a1:a2])
        lines.extend(DiffLine(Change.ADDED, line) for line in after[b1:b2])
    return lines


def version_diff(old: dict[str, Any], new: dict[str, Any]) -> list[FieldDiff]:
    """Title, summary, keywords and body of two versions' `content()`, compared."""
    return [
        FieldDiff(label, line_diff(str(old.get(key) or ""), str(new.get(key) or "")))
        for key, label in FIELDS
    ]
