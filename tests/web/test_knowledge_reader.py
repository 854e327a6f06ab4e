"""The reader's side of the Base de Conhecimento: who reads what, stable URLs, the article page,
"Este artigo foi útil?", files, views counted in aggregate, and deflection."""

from __future__ import annotations

import contextvars
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update
from werkzeug.datastructures import FileStorage

from portal.accounts import services as accounts
from portal.catalog.models import CatalogItem
from portal.core import files
from portal.core.actors import SystemActor
from portal.core.extensions import db
from portal.core.models import Attachment
from portal.knowledge import services, tallies
from portal.knowledge.models import (
    Article,
    ArticleFeedback,
    ArticleVote,
    KbCategory,
    Tally,
)
from portal.models import ServiceRequest, User
from tests.conftest import AuthActions
from tests.files import pdf_bytes, png_bytes

SETUP = SystemActor("testes")
GROUP = "Suporte GERID"
ROOT = "/base-de-conhecimento"
XSS = '"><svg onload=alert(1)>'
SCRIPT = "<script>alert(1)</script>"


# ------------------------------------------------------------------ fixtures


@pytest.fixture(autouse=True)
def fresh_tallies() -> Iterator[None]:
    """Counts are kept per process: start and end each test with none pending."""
    tallies._take()
    yield
    tallies._take()


@pytest.fixture
def flush_seconds() -> int:
    return 3600  # never due during a test, unless a test asks for 0


@pytest.fixture
def app_config(app_config: dict[str, Any], flush_seconds: int) -> dict[str, Any]:
    return {**app_config, "TALLY_FLUSH_SECONDS": flush_seconds}


@dataclass
class Kb:
    """Articles written and published as the system (the command line would)."""

    group_id: int
    items: dict[str, CatalogItem]

    def category(self, *names: str) -> KbCategory:
        category = services.ensure_category_path(db.session, SETUP, list(names or ["Acesso"]))
        db.session.commit()
        return category

    def _input(self, title: str, **fields: Any) -> services.ArticleInput:
        category = fields.pop("category", None) or self.category()
        slugs = fields.pop("items", ())
        return services.ArticleInput(
            title=title,
            summary=fields.pop("summary", f"Resumo de {title}"),
            body=fields.pop("body", f"Conteúdo de **{title}**."),
            category_id=category.id,
            visibility=fields.pop("visibility", "public"),
            owner_group_id=self.group_id,
            item_ids=[self.items[s].id for s in slugs],
        )

    def draft(self, title: str = "Como acessar o GERID", **fields: Any) -> Article:
        article = services.create_article(db.session, SETUP, self._input(title, **fields))
        db.session.commit()
        return article

    def publish(self, article: Article) -> Article:
        services.submit_for_review(db.session, SETUP, article.id)
        services.publish(db.session, SETUP, article.id)
        db.session.commit()
        return article

    def article(self, title: str = "Como acessar o GERID", **fields: Any) -> Article:
        return self.publish(self.draft(title, **fields))

    def new_version(self, article: Article, title: str, **fields: Any) -> Article:
        services.save_draft(db.session, SETUP, article.id, self._input(title, **fields))
        db.session.commit()
        return self.publish(article)

    def attach(self, article: Article, name: str, data: bytes, owner: User) -> Attachment:
        staged, refused = files.stage_files(
            db.session, owner, [FileStorage(io.BytesIO(data), filename=name)]
        )
        assert not refused
        (attachment,) = files.attach(db.session, "article", article.id, staged)
        db.session.commit()
        return attachment


@pytest.fixture
def kb(app: Flask, catalog: dict[str, CatalogItem]) -> Kb:
    group = accounts.find_or_create_group(db.session, SETUP, GROUP)
    db.session.commit()
    return Kb(group_id=group.id, items=catalog)


@pytest.fixture
def sign_in(app: Flask) -> Callable[[User], AuthActions]:
    """A browser of its own for each person."""

    def factory(user: User) -> AuthActions:
        actions = AuthActions(app.test_client())
        actions.login(user)
        return actions

    return factory


def _html(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.get_data(as_text=True))


def _path(article: Article) -> str:
    db.session.refresh(article)
    return f"{ROOT}/{article.number}-{article.slug}"


def _tally(subject_type: str, subject_id: int, metric: str) -> int:
    db.session.rollback()
    return (
        db.session.scalar(
            select(Tally.total).where(
                Tally.subject_type == subject_type,
                Tally.subject_id == subject_id,
                Tally.metric == metric,
            )
        )
        or 0
    )


def _closed_by_the_server(response: Any) -> None:
    """Close a response as the server does: after the request's app context is gone."""
    contextvars.Context().run(response.close)


# ------------------------------------------------------------------ who reads what


def _in_state(kb: Kb, state: str) -> Article:
    if state == "public":
        return kb.article("Artigo público")
    if state == "internal":
        return kb.article("Artigo interno", visibility="internal")
    if state == "draft":
        return kb.draft("Artigo em rascunho")
    if state == "review":
        article = kb.draft("Artigo em revisão")
        services.submit_for_review(db.session, SETUP, article.id)
        db.session.commit()
        return article
    article = kb.article("Artigo arquivado")
    services.archive(db.session, SETUP, article.id)
    db.session.commit()
    return article


@pytest.mark.parametrize(
    ("state", "requester_reads"),
    [
        ("public", True),
        ("internal", False),
        ("draft", False),
        ("review", False),
        ("archived", False),
    ],
)
def test_requesters_read_published_public_articles_and_staff_read_all(
    kb: Kb, make_user, sign_in, state: str, requester_reads: bool
) -> None:
    article = _in_state(kb, state)
    agent = make_user(name="Ana Agente", role="agent", groups=[GROUP])
    attachment = kb.attach(article, "manual.pdf", pdf_bytes(), agent)
    path, number = _path(article), article.number
    download = f"{ROOT}/{number}/arquivos/{attachment.id}"
    requester = sign_in(make_user(name="Rita Solicitante")).client
    for url in (path, f"{ROOT}/{number}", f"{ROOT}/{number}-outro-titulo", download):
        with requester.get(url) as response:
            assert (response.status_code != 404) is requester_reads, (url, response.status_code)
    for staff in (sign_in(agent).client, sign_in(make_user(name="Adm", role="admin")).client):
        assert staff.get(path).status_code == 200
        with staff.get(download) as response:
            assert response.status_code == 200


def test_staff_see_a_draft_with_a_notice_and_no_vote(kb: Kb, make_user, sign_in) -> None:
    article = kb.draft("Novo procedimento")
    html = _html(sign_in(make_user(role="agent", groups=[GROUP])).client.get(_path(article)))
    assert "Rascunho — ainda não publicado" in html
    assert "Este artigo foi útil?" not in html


def test_only_a_kb_number_names_an_article(kb: Kb, make_user, sign_in) -> None:
    kb.article()
    client = sign_in(make_user()).client
    for ref in ("qualquer-coisa", "KB123", "KB00000011", "0000001", "KB0000009"):
        assert client.get(f"{ROOT}/{ref}").status_code == 404, ref


# ------------------------------------------------------------------ stable URLs


def test_the_number_finds_the_article_and_other_slugs_redirect(kb: Kb, make_user, sign_in) -> None:
    article = kb.article("Como acessar o GERID")
    client = sign_in(make_user()).client
    canonical = f"{ROOT}/{article.number}-como-acessar-o-gerid"
    assert client.get(canonical).status_code == 200
    for ref in (article.number, f"{article.number}-errado", article.number.lower()):
        response = client.get(f"{ROOT}/{ref}")
        assert response.status_code == 301
        assert response.location == canonical
    kept = client.get(f"{ROOT}/{article.number}?de=gerid")
    assert kept.status_code == 301 and kept.location == f"{canonical}?de=gerid"

    kb.new_version(article, "Acesso ao GERID pelo gov.br")
    response = client.get(canonical)  # the link made before the title changed
    assert response.status_code == 301
    assert response.location == f"{ROOT}/{article.number}-acesso-ao-gerid-pelo-gov-br"
    html = _html(client.get(response.location))
    assert "Versão 2" in html and "Acesso ao GERID pelo gov.br" in html


# ------------------------------------------------------------------ the article page


def test_article_page_shows_breadcrumbs_version_forms_and_related(
    kb: Kb, make_user, sign_in, catalog: dict[str, CatalogItem]
) -> None:
    category = kb.category("Sistemas", "GERID")
    article = kb.article(
        "Como acessar o GERID",
        category=category,
        summary="Passo a passo do primeiro acesso",
        body="## Passos\n\n1. Abra o **GERID**.",
        items=("gerid", "pronto-cliente"),
    )
    same_category = kb.article("Perfis do GERID", category=category)
    sharing_a_form = kb.article("Trocar a senha", category=kb.category("Senhas"), items=("gerid",))
    unrelated = kb.article("Lentidão do Portal", category=kb.category("Outros"))
    hidden = kb.article("Procedimento interno", category=category, visibility="internal")
    catalog["pronto-cliente"].active = False  # withdrawn from the catalog
    db.session.commit()

    html = _html(sign_in(make_user()).client.get(_path(article)))
    crumbs = html[
        html.index('class="br-breadcrumb"') : html.index("</nav>", html.index("br-breadcrumb"))
    ]
    assert f'href="{ROOT}"' in crumbs and "Base de Conhecimento" in crumbs
    assert f'href="{ROOT}/categoria/{category.parent_id}">Sistemas' in crumbs
    assert f'href="{ROOT}/categoria/{category.id}">GERID' in crumbs
    assert 'aria-current="page">Como acessar o GERID' in crumbs
    assert "Versão 1" in html and "Atualizado em" in html
    assert "Passo a passo do primeiro acesso" in html
    assert "<h2>Passos</h2>" in html and "<strong>GERID</strong>" in html
    assert re.search(r'href="/catalogo/gerid">Abrir solicitação', html)
    assert "/catalogo/pronto-cliente" not in html
    for shown in (same_category, sharing_a_form):
        assert shown.title in html
    for left_out in (unrelated, hidden):
        assert left_out.title not in html
    assert "% útil" not in html  # counts are for staff


def test_staff_see_state_votes_and_the_share_found_useful(kb: Kb, make_user, sign_in) -> None:
    article = kb.article()
    for helpful in (True, True, False):
        voter = make_user(name="Votante")
        services.vote(db.session, voter, article.id, helpful=helpful)
        db.session.commit()
    html = _html(sign_in(make_user(role="agent", groups=[GROUP])).client.get(_path(article)))
    assert "Estado: Publicado" in html
    assert "3 votos · 67% útil" in html


def test_the_article_page_loads_what_it_shows_in_a_bounded_number_of_statements(
    kb: Kb, make_user, sign_in, count_queries
) -> None:
    category = kb.category("Sistemas", "GERID")
    article = kb.article(category=category, items=("gerid", "portal-rede-atendimento"))
    for n in range(6):
        kb.article(f"Relacionado {n}", category=category, items=("gerid",))
    reader = make_user()
    kb.attach(article, "a.pdf", pdf_bytes(), reader)
    kb.attach(article, "b.png", png_bytes(), reader)
    services.vote(db.session, reader, article.id, helpful=False, comment="Faltou o perfil")
    db.session.commit()
    client = sign_in(reader).client
    path = _path(article)
    with count_queries() as statements:
        html = _html(client.get(f"{path}?de=gerid"))
    assert "Faltou o perfil" in html and "b.png" in html
    sent = [s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))]
    assert len(sent) <= 11, "\n".join(sent)  # 10, and the Comunicados' banner (every page)


# ------------------------------------------------------------------ "Este artigo foi útil?"


def test_a_vote_is_one_row_that_can_be_changed(kb: Kb, make_user, sign_in) -> None:
    article = kb.article()
    auth = sign_in(make_user())
    path = _path(article)
    vote_url = f"{ROOT}/{article.number}/avaliar"
    response = auth.post(vote_url, {"helpful": "sim"}, page=path)
    assert response.status_code == 302 and response.location == f"{path}#avaliacao"
    html = _html(auth.client.get(path))
    assert "Obrigado pela sua avaliação!" in html
    assert re.search(r"Sua avaliação: <strong>Sim</strong>", html)
    assert re.search(r'value="sim" required checked', html)

    auth.post(vote_url, {"helpful": "nao"}, page=path)
    db.session.refresh(article)
    assert (article.helpful_yes, article.helpful_no) == (0, 1)
    assert db.session.scalar(select(func.count()).select_from(ArticleVote)) == 1
    assert "Sua avaliação: <strong>Não</strong>" in _html(auth.client.get(path))
    assert db.session.scalar(select(func.count()).select_from(ArticleFeedback)) == 0

    auth.post(vote_url, {"helpful": "talvez"}, page=path)
    assert "Escolha Sim ou Não" in _html(auth.client.get(path))


def test_nao_with_a_text_opens_one_task_whose_reply_the_reader_sees(
    kb: Kb, make_user, sign_in
) -> None:
    article = kb.article()
    reader = make_user()
    auth = sign_in(reader)
    path = _path(article)
    vote_url = f"{ROOT}/{article.number}/avaliar"
    for text in ("Faltou explicar o perfil", "Faltou explicar o perfil de gestor"):
        auth.post(vote_url, {"helpful": "nao", "comment": text}, page=path)
    tasks = db.session.scalars(select(ArticleFeedback)).all()
    assert len(tasks) == 1 and tasks[0].text == "Faltou explicar o perfil de gestor"
    html = _html(auth.client.get(path))
    assert "Seus comentários sobre este artigo" in html and "Aberto" in html
    assert "Resposta da equipe" not in html

    agent = make_user(name="Ana Agente", role="agent", groups=[GROUP])
    services.handle_feedback(
        db.session, agent, tasks[0].id, resolution="resolved", reply="Incluímos o perfil."
    )
    db.session.commit()
    html = _html(auth.client.get(path))
    assert "Resolvido" in html
    assert "<strong>Resposta da equipe:</strong> Incluímos o perfil." in html


def test_a_vote_without_the_csrf_token_is_refused(kb: Kb, make_user, sign_in) -> None:
    article = kb.article()
    auth = sign_in(make_user())
    response = auth.client.post(f"{ROOT}/{article.number}/avaliar", data={"helpful": "sim"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(ArticleVote)) == 0


def test_readers_cannot_vote_on_what_they_cannot_read(kb: Kb, make_user, sign_in) -> None:
    internal = kb.article("Interno", visibility="internal")
    auth = sign_in(make_user())
    response = auth.post(f"{ROOT}/{internal.number}/avaliar", {"helpful": "sim"}, page=f"{ROOT}")
    assert response.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(ArticleVote)) == 0


# ------------------------------------------------------------------ what people type is inert


def test_typed_markup_is_escaped_everywhere_it_shows(kb: Kb, make_user, sign_in) -> None:
    category = kb.category(f"Categoria {XSS}")
    article = kb.article(
        f"Título {XSS} {SCRIPT}",
        category=category,
        summary=f"Resumo {XSS}",
        body=f"Texto {XSS}\n\n{SCRIPT}\n\n[link](javascript:alert(1))",
    )
    reader = make_user()
    kb.attach(article, f"{XSS}.pdf", pdf_bytes(), reader)
    services.vote(db.session, reader, article.id, helpful=False, comment=f"Faltou {XSS} {SCRIPT}")
    db.session.commit()
    client = sign_in(reader).client
    pages = [
        _html(client.get(_path(article))),
        _html(client.get(ROOT)),
        _html(client.get(f"{ROOT}/categoria/{category.id}")),
    ]
    for html in pages:
        assert "<svg" not in html and "<script>alert" not in html
        assert not re.search(r"(href|src)=\"?javascript:", html, re.I)
        assert "&lt;svg onload=alert(1)&gt;" in html
    assert pages[0].count("&lt;svg onload=alert(1)&gt;") >= 4  # title, summary, body, file, text


# ------------------------------------------------------------------ files


def test_files_are_served_only_through_their_own_article(kb: Kb, make_user, sign_in) -> None:
    reader = make_user()
    first, second = kb.article("Primeiro"), kb.article("Segundo")
    image = kb.attach(first, "tela.png", png_bytes(), reader)
    other = kb.attach(second, "outro.pdf", pdf_bytes(), reader)
    client = sign_in(reader).client
    with client.get(f"{ROOT}/{first.number}/arquivos/{image.id}") as response:
        assert response.status_code == 200 and response.data == png_bytes()
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    for url in (
        f"{ROOT}/{first.number}/arquivos/{other.id}",
        f"{ROOT}/{first.number}-primeiro/arquivos/{image.id}",
        f"{ROOT}/KB0000099/arquivos/{image.id}",
    ):
        assert client.get(url).status_code == 404, url


def test_images_in_the_body_point_to_the_download_and_the_csp_allows_them(
    kb: Kb, make_user, sign_in
) -> None:
    agent = make_user(role="agent", groups=[GROUP])
    article = kb.draft("Com imagem")
    image = kb.attach(article, "tela.png", png_bytes(), agent)
    src = f"{ROOT}/{article.number}/arquivos/{image.id}"
    services.save_draft(
        db.session,
        SETUP,
        article.id,
        kb._input("Com imagem", body=f"Veja a tela:\n\n![Tela de acesso]({src})"),
    )
    db.session.commit()
    kb.publish(article)
    response = sign_in(make_user()).client.get(_path(article))
    assert f'<img src="{src}" alt="Tela de acesso">' in _html(response)
    assert "img-src 'self'" in response.headers["Content-Security-Policy"]


# ------------------------------------------------------------------ views counted in aggregate


@pytest.mark.parametrize("flush_seconds", [0])
def test_views_are_flushed_into_the_view_count_after_the_response(
    kb: Kb, make_user, sign_in, flush_seconds: int
) -> None:
    article = kb.article()
    client = sign_in(make_user()).client
    path = _path(article)
    for _ in range(2):
        response = client.get(path)
        assert response.status_code == 200
        _closed_by_the_server(response)
    db.session.rollback()
    assert db.session.scalar(select(Article.view_count).where(Article.id == article.id)) == 2
    assert not tallies._pending


def test_a_view_writes_nothing_until_the_counts_are_due(
    kb: Kb, make_user, sign_in, count_queries
) -> None:
    article = kb.article()
    client = sign_in(make_user()).client
    path = _path(article)
    with count_queries() as statements:
        response = client.get(path)
        _closed_by_the_server(response)
    assert not [s for s in statements if s.lstrip().upper().startswith(("UPDATE", "INSERT"))]
    assert tallies._pending[("article", article.id, "views")] == 1
    db.session.rollback()
    assert db.session.scalar(select(Article.view_count).where(Article.id == article.id)) == 0
    tallies.flush(db.session)
    assert db.session.scalar(select(Article.view_count).where(Article.id == article.id)) == 1


def test_the_base_lists_most_viewed_best_rated_and_newest(kb: Kb, make_user, sign_in) -> None:
    articles = {n: kb.article(f"Artigo {n}") for n in "ABCDEFG"}
    views = {"A": 5, "B": 50, "C": 20}
    for name, n in views.items():
        db.session.execute(
            update(Article).where(Article.id == articles[name].id).values(view_count=n)
        )
    db.session.commit()
    voters = [make_user(name=f"Votante {i}") for i in range(3)]
    ballots = {"D": [True, True, False], "E": [True, True], "F": [True]}
    for name, ballot in ballots.items():
        for voter, helpful in zip(voters, ballot, strict=False):
            services.vote(db.session, voter, articles[name].id, helpful=helpful)
    db.session.commit()
    html = _html(sign_in(make_user()).client.get(ROOT))

    def section(title: str) -> list[str]:
        start = html.index(f">{title}</h2>")
        chunk = html[start : html.index("</section>", start)]
        return re.findall(r">Artigo (\w)</a>", chunk)

    assert section("Mais vistos") == ["B", "C", "A"]
    assert section("Mais bem avaliados") == ["E", "D", "F"]  # 2 Sim of 2 before 2 Sim of 3
    assert section("Mais recentes") == ["G", "F", "E", "D", "C"]


# ------------------------------------------------------------------ browsing


def test_categories_count_what_each_person_may_read(kb: Kb, make_user, sign_in) -> None:
    systems = kb.category("Sistemas")
    gerid = kb.category("Sistemas", "GERID")
    kb.article("Público 1", category=gerid)
    kb.article("Público 2", category=systems)
    kb.article("Interno", category=gerid, visibility="internal")
    kb.draft("Rascunho", category=gerid)
    empty = kb.category("Só interno")
    kb.article("Interno 2", category=empty, visibility="internal")

    def counts(client: Any) -> dict[str, str]:
        html = _html(client.get(ROOT))
        return dict(
            re.findall(r">([^<>]+)</a>\s*<span class=\"kb-count\">\((\d+) artigos?\)", html)
        )

    assert counts(sign_in(make_user()).client) == {"Sistemas": "2", "GERID": "1"}
    staff = counts(sign_in(make_user(role="agent", groups=[GROUP])).client)
    assert staff == {"Sistemas": "3", "GERID": "2", "Só interno": "1"}


def test_with_no_article_the_base_says_so(kb: Kb, make_user, sign_in) -> None:
    kb.draft("Ainda não publicado")
    html = _html(sign_in(make_user()).client.get(ROOT))
    assert "Ainda não há artigos publicados" in html
    assert 'action="/pesquisa"' in html and 'name="tipo" value="artigo"' in html


def test_a_category_pages_its_articles_newest_first(kb: Kb, make_user, sign_in) -> None:
    parent = kb.category("Sistemas")
    category = kb.category("Sistemas", "GERID")
    kb.article("Em outra", category=kb.category("Senhas"))
    kb.article("Na subcategoria", category=kb.category("Sistemas", "GERID", "Perfis"))
    for n in range(21):
        kb.article(f"Artigo {n:02d}", category=category)
    client = sign_in(make_user()).client
    first = _html(client.get(f"{ROOT}/categoria/{category.id}"))
    titles = re.findall(r">Artigo (\d\d)</a>", first)
    assert titles == [f"{n:02d}" for n in range(20, 0, -1)]
    assert f'href="{ROOT}/categoria/{parent.id}">Sistemas' in first
    assert re.search(r">Perfis</a>\s*<span class=\"kb-count\">\(1 artigo\)", first)
    assert "Em outra" not in first
    assert f"{ROOT}/categoria/{category.id}?pagina=2" in first
    second = _html(client.get(f"{ROOT}/categoria/{category.id}?pagina=2"))
    assert re.findall(r">Artigo (\d\d)</a>", second) == ["00"]
    assert client.get(f"{ROOT}/categoria/99999").status_code == 404


# ------------------------------------------------------------------ deflection


@pytest.mark.parametrize("flush_seconds", [0])
def test_an_article_that_solved_the_problem_opens_no_request(
    kb: Kb, make_user, sign_in, catalog: dict[str, CatalogItem], flush_seconds: int
) -> None:
    article = kb.article(items=("gerid",))
    gerid = catalog["gerid"].id
    auth = sign_in(make_user())
    path = _path(article)
    response = auth.client.get(f"{path}?de=gerid")
    html = _html(response)
    _closed_by_the_server(response)
    assert "Isto resolveu meu problema" in html
    assert 'href="/catalogo/gerid">Voltar ao formulário' in html
    assert _tally("catalog_item", gerid, "articles_opened") == 1

    response = auth.post(f"{ROOT}/{article.number}/resolveu", {"de": "gerid"}, page=path)
    assert response.status_code == 302 and response.location == "/"
    assert "Nenhuma solicitação foi aberta" in _html(auth.client.get("/"))
    assert _tally("catalog_item", gerid, "requests_avoided") == 1
    assert db.session.scalar(select(func.count()).select_from(ServiceRequest)) == 0


def test_deflection_counts_only_real_items_and_readable_articles(
    kb: Kb, make_user, sign_in, catalog: dict[str, CatalogItem]
) -> None:
    article = kb.article(items=("gerid",))
    internal = kb.article("Interno", visibility="internal")
    auth = sign_in(make_user())
    path = _path(article)
    html = _html(auth.client.get(f"{path}?de=nao-existe"))
    assert "Isto resolveu meu problema" not in html
    assert "Isto resolveu meu problema" not in _html(auth.client.get(path))
    assert not tallies._pending.get(("catalog_item", catalog["gerid"].id, "articles_opened"))
    assert (
        auth.post(f"{ROOT}/{article.number}/resolveu", {"de": "nao-existe"}, page=path).status_code
        == 404
    )
    assert (
        auth.post(f"{ROOT}/{internal.number}/resolveu", {"de": "gerid"}, page=path).status_code
        == 404
    )
    assert _tally("catalog_item", catalog["gerid"].id, "requests_avoided") == 0
