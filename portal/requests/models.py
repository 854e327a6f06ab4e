"""Requests ("solicitações"), their followers, timeline and attachments."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import SupportGroup, User
from portal.catalog.models import CatalogItem, FormVersion
from portal.clients.models import Organisation
from portal.core.extensions import Model
from portal.core.timeutil import utcnow
from portal.core.types import UTCDateTime
from portal.requests.lifecycle import ACTIVE_STATES, FINAL_STATES, Snapshot, State

# The owner_type of a request's files (portal.core.files): each belongs to the timeline entry
# it was sent with (the creation, or a message), whose visibility it shares.
ENTRY_OWNER = "timeline_entry"
NUMBER_PREFIX = "CS"
NUMBER_DIGITS = 7

_FINAL_SQL = ", ".join(f"'{s.value}'" for s in sorted(FINAL_STATES))
_ALL_STATES_SQL = ", ".join(f"'{s.value}'" for s in State)
# Written out literally (not as bound parameters) so both planners match the partial indexes.
ACTIVE_SQL = "state IN ({})".format(", ".join(f"'{s.value}'" for s in sorted(ACTIVE_STATES)))


def format_number(sequence: int) -> str:
    """CS followed by seven digits: 1 → CS0000001."""
    return f"{NUMBER_PREFIX}{sequence:0{NUMBER_DIGITS}d}"


class ServiceRequest(Model):
    __tablename__ = "service_requests"
    __table_args__ = (
        CheckConstraint(f"state IN ({_ALL_STATES_SQL})", name="state_known"),
        CheckConstraint(
            f"(state IN ({_FINAL_SQL})) = (closed_at IS NOT NULL)", name="closed_iff_final"
        ),
        CheckConstraint(
            "state <> 'awaiting_user' OR resolved_at IS NOT NULL", name="resolved_when_awaiting"
        ),
        Index("ix_service_requests_requested_for_opened", "requested_for_id", "opened_at"),
        Index("ix_service_requests_opened_by_opened", "opened_by_id", "opened_at"),
        Index("ix_service_requests_group_state_opened", "group_id", "state", "opened_at"),
        Index("ix_service_requests_state_resolved", "state", "resolved_at"),
        Index("ix_service_requests_assignee_state", "assignee_id", "state"),
        Index("ix_service_requests_org_item", "organisation_id", "item_id"),
        # The client page: its latest requests, and its latest resolutions (the median).
        Index("ix_service_requests_org_opened", "organisation_id", "opened_at"),
        Index("ix_service_requests_org_resolved", "organisation_id", "resolved_at"),
        # The agents' queue: active requests of a group (and of every group), newest or oldest
        # first, read in index order so deep pages never sort.
        Index(
            "ix_service_requests_active_group_opened",
            "group_id",
            "opened_at",
            "id",
            sqlite_where=text(ACTIVE_SQL),
            postgresql_where=text(ACTIVE_SQL),
        ),
        Index(
            "ix_service_requests_active_opened",
            "opened_at",
            "id",
            sqlite_where=text(ACTIVE_SQL),
            postgresql_where=text(ACTIVE_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(12), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_items.id"))
    # The form as it was when the request was opened: its labels name field_values' keys.
    form_version_id: Mapped[int | None] = mapped_column(ForeignKey("form_versions.id"))
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_for_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The requested-for user's organisation at opening time, for staff filters and counts.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    state: Mapped[str] = mapped_column(String(30), default=State.OPEN.value)
    field_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    description: Mapped[str] = mapped_column(Text)
    extra_phone: Mapped[str | None] = mapped_column(String(20))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("support_groups.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancellation_requested: Mapped[bool] = mapped_column(default=False)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Optimistic locking: SQLAlchemy adds "AND version = :old" to every UPDATE.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    item: Mapped[CatalogItem] = relationship()
    form_version: Mapped[FormVersion | None] = relationship()
    opened_by: Mapped[User] = relationship(foreign_keys=[opened_by_id])
    requested_for: Mapped[User] = relationship(foreign_keys=[requested_for_id])
    organisation: Mapped[Organisation] = relationship()
    group: Mapped[SupportGroup | None] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    followers: Mapped[list[Follower]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="Follower.created_at"
    )

    @property
    def state_enum(self) -> State:
        return State(self.state)

    @property
    def state_label(self) -> str:
        return self.state_enum.label

    @property
    def is_final(self) -> bool:
        return self.state_enum.is_final

    def snapshot(self) -> Snapshot:
        return Snapshot(
            state=self.state_enum,
            resolved_at=self.resolved_at,
            closed_at=self.closed_at,
            cancellation_requested=self.cancellation_requested,
        )

    def __repr__(self) -> str:
        return f"<ServiceRequest {self.number} {self.state}>"


class Follower(Model):
    __tablename__ = "followers"
    __table_args__ = (Index("ix_followers_user_request", "user_id", "request_id"),)

    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    request: Mapped[ServiceRequest] = relationship(back_populates="followers")
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class EntryKind(enum.StrEnum):
    CREATED = "created"
    COMMENT = "comment"  # a message on the request page ("Comentários adicionais")
    NOTE = "note"  # an agent's note, public or internal, with time spent
    TRANSITION = "transition"
    ATTACHMENT = "attachment"
    ASSIGNMENT = "assignment"
    FOLLOWERS = "followers"


class TimelineEntry(Model):
    __tablename__ = "timeline_entries"
    __table_args__ = (Index("ix_timeline_entries_request_created", "request_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id", ondelete="CASCADE"))
    kind: Mapped[EntryKind] = mapped_column(
        Enum(
            EntryKind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]
        )
    )
    # None for the system (automatic closing).
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text, default="")
    public: Mapped[bool] = mapped_column(default=True)
    time_spent_minutes: Mapped[int | None] = mapped_column()
    action: Mapped[str | None] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str | None] = mapped_column(String(30))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User | None] = relationship()


class PartyRelation(enum.StrEnum):
    MINE = "mine"  # opened the request or it was opened for them
    FOLLOWING = "following"


class RequestParty(Model):
    """Who takes part in a request, with the columns the personal lists sort and filter on.

    Kept by database triggers (see portal.requests.derived), never written by the application:
    Minhas Solicitações, Meus Acompanhamentos, the badge and the home counts read one index
    range per person instead of OR-ing over the whole requests table.
    """

    __tablename__ = "request_parties"
    __table_args__ = (
        Index("ix_request_parties_list", "user_id", "relation", "opened_at", "request_id"),
        Index(
            "ix_request_parties_state", "user_id", "relation", "state", "opened_at", "request_id"
        ),
        Index("ix_request_parties_item", "user_id", "relation", "item_id", "state"),
    )

    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), primary_key=True
    )
    relation: Mapped[str] = mapped_column(String(10), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(30))
    item_id: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())


class QueueCount(Model):
    """Requests per support group (0: none) and state, kept by triggers for the queue counters."""

    __tablename__ = "queue_counts"

    group_key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(30), primary_key=True)
    total: Mapped[int] = mapped_column(Integer, default=0)


class PartyCount(Model):
    """How many requests a person has per relation, service and state, kept by triggers on
    request_parties: the badge, the home counts and the list totals read a handful of rows
    however many requests the person has."""

    __tablename__ = "party_counts"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    relation: Mapped[str] = mapped_column(String(10), primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(30), primary_key=True)
    total: Mapped[int] = mapped_column(Integer, default=0)


class RequestText(Model):
    """A request's description and messages as one text, for the queue's "número ou
    descrição" filter through portal.core.fulltext (FTS5 over `terms` on SQLite, a generated
    tsvector over `body` with a GIN index on PostgreSQL; migration 0007)."""

    __tablename__ = "request_texts"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), primary_key=True
    )
    body: Mapped[str] = mapped_column(Text, default="")
    terms: Mapped[str] = mapped_column(Text, default="")
