"""The request page's timeline and files, read as plain rows for one viewer."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, select

from portal.accounts.models import User, initials_of
from portal.core.database import DbSession
from portal.core.models import Attachment
from portal.requests.lifecycle import Action, State
from portal.requests.models import ENTRY_OWNER, EntryKind, ServiceRequest, TimelineEntry

# What the timeline says an entry is (creations and transitions say it in their body).
KIND_LABELS = {
    EntryKind.COMMENT: "Comentários adicionais",
    EntryKind.NOTE: "Comentários adicionais",
    EntryKind.ATTACHMENT: "Anexo",
    EntryKind.ASSIGNMENT: "Atribuição",
    EntryKind.FOLLOWERS: "Acompanhamento",
}


class Author(NamedTuple):
    full_name: str

    @property
    def initials(self) -> str:
        return initials_of(self.full_name)


@dataclass(frozen=True)
class TimelineItem:
    """One entry as the request page shows it: read as a plain row, not a TimelineEntry (50
    entries with their authors as ORM objects were a fifth of the page)."""

    id: int
    kind: EntryKind
    public: bool
    body: str
    time_spent_minutes: int | None
    action: str | None
    from_state: str | None
    to_state: str | None
    occurred_at: datetime
    created_at: datetime
    author: Author | None
    attachments: list[Attachment]

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, "")

    @property
    def state_change(self) -> str:
        """ "Aberto → Em andamento" for a transition that moved the state, else ""."""
        if self.kind is not EntryKind.TRANSITION or self.from_state == self.to_state:
            return ""
        return f"{State(self.from_state or '').label} → {State(self.to_state or '').label}"

    @property
    def history_text(self) -> str:
        """The Histórico's "Ocorrência": a transition's action, with its reason."""
        if self.kind is not EntryKind.TRANSITION or self.action is None:
            return self.body
        label = Action(self.action).label
        return f"{label}: {self.body}" if self.body and self.body != label else label

    @property
    def history_state(self) -> str:
        """The Histórico's "Estado": where the entry left the request, and from where."""
        if not self.to_state:
            return ""
        before = f"{State(self.from_state).label} → " if self.from_state else ""
        return before + State(self.to_state).label


# In TimelineItem's field order (timeline() passes them by position), then the author's name.
_TIMELINE_COLUMNS = (
    TimelineEntry.id,
    TimelineEntry.kind,
    TimelineEntry.public,
    TimelineEntry.body,
    TimelineEntry.time_spent_minutes,
    TimelineEntry.action,
    TimelineEntry.from_state,
    TimelineEntry.to_state,
    TimelineEntry.occurred_at,
    TimelineEntry.created_at,
    User.full_name,
)


def timeline(
    session: DbSession,
    request: ServiceRequest,
    *,
    include_internal: bool,
    attachments: list[Attachment],
) -> list[TimelineItem]:
    """Newest first, with author names; each entry's files come from `attachments` (the
    request's, as attachments_of reads them for the same viewer), so no query per entry."""
    query = (
        select(*_TIMELINE_COLUMNS)
        .outerjoin(User, User.id == TimelineEntry.author_id)
        .where(TimelineEntry.request_id == request.id)
        .order_by(TimelineEntry.created_at.desc(), TimelineEntry.id.desc())
    )
    if not include_internal:
        query = query.where(TimelineEntry.public)
    files: dict[int, list[Attachment]] = defaultdict(list)
    for attachment in reversed(attachments):  # newest first there, in upload order here
        files[attachment.owner_id].append(attachment)
    return [
        TimelineItem(
            *row[:-1],  # type: ignore[misc]  # the columns in field order, see above
            author=None if row.full_name is None else Author(row.full_name),
            attachments=files.get(row.id, []),
        )
        for row in session.execute(query)
    ]


# A request's file joined to the timeline entry that owns it.
_ON_ITS_ENTRY = and_(Attachment.owner_type == ENTRY_OWNER, Attachment.owner_id == TimelineEntry.id)


def attachments_of(
    session: DbSession, request: ServiceRequest, *, include_internal: bool
) -> list[Attachment]:
    """The request's files (each on its timeline entry), newest first; internal entries' files
    only for staff."""
    query = (
        select(Attachment)
        .join(TimelineEntry, _ON_ITS_ENTRY)
        .where(TimelineEntry.request_id == request.id)
        .order_by(Attachment.created_at.desc(), Attachment.id.desc())
    )
    if not include_internal:
        query = query.where(TimelineEntry.public)
    return list(session.scalars(query))


def file_of(
    session: DbSession, request: ServiceRequest, attachment_id: int
) -> tuple[Attachment, bool] | None:
    """One file of this request (by id) with its entry's visibility; another request's file,
    or a file of anything else, finds nothing."""
    row = session.execute(
        select(Attachment, TimelineEntry.public)
        .join(TimelineEntry, _ON_ITS_ENTRY)
        .where(Attachment.id == attachment_id, TimelineEntry.request_id == request.id)
    ).first()
    return None if row is None else (row[0], bool(row[1]))
