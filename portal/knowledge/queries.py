"""Read side of the Base de Conhecimento for its readers: the category tree with counts, the
article lists of the Base de Conhecimento page and of a category, and what an article page
shows.

Every list asks SQL for what this person may read (policy.can_read, as a WHERE clause over the
indexed columns `is_live`, `visibility`, `category_id`), so counts and lists never load every
article. A published article is never archived at the same time (the services keep `is_live`
and `archived` apart), so `is_live` alone stands for "published and not archived".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import joinedload

from portal.catalog.models import CatalogItem
from portal.catalog.queries import offered
from portal.core.database import DbSession
from portal.core.models import Attachment
from portal.core.paging import Page
from portal.knowledge import policy
from portal.knowledge.models import (
    NUMBER_DIGITS,
    NUMBER_PREFIX,
    Article,
    ArticleFeedback,
    ArticleVersion,
    ArticleVote,
    KbCategory,
    Visibility,
    article_items,
)

if TYPE_CHECKING:
    from portal.accounts.models import User

ARTICLE_OWNER = "article"  # Attachment.owner_type of an article's files
TOP_LIMIT = 5
RELATED_LIMIT = 5
PER_PAGE = 20
_REF = re.compile(rf"({NUMBER_PREFIX}\d{{{NUMBER_DIGITS}}})(?:-(.*))?", re.IGNORECASE)


def readable(user: User) -> ColumnElement[bool]:
    """The articles this person finds in lists: published public ones, and for staff the
    published internal ones too (drafts are reached from the staff pages, not the lists)."""
    if policy.sees_restricted(user):
        return and_(Article.is_live)
    return and_(Article.is_live, Article.visibility == Visibility.PUBLIC)


# --- the category tree ---------------------------------------------------------------------


@dataclass(eq=False)  # compared by identity (walking up the tree)
class CategoryNode:
    category: KbCategory
    count: int = 0  # readable articles here and in every subcategory
    children: list[CategoryNode] = field(default_factory=list)


@dataclass
class CategoryTree:
    by_id: dict[int, CategoryNode]
    roots: list[CategoryNode]

    def upwards(self, category_id: int | None) -> list[CategoryNode]:
        """This category, its parent, ... up to its root (a loop in the data stops the walk)."""
        chain: list[CategoryNode] = []
        node = self.by_id.get(category_id) if category_id is not None else None
        while node is not None and node not in chain:
            chain.append(node)
            parent_id = node.category.parent_id
            node = self.by_id.get(parent_id) if parent_id is not None else None
        return chain

    def trail(self, category_id: int | None) -> list[KbCategory]:
        """From the root down to this category (breadcrumbs), without lazy loads."""
        return [node.category for node in reversed(self.upwards(category_id))]


def _direct_counts(session: DbSession, user: User) -> dict[int, int]:
    rows = session.execute(
        select(Article.category_id, func.count())
        .where(readable(user))
        .group_by(Article.category_id)
    )
    return {category_id: n for category_id, n in rows if category_id is not None}


def category_tree(session: DbSession, user: User, *, counted: bool = True) -> CategoryTree:
    """Every category, ordered, with the count of what this person may read in it (its
    subcategories included). Two statements, whatever the number of articles."""
    categories = session.scalars(
        select(KbCategory).order_by(KbCategory.position, KbCategory.name)
    ).all()
    by_id = {c.id: CategoryNode(c) for c in categories}
    roots: list[CategoryNode] = []
    for node in by_id.values():
        parent = by_id.get(node.category.parent_id) if node.category.parent_id else None
        (parent.children if parent is not None else roots).append(node)
    tree = CategoryTree(by_id=by_id, roots=roots)
    if counted:
        for category_id, n in _direct_counts(session, user).items():
            for ancestor in tree.upwards(category_id):
                ancestor.count += n
    return tree


# --- the Base de Conhecimento page ----------------------------------------------------------


@dataclass(frozen=True)
class Highlights:
    most_viewed: list[Article]
    best_rated: list[Article]
    newest: list[Article]

    @property
    def empty(self) -> bool:
        return not self.newest


def _top(session: DbSession, user: User, *order: Any, where: Any = None) -> list[Article]:
    query = select(Article).where(readable(user))
    if where is not None:
        query = query.where(where)
    return list(session.scalars(query.order_by(*order, Article.id.desc()).limit(TOP_LIMIT)))


def highlights(session: DbSession, user: User) -> Highlights:
    """The 5 most viewed, the 5 best rated (most "Sim", then the higher "% útil": with as many
    "Sim", fewer "Não") and the 5 newest, each one indexed query."""
    return Highlights(
        most_viewed=_top(session, user, Article.view_count.desc(), where=Article.view_count > 0),
        best_rated=_top(
            session,
            user,
            Article.helpful_yes.desc(),
            Article.helpful_no.asc(),
            where=Article.helpful_yes > 0,
        ),
        newest=_top(session, user, Article.published_at.desc()),
    )


# --- a category's page ----------------------------------------------------------------------


def category_articles(
    session: DbSession, user: User, category_id: int, page: int, per_page: int = PER_PAGE
) -> Page[Article]:
    """The readable articles filed directly in this category, newest first, one page."""
    where = readable(user) & (Article.category_id == category_id)
    total = session.scalar(select(func.count()).select_from(Article).where(where)) or 0
    page = max(1, min(page, max(1, math.ceil(total / per_page))))
    rows = session.scalars(
        select(Article)
        .where(where)
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return Page(rows=list(rows), total=total, page=page, per_page=per_page)


# --- one article ----------------------------------------------------------------------------


def parse_ref(ref: str) -> tuple[str, str | None] | None:
    """ "KB0000123-any-slug" → ("KB0000123", "any-slug"); "KB0000123" → ("KB0000123", None);
    anything else → None. Only the number finds the article."""
    match = _REF.fullmatch(ref or "")
    if match is None:
        return None
    return match.group(1).upper(), match.group(2)


def canonical_ref(article: Article) -> str:
    return f"{article.number}-{article.slug}"


def readable_article(
    session: DbSession, user: User, number: str, *, versions: bool = False
) -> Article | None:
    """The article with this number (with its live and working versions when asked) if this
    person may read it; others get None, exactly as for a number that does not exist."""
    query = select(Article).where(Article.number == number.upper())
    if versions:
        query = query.options(joinedload(Article.live_version), joinedload(Article.working_version))
    article = session.scalar(query)
    if article is None or not policy.can_read(user, article):
        return None
    return article


def shown_version(session: DbSession, article: Article) -> ArticleVersion | None:
    """What the page shows: the live version, else (staff) the working one, else the last
    version written (an archived or discarded article, which staff may still open)."""
    if article.is_live and article.live_version is not None:
        return article.live_version
    if article.working_version is not None:
        return article.working_version
    if article.live_version is not None:
        return article.live_version
    return session.scalar(
        select(ArticleVersion)
        .where(ArticleVersion.article_id == article.id)
        .order_by(ArticleVersion.id.desc())
        .limit(1)
    )


def article_files(session: DbSession, article_id: int) -> list[Attachment]:
    return list(
        session.scalars(
            select(Attachment)
            .where(Attachment.owner_type == ARTICLE_OWNER, Attachment.owner_id == article_id)
            .order_by(Attachment.id)
        )
    )


def article_file(session: DbSession, article_id: int, attachment_id: int) -> Attachment | None:
    """One file of this article; another owner's file id finds nothing."""
    return session.scalar(
        select(Attachment).where(
            Attachment.id == attachment_id,
            Attachment.owner_type == ARTICLE_OWNER,
            Attachment.owner_id == article_id,
        )
    )


def related_forms(session: DbSession, item_ids: list[int]) -> list[CatalogItem]:
    """The version's related catalog items that are still offered."""
    if not item_ids:
        return []
    return list(
        session.scalars(
            select(CatalogItem)
            .where(CatalogItem.id.in_(item_ids), offered())
            .order_by(CatalogItem.position, CatalogItem.name)
        )
    )


def related_articles(
    session: DbSession, user: User, article: Article, category_id: int | None, item_ids: list[int]
) -> list[Article]:
    """Up to five readable articles of the same category or sharing a related form, the most
    viewed first: the five best of each kind, each read in index order, merged."""
    by_views = (Article.view_count.desc(), Article.id.desc())
    others = select(Article).where(readable(user), Article.id != article.id)
    found: list[Article] = []
    if category_id is not None:
        same = others.where(Article.category_id == category_id)
        found.extend(session.scalars(same.order_by(*by_views).limit(RELATED_LIMIT)))
    if item_ids:
        # EXISTS per article, read in views order: stops at five however many share the form.
        shares = (
            select(article_items.c.article_id)
            .where(article_items.c.article_id == Article.id, article_items.c.item_id.in_(item_ids))
            .exists()
        )
        linked = others.where(shares)
        found.extend(session.scalars(linked.order_by(*by_views).limit(RELATED_LIMIT)))
    unique = {a.id: a for a in found}.values()
    return sorted(unique, key=lambda a: (-a.view_count, -a.id))[:RELATED_LIMIT]


def my_vote(session: DbSession, user: User, article_id: int) -> ArticleVote | None:
    return session.scalar(
        select(ArticleVote).where(
            ArticleVote.article_id == article_id, ArticleVote.user_id == user.id
        )
    )


def my_feedback(session: DbSession, user: User, article_id: int) -> list[ArticleFeedback]:
    """The review tasks this person's "Não" opened on this article, newest first."""
    return list(
        session.scalars(
            select(ArticleFeedback)
            .where(ArticleFeedback.article_id == article_id, ArticleFeedback.user_id == user.id)
            .order_by(ArticleFeedback.created_at.desc(), ArticleFeedback.id.desc())
        )
    )
