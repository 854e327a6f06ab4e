"""The full-text search on the real database (SQLite FTS5 or PostgreSQL tsvector): the same
answers on both, and nothing a person types breaks the MATCH or the tsquery."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.catalog.models import CatalogItem
from portal.core import fulltext, request_texts
from portal.core.extensions import db
from portal.models import ServiceRequest
from portal.requests import services as requests
from tests.knowledge import Cast, found, make_cast

TYPED_BY_PEOPLE = [
    '"senha',
    "senha*",
    "senha:*",
    "senha & acesso",
    "senha | acesso",
    "!senha",
    "senha (acesso",
    "senha) OR",
    "'senha'",
    "senha AND NOT acesso",
    "NEAR(senha acesso)",
    "senha^2",
    "-senha +acesso",
    "senha <-> acesso",
    "senha\\",
    "título: senha",
    "a_b senha",
    "senha ___",
    "{senha}",
    "senha;",
    "senha -- drop table",
]


@pytest.fixture
def cast(make_user: Callable[..., User], catalog: dict[str, CatalogItem]) -> Cast:
    return make_cast(make_user, catalog)


def test_what_people_type_never_breaks_the_search(cast: Cast) -> None:
    article = cast.published(body="Redefina a senha pelo acesso do GERID.")
    for typed in TYPED_BY_PEOPLE:
        page = fulltext.search_documents(db.session, typed, staff=False)
        if set(_words(typed)) <= {"senha", "acesso"}:
            assert article.id in {h.ref_id for h in page.hits if h.kind == "article"}, typed
        assert page.total == len(page.hits), typed
        fulltext.search_documents(db.session, typed, staff=True, any_word=True)
        matching = request_texts.request_ids_matching(db.session, typed)
        if matching is not None:
            db.session.execute(matching).all()


def _words(typed: str) -> list[str]:
    return [w for w in fulltext.WORD.findall(typed.lower()) if fulltext.stem(w)]


def test_nothing_searchable_finds_nothing(cast: Cast) -> None:
    cast.published()
    for typed in ("", "  ", '"', "*", "de a o", "&|!:"):
        page = fulltext.search_documents(db.session, typed, staff=True)
        assert page.hits == [] and page.total == 0
        assert request_texts.request_ids_matching(db.session, typed) is None


def test_accents_case_and_inflection_agree_on_both_engines(cast: Cast) -> None:
    article = cast.published(
        title="Lentidão no Cadastro Único", body="As famílias não aparecem na consulta."
    )
    for typed in ("lentidao", "LENTIDÃO", "cadastro unico", "familia", "consultas", "FAMÍLIAS"):
        assert found(typed, staff=False) == {article.id: ""}, typed


def test_the_last_word_is_a_prefix_and_every_word_must_match(cast: Cast) -> None:
    article = cast.published(body="Transferência de família entre municípios.")
    assert found("transferencia munic", staff=False) == {article.id: ""}
    assert found("transf", staff=False) == {article.id: ""}
    assert found("munic transferencia", staff=False) == {}  # only the last is a prefix
    assert found("transferencia gerid", staff=False) == {article.id: ""}  # in the title
    assert found("transferencia pagamento", staff=False) == {}
    assert found("transferencia pagamento", staff=True) == {}
    page = fulltext.search_documents(
        db.session, "transferencia pagamento", staff=False, any_word=True
    )
    assert article.id in {h.ref_id for h in page.hits}


def test_forms_and_articles_come_back_with_their_kind_and_slug(cast: Cast) -> None:
    article = cast.published(title="Acesso ao GERID")
    page = fulltext.search_documents(db.session, "gerid", staff=False, per_page=50)
    kinds = {(h.kind, h.slug) for h in page.hits}
    assert ("item", "gerid") in kinds
    assert ("article", f"{article.number}-acesso-ao-gerid") in kinds
    only = fulltext.search_documents(db.session, "gerid", staff=False, kind="item")
    assert {h.kind for h in only.hits} == {"item"}


def test_titles_and_snippets_are_escaped_and_marked(cast: Cast) -> None:
    cast.published(title="Erro <b>grave</b> no login", body="Use <script>x</script> no login.")
    [hit] = fulltext.search_documents(db.session, "grave", staff=False, kind="article").hits
    assert str(fulltext.mark_title(hit.title, "grave")) == (
        "Erro &lt;b&gt;<mark>grave</mark>&lt;/b&gt; no login"
    )
    [hit] = fulltext.search_documents(db.session, "login", staff=False, kind="article").hits
    # SQLite's snippet escapes the tag; PostgreSQL's ts_headline leaves tags out altogether.
    assert "<script>" not in str(hit.snippet) and "<mark>login</mark>" in str(hit.snippet)


def test_pages_split_the_hits(cast: Cast) -> None:
    ids = {cast.published(title=f"Senha {n}").id for n in range(5)}
    first = fulltext.search_documents(db.session, "senha", staff=False, kind="article", per_page=2)
    assert first.total == 5 and first.pages == 3 and len(first.hits) == 2
    last = fulltext.search_documents(
        db.session, "senha", staff=False, kind="article", per_page=2, page=99
    )
    assert last.page == 3 and len(last.hits) == 1
    seen = {h.ref_id for p in (1, 2, 3) for h in _page(p).hits}
    assert seen == ids


def _page(number: int) -> fulltext.HitPage:
    return fulltext.search_documents(
        db.session, "senha", staff=False, kind="article", per_page=2, page=number
    )


def test_request_texts_follow_description_and_messages(
    cast: Cast, make_request: Callable[..., ServiceRequest]
) -> None:
    request = make_request(cast.requester, description="A tela de login está lenta.")
    other = make_request(cast.requester, description="Perfil de entrevistador.")
    requests.add_message(db.session, request, cast.requester, "O balanceador caiu de novo.")
    db.session.commit()

    def ids(typed: str) -> set[int]:
        matching = request_texts.request_ids_matching(db.session, typed)
        assert matching is not None
        return set(
            db.session.scalars(select(ServiceRequest.id).where(ServiceRequest.id.in_(matching)))
        )

    assert ids("lentidão login") == set() and ids("lenta") == {request.id}
    assert ids("balanceador") == {request.id}
    assert ids("entrevistadores") == {other.id}
    assert ids('"perfil*') == {other.id}
