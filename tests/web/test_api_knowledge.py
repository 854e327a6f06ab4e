"""The Base de Conhecimento through the API, on SQLite and PostgreSQL.

- listing and searching give what the pages give: requesters never meet internal, draft or
  archived articles (absent from lists, 404 problems when asked for), staff do;
- the search is the portal's (a word of the body finds the article, inflections included);
- both kinds of list paginate by cursor into disjoint pages covering everything, and an
  article published between two pages shifts neither;
- one article comes with its shown version, Markdown and sanitised HTML, files and forms; its
  files download as the page serves them, and only through an article the token may read;
- a list costs the same number of statements whatever its length.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from werkzeug.datastructures import FileStorage

from portal.accounts import services as accounts
from portal.catalog.models import CatalogItem
from portal.core import files
from portal.core.extensions import db
from portal.core.models import Attachment
from portal.knowledge import services
from portal.knowledge.models import Article, KbCategory
from portal.models import User
from tests.conftest import SETUP, api_token
from tests.files import pdf_bytes

API = "/api/v1/knowledge"
GROUP = "Suporte GERID"
PROBLEM = "application/problem+json"


class Kb:
    """Articles written and published as the system (the command line would)."""

    def __init__(self, group_id: int, items: dict[str, CatalogItem]) -> None:
        self.group_id, self.items = group_id, items
        self.home = self.category("Acesso e senhas", "GERID")

    def category(self, *names: str) -> KbCategory:
        category = services.ensure_category_path(db.session, SETUP, list(names))
        db.session.commit()
        return category

    def draft(self, title: str, **fields: Any) -> Article:
        data = services.ArticleInput(
            title=title,
            summary=fields.pop("summary", f"Resumo de {title}"),
            body=fields.pop("body", f"Conteúdo de **{title}**."),
            category_id=fields.pop("category", self.home).id,
            visibility=fields.pop("visibility", "public"),
            owner_group_id=self.group_id,
            item_ids=[self.items[s].id for s in fields.pop("items", ())],
        )
        article = services.create_article(db.session, SETUP, data)
        db.session.commit()
        return article

    def article(self, title: str, **fields: Any) -> Article:
        article = self.draft(title, **fields)
        services.submit_for_review(db.session, SETUP, article.id)
        services.publish(db.session, SETUP, article.id)
        db.session.commit()
        return article

    def archived(self, title: str) -> Article:
        article = self.article(title)
        services.archive(db.session, SETUP, article.id)
        db.session.commit()
        return article

    def attach(self, article: Article, name: str, owner: User) -> Attachment:
        upload = FileStorage(io.BytesIO(pdf_bytes()), filename=name)
        staged, refused = files.stage_files(db.session, owner, [upload])
        assert not refused
        (attachment,) = files.attach(db.session, "article", article.id, staged)
        db.session.commit()
        return attachment


@pytest.fixture
def kb(app: Flask, catalog: dict[str, CatalogItem]) -> Kb:
    group = accounts.find_or_create_group(db.session, SETUP, GROUP)
    db.session.commit()
    return Kb(group.id, catalog)


@pytest.fixture
def token_for(app: Flask) -> Callable[[User], str]:
    def factory(user: User) -> str:
        return api_token(user, "read")

    return factory


@pytest.fixture
def reader(make_user, token_for) -> str:
    return token_for(make_user("Rita Solicitante"))


@pytest.fixture
def agent(make_user) -> User:
    return make_user(name="Ana Agente", role="agent", groups=[GROUP])


@pytest.fixture
def staff(agent: User, token_for) -> str:
    return token_for(agent)


def _get(client: FlaskClient, path: str, token: str, **query: Any) -> Any:
    return client.get(path, headers={"Authorization": f"Bearer {token}"}, query_string=query)


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _ids(client: FlaskClient, token: str, **query: Any) -> list[int]:
    return [a["id"] for a in _ok(_get(client, f"{API}/articles", token, **query))["items"]]


def _pages(client: FlaskClient, token: str, **query: Any) -> list[list[int]]:
    pages: list[list[int]] = []
    cursor = None
    while True:
        args = {**query, **({"cursor": cursor} if cursor else {})}
        response = _get(client, f"{API}/articles", token, **args)
        body = _ok(response)
        pages.append([a["id"] for a in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            assert "Link" not in response.headers
            return pages
        assert f"cursor={cursor}" in response.headers["Link"]
        assert len(pages) < 20


def _assert_problem(response: Any, status: int) -> None:
    assert response.status_code == status
    assert response.mimetype == PROBLEM
    assert response.get_json()["status"] == status


# ------------------------------------------------------------------ who finds what


def test_search_finds_an_article_by_a_word_of_its_body(
    client: FlaskClient, kb: Kb, reader: str
) -> None:
    wanted = kb.article("Primeiro acesso", body="Para o recadastramento, leve o comprovante.")
    kb.article("Trocar a senha", body="Use a opção Esqueci minha senha.")
    body = _ok(_get(client, f"{API}/articles", reader, q="recadastramentos"))
    assert [a["id"] for a in body["items"]] == [wanted.id]
    found = body["items"][0]
    assert "<mark>" in found["snippet"] and found["label"] == ""
    assert found["ref"] == f"{wanted.number}-{wanted.slug}"
    assert found["url"] == f"/base-de-conhecimento/{found['ref']}"
    assert found["category"] == {"id": kb.home.id, "name": "GERID"}
    assert found["updated_at"].endswith("+00:00")
    assert _ids(client, reader, q="senha") != [wanted.id]
    assert _ids(client, reader, q="inexistentepalavra") == []


def test_requesters_meet_only_published_public_articles(
    client: FlaskClient, kb: Kb, reader: str, staff: str
) -> None:
    public = kb.article("Acesso público ao sistema")
    internal = kb.article("Acesso interno ao sistema", visibility="internal")
    draft = kb.draft("Acesso em rascunho ao sistema")
    archived = kb.archived("Acesso arquivado ao sistema")
    assert _ids(client, reader) == [public.id]
    assert _ids(client, reader, q="sistema") == [public.id]
    for hidden in (internal, draft, archived):
        _assert_problem(_get(client, f"{API}/articles/{hidden.number}", reader), 404)
    assert _ok(_get(client, f"{API}/articles/{public.number}", reader))["id"] == public.id

    assert set(_ids(client, staff)) == {public.id, internal.id}
    labels = {
        a["id"]: a["label"]
        for a in _ok(_get(client, f"{API}/articles", staff, q="sistema"))["items"]
    }
    assert labels == {public.id: "", internal.id: "Interno", draft.id: "Rascunho"}
    shown = _ok(_get(client, f"{API}/articles/{draft.number}", staff))
    assert shown["version"] is None and shown["label"] == "Rascunho"


def test_category_filters_the_list_and_the_search(client: FlaskClient, kb: Kb, reader: str) -> None:
    other = kb.category("Cadastro")
    here = kb.article("Senha do GERID")
    there = kb.article("Senha do cadastro", category=other)
    assert _ids(client, reader, category=other.id) == [there.id]
    assert _ids(client, reader, category=kb.home.id, q="senha") == [here.id]
    assert _ids(client, reader, category=999_999) == []


# ------------------------------------------------------------------ pagination


@pytest.mark.parametrize("query", [{}, {"q": "manual"}], ids=["listing", "search"])
def test_pages_are_disjoint_cover_everything_and_survive_a_publication(
    client: FlaskClient, kb: Kb, reader: str, query: dict[str, str]
) -> None:
    written = {kb.article(f"Manual número {n}").id for n in range(7)}
    pages = _pages(client, reader, limit=3, **query)
    assert [len(p) for p in pages] == [3, 3, 1]
    seen = [i for page in pages for i in page]
    assert len(seen) == len(set(seen)) and set(seen) == written

    first = _ok(_get(client, f"{API}/articles", reader, limit=3, **query))
    kb.article("Manual número novo")
    second = _ok(
        _get(client, f"{API}/articles", reader, limit=3, cursor=first["next_cursor"], **query)
    )
    assert [a["id"] for a in second["items"]] == pages[1]


@pytest.mark.parametrize(
    "query",
    [
        {"limit": 0},
        {"limit": 101},
        {"cursor": "eyJhZnRlciI6MX0"},
        {"cursor": "1-"},
        {"category": 0},
    ],
)
def test_bad_arguments_are_422_problems_naming_the_field(
    client: FlaskClient, kb: Kb, reader: str, query: dict[str, Any]
) -> None:
    response = _get(client, f"{API}/articles", reader, **query)
    _assert_problem(response, 422)
    assert [e["field"] for e in response.get_json()["errors"]] == list(query)


@pytest.mark.parametrize("cursor", ["1", "999999999999999999", "3-1", "999999999999999999-9999"])
@pytest.mark.parametrize("query", [{}, {"q": "manual"}], ids=["listing", "search"])
def test_every_cursor_the_pattern_admits_is_a_position(
    client: FlaskClient, kb: Kb, reader: str, query: dict[str, str], cursor: str
) -> None:
    written = [kb.article(f"Manual {n}").id for n in range(3)]
    found = _ids(client, reader, cursor=cursor, **query)
    assert set(found) <= set(written)


# ------------------------------------------------------------------ one article, its files


def test_an_article_as_its_page_shows_it(
    app: Flask, client: FlaskClient, kb: Kb, reader: str, agent: User
) -> None:
    article = kb.article(
        "Como acessar o GERID",
        body="# Passo\n\n1. Abra o **GERID**.\n\n<script>alert(1)</script>",
        items=["gerid"],
    )
    attachment = kb.attach(article, "manual.pdf", agent)
    body = _ok(_get(client, f"{API}/articles/{article.number}-titulo-antigo", reader))
    assert body["ref"] == f"{article.number}-{article.slug}" and body["version"] == 1
    assert body["body_markdown"].startswith("# Passo")
    assert "<h2>Passo</h2>" in body["body_html"] and "<strong>GERID</strong>" in body["body_html"]
    assert "<script>" not in body["body_html"]
    with app.test_request_context():
        form_url = url_for("requests.new", slug="gerid")
    gerid = kb.items["gerid"]
    assert body["related_forms"] == [{"slug": "gerid", "name": gerid.name, "url": form_url}]
    (listed,) = body["attachments"]
    assert listed["filename"] == "manual.pdf" and listed["size"] == attachment.size
    assert listed["content_type"] == "application/pdf"
    with _get(client, listed["download_url"], reader) as download:
        assert download.status_code == 200
        assert download.headers["Content-Disposition"].startswith("attachment")
        assert download.data.startswith(b"%PDF") and len(download.data) == attachment.size


def _status(client: FlaskClient, path: str, token: str) -> int:
    with _get(client, path, token) as response:
        if response.status_code != 200:
            _assert_problem(response, response.status_code)
        return int(response.status_code)


def test_files_download_only_through_an_article_the_token_may_read(
    client: FlaskClient, kb: Kb, reader: str, staff: str, agent: User
) -> None:
    public = kb.article("Artigo público")
    internal = kb.article("Artigo interno", visibility="internal")
    mine = kb.attach(public, "publico.pdf", agent)
    hidden = kb.attach(internal, "interno.pdf", agent)
    hidden_url = f"{API}/articles/{internal.number}/attachments/{hidden.id}"
    through = f"{API}/articles/{public.number}/attachments"
    assert _status(client, hidden_url, reader) == 404
    # Through another article's number, or with an id no file has, nothing is found either.
    assert _status(client, f"{through}/{hidden.id}", reader) == 404
    assert _status(client, f"{through}/{2**40}", reader) == 404
    assert _status(client, f"{through}/{mine.id}", reader) == 200
    assert _status(client, hidden_url, staff) == 200


@pytest.mark.parametrize(
    "path",
    ["/articles", "/articles/KB0000001", "/articles/KB0000001/attachments/1", "/categories"],
)
def test_without_a_token_every_route_is_a_401_problem(client: FlaskClient, path: str) -> None:
    response = client.get(f"{API}{path}")
    _assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_categories_count_what_the_token_may_read(
    client: FlaskClient, kb: Kb, reader: str, staff: str
) -> None:
    kb.article("Público")
    kb.article("Interno", visibility="internal")
    for token, count in ((reader, 1), (staff, 2)):
        rows = _ok(_get(client, f"{API}/categories", token))["categories"]
        by_name = {r["name"]: r for r in rows}
        root, leaf = by_name["Acesso e senhas"], by_name["GERID"]
        assert rows.index(root) < rows.index(leaf)
        assert (root["depth"], leaf["depth"], leaf["parent_id"]) == (0, 1, root["id"])
        assert root["article_count"] == leaf["article_count"] == count


# ------------------------------------------------------------------ cost


@pytest.mark.parametrize("query", [{}, {"q": "manual"}], ids=["listing", "search"])
def test_a_page_costs_the_same_statements_whatever_its_length(
    client: FlaskClient, kb: Kb, reader: str, count_queries, query: dict[str, str]
) -> None:
    def statements() -> int:
        with count_queries() as sent:
            assert _ok(_get(client, f"{API}/articles", reader, limit=100, **query))["items"]
        return len(sent)

    kb.article("Manual único")
    statements()  # the token's first use is recorded once; count the requests after it
    few = statements()
    for n in range(6):
        kb.article(f"Manual {n}", category=kb.category("Outra", f"Sub {n}"))
    assert statements() == few


def test_the_openapi_document_constrains_the_arguments_as_the_code_does(
    client: FlaskClient,
) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    validate(spec)
    assert {
        f"{API}/articles",
        f"{API}/articles/{{ref}}",
        f"{API}/articles/{{ref}}/attachments/{{attachment_id}}",
        f"{API}/categories",
    } <= set(spec["paths"])
    listing = spec["paths"][f"{API}/articles"]["get"]
    params = {p["name"]: p["schema"] for p in listing["parameters"]}
    assert params["cursor"]["pattern"] == "^[0-9]{1,18}(-[0-9]{1,4})?$"
    assert (params["limit"]["minimum"], params["limit"]["maximum"]) == (1, 100)
    assert params["category"]["minimum"] == 1 and params["q"]["maxLength"] == 200
    assert {"401", "422", "429"} <= set(listing["responses"])
    item = spec["components"]["schemas"]["ArticleHit"]
    assert {"snippet", "category", "updated_at", "url", "ref"} <= set(item["required"])
