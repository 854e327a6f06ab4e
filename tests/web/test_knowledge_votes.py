"""“Este artigo foi útil?”: votes, the feedback tasks a “Não” opens, and the buffered tallies
(article views, deflection counts) that a flush writes on both databases."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.catalog.models import CatalogItem
from portal.core.actors import DEMO_LOADER
from portal.core.errors import Conflict, NotFound, ValidationError
from portal.core.extensions import db
from portal.knowledge import services, tallies
from portal.knowledge.models import Article, ArticleFeedback, ArticleVote, FeedbackState, Tally
from tests.knowledge import Cast, make_cast


@pytest.fixture
def cast(make_user: Callable[..., User], catalog: dict[str, CatalogItem]) -> Cast:
    return make_cast(make_user, catalog)


@pytest.fixture
def article(cast: Cast) -> Article:
    return cast.published()


def _counts(article: Article) -> tuple[int, int, int]:
    db.session.refresh(article)
    rows = db.session.scalar(
        select(func.count()).select_from(ArticleVote).where(ArticleVote.article_id == article.id)
    )
    return article.helpful_yes, article.helpful_no, rows or 0


def _tasks(article: Article) -> list[ArticleFeedback]:
    return list(
        db.session.scalars(
            select(ArticleFeedback)
            .where(ArticleFeedback.article_id == article.id)
            .order_by(ArticleFeedback.id)
        )
    )


# --- votes ----------------------------------------------------------------------------------


def test_one_vote_per_person_which_they_may_change(cast: Cast, article: Article) -> None:
    services.vote(db.session, cast.requester, article.id, helpful=True)
    services.vote(db.session, cast.requester, article.id, helpful=True)
    db.session.commit()
    assert _counts(article) == (1, 0, 1)
    services.vote(db.session, cast.requester, article.id, helpful=False)
    db.session.commit()
    assert _counts(article) == (0, 1, 1)
    services.vote(db.session, cast.other_requester, article.id, helpful=True)
    db.session.commit()
    assert _counts(article) == (1, 1, 2)
    assert article.helpful_percent == 50


def test_only_published_articles_take_votes(cast: Cast) -> None:
    draft = cast.create()
    with pytest.raises(NotFound):
        services.vote(db.session, cast.requester, draft.id, helpful=True)
    with pytest.raises(Conflict):
        services.vote(db.session, cast.writer, draft.id, helpful=True)
    with pytest.raises(NotFound):
        services.vote(db.session, DEMO_LOADER, draft.id, helpful=True)


def test_a_comment_has_a_limit(cast: Cast, article: Article) -> None:
    with pytest.raises(ValidationError):
        services.vote(db.session, cast.requester, article.id, helpful=False, comment="x" * 2001)


# --- feedback tasks -------------------------------------------------------------------------


def test_a_no_with_text_opens_one_task_for_the_owner_group(cast: Cast, article: Article) -> None:
    services.vote(db.session, cast.requester, article.id, helpful=False)
    services.vote(db.session, cast.requester, article.id, helpful=True, comment="Ótimo!")
    assert _tasks(article) == []
    services.vote(db.session, cast.requester, article.id, helpful=False, comment="Faltou o CPF.")
    services.vote(db.session, cast.requester, article.id, helpful=False, comment="E o e-mail.")
    db.session.commit()
    [task] = _tasks(article)
    assert task.text == "E o e-mail." and task.state is FeedbackState.OPEN
    assert task.owner_group_id == cast.group.id and task.user_id == cast.requester.id
    assert _counts(article) == (0, 1, 1)


def test_feedback_is_handled_by_the_owner_group_and_admins(cast: Cast, article: Article) -> None:
    services.vote(db.session, cast.requester, article.id, helpful=False, comment="Confuso.")
    db.session.commit()
    [task] = _tasks(article)
    for stranger in (cast.outsider, cast.requester, cast.other_requester):
        with pytest.raises(NotFound):
            services.handle_feedback(
                db.session, stranger, task.id, resolution="resolved", reply="Ok."
            )
    with pytest.raises(ValidationError, match="resposta") as caught:
        services.handle_feedback(db.session, cast.peer, task.id, resolution="resolved")
    assert caught.value.field == "reply"
    with pytest.raises(ValidationError) as caught:
        services.handle_feedback(db.session, cast.peer, task.id, resolution="talvez")
    assert caught.value.field == "resolution"
    db.session.rollback()
    services.handle_feedback(
        db.session, cast.peer, task.id, resolution="resolved", reply="  Incluímos o passo.  "
    )
    db.session.commit()
    assert task.state is FeedbackState.RESOLVED and task.reply == "Incluímos o passo."
    assert task.handled_by_id == cast.peer.id and task.handled_at is not None
    with pytest.raises(Conflict, match="já foi tratado"):
        services.handle_feedback(db.session, cast.admin, task.id, resolution="discarded")


def test_a_new_no_after_a_handled_task_opens_another(cast: Cast, article: Article) -> None:
    services.vote(db.session, cast.requester, article.id, helpful=False, comment="Primeiro.")
    [first] = _tasks(article)
    services.handle_feedback(db.session, cast.admin, first.id, resolution="discarded")
    services.vote(db.session, cast.requester, article.id, helpful=False, comment="Segundo.")
    db.session.commit()
    tasks = _tasks(article)
    assert [(t.text, t.state) for t in tasks] == [
        ("Primeiro.", FeedbackState.DISCARDED),
        ("Segundo.", FeedbackState.OPEN),
    ]
    assert tasks[0].reply == "" and tasks[0].handled_by_id == cast.admin.id


# --- tallies --------------------------------------------------------------------------------


@pytest.fixture
def clean_tallies() -> Iterator[None]:
    tallies._take()  # nothing left over from another test
    yield
    tallies._take()


def _tally(subject_id: int, metric: str) -> int | None:
    return db.session.scalar(
        select(Tally.total).where(
            Tally.subject_type == "catalog_item",
            Tally.subject_id == subject_id,
            Tally.metric == metric,
        )
    )


def _views(article: Article) -> int:
    db.session.expire_all()
    return db.session.scalar(select(Article.view_count).where(Article.id == article.id)) or 0


@pytest.mark.usefixtures("clean_tallies")
def test_flush_writes_views_and_upserts_tallies(cast: Cast, article: Article) -> None:
    gerid = cast.items["gerid"].id
    for _ in range(3):
        tallies.count("article", article.id, "views")
    tallies.count("catalog_item", gerid, "suggestions_shown", 5)
    tallies.count("catalog_item", gerid, "articles_opened")
    assert _views(article) == 0  # nothing written before the flush
    assert tallies.flush(db.session) == 3
    assert _views(article) == 3
    assert _tally(gerid, "suggestions_shown") == 5 and _tally(gerid, "articles_opened") == 1
    tallies.count("article", article.id, "views")
    tallies.count("catalog_item", gerid, "suggestions_shown", 2)
    tallies.add_now(db.session, "catalog_item", gerid, "requests_avoided")
    db.session.commit()
    tallies.flush(db.session)
    assert _views(article) == 4
    assert _tally(gerid, "suggestions_shown") == 7 and _tally(gerid, "requests_avoided") == 1
    assert tallies.flush(db.session) == 0  # nothing pending


@pytest.mark.usefixtures("clean_tallies")
def test_a_failed_flush_keeps_the_counts_for_the_next(
    cast: Cast, article: Article, monkeypatch: pytest.MonkeyPatch
) -> None:
    gerid = cast.items["gerid"].id
    tallies.count("article", article.id, "views", 2)
    tallies.count("catalog_item", gerid, "suggestions_shown", 4)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("banco fora do ar")

    monkeypatch.setattr(tallies, "_upsert", broken)
    with pytest.raises(RuntimeError):
        tallies.flush(db.session)
    monkeypatch.undo()
    assert _views(article) == 0  # the views' UPDATE was rolled back with the rest
    assert _tally(gerid, "suggestions_shown") is None
    assert tallies.flush(db.session) == 2
    assert _views(article) == 2 and _tally(gerid, "suggestions_shown") == 4


@pytest.mark.usefixtures("clean_tallies")
def test_flush_is_due_only_after_the_interval(app: Flask, cast: Cast, article: Article) -> None:
    app.config["TALLY_FLUSH_SECONDS"] = 3600
    tallies.flush(db.session)
    tallies.count("article", article.id, "views")
    assert not tallies.due(app)
    app.config["TALLY_FLUSH_SECONDS"] = 0
    assert tallies.due(app)
