"""Demo articles for the Base de Conhecimento, written and published through the services by
the demo agents (so the history shows people), with votes and feedback from the requesters.

Numbers follow creation order (see `demo_content.ARTICLES`): KB0000001 is a published public
GERID access article with votes and feedback, KB0000002 an internal one. Loading again does
nothing once any article exists.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import func, select

from portal.accounts.models import SupportGroup, User
from portal.catalog.models import CatalogItem
from portal.core.actors import DEMO_LOADER
from portal.core.database import DbSession
from portal.core.timeutil import utcnow
from portal.knowledge import services
from portal.knowledge.demo_content import ARTICLES, GERID, DemoArticle, Revision, body
from portal.knowledge.models import Article, ArticleFeedback, ArticleVersion, Visibility

# Who writes and who reviews each group's articles (an admin reviews the agents' work, and
# the agent reviews the admin's).
TEAMS = {GERID: ("ana", "carla"), "Suporte CadÚnico": ("bruno", "carla")}


def load_demo_articles(
    session: DbSession, users: dict[str, User], items: dict[str, CatalogItem]
) -> None:
    if session.scalar(select(func.count()).select_from(Article)):
        return
    groups = {g.name: g for g in session.scalars(select(SupportGroup))}
    now = utcnow()
    articles = [_load(session, spec, users, items, groups, now) for spec in ARTICLES]
    _votes(session, users, articles, now)
    session.flush()


def _input(
    session: DbSession,
    spec: DemoArticle,
    items: dict[str, CatalogItem],
    groups: dict[str, SupportGroup],
) -> services.ArticleInput:
    category = services.ensure_category_path(session, DEMO_LOADER, list(spec.category))
    return services.ArticleInput(
        title=spec.title,
        summary=spec.summary,
        body=body(spec.body),
        keywords=spec.keywords,
        category_id=category.id,
        visibility=(Visibility.INTERNAL if spec.internal else Visibility.PUBLIC).value,
        owner_group_id=groups[spec.group].id,
        item_ids=[items[slug].id for slug in spec.items],
    )


def _stamp(article: Article, version: ArticleVersion, when: datetime) -> None:
    """Date a version's steps as if they had happened from `when` on (demo history)."""
    version.created_at = version.updated_at = when
    if version.submitted_at is not None:
        version.submitted_at = when + timedelta(hours=2)
    if version.published_at is not None:
        version.published_at = article.published_at = when + timedelta(days=1)
    article.updated_at = version.published_at or version.submitted_at or when


def _review_and_publish(
    session: DbSession, article: Article, author: User, reviewer: User, when: datetime
) -> None:
    services.submit_for_review(session, author, article.id)
    version = services.publish(session, reviewer, article.id)
    _stamp(article, version, when)


def _load(
    session: DbSession,
    spec: DemoArticle,
    users: dict[str, User],
    items: dict[str, CatalogItem],
    groups: dict[str, SupportGroup],
    now: datetime,
) -> Article:
    writer, reviewer = (users[name] for name in TEAMS[spec.group])
    data = _input(session, spec, items, groups)
    when = now - timedelta(days=spec.days_ago)
    article = services.create_article(session, writer, data)
    article.created_at = when
    if spec.fate == "draft":
        _stamp(article, _working(article), when)
        return article
    if spec.fate == "review":
        _stamp(article, services.submit_for_review(session, writer, article.id), when)
        return article
    _review_and_publish(session, article, writer, reviewer, when)
    for turn, revision in enumerate(spec.revisions):
        author, checker = (reviewer, writer) if turn % 2 == 0 else (writer, reviewer)
        _revise(session, article, author, data, revision)
        _review_and_publish(
            session, article, author, checker, now - timedelta(days=revision.days_ago)
        )
    if spec.fate == "pending":
        draft = services.save_draft(
            session, writer, article.id, replace(data, body=body(spec.pending_body))
        )
        _stamp(article, draft, now - timedelta(days=1))
    elif spec.fate == "archived":
        services.archive(session, reviewer, article.id)
        article.updated_at = now - timedelta(days=5)
    article.view_count = spec.views
    return article


def _working(article: Article) -> ArticleVersion:
    assert article.working_version is not None
    return article.working_version


def _revise(
    session: DbSession,
    article: Article,
    author: User,
    data: services.ArticleInput,
    revision: Revision,
) -> None:
    changed = replace(
        data,
        body=body(revision.body),
        title=revision.title or article.title,
        summary=revision.summary or article.summary,
    )
    services.save_draft(session, author, article.id, changed)


def _votes(
    session: DbSession, users: dict[str, User], articles: list[Article], now: datetime
) -> None:
    """ "Este artigo foi útil?" from the requesters; KB0000001 gets a feedback task answered
    (the person then changed their vote) and one still open."""
    felipe, ellem, roberto, greziella = (
        users[n] for n in ("felipe", "ellem", "roberto", "greziella")
    )
    first, forgot, token, slow = articles[0], articles[2], articles[3], articles[7]
    services.vote(
        session,
        roberto,
        first.id,
        helpful=False,
        comment="No passo 3 não ficou claro qual e-mail usar quando o município tem e-mail "
        "institucional e eu uso o pessoal.",
    )
    answered = _open_task(session, first, roberto)
    answered.created_at = now - timedelta(days=20)
    services.handle_feedback(
        session,
        users["ana"],
        answered.id,
        resolution="resolved",
        reply="Obrigada pelo retorno! Use nos dois campos o e-mail cadastrado no GERID "
        "(normalmente o institucional). Incluímos essa orientação no passo 3.",
    )
    answered.handled_at = now - timedelta(days=19)
    services.vote(session, roberto, first.id, helpful=True)
    services.vote(session, felipe, first.id, helpful=True)
    services.vote(session, ellem, first.id, helpful=True)
    services.vote(
        session,
        greziella,
        first.id,
        helpful=False,
        comment="Segui os passos, mas o token não chegou. Seria bom citar a pasta de spam.",
    )
    _open_task(session, first, greziella).created_at = now - timedelta(days=2)
    for who, article, helpful in (
        (felipe, forgot, True),
        (roberto, forgot, True),
        (ellem, forgot, False),
        (greziella, token, True),
        (felipe, token, True),
        (felipe, slow, True),
    ):
        services.vote(session, who, article.id, helpful=helpful)
    services.vote(
        session,
        roberto,
        slow.id,
        helpful=False,
        comment="Já fiz todos os testes e a tela de login continua demorando mais de 2 minutos.",
    )


def _open_task(session: DbSession, article: Article, user: User) -> ArticleFeedback:
    session.flush()
    task = session.scalar(
        select(ArticleFeedback).where(
            ArticleFeedback.article_id == article.id, ArticleFeedback.user_id == user.id
        )
    )
    assert task is not None
    return task
