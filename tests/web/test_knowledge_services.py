"""The Base de Conhecimento through its services: who publishes, versions, restore, discard,
archive, the audit trail, rollback, and the search index at every step."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.catalog.models import CatalogItem
from portal.core import fulltext
from portal.core.actors import DEMO_LOADER
from portal.core.errors import Conflict, NotFound, ValidationError
from portal.core.extensions import db
from portal.core.models import AuditEntry, SearchDocument
from portal.knowledge import services
from portal.knowledge.models import Article, ArticleVersion, VersionState, Visibility
from tests.knowledge import Cast, found, make_cast


@pytest.fixture
def cast(make_user: Callable[..., User], catalog: dict[str, CatalogItem]) -> Cast:
    return make_cast(make_user, catalog)


def _versions(article: Article) -> list[ArticleVersion]:
    return list(
        db.session.scalars(
            select(ArticleVersion)
            .where(ArticleVersion.article_id == article.id)
            .order_by(ArticleVersion.id)
        )
    )


def _reviewed(cast: Cast) -> Article:
    article = cast.create()
    services.submit_for_review(db.session, cast.writer, article.id)
    db.session.commit()
    return article


# --- who may publish ------------------------------------------------------------------------


def test_the_author_cannot_publish_their_own_version(cast: Cast) -> None:
    article = _reviewed(cast)
    with pytest.raises(Conflict, match="Quem escreveu"):
        services.publish(db.session, cast.writer, article.id)
    db.session.rollback()
    assert not db.session.get(Article, article.id).is_live


def test_an_agent_who_edited_the_version_cannot_publish_it(cast: Cast) -> None:
    article = cast.create()
    services.save_draft(db.session, cast.peer, article.id, cast.draft(body="Texto do colega."))
    services.submit_for_review(db.session, cast.writer, article.id)
    with pytest.raises(Conflict):
        services.publish(db.session, cast.peer, article.id)


def test_an_agent_of_another_group_cannot_publish(cast: Cast) -> None:
    article = _reviewed(cast)
    with pytest.raises(Conflict):
        services.publish(db.session, cast.outsider, article.id)


def test_another_agent_of_the_owner_group_publishes(cast: Cast) -> None:
    article = _reviewed(cast)
    version = services.publish(db.session, cast.peer, article.id)
    db.session.commit()
    assert version.state is VersionState.PUBLISHED and version.number == 1
    assert version.published_by_id == cast.peer.id
    assert article.is_live and article.live_version_id == version.id
    assert article.working_version_id is None
    assert [i.slug for i in article.items] == ["gerid"]


def test_an_admin_publishes_any_group_s_article(cast: Cast) -> None:
    article = _reviewed(cast)
    services.publish(db.session, cast.admin, article.id)
    assert article.is_live


def test_requesters_and_the_system_cannot_write_or_publish(cast: Cast) -> None:
    with pytest.raises(NotFound):
        services.create_article(db.session, cast.requester, cast.draft())
    article = _reviewed(cast)
    with pytest.raises(NotFound):  # a requester cannot even see a version in review
        services.publish(db.session, cast.requester, article.id)


def test_only_a_version_in_review_is_published(cast: Cast) -> None:
    article = cast.create()
    with pytest.raises(Conflict, match="Publicar"):
        services.publish(db.session, cast.peer, article.id)


def test_bad_input_names_its_fields(cast: Cast) -> None:
    with pytest.raises(ValidationError) as caught:
        services.create_article(
            db.session,
            cast.writer,
            cast.draft(title=" ", body="", category_id=None, owner_group_id=9999, item_ids=[9999]),
        )
    fields = {e.field for e in caught.value.errors}  # type: ignore[attr-defined]
    assert fields == {"title", "body", "category_id", "owner_group_id", "item_ids"}


# --- versions -------------------------------------------------------------------------------


def test_editing_a_published_article_makes_a_draft_and_the_live_text_stays(cast: Cast) -> None:
    article = cast.published(body="Use o navegador Firefox para entrar.")
    live = article.live_version_id
    draft = services.save_draft(
        db.session,
        cast.writer,
        article.id,
        cast.draft(title="Novo título", body="Use o navegador Chromium para entrar."),
    )
    db.session.commit()
    assert draft.id != live and draft.state is VersionState.DRAFT
    assert article.live_version_id == live and article.working_version_id == draft.id
    assert article.title == "Como acessar o GERID" and article.is_live
    assert found("firefox", staff=False) == {article.id: ""}
    assert found("chromium", staff=False) == {}
    assert db.session.get(ArticleVersion, live).body == "Use o navegador Firefox para entrar."


def test_publishing_numbers_versions_and_archives_the_previous(cast: Cast) -> None:
    article = cast.published()
    cast.revise(article, body="Segunda versão.")
    cast.revise(article, author=cast.peer, title="Acesso ao GERID", body="Terceira versão.")
    versions = _versions(article)
    assert [v.number for v in versions] == [1, 2, 3]
    assert [v.state for v in versions] == [
        VersionState.ARCHIVED,
        VersionState.ARCHIVED,
        VersionState.PUBLISHED,
    ]
    assert article.version_count == 3 and article.live_version_id == versions[2].id
    assert article.title == "Acesso ao GERID" and article.slug == "acesso-ao-gerid"
    assert found("terceira", staff=False) == {article.id: ""}
    assert found("segunda", staff=True) == {}
    hit = fulltext.search_documents(db.session, "terceira", staff=False).hits[0]
    assert hit.slug == f"{article.number}-acesso-ao-gerid" and hit.title == "Acesso ao GERID"


def test_restore_makes_a_new_draft_from_an_old_version(cast: Cast) -> None:
    article = cast.published(title="Título original", body="Texto original.")
    cast.revise(article, title="Título novo", body="Texto novo.")
    first = _versions(article)[0]
    services.save_draft(db.session, cast.writer, article.id, cast.draft(body="Em andamento."))
    with pytest.raises(Conflict, match="rascunho em andamento"):
        services.restore(db.session, cast.writer, article.id, first.id)
    services.discard_draft(db.session, cast.writer, article.id)
    restored = services.restore(db.session, cast.writer, article.id, first.id)
    db.session.commit()
    assert restored.state is VersionState.DRAFT and restored.restored_from_id == first.id
    assert (restored.title, restored.body) == ("Título original", "Texto original.")
    assert article.title == "Título novo"  # the live version stays until published
    services.submit_for_review(db.session, cast.writer, article.id)
    services.publish(db.session, cast.peer, article.id)
    assert article.title == "Título original" and restored.number == 3


def test_restore_refuses_another_article_s_version(cast: Cast) -> None:
    one, other = cast.published(), cast.published(title="Outro")
    with pytest.raises(NotFound):
        services.restore(db.session, cast.writer, one.id, _versions(other)[0].id)


def test_discarding_a_never_published_article_takes_it_out(cast: Cast) -> None:
    article = cast.create(body="Rascunho sobre a palavra zumbido.")
    assert found("zumbido", staff=True) == {article.id: "Rascunho"}
    version = services.discard_draft(db.session, cast.writer, article.id)
    db.session.commit()
    assert version.state is VersionState.DISCARDED and article.archived
    assert article.working_version_id is None
    assert found("zumbido", staff=True) == {}
    with pytest.raises(Conflict):
        services.discard_draft(db.session, cast.writer, article.id)


def test_discarding_the_draft_of_a_live_article_keeps_it_live(cast: Cast) -> None:
    article = cast.published(body="Versão publicada sobre o balanceador.")
    services.save_draft(db.session, cast.writer, article.id, cast.draft(body="Nova."))
    services.discard_draft(db.session, cast.writer, article.id)
    db.session.commit()
    assert article.is_live and not article.archived and article.working_version_id is None
    assert found("balanceador", staff=False) == {article.id: ""}


def test_a_stale_editor_does_not_overwrite_a_newer_draft(cast: Cast) -> None:
    article = cast.create()
    first = article.working_version_id
    services.discard_draft(db.session, cast.writer, article.id)
    services.restore(db.session, cast.writer, article.id, first)
    with pytest.raises(Conflict, match="Recarregue"):
        services.save_draft(db.session, cast.peer, article.id, cast.draft(), based_on=first)


# --- archive and audit ----------------------------------------------------------------------


def test_archive_takes_the_article_from_requesters(cast: Cast) -> None:
    article = cast.published(body="Texto sobre certificado digital.")
    with pytest.raises(NotFound):
        services.archive(db.session, cast.outsider, article.id)
    db.session.rollback()
    services.archive(db.session, cast.writer, article.id)
    db.session.commit()
    assert not article.is_live and article.archived
    assert article.live_version.state is VersionState.ARCHIVED
    assert found("certificado", staff=False) == {}
    with pytest.raises(NotFound):
        services.get_article(db.session, cast.requester, article.id)
    assert services.get_article(db.session, cast.writer, article.id) is article
    with pytest.raises(Conflict, match="publicado"):
        services.archive(db.session, cast.admin, article.id)


def test_publish_and_archive_are_audited_with_who_did_it(cast: Cast) -> None:
    article = cast.published()
    services.archive(db.session, cast.admin, article.id)
    db.session.commit()
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type == "article", AuditEntry.object_id == article.id)
        .order_by(AuditEntry.id)
    ).all()
    assert [(e.action, e.actor_id) for e in entries] == [
        ("article.publish", cast.peer.id),
        ("article.archive", cast.admin.id),
    ]
    assert entries[0].after == {
        "number": article.number,
        "version": 1,
        "title": "Como acessar o GERID",
    }


def test_a_failure_midway_leaves_nothing(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    article = _reviewed(cast)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("índice fora do ar")

    monkeypatch.setattr(fulltext, "index_document", broken)
    with pytest.raises(RuntimeError):
        services.publish(db.session, cast.peer, article.id)
    db.session.rollback()
    monkeypatch.undo()
    article = db.session.get(Article, article.id)
    assert not article.is_live and article.version_count == 0
    assert article.working_version.state is VersionState.REVIEW
    assert article.working_version.number is None
    assert db.session.scalars(select(AuditEntry.action)).all().count("article.publish") == 0
    assert found("acessar", staff=True) == {article.id: "Em revisão"}


# --- the search index at every step ---------------------------------------------------------


def test_the_search_index_follows_every_step(cast: Cast) -> None:
    article = cast.create(body="Orientações sobre o captcha da página de login.")
    assert found("captcha", staff=True) == {article.id: "Rascunho"}
    assert found("captcha", staff=False) == {}
    services.submit_for_review(db.session, cast.writer, article.id)
    assert found("captcha", staff=True) == {article.id: "Em revisão"}
    assert found("captcha", staff=False) == {}
    services.return_to_author(db.session, cast.peer, article.id)
    assert found("captcha", staff=True) == {article.id: "Rascunho"}
    services.submit_for_review(db.session, cast.writer, article.id)
    services.publish(db.session, cast.peer, article.id)
    assert found("captcha", staff=False) == {article.id: ""}
    assert found("captcha", staff=True) == {article.id: ""}
    services.archive(db.session, cast.peer, article.id)
    assert found("captcha", staff=True) == {}
    db.session.commit()
    docs = db.session.scalars(select(SearchDocument).where(SearchDocument.kind == "article"))
    assert list(docs) == []


def test_internal_articles_are_for_staff_with_a_label(cast: Cast) -> None:
    article = cast.published(
        visibility=Visibility.INTERNAL.value, body="Procedimento de desbloqueio no console."
    )
    assert found("desbloqueio", staff=True) == {article.id: "Interno"}
    assert found("desbloqueio", staff=False) == {}
    with pytest.raises(NotFound):
        services.get_article(db.session, cast.requester, article.id)


def test_summary_keywords_and_markdown_text_are_searchable(cast: Cast) -> None:
    article = cast.published(
        summary="Resumo com a palavra orquídea.",
        keywords="girassol",
        body="| Coluna | Valor |\n| --- | --- |\n| **Tulipa** | 1 |",
    )
    for word in ("orquidea", "girassol", "tulipa"):
        assert found(word, staff=False) == {article.id: ""}, word
    hit = fulltext.search_documents(db.session, "tulipa", staff=False).hits[0]
    assert "**" not in str(hit.snippet) and "|" not in str(hit.snippet)


def test_categories_are_unique_per_level(cast: Cast) -> None:
    with pytest.raises(ValidationError, match="Já existe"):
        services.create_category(db.session, DEMO_LOADER, "GERID", cast.category.parent_id)
    db.session.rollback()
    child = services.create_category(db.session, DEMO_LOADER, "GERID", cast.category.id)
    assert [c.name for c in child.path()] == ["Acesso e senhas", "GERID", "GERID"]
    with pytest.raises(NotFound):
        services.create_category(db.session, cast.requester, "Outra")
