"""The Base de Conhecimento: categories, articles with their versions, votes, feedback tasks.

An article is its number and its pointers: the live (published) version and the version being
worked on (a draft or one in review). What lists need (title, summary, category, visibility,
counts) is copied onto the article when a version goes live, so lists never join versions.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Column,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.extensions import Model, db
from portal.core.timeutil import utcnow
from portal.core.types import UTCDateTime

if TYPE_CHECKING:
    from portal.accounts.models import SupportGroup, User
    from portal.catalog.models import CatalogItem

NUMBER_PREFIX = "KB"
NUMBER_DIGITS = 7


def format_article_number(value: int) -> str:
    return f"{NUMBER_PREFIX}{value:0{NUMBER_DIGITS}d}"


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"

    @property
    def label(self) -> str:
        return {"public": "Público", "internal": "Interno"}[self.value]


class VersionState(enum.StrEnum):
    DRAFT = "draft"
    REVIEW = "review"
    PUBLISHED = "published"
    ARCHIVED = "archived"  # superseded by a newer publication, or the article was archived
    DISCARDED = "discarded"  # a draft given up before it was published

    @property
    def label(self) -> str:
        return {
            "draft": "Rascunho",
            "review": "Em revisão",
            "published": "Publicado",
            "archived": "Arquivado",
            "discarded": "Descartado",
        }[self.value]


class FeedbackState(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    DISCARDED = "discarded"

    @property
    def label(self) -> str:
        return {"open": "Aberto", "resolved": "Resolvido", "discarded": "Descartado"}[self.value]


class KbCategory(Model):
    """A node of the Base de Conhecimento's category tree, kept by staff."""

    __tablename__ = "kb_categories"
    __table_args__ = (UniqueConstraint("parent_id", "name", name="uq_kb_categories_parent_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("kb_categories.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)

    parent: Mapped[KbCategory | None] = relationship(remote_side=[id])

    def path(self) -> list[KbCategory]:
        """From the root down to this category (breadcrumbs)."""
        chain: list[KbCategory] = []
        node: KbCategory | None = self
        while node is not None:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))


article_items = Table(
    "article_items",
    db.Model.metadata,
    Column("article_id", ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "item_id", ForeignKey("catalog_items.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


class Article(Model):
    __tablename__ = "articles"
    __table_args__ = (
        # A category's page (newest first) and its related articles (most viewed first).
        Index("ix_articles_live_category", "is_live", "visibility", "category_id", "published_at"),
        Index(
            "ix_articles_live_category_views", "is_live", "visibility", "category_id", "view_count"
        ),
        Index("ix_articles_live_published", "is_live", "visibility", "published_at"),
        Index("ix_articles_live_views", "is_live", "visibility", "view_count"),
        Index("ix_articles_live_rating", "is_live", "visibility", "helpful_yes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(12), unique=True)
    # Copied from the live version, or from the working one while nothing is live.
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    slug: Mapped[str] = mapped_column(String(120), default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("kb_categories.id"), index=True)
    visibility: Mapped[Visibility] = mapped_column(_enum(Visibility), default=Visibility.PUBLIC)
    owner_group_id: Mapped[int | None] = mapped_column(ForeignKey("support_groups.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # True while a version is published (not archived): what requesters may read.
    is_live: Mapped[bool] = mapped_column(default=False)
    archived: Mapped[bool] = mapped_column(default=False)
    live_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("article_versions.id", use_alter=True, name="fk_articles_live_version")
    )
    working_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("article_versions.id", use_alter=True, name="fk_articles_working_version")
    )
    version_count: Mapped[int] = mapped_column(default=0)  # versions ever published
    view_count: Mapped[int] = mapped_column(default=0)
    helpful_yes: Mapped[int] = mapped_column(default=0)
    helpful_no: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    category: Mapped[KbCategory | None] = relationship()
    owner_group: Mapped[SupportGroup | None] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    live_version: Mapped[ArticleVersion | None] = relationship(
        foreign_keys=[live_version_id], post_update=True
    )
    working_version: Mapped[ArticleVersion | None] = relationship(
        foreign_keys=[working_version_id], post_update=True
    )
    items: Mapped[list[CatalogItem]] = relationship(secondary=article_items)

    @property
    def votes(self) -> int:
        return self.helpful_yes + self.helpful_no

    @property
    def helpful_percent(self) -> int | None:
        """ "% útil": None until someone voted."""
        return round(100 * self.helpful_yes / self.votes) if self.votes else None

    @property
    def state_label(self) -> str:
        if self.archived:
            return VersionState.ARCHIVED.label
        if self.is_live:
            return VersionState.PUBLISHED.label
        working = self.working_version
        return working.state.label if working is not None else VersionState.DRAFT.label


class ArticleVersion(Model):
    """One version's content. Drafts change in place; a published version never changes."""

    __tablename__ = "article_versions"
    __table_args__ = (Index("ix_article_versions_article", "article_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    # Numbered when published (1, 2, ...); drafts have none yet.
    number: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[VersionState] = mapped_column(_enum(VersionState), default=VersionState.DRAFT)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[str] = mapped_column(String(300), default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("kb_categories.id"))
    visibility: Mapped[Visibility] = mapped_column(_enum(Visibility), default=Visibility.PUBLIC)
    owner_group_id: Mapped[int | None] = mapped_column(ForeignKey("support_groups.id"))
    item_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    restored_from_id: Mapped[int | None] = mapped_column(ForeignKey("article_versions.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    article: Mapped[Article] = relationship(foreign_keys=[article_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])

    @property
    def label(self) -> str:
        """ "Versão 3", or the draft's state."""
        return f"Versão {self.number}" if self.number else self.state.label

    def content(self) -> dict[str, Any]:
        """What a restore copies and a diff compares."""
        return {
            "title": self.title,
            "summary": self.summary,
            "body": self.body,
            "keywords": self.keywords,
            "category_id": self.category_id,
            "visibility": self.visibility,
            "owner_group_id": self.owner_group_id,
            "item_ids": list(self.item_ids or []),
        }


class ArticleVote(Model):
    """ "Este artigo foi útil?": one vote per person and article, which they may change."""

    __tablename__ = "article_votes"
    __table_args__ = (UniqueConstraint("article_id", "user_id", name="uq_article_votes_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    helpful: Mapped[bool] = mapped_column()
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ArticleFeedback(Model):
    """A review task opened by a "Não" with a text, for the article's owner group."""

    __tablename__ = "article_feedback"
    __table_args__ = (
        Index("ix_article_feedback_state_group", "state", "owner_group_id", "created_at"),
        Index("ix_article_feedback_article_user", "article_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    owner_group_id: Mapped[int | None] = mapped_column(ForeignKey("support_groups.id"))
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[FeedbackState] = mapped_column(_enum(FeedbackState), default=FeedbackState.OPEN)
    reply: Mapped[str] = mapped_column(Text, default="")
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    article: Mapped[Article] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    handled_by: Mapped[User | None] = relationship(foreign_keys=[handled_by_id])
    owner_group: Mapped[SupportGroup | None] = relationship()


class Tally(Model):
    """Counts kept in aggregate (article views, deflection per catalog item), so a page view
    never waits on a write: web workers add up in memory and flush in one statement."""

    __tablename__ = "tallies"

    subject_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    subject_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric: Mapped[str] = mapped_column(String(30), primary_key=True)
    total: Mapped[int] = mapped_column(default=0)
