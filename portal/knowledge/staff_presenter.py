"""What the staff pages of an article offer this viewer, decided here and not in the
templates: the editor's buttons, each file's Markdown snippet, where a version was restored from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from portal.core import files as uploads
from portal.core.models import Attachment
from portal.knowledge import lifecycle, policy
from portal.knowledge.lifecycle import Move
from portal.knowledge.models import Article, ArticleVersion

if TYPE_CHECKING:
    from portal.accounts.models import User


@dataclass(frozen=True)
class MoveButton:
    value: str
    label: str
    primary: bool = False


def editor_moves(viewer: User, article: Article) -> tuple[list[MoveButton], bool]:
    """The moves this viewer may make on the article now, and whether publishing waits for
    someone else (the author of a version cannot publish it)."""
    buttons: list[MoveButton] = []
    working = article.working_version
    waits_for_reviewer = False
    if working is not None:
        reviews = policy.can_review(viewer, working)
        waits_for_reviewer = not reviews
        for move in lifecycle.moves_from(working.state):
            if move in (Move.PUBLISH, Move.RETURN) and not reviews:
                continue
            buttons.append(MoveButton(move.value, move.label, move is Move.PUBLISH))
    if article.is_live and policy.can_archive(viewer, article):
        buttons.append(MoveButton(Move.ARCHIVE.value, Move.ARCHIVE.label))
    return buttons, waits_for_reviewer


@dataclass(frozen=True)
class ArticleFile:
    attachment: Attachment
    snippet: str  # the Markdown to paste into the body
    is_image: bool


def snippet(name: str, url: str, content_type: str) -> str:
    """The Markdown that shows an image or links a file."""
    label = name.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    return f"{'!' if content_type in uploads.IMAGES else ''}[{label}]({url})"


def restored_from(version: ArticleVersion, by_id: dict[int, ArticleVersion]) -> str | None:
    origin = by_id.get(version.restored_from_id) if version.restored_from_id else None
    if origin is None:
        return None
    if origin.number:
        return f"Restaurada da versão {origin.number}"
    return f"Restaurada de uma versão não publicada ({origin.state.label.lower()})"
