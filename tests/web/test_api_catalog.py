"""The catalog through the API, and the OpenAPI document, on SQLite and PostgreSQL.

- /api/v1/openapi.json is a valid OpenAPI 3 document with the Problem schema and bearer auth;
- the items list offers what the HTML catalog offers, paginates by cursor (body and Link
  header), and an item added between two pages shifts neither;
- an item's form comes with its fields in order, dependent options and conditions; hidden,
  withdrawn and never-published items are 404 problems;
- a bad cursor or limit is a 422 problem naming the field.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from portal.catalog.admin_services import withdraw_item
from portal.catalog.category_services import set_category_hidden
from portal.catalog.models import CatalogItem
from portal.catalog.services import upsert_item
from portal.core.extensions import db
from tests.conftest import SETUP, api_token

CONDITIONAL = {
    "path": ["TESTES", "API"],
    "slug": "pedido-condicional",
    "name": "Pedido condicional",
    "short_description": "Com um campo que depende de outro",
    "group": "Suporte GERID",
    "fields": [
        {"key": "tem_protocolo", "label": "Tem protocolo?", "type": "yes_no", "required": True},
        {
            "key": "protocolo",
            "label": "Número do protocolo",
            "type": "text",
            "required": True,
            "help_text": "Como aparece no comprovante.",
            "show_when_key": "tem_protocolo",
            "show_when_value": "Sim",
        },
    ],
}


@pytest.fixture
def token(make_user) -> str:
    return api_token(make_user("Cliente da API"), "read")


def _get(client: FlaskClient, path: str, token: str, **kw: Any) -> Any:
    return client.get(path, headers={"Authorization": f"Bearer {token}"}, **kw)


def test_the_openapi_document_is_valid_and_documents_problems(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/me", "/api/v1/catalog/items", "/api/v1/catalog/items/{slug}"} <= set(
        spec["paths"]
    )
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code"} <= set(problem["required"])
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    unauthorised = spec["components"]["responses"]["UNAUTHORIZED"]
    assert "application/problem+json" in unauthorised["content"]
    operation = spec["paths"]["/api/v1/catalog/items"]["get"]
    assert {"401", "422", "429"} <= set(operation["responses"])
    assert {p["name"] for p in operation["parameters"]} >= {"cursor", "limit"}


def test_the_docs_page_uses_only_local_files(client: FlaskClient) -> None:
    html = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "/static/js/api-docs.js" in html
    assert "<script>" not in html and "http" not in html.replace('href="/', "")


def test_items_are_those_the_catalog_offers(client: FlaskClient, catalog, token: str) -> None:
    withdraw_item(db.session, SETUP, catalog["pronto-cliente"].id)
    db.session.commit()
    body = _get(client, "/api/v1/catalog/items", token).get_json()
    slugs = [item["slug"] for item in body["items"]]
    assert "gerid" in slugs and "pronto-cliente" not in slugs
    assert slugs == [c.slug for c in sorted(catalog.values(), key=lambda c: c.id) if c.active]
    assert body["next_cursor"] is None
    gerid = next(item for item in body["items"] if item["slug"] == "gerid")
    assert gerid["name"] == catalog["gerid"].name and gerid["category"]["name"]


def test_items_paginate_by_cursor_stable_under_inserts(
    client: FlaskClient, catalog, token: str
) -> None:
    offered = sorted(c.id for c in catalog.values())
    first = _get(client, "/api/v1/catalog/items?limit=2", token)
    page = first.get_json()
    assert [i["id"] for i in page["items"]] == offered[:2]
    assert page["next_cursor"]
    link = first.headers["Link"]
    assert link.endswith('>; rel="next"') and f"cursor={page['next_cursor']}" in link

    # A new item between the two pages: the second page is what it would have been, and the
    # new one comes at the end, since the order is by id.
    added = upsert_item(db.session, SETUP, CONDITIONAL)
    db.session.commit()
    second = _get(client, link[1 : link.index(">")], token).get_json()
    rest = [i["id"] for i in second["items"]]
    assert rest[: len(offered) - 2] == offered[2 : 2 + len(rest[: len(offered) - 2])]
    seen = [i["id"] for i in page["items"]] + rest
    cursor = second["next_cursor"]
    while cursor:
        more = _get(client, f"/api/v1/catalog/items?limit=2&cursor={cursor}", token).get_json()
        seen += [i["id"] for i in more["items"]]
        cursor = more["next_cursor"]
    assert seen == [*offered, added.id], "every item once, none skipped or repeated"


@pytest.mark.parametrize(
    ("query", "field"),
    [("cursor=nada", "cursor"), ("cursor=eyJhZnRlciI6Ii0xIn0", "cursor"), ("limit=0", "limit"),
     ("limit=abc", "limit"), ("limit=101", "limit")],
)  # fmt: skip
def test_a_bad_cursor_or_limit_is_a_422_naming_the_field(
    client: FlaskClient, catalog, token: str, query: str, field: str
) -> None:
    response = _get(client, f"/api/v1/catalog/items?{query}", token)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "dados_invalidos"
    assert [e["field"] for e in body["errors"]] == [field]
    assert all(e["message"] and "Not a valid" not in e["message"] for e in body["errors"])


def test_an_item_comes_with_its_form(client: FlaskClient, catalog, token: str) -> None:
    upsert_item(db.session, SETUP, CONDITIONAL)
    db.session.commit()
    body = _get(client, "/api/v1/catalog/items/pedido-condicional", token).get_json()
    assert body["form"]["version"] == 1
    asked, protocol = body["form"]["fields"]
    assert asked["key"] == "tem_protocolo" and asked["type"] == "yes_no"
    assert asked["options"] == ["Sim", "Não"] and asked["show_when"] is None
    assert protocol["show_when"] == {"field": "tem_protocolo", "value": "Sim"}
    assert protocol["required"] is True and protocol["help"] == "Como aparece no comprovante."

    portal = _get(client, "/api/v1/catalog/items/portal-rede-atendimento", token).get_json()
    fields = {f["key"]: f for f in portal["form"]["fields"]}
    assert list(fields) == ["motivo", "modulo", "funcionalidade", "sintoma"]
    assert fields["modulo"]["type"] == "fixed"
    assert fields["modulo"]["fixed_value"] == "Portal Atendimento - Consultas"
    symptom = fields["sintoma"]
    assert symptom["type"] == "dependent_select" and symptom["depends_on"] == "funcionalidade"
    assert set(symptom["options_by_parent"]) == set(fields["funcionalidade"]["options"])
    assert symptom["options_by_parent"]["Login do Usuário"] == [
        "Lento",
        "Indisponível",
        "Inconsistente",
        "Senha não aceita",
    ]


def test_hidden_withdrawn_and_unpublished_items_are_404(
    client: FlaskClient, catalog, token: str
) -> None:
    draft = upsert_item(db.session, SETUP, {**CONDITIONAL, "slug": "rascunho", "group": None})
    withdraw_item(db.session, SETUP, catalog["pronto-cliente"].id)
    set_category_hidden(db.session, SETUP, catalog["portal-rede-atendimento"].category_id, True)
    db.session.commit()
    assert draft.published_version is None
    for slug in ("rascunho", "pronto-cliente", "portal-rede-atendimento", "nao-existe"):
        response = _get(client, f"/api/v1/catalog/items/{slug}", token)
        assert response.status_code == 404, slug
        assert response.get_json()["code"] == "nao_encontrado"
    listed = {i["slug"] for i in _get(client, "/api/v1/catalog/items", token).get_json()["items"]}
    assert listed.isdisjoint({"rascunho", "pronto-cliente", "portal-rede-atendimento"})
    assert _get(client, "/api/v1/catalog/items/gerid", token).status_code == 200


def test_the_catalog_needs_a_token(client: FlaskClient, catalog, app: Flask) -> None:
    for path in ("/api/v1/catalog/items", "/api/v1/catalog/items/gerid"):
        response = client.get(path)
        assert response.status_code == 401 and response.get_json()["code"] == "nao_autenticado"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CatalogItem)) == len(catalog)
