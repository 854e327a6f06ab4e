"""The portal's search (/pesquisa: forms and articles together) and the suggestions while
typing (/pesquisa/sugestoes), through the test client, identically on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from portal.accounts.services import find_or_create_group
from portal.catalog.services import index_item, upsert_item
from portal.core.extensions import db
from portal.knowledge import services as kb
from portal.knowledge import tallies
from portal.knowledge.models import Article, KbCategory, Tally
from portal.models import CatalogItem
from tests.conftest import SETUP, AuthActions

XSS = '"><svg onload=alert(1)>'


def _html(response: TestResponse) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _titles(html: str) -> list[str]:
    """The results' titles in order, marks removed."""
    found = re.findall(r'class="result-title" href="[^"]*">(.*?)</a>', html, re.S)
    return [re.sub(r"</?mark>", "", t) for t in found]


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


def _snippets(html: str) -> list[str]:
    return re.findall(r'<p class="search-hit-snippet">(.*?)</p>', html, re.S)


@pytest.fixture
def kb_category(app: Any) -> Callable[[str], KbCategory]:
    def factory(name: str = "Acesso") -> KbCategory:
        category = kb.ensure_category_path(db.session, SETUP, [name])
        db.session.commit()
        return category

    return factory


@pytest.fixture
def article(app: Any, kb_category: Callable[[str], KbCategory]) -> Callable[..., Article]:
    """An article through the services: published by default, or left as "draft"/"review"."""

    def factory(
        title: str,
        body: str = "Conteúdo do artigo.",
        *,
        summary: str = "",
        category: str = "Acesso",
        visibility: str = "public",
        state: str = "published",
    ) -> Article:
        group = find_or_create_group(db.session, SETUP, "Suporte GERID")
        created = kb.create_article(
            db.session,
            SETUP,
            kb.ArticleInput(
                title=title,
                summary=summary,
                body=body,
                category_id=kb_category(category).id,
                visibility=visibility,
                owner_group_id=group.id,
            ),
        )
        if state in ("review", "published"):
            kb.submit_for_review(db.session, SETUP, created.id)
        if state == "published":
            kb.publish(db.session, SETUP, created.id)
        db.session.commit()
        return created

    return factory


def _search(auth: AuthActions, **params: Any) -> str:
    return _html(auth.client.get("/pesquisa", query_string=params))


# ------------------------------------------------------------------ matching


@pytest.mark.parametrize(
    ("typed", "marked"),
    [
        ("cadunico", "<mark>CadÚnico</mark>"),  # accents and case ignored
        ("CADÚNICO", "<mark>CadÚnico</mark>"),
        ("cadu", "<mark>CadÚnico</mark>"),  # the last word as a prefix
        ("consultar", "<mark>Consultas</mark>"),  # inflection
    ],
)
def test_a_word_finds_the_article_whatever_its_accents_case_or_inflection(
    auth: AuthActions, make_user, article, typed: str, marked: str
) -> None:
    article("Consultas no CadÚnico", "Como consultar famílias no Cadastro Único.")
    article("Senha do GERID", "Troca de senha.")
    auth.login(make_user())
    html = _search(auth, q=typed)
    assert _titles(html) == ["Consultas no CadÚnico"]
    assert marked in html
    assert f"1 resultado(s) para “{typed}”" in html


def test_acessar_finds_acesso_and_marks_it_in_the_snippet(
    auth: AuthActions, make_user, article
) -> None:
    article("Perfis do sistema", "Para liberar o acesso ao módulo, peça ao gestor municipal.")
    article("Outro assunto", "Nada a ver com isso.")
    auth.login(make_user())
    html = _search(auth, q="acessar", tipo="artigo")
    assert _titles(html) == ["Perfis do sistema"]
    (snippet,) = _snippets(html)
    assert "<mark>acesso</mark>" in snippet
    assert "<mark>liberar</mark>" not in snippet


def test_every_word_typed_is_required(auth: AuthActions, make_user, article) -> None:
    article("Senha do GERID", "Como trocar a senha do GERID.")
    article("Perfis do GERID", "Quem pode liberar perfis.")
    auth.login(make_user())
    assert _titles(_search(auth, q="gerid senha", tipo="artigo")) == ["Senha do GERID"]
    assert sorted(_titles(_search(auth, q="gerid", tipo="artigo"))) == [
        "Perfis do GERID",
        "Senha do GERID",
    ]


def test_a_title_match_ranks_before_a_body_only_match(
    auth: AuthActions, make_user, article
) -> None:
    article("Lentidão no sistema", "Quando o Portal Rede Atendimento demora a abrir as telas.")
    article("Portal lento", "Passos para verificar a conexão.")
    auth.login(make_user())
    assert _titles(_search(auth, q="portal", tipo="artigo")) == [
        "Portal lento",
        "Lentidão no sistema",
    ]


def test_forms_and_articles_come_together_with_icon_kind_and_category(
    auth: AuthActions, make_user, catalog, article
) -> None:
    article("Como acessar o GERID", "Passo a passo do primeiro acesso.", category="Acessos")
    auth.login(make_user())
    html = _search(auth, q="gerid")
    titles = _titles(html)
    assert "GERID" in titles and "Como acessar o GERID" in titles
    hits = re.findall(r'<li class="search-hit">(.*?)</li>', html, re.S)
    form = next(h for h in hits if 'href="/catalogo/gerid"' in h)
    doc = next(h for h in hits if "Como acessar" in h)
    assert 'class="fas fa-table' in form and "Formulário · ACESSO MULTICLIENTE" in _text(form)
    assert 'class="fas fa-file-alt' in doc and "Artigo · Acessos" in _text(doc)
    assert re.search(r'href="/base-de-conhecimento/KB\d{7}-como-acessar-o-gerid"', doc)


def test_an_empty_query_shows_the_form_only_and_nothing_found_says_so(
    auth: AuthActions, make_user, catalog
) -> None:
    auth.login(make_user())
    html = _search(auth)
    assert 'id="search-page-q"' in html and "resultado(s)" not in html
    html = _search(auth, q="inexistente")
    assert "Nenhum resultado encontrado para “inexistente”" in html
    assert 'href="/catalogo"' in html


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("gerid", "GERID"),
        ("GERID", "GERID"),
        ("portal rede", "Portal Rede Atendimento"),
        ("atendimento", "Portal Rede Atendimento"),
        ("cadunico", "Portal Rede Atendimento"),
        ("solicitacao", "Solicitação de Perfil"),
    ],
)
def test_forms_are_found_whatever_the_case_and_accents(
    auth: AuthActions, make_user, catalog, query: str, first: str
) -> None:
    upsert_item(
        db.session,
        SETUP,
        {
            "path": ["SERVIÇOS MULTICLIENTE"],
            "slug": "perfil",
            "name": "Solicitação de Perfil",
            "short_description": "Pedidos de perfil",
            "group": "Suporte GERID",
            "fields": [],
        },
    )
    db.session.commit()
    auth.login(make_user())
    titles = _titles(_search(auth, q=query))
    assert titles and titles[0] == first


# ------------------------------------------------------------------ filters and pages


def test_the_kind_filter_keeps_the_query_and_narrows_the_results(
    auth: AuthActions, make_user, catalog, article
) -> None:
    article("Como acessar o GERID")
    auth.login(make_user())
    html = _search(auth, q="gerid")
    assert 'href="/pesquisa?q=gerid&amp;tipo=artigo"' in html
    assert 'href="/pesquisa?q=gerid&amp;tipo=formulario"' in html
    assert 'id="categoria"' not in html  # Categoria once a kind is chosen
    assert _titles(_search(auth, q="gerid", tipo="artigo")) == ["Como acessar o GERID"]
    forms = _search(auth, q="gerid", tipo="formulario")
    assert "Como acessar o GERID" not in _titles(forms) and "GERID" in _titles(forms)
    assert 'name="tipo" value="formulario"' in forms  # a new search stays in the kind


def test_the_category_filter_offers_that_kinds_categories(
    auth: AuthActions, make_user, catalog, article
) -> None:
    article("Senha do GERID", category="Acessos")
    article("Senha do Portal", category="Senhas")
    auth.login(make_user())
    html = _search(auth, q="senha", tipo="artigo")
    options = dict(
        (name, int(value))
        for value, name in re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', html)
    )
    assert set(options) == {"Acessos", "Senhas"}
    only = _search(auth, q="senha", tipo="artigo", categoria=options["Senhas"])
    assert _titles(only) == ["Senha do Portal"]
    assert f'<option value="{options["Senhas"]}" selected>' in only
    forms = _search(auth, q="gerid", tipo="formulario")
    assert "ACESSO MULTICLIENTE" in forms and ">Acessos<" not in forms
    # A category of the other kind is ignored, not an empty page.
    assert _titles(_search(auth, q="senha", tipo="formulario", categoria=options["Senhas"])) == []


def test_results_page_by_ten(auth: AuthActions, make_user, article) -> None:
    for n in range(12):
        article(f"Cadastro número {n:02d}", "Atualização cadastral.")
    auth.login(make_user())
    first = _search(auth, q="cadastro")
    assert "12 resultado(s) para “cadastro”" in first
    assert len(_titles(first)) == 10
    assert "Resultados 1 - 10 de 12" in first
    next_link = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "q=cadastro" in next_link and "pagina=2" in next_link
    second = _html(auth.client.get(next_link))
    assert len(_titles(second)) == 2
    assert set(_titles(first)).isdisjoint(_titles(second))
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert "Resultados 11 - 12 de 12" in second


def test_the_category_names_are_read_once_per_page(
    auth: AuthActions, make_user, article, count_queries
) -> None:
    article("Cadastro 1", category="Um")
    auth.login(make_user())
    with count_queries() as one:
        _search(auth, q="cadastro")
    for n in range(2, 8):
        article(f"Cadastro {n}", category=f"Categoria {n}")
    with count_queries() as many:
        html = _search(auth, q="cadastro")
    assert len(_titles(html)) == 7 and "Artigo · Categoria 7" in _text(html)
    assert len(many) == len(one)


# ------------------------------------------------------------------ who sees what


def test_requesters_never_see_restricted_articles_nor_their_count(
    auth: AuthActions, make_user, article
) -> None:
    article("Manual público do cadastro")
    article("Procedimento interno do cadastro", visibility="internal", category="Só interno")
    article("Rascunho do cadastro", state="draft")
    article("Revisão do cadastro", state="review")
    auth.login(make_user())
    html = _search(auth, q="cadastro")
    assert _titles(html) == ["Manual público do cadastro"]
    assert "1 resultado(s)" in html
    assert "interno" not in html.lower() and "Rascunho" not in html
    articles = _search(auth, q="cadastro", tipo="artigo")
    assert _titles(articles) == ["Manual público do cadastro"]
    assert "Só interno" not in articles  # nor the categories only they fill


def test_staff_see_restricted_articles_labelled(auth: AuthActions, make_user, article) -> None:
    article("Manual público do cadastro")
    article("Procedimento interno do cadastro", visibility="internal")
    article("Rascunho do cadastro", state="draft")
    article("Revisão do cadastro", state="review")
    auth.login(make_user(role="agent", groups=["Suporte GERID"]))
    html = _search(auth, q="cadastro")
    assert "4 resultado(s)" in html
    hits = re.findall(r'<li class="search-hit">(.*?)</li>', html, re.S)
    labels = {
        re.sub(r"</?mark>", "", re.search(r'class="result-title"[^>]*>(.*?)</a>', h).group(1)): (
            re.findall(r'class="internal-tag">([^<]+)<', h)
        )
        for h in hits
    }
    assert labels == {
        "Manual público do cadastro": [],
        "Procedimento interno do cadastro": ["Interno"],
        "Rascunho do cadastro": ["Rascunho"],
        "Revisão do cadastro": ["Em revisão"],
    }


def test_a_withdrawn_form_is_no_longer_found(auth: AuthActions, make_user, catalog) -> None:
    auth.login(make_user())
    assert "Pronto Cliente" in _titles(_search(auth, q="pronto cliente"))
    item = db.session.scalar(select(CatalogItem).where(CatalogItem.slug == "pronto-cliente"))
    item.active = False
    index_item(db.session, item)
    db.session.commit()
    assert _titles(_search(auth, q="pronto cliente")) == []


def test_an_updated_form_is_found_by_its_new_name(auth: AuthActions, make_user, catalog) -> None:
    upsert_item(
        db.session,
        SETUP,
        {"path": ["OUTROS"], "slug": "pronto-cliente", "name": "Chamados Multicliente"},
    )
    db.session.commit()
    auth.login(make_user())
    assert _titles(_search(auth, q="multicliente chamados")) == ["Chamados Multicliente"]


def test_html_in_a_title_or_body_is_shown_as_text(auth: AuthActions, make_user, article) -> None:
    article(f"Cadastro {XSS}", f"Texto do cadastro {XSS} <script>alert(2)</script>")
    auth.login(make_user())
    html = _search(auth, q="cadastro")
    assert "<svg" not in html and "<script>alert" not in html
    assert "&lt;svg onload=alert(1)&gt;" in html


# ------------------------------------------------------------------ the search boxes


def test_the_header_and_home_boxes_search_here(auth: AuthActions, make_user) -> None:
    auth.login(make_user())
    home = _html(auth.client.get("/"))
    assert home.count('action="/pesquisa"') == 2  # the header's and the home's Pesquisar
    on_results = _search(auth, q="gerid")
    assert re.search(r'id="header-q"[^>]*value="gerid"', on_results)


def test_signed_out_visitors_are_sent_to_sign_in(client) -> None:
    for path in ("/pesquisa?q=gerid", "/pesquisa/sugestoes?q=gerid"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


# ------------------------------------------------------------------ suggestions


@pytest.fixture
def no_pending_tallies() -> None:
    tallies._take()  # counts another test left in this process's buffer


def _suggest(auth: AuthActions, **params: Any) -> list[dict[str, str]]:
    response = auth.client.get("/pesquisa/sugestoes", query_string=params)
    assert response.status_code == 200 and response.is_json
    return response.get_json()["articles"]


def _tally(item: CatalogItem) -> int:
    total = db.session.scalar(
        select(Tally.total).where(
            Tally.subject_type == "catalog_item",
            Tally.subject_id == item.id,
            Tally.metric == "suggestions_shown",
        )
    )
    return int(total or 0)


def test_suggestions_are_public_live_articles_for_a_sentence(
    auth: AuthActions, make_user, catalog, article, no_pending_tallies
) -> None:
    public = article(
        "Como acessar o GERID", "Primeiro acesso ao GERID.", summary="Passo a passo do acesso."
    )
    article("Acesso interno ao GERID", visibility="internal")
    article("Acesso ao GERID em rascunho", state="draft")
    article("Acesso ao GERID em revisão", state="review")
    auth.login(make_user())
    # A sentence as typed in Descrição: the articles that match any of its words.
    found = _suggest(auth, q="Não consigo acessar o sistema desde ontem", item="gerid")
    assert found == [
        {
            "title": "Como acessar o GERID",
            "summary": "Passo a passo do acesso.",
            "url": f"/base-de-conhecimento/{public.number}-como-acessar-o-gerid?de=gerid",
        }
    ]
    tallies.flush(db.session)
    assert _tally(catalog["gerid"]) == 1


def test_staff_suggestions_are_public_articles_too(
    auth: AuthActions, make_user, article, no_pending_tallies
) -> None:
    article("Como acessar o GERID")
    article("Acesso interno ao GERID", visibility="internal")
    auth.login(make_user(role="agent", groups=["Suporte GERID"]))
    found = _suggest(auth, q="acesso gerid")
    assert [a["title"] for a in found] == ["Como acessar o GERID"]
    assert "?de=" not in found[0]["url"]  # no catalog item: nothing counted


def test_suggestions_count_only_for_an_active_item_and_only_when_shown(
    auth: AuthActions, make_user, catalog, article, no_pending_tallies
) -> None:
    article("Como acessar o GERID", summary="")
    auth.login(make_user())
    assert _suggest(auth, q="impressora quebrada", item="gerid") == []
    found = _suggest(auth, q="acesso", item="nao-existe")
    assert len(found) == 1 and "?de=" not in found[0]["url"]
    assert found[0]["summary"]  # no summary: the snippet's text instead
    tallies.flush(db.session)
    assert db.session.scalar(select(func.count()).select_from(Tally)) == 0
    for _ in range(2):
        _suggest(auth, q="acesso", item="gerid")
    tallies.flush(db.session)
    assert _tally(catalog["gerid"]) == 2


def test_suggestions_are_at_most_five(
    auth: AuthActions, make_user, article, no_pending_tallies
) -> None:
    for n in range(7):
        article(f"Cadastro {n}")
    auth.login(make_user())
    assert len(_suggest(auth, q="cadastro")) == 5


def test_the_suggestion_tally_is_written_after_the_response_when_due(
    app, auth: AuthActions, make_user, catalog, article, no_pending_tallies
) -> None:
    article("Como acessar o GERID")
    auth.login(make_user())
    app.config["TALLY_FLUSH_SECONDS"] = 0
    response = auth.client.get("/pesquisa/sugestoes", query_string={"q": "acesso", "item": "gerid"})
    assert response.get_json()["articles"]
    assert _tally(catalog["gerid"]) == 0  # not while the response is being sent
    response.close()  # what the server does once the response is out
    db.session.rollback()
    assert _tally(catalog["gerid"]) == 1


def test_the_request_form_has_the_suggestions_region(auth: AuthActions, make_user, catalog) -> None:
    auth.login(make_user())
    html = _html(auth.client.get("/catalogo/gerid"))
    region = re.search(r'<div class="kb-suggestions"[^>]*>', html).group(0)
    assert 'aria-live="polite"' in region and 'data-item="gerid"' in region
    assert 'data-suggest-url="/pesquisa/sugestoes"' in region
    assert '<script src="/static/js/suggestions.js" defer></script>' in html


def test_agents_get_the_insert_article_box_requesters_do_not(
    auth: AuthActions, make_user, make_request
) -> None:
    requester = make_user()
    request = make_request(requester)
    auth.login(requester)
    assert "Inserir artigo" not in _html(auth.client.get(f"/solicitacoes/{request.number}"))
    auth.logout()
    auth.login(make_user(role="agent", groups=["Suporte GERID"]))
    html = _html(auth.client.get(f"/solicitacoes/{request.number}"))
    box = re.search(r"<section[^>]*data-insert-article[^>]*>.*?</section>", html, re.S).group(0)
    assert 'data-base-url="http://portal.test"' in box
    assert 'href="/pesquisa?tipo=artigo" target="_blank"' in box
    assert "(abre em nova aba)" in box


def test_an_exact_title_comes_first(auth: AuthActions, make_user, catalog) -> None:
    # bm25 alone put "Relatórios do GERID" (short body) before "GERID" on SQLite.
    upsert_item(
        db.session,
        SETUP,
        {
            "path": ["OUTROS"],
            "slug": "gerid-relatorios",
            "name": "Relatórios do GERID",
            "short_description": "x",
            "group": "Suporte GERID",  # an item is offered (and found) once published
            "fields": [],
        },
    )
    db.session.commit()
    auth.login(make_user())
    titles = _titles(_html(auth.client.get("/pesquisa?q=gerid")))
    assert titles[:2] == ["GERID", "Relatórios do GERID"]


def test_words_inside_addresses_and_file_names_are_found_on_both_engines(
    auth: AuthActions, make_user, article
) -> None:
    # PostgreSQL's parser keeps an e-mail, a URL or a file name as one token; both engines
    # must split them into words as SQLite's tokenizer does.
    article("Contato", "Escreva para suporte@salvador.ba.gov.br e anexe relatorio_final.pdf.")
    auth.login(make_user())
    for typed in ("salvador", "relatorio", "suporte"):
        assert _titles(_search(auth, q=typed)) == ["Contato"], typed


def test_a_word_found_everywhere_is_counted_only_up_to_the_horizon(
    auth: AuthActions, make_user, article, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal.core import ranking

    monkeypatch.setattr(ranking, "HORIZON", 3)
    for n in range(5):
        article(f"Aviso {n}", "Texto sobre o cadastro.")
    auth.login(make_user())
    html = _search(auth, q="cadastro")
    assert "Mais de 3 resultado(s)" in _text(html)
    monkeypatch.setattr(ranking, "HORIZON", 5)
    assert "5 resultado(s)" in _text(_search(auth, q="cadastro"))
    assert "Mais de" not in _text(_search(auth, q="cadastro"))


def test_a_title_match_ranks_first_even_past_the_horizon(
    auth: AuthActions, make_user, article, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the newest HORIZON matches anywhere are ranked, but every title match (here the
    # oldest article) is a candidate too.
    from portal.core import ranking

    monkeypatch.setattr(ranking, "HORIZON", 3)
    article("Perfil de entrevistador", "Como atribuir.")
    for n in range(5):
        article(f"Aviso {n}", "O perfil pode expirar.")
    auth.login(make_user())
    html = _search(auth, q="perfil")
    assert _titles(html) == ["Perfil de entrevistador", "Aviso 4", "Aviso 3", "Aviso 2"]
    assert "Mais de 4 resultado(s)" in _text(html)
