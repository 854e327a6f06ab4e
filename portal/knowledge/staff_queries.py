"""Read side of the Base de Conhecimento's staff pages: the form's choices, one article with its
versions and files, the Artigos list, the Feedback de artigos list, Deflexão.

Lists are paged in SQL and load what their rows show up front (no lazy loads while a template
renders). Who sees which feedback follows policy.can_handle_feedback, as a WHERE clause.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select, true
from sqlalchemy.orm import joinedload

from portal.accounts.models import SupportGroup
from portal.catalog.models import CatalogItem
from portal.core.database import DbSession
from portal.core.models import Attachment
from portal.core.paging import Page
from portal.knowledge.models import (
    Article,
    ArticleFeedback,
    ArticleVersion,
    FeedbackState,
    KbCategory,
    Tally,
    VersionState,
    Visibility,
)
from portal.knowledge.services import ARTICLE_FILES, TITLE_MAX, ArticleInput
from portal.requests import lifecycle
from portal.requests.lifecycle import Action
from portal.requests.models import EntryKind, ServiceRequest, TimelineEntry

if TYPE_CHECKING:
    from portal.accounts.models import User

PER_PAGE = 20


def _paged(
    session: DbSession, query: Select[Any], page: int, per_page: int = PER_PAGE
) -> Page[Any]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = min(max(1, page), max(1, math.ceil(total / per_page)))
    rows = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique())
    return Page(rows=rows, total=total, page=page, per_page=per_page)


# --- the article form's choices -------------------------------------------------------------


@dataclass(frozen=True)
class CategoryOption:
    id: int
    name: str
    parent_id: int | None
    depth: int

    @property
    def indented(self) -> str:
        """The name as a select shows it: indented by its depth in the tree."""
        return "\u00a0\u00a0\u00a0" * self.depth + ("— " if self.depth else "") + self.name


def category_options(session: DbSession) -> list[CategoryOption]:
    """The whole category tree in reading order (each node under its parent), one query."""
    rows = session.execute(
        select(KbCategory.id, KbCategory.name, KbCategory.parent_id).order_by(
            KbCategory.position, KbCategory.name
        )
    ).all()
    children: dict[int | None, list[Any]] = {}
    known = {row.id for row in rows}
    for row in rows:
        parent = row.parent_id if row.parent_id in known else None
        children.setdefault(parent, []).append(row)
    options: list[CategoryOption] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for row in children.get(parent_id, []):
            options.append(CategoryOption(row.id, row.name, row.parent_id, depth))
            if depth < 20:  # a cycle cannot be made through the services; never loop anyway
                walk(row.id, depth + 1)

    walk(None, 0)
    return options


def group_options(session: DbSession, keep: int | None = None) -> list[SupportGroup]:
    """Active groups (and the archived one an article already names, so it still shows)."""
    shown: ColumnElement[bool] = SupportGroup.active.expression
    if keep is not None:
        shown = or_(SupportGroup.active, SupportGroup.id == keep)
    return list(session.scalars(select(SupportGroup).where(shown).order_by(SupportGroup.name)))


def item_options(session: DbSession, keep: list[int] | None = None) -> list[CatalogItem]:
    """Active catalog items (and any inactive one the article already names)."""
    shown: ColumnElement[bool] = CatalogItem.active.expression
    if keep:
        shown = or_(CatalogItem.active, CatalogItem.id.in_(keep))
    return list(session.scalars(select(CatalogItem).where(shown).order_by(CatalogItem.name)))


# --- one article ----------------------------------------------------------------------------


def article_by_number(session: DbSession, number: str) -> Article | None:
    return session.scalar(
        select(Article)
        .where(Article.number == number.upper())
        .options(
            joinedload(Article.working_version),
            joinedload(Article.live_version),
            joinedload(Article.owner_group),
            joinedload(Article.category),
        )
    )


def article_files(session: DbSession, article_id: int) -> list[Attachment]:
    return list(
        session.scalars(
            select(Attachment)
            .where(Attachment.owner_type == ARTICLE_FILES, Attachment.owner_id == article_id)
            .order_by(Attachment.id)
        )
    )


def versions(session: DbSession, article_id: int) -> list[ArticleVersion]:
    """Every version, newest first, with who created and published it."""
    return list(
        session.scalars(
            select(ArticleVersion)
            .where(ArticleVersion.article_id == article_id)
            .order_by(ArticleVersion.id.desc())
            .options(joinedload(ArticleVersion.created_by), joinedload(ArticleVersion.published_by))
        )
    )


def latest_version(session: DbSession, article_id: int) -> ArticleVersion | None:
    return session.scalar(
        select(ArticleVersion)
        .where(ArticleVersion.article_id == article_id)
        .order_by(ArticleVersion.id.desc())
        .limit(1)
    )


# --- Artigos ----------------------------------------------------------------------------------

STATES: dict[str, str] = {
    "publicados": "Publicados",
    "revisao": "Em revisão",
    "rascunhos": "Rascunhos",
    "arquivados": "Arquivados",
}


@dataclass(frozen=True)
class ArticleFilters:
    state: str = ""
    group_id: int | None = None
    category_id: int | None = None


def _state_condition(state: str) -> ColumnElement[bool] | None:
    working = ArticleVersion.state
    conditions: dict[str, ColumnElement[bool]] = {
        "publicados": Article.is_live.expression,
        "revisao": working == VersionState.REVIEW,
        "rascunhos": working == VersionState.DRAFT,
        "arquivados": and_(Article.archived, Article.working_version_id.is_(None)),
    }
    return conditions.get(state)


def article_list(session: DbSession, filters: ArticleFilters, page: int = 1) -> Page[Article]:
    """Staff's list of every article, most recently updated first, 20 a page."""
    query = (
        select(Article)
        .outerjoin(ArticleVersion, ArticleVersion.id == Article.working_version_id)
        .options(
            joinedload(Article.owner_group),
            joinedload(Article.working_version),
            joinedload(Article.category),
        )
        .order_by(Article.updated_at.desc(), Article.id.desc())
    )
    condition = _state_condition(filters.state)
    if condition is not None:
        query = query.where(condition)
    if filters.group_id:
        query = query.where(Article.owner_group_id == filters.group_id)
    if filters.category_id:
        query = query.where(Article.category_id == filters.category_id)
    return _paged(session, query, page)


# --- Feedback de artigos ----------------------------------------------------------------------

FEEDBACK_STATES: dict[str, FeedbackState] = {
    "abertos": FeedbackState.OPEN,
    "resolvidos": FeedbackState.RESOLVED,
    "descartados": FeedbackState.DISCARDED,
}


def _handled_by(viewer: User) -> ColumnElement[bool]:
    """policy.can_handle_feedback as SQL: admins every task; an agent the tasks of their
    groups and those of articles without an owner group."""
    if viewer.is_admin:
        return true()
    group_ids = [g.id for g in viewer.groups]
    return or_(
        ArticleFeedback.owner_group_id.is_(None), ArticleFeedback.owner_group_id.in_(group_ids)
    )


def feedback_list(
    session: DbSession, viewer: User, state: FeedbackState, page: int = 1
) -> Page[ArticleFeedback]:
    query = (
        select(ArticleFeedback)
        .where(ArticleFeedback.state == state, _handled_by(viewer))
        .options(
            joinedload(ArticleFeedback.article),
            joinedload(ArticleFeedback.user),
            joinedload(ArticleFeedback.handled_by),
        )
        .order_by(ArticleFeedback.created_at.desc(), ArticleFeedback.id.desc())
    )
    return _paged(session, query, page)


def open_feedback_count(session: DbSession, viewer: User) -> int:
    """The open tasks this viewer may handle (the menu's badge)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(ArticleFeedback)
            .where(ArticleFeedback.state == FeedbackState.OPEN, _handled_by(viewer))
        )
        or 0
    )


# --- Deflexão ---------------------------------------------------------------------------------

DEFLECTION_METRICS = ("suggestions_shown", "articles_opened", "requests_avoided")


@dataclass(frozen=True)
class DeflectionRow:
    item_id: int
    name: str
    suggestions_shown: int
    articles_opened: int
    requests_avoided: int

    @property
    def rate(self) -> int | None:
        """Requests avoided per suggestion shown, in percent (None before any suggestion)."""
        if not self.suggestions_shown:
            return None
        return round(100 * self.requests_avoided / self.suggestions_shown)


def deflection(session: DbSession) -> list[DeflectionRow]:
    """Per catalog item, the three deflection counts: one query over the tallies."""
    sums = [
        func.coalesce(func.sum(case((Tally.metric == metric, Tally.total), else_=0)), 0).label(
            metric
        )
        for metric in DEFLECTION_METRICS
    ]
    rows = session.execute(
        select(CatalogItem.id, CatalogItem.name, *sums)
        .outerjoin(
            Tally,
            and_(
                Tally.subject_type == literal("catalog_item"),
                Tally.subject_id == CatalogItem.id,
                Tally.metric.in_(DEFLECTION_METRICS),
            ),
        )
        .where(or_(CatalogItem.active, Tally.total > 0))
        .group_by(CatalogItem.id, CatalogItem.name)
        .order_by(sums[2].desc(), sums[1].desc(), CatalogItem.name)
    )
    return [DeflectionRow(row[0], row[1], row[2], row[3], row[4]) for row in rows]


# --- categories -------------------------------------------------------------------------------


def categories_with_counts(session: DbSession) -> dict[int, int]:
    """How many articles (any state) each category holds directly."""
    rows = session.execute(
        select(Article.category_id, func.count())
        .where(Article.category_id.is_not(None))
        .group_by(Article.category_id)
    )
    return {category_id: n for category_id, n in rows if category_id is not None}


# --- "Criar artigo a partir desta solicitação" ------------------------------------------------


def solution_text(session: DbSession, req: ServiceRequest) -> str:
    """The request's solution: the reason of its last "Resolver", else its last public note."""
    resolved = session.scalar(
        select(TimelineEntry.body)
        .where(
            TimelineEntry.request_id == req.id,
            TimelineEntry.kind == EntryKind.TRANSITION,
            TimelineEntry.action == Action.RESOLVE.value,
        )
        .order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc())
        .limit(1)
    )
    if resolved:
        label = f"{lifecycle.reason_label(Action.RESOLVE)}:\n"
        return resolved.removeprefix(label).strip()
    note = session.scalar(
        select(TimelineEntry.body)
        .where(
            TimelineEntry.request_id == req.id,
            TimelineEntry.kind == EntryKind.NOTE,
            TimelineEntry.public,
        )
        .order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc())
        .limit(1)
    )
    return (note or "").strip()


def request_prefill(
    session: DbSession, req: ServiceRequest, owner_group_id: int | None
) -> ArticleInput:
    """A draft's form filled from a resolved request: its item and first line as the title,
    the description as the Problema and the solution as the Solução."""
    description = (req.description or "").replace("\r\n", "\n").strip()
    first_line = next((line.strip() for line in description.split("\n") if line.strip()), "")
    title = f"{req.item.name}: {first_line}" if first_line else req.item.name
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1].rstrip() + "…"
    body = f"## Problema\n\n{description}\n\n## Solução\n\n{solution_text(session, req)}\n"
    return ArticleInput(
        title=title,
        body=body,
        visibility=Visibility.PUBLIC.value,
        owner_group_id=owner_group_id,
        item_ids=[req.item_id],
    )
