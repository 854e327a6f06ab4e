"""The demo articles: what the other pages and the accessibility visits rely on."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from portal.core import fulltext
from portal.core.extensions import db
from portal.demo import load_demo_data
from portal.knowledge.models import (
    Article,
    ArticleFeedback,
    ArticleVersion,
    ArticleVote,
    FeedbackState,
    KbCategory,
    VersionState,
    Visibility,
)


def _article(number: str) -> Article:
    article = db.session.scalar(select(Article).where(Article.number == number))
    assert article is not None
    return article


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_demo_articles_as_the_other_pages_expect(app: Flask) -> None:
    load_demo_data(db.session)
    db.session.commit()

    first = _article("KB0000001")
    assert first.is_live and first.visibility is Visibility.PUBLIC
    assert "GERID" in first.title and [i.slug for i in first.items] == ["gerid"]
    assert first.category is not None
    assert [c.name for c in first.category.path()] == ["Acesso e senhas", "GERID"]
    assert first.helpful_yes >= 2 and first.helpful_no >= 1 and first.view_count > 0
    tasks = db.session.scalars(
        select(ArticleFeedback).where(ArticleFeedback.article_id == first.id)
    ).all()
    states = sorted(t.state.value for t in tasks)
    assert states == ["open", "resolved"]
    assert all(t.text for t in tasks)
    assert next(t for t in tasks if t.state is FeedbackState.RESOLVED).reply
    live = first.live_version
    assert live is not None and live.created_by_id != live.published_by_id
    assert live.published_by is not None and live.published_by.is_staff

    second = _article("KB0000002")
    assert second.is_live and second.visibility is Visibility.INTERNAL

    articles = db.session.scalars(select(Article)).all()
    assert len(articles) >= 20
    working = [a.working_version for a in articles if not a.is_live and not a.archived]
    assert {v.state for v in working if v is not None} == {
        VersionState.DRAFT,
        VersionState.REVIEW,
    }
    assert any(a.archived and not a.is_live for a in articles)
    assert any(a.is_live and a.working_version is not None for a in articles)
    three = [a for a in articles if a.version_count == 3]
    assert len(three) == 1
    titles = db.session.scalars(
        select(ArticleVersion.title)
        .where(ArticleVersion.article_id == three[0].id, ArticleVersion.number.is_not(None))
        .order_by(ArticleVersion.number)
    ).all()
    assert len(titles) == 3 and len(set(titles)) == 2
    roots = db.session.scalars(select(KbCategory.name).where(KbCategory.parent_id.is_(None)))
    assert len(set(roots)) >= 4

    public = fulltext.search_documents(db.session, "senha", staff=False, kind="article")
    assert first.id in {h.ref_id for h in public.hits}
    assert second.id not in {h.ref_id for h in public.hits}

    before = (_count(Article), _count(ArticleVersion), _count(ArticleVote))
    load_demo_data(db.session)
    db.session.commit()
    assert (_count(Article), _count(ArticleVersion), _count(ArticleVote)) == before
