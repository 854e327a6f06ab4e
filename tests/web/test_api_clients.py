"""Clients and their occurrences through the API, on SQLite and PostgreSQL.

- staff list clients in name order and search them as the HTML list does (name without
  accents, identifier prefix, UF, company type); a known organisation that is not a client is
  never listed, nor shown;
- a requester's token gets 404 problem+json on every address under /clients;
- the cursor pages are disjoint and complete, and stable under an insert between pages;
- one client comes with its contacts and address;
- a client's occurrences list with the list's filters, newest first; one occurrence is shown
  only under its own client;
- recording: JSON, or multipart with a real PNG that downloads as stored; a bad field is 422
  naming it, and nothing is recorded; a read token gets 403;
- the lists cost the same statements for 5 and 25 rows;
- the OpenAPI document stays valid and documents both request bodies.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from PIL import Image

from portal.accounts.models import User
from portal.clients import occurrences as services
from portal.clients.models import (
    ClientCategory,
    CompanyType,
    Contact,
    Occurrence,
    OccurrenceCategory,
    Organisation,
)
from portal.core import files
from portal.core.extensions import db
from portal.core.models import Attachment
from portal.core.timeutil import utcnow
from tests.web.test_api_requests import Api, _problem, _token


def png_image() -> bytes:
    """A real PNG, drawn by Pillow."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


class ClientsApi(Api):
    def post_form(self, path: str, data: dict[str, Any]) -> Any:
        return self.client.post(
            f"/api/v1{path}", data=data, content_type="multipart/form-data", headers=self.headers
        )

    def download(self, path: str) -> tuple[int, bytes, dict[str, str]]:
        with self.client.get(path, headers=self.headers) as response:
            return response.status_code, response.data, dict(response.headers)


@dataclass
class Scene:
    salvador: Organisation
    goncalo: Organisation
    bahia: Organisation
    stranger: Organisation  # known, not a client
    agent: User
    other_agent: User
    felipe: User  # requester of Salvador
    categories: dict[str, int]


@pytest.fixture
def scene(
    client_refs: None, make_org: Callable[..., Organisation], make_user: Callable[..., User]
) -> Scene:
    def register(org: Organisation, identifier: str, company_type: str, **columns: Any):
        org.client_since = utcnow()
        org.identifier = identifier
        org.company_type_id = db.session.scalar(
            sa.select(CompanyType.id).where(CompanyType.name == company_type)
        )
        org.category_id = db.session.scalar(sa.select(ClientCategory.id).order_by("id"))
        for name, value in columns.items():
            setattr(org, name, value)
        db.session.commit()
        return org

    salvador = register(
        make_org(name="Prefeitura Municipal de Salvador", uf="BA"),
        "2927408",
        "Município",
        street="Avenida Sete de Setembro",
        street_number="100",
        city="Salvador",
        cep="40060001",
    )
    goncalo = register(
        make_org(name="Prefeitura Municipal de São Gonçalo", uf="RJ"), "3304904", "Município"
    )
    bahia = register(
        make_org(name="Governo do Estado da Bahia", kind="estado", uf="BA"), "29", "Estado"
    )
    stranger = make_org(name="Prefeitura de Feira de Santana", uf="BA")
    categories = {c.name: c.id for c in db.session.scalars(sa.select(OccurrenceCategory))}
    return Scene(
        salvador=salvador,
        goncalo=goncalo,
        bahia=bahia,
        stranger=stranger,
        agent=make_user(name="Ana Atendente", role="agent"),
        other_agent=make_user(name="Bruno Atendente", role="agent"),
        felipe=make_user(name="Felipe Solicitante", organisation=salvador),
        categories=categories,
    )


def record(
    scene: Scene,
    org: Organisation,
    *,
    author: User | None = None,
    impact: str = "negativo",
    category: str = "Reclamação",
    occurred_on: date = date(2025, 3, 5),
    description: str = "Cliente relatou demora no atendimento.",
) -> Occurrence:
    occurrence = services.record_occurrence(
        db.session,
        author or scene.agent,
        organisation_id=org.id,
        category_id=scene.categories[category],
        impact=impact,
        occurred_on=occurred_on,
        description=description,
    )
    db.session.commit()
    return occurrence


def _names(response: Any) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [c["name"] for c in response.get_json()["clients"]]


def _count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


# ------------------------------------------------------------------ clients


def test_staff_list_and_search_clients_as_the_html_list(client: FlaskClient, scene: Scene) -> None:
    api = ClientsApi(client, _token(scene.agent, "read"))
    everyone = [scene.bahia.name, scene.salvador.name, scene.goncalo.name]
    assert _names(api.get("/clients")) == everyone  # name order, the stranger left out
    assert _names(api.get("/clients?q=sao+goncalo")) == [scene.goncalo.name]
    assert _names(api.get("/clients?q=29")) == [scene.bahia.name, scene.salvador.name]
    assert _names(api.get("/clients?uf=BA")) == [scene.bahia.name, scene.salvador.name]
    estado = db.session.scalar(sa.select(CompanyType.id).where(CompanyType.name == "Estado"))
    assert _names(api.get(f"/clients?company_type={estado}")) == [scene.bahia.name]

    [salvador] = api.get("/clients?q=salvador").get_json()["clients"]
    assert salvador["identifier"] == "2927408" and salvador["identifier_label"] == "Código IBGE"
    assert salvador["kind"] == "municipio" and salvador["uf"] == "BA"
    assert salvador["city"] == "Salvador" and salvador["active"] is True
    assert salvador["company_type"]["name"] == "Município"

    assert _problem(api.get("/clients?uf=XX"), 422, "dados_invalidos")["errors"][0]["field"] == "uf"
    assert _problem(api.get("/clients?limit=0"), 422)["errors"][0]["field"] == "limit"


def test_a_requester_gets_404_everywhere_under_clients(client: FlaskClient, scene: Scene) -> None:
    occurrence = record(scene, scene.salvador)
    org, occ = scene.salvador.id, occurrence.id
    felipe = ClientsApi(client, _token(scene.felipe))
    for path in (
        "/clients",
        f"/clients/{org}",
        f"/clients/{org}/occurrences",
        f"/clients/{org}/occurrences/{occ}",
        f"/clients/{org}/occurrences/{occ}/images/1",
    ):
        _problem(felipe.get(path), 404, "nao_encontrado")
    body = {"occurred_on": "2025-03-05", "category": 1, "impact": "neutro", "description": "x"}
    _problem(felipe.post(f"/clients/{org}/occurrences", body), 404, "nao_encontrado")
    assert _count(Occurrence) == 1


def test_pages_are_disjoint_complete_and_stable_under_an_insert(
    client: FlaskClient, scene: Scene, make_org: Callable[..., Organisation]
) -> None:
    for k in range(4):
        org = make_org(name=f"Consórcio {k}", kind="outro", uf="SE")
        org.client_since = utcnow()
    db.session.commit()
    api = ClientsApi(client, _token(scene.agent, "read"))
    first = api.get("/clients?limit=3")
    assert first.status_code == 200
    cursor = first.get_json()["next_cursor"]
    assert cursor and first.headers["Link"].endswith('rel="next"')
    assert f"cursor={cursor}" in first.headers["Link"]
    late = make_org(name="AAA Consórcio novo", kind="outro", uf="SE")  # sorts before page 1
    late.client_since = utcnow()
    db.session.commit()

    seen = _names(first)
    while cursor:
        page = api.get(f"/clients?limit=3&cursor={cursor}")
        seen += _names(page)
        cursor = page.get_json()["next_cursor"]
    everyone = [scene.bahia.name, scene.salvador.name, scene.goncalo.name]
    assert seen == sorted(everyone + [f"Consórcio {k}" for k in range(4)])
    assert _problem(api.get("/clients?cursor=bm9wZQ"), 422)["errors"][0]["field"] == "cursor"
    assert _names(api.get("/clients?cursor=999999")) == []  # the id of no client: nothing after


def test_a_client_comes_with_its_contacts(client: FlaskClient, scene: Scene) -> None:
    db.session.add_all(
        [
            Contact(
                organisation_id=scene.salvador.id,
                name="Felipe Solicitante",
                job_title="Gestor do Cadastro Único",
                email="felipe@salvador.ba.gov.br",
                phone="71999990000",
                user_id=scene.felipe.id,
                position=0,
            ),
            Contact(organisation_id=scene.salvador.id, name="Secretaria", position=1),
        ]
    )
    db.session.commit()
    api = ClientsApi(client, _token(scene.agent, "read"))
    response = api.get(f"/clients/{scene.salvador.id}")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["name"] == scene.salvador.name and body["contact_total"] == 2
    assert body["address"].startswith("Avenida Sete de Setembro, 100")
    felipe, office = body["contacts"]
    assert felipe["job_title"] == "Gestor do Cadastro Único" and felipe["portal_user"] is True
    assert felipe["email"] == "felipe@salvador.ba.gov.br" and felipe["phone"] == "71999990000"
    assert office == {
        "id": office["id"],
        "name": "Secretaria",
        "job_title": "",
        "email": "",
        "phone": None,
        "portal_user": False,
    }
    _problem(api.get(f"/clients/{scene.stranger.id}"), 404)  # known, not a client


# ------------------------------------------------------------------ occurrences


def test_occurrences_list_with_filters_and_show(client: FlaskClient, scene: Scene) -> None:
    old = record(scene, scene.salvador, impact="positivo", occurred_on=date(2025, 1, 10))
    new = record(scene, scene.salvador, category="Reunião", occurred_on=date(2025, 3, 1))
    mine = record(scene, scene.salvador, author=scene.other_agent, occurred_on=date(2025, 2, 1))
    theirs = record(scene, scene.goncalo)
    api = ClientsApi(client, _token(scene.agent, "read"))
    base = f"/clients/{scene.salvador.id}/occurrences"

    def ids(query: str = "") -> list[int]:
        response = api.get(f"{base}{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return [o["id"] for o in response.get_json()["occurrences"]]

    assert ids() == [new.id, mine.id, old.id]  # newest first; the other client's left out
    assert ids("?impact=positivo") == [old.id]
    assert ids(f"?category={scene.categories['Reunião']}") == [new.id]
    assert ids(f"?author={scene.other_agent.id}") == [mine.id]
    assert ids("?from=2025-01-11&to=2025-02-01") == [mine.id]
    assert ids("?limit=1&cursor=" + api.get(f"{base}?limit=2").get_json()["next_cursor"]) == [
        old.id
    ]
    assert ids("?cursor=99999999999") == [new.id, mine.id, old.id]  # past the newest day
    assert ids("?cursor=00000000") == []  # before the first day there can be
    assert _problem(api.get(f"{base}?from=05/03/2025"), 422)["errors"][0]["field"] == "from"

    shown = api.get(f"{base}/{new.id}").get_json()
    assert shown["category"] == {"id": scene.categories["Reunião"], "name": "Reunião"}
    assert shown["impact"] == "negativo" and shown["impact_label"] == "NEGATIVO"
    assert shown["occurred_on"] == "2025-03-01" and shown["request_number"] is None
    assert shown["author"] == {"id": scene.agent.id, "name": "Ana Atendente"}
    assert shown["client"]["id"] == scene.salvador.id and shown["images"] == []
    listed = api.get(base).get_json()["occurrences"][0]
    assert listed == shown  # the list line and the occurrence say the same
    _problem(api.get(f"{base}/{theirs.id}"), 404)  # another client's, under this client


def test_record_an_occurrence_with_a_png_that_downloads_as_stored(
    client: FlaskClient, scene: Scene, make_request
) -> None:
    req = make_request(scene.felipe)
    api = ClientsApi(client, _token(scene.agent))
    path = f"/clients/{scene.salvador.id}/occurrences"
    sent = api.post_form(
        path,
        {
            "occurred_on": "2025-03-05",
            "category": str(scene.categories["Incidente"]),
            "impact": "negativo",
            "description": "Sistema fora do ar na unidade.",
            "request_number": req.number.lower(),
            "images": [(io.BytesIO(png_image()), "tela.png")],
        },
    )
    assert sent.status_code == 201, sent.get_data(as_text=True)
    body = sent.get_json()
    assert sent.headers["Location"].endswith(f"{path}/{body['id']}")
    assert body["request_number"] == req.number and body["author"]["id"] == scene.agent.id
    [image] = body["images"]
    assert image["filename"] == "tela.png" and image["content_type"] == "image/png"

    status, data, headers = api.download(image["url"])
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert "attachment" in headers["Content-Disposition"] and data.startswith(b"\x89PNG")
    stored = db.session.get(Attachment, image["id"])
    assert stored is not None and len(data) == image["size"]
    with files.file_store().open(stored.stored_name) as kept:
        assert data == kept.read()
    assert Image.open(io.BytesIO(data)).size == (8, 6)
    # The image only under its own occurrence.
    other = record(scene, scene.salvador)
    wrong = f"{path}/{other.id}/images/{image['id']}"
    assert api.download(f"/api/v1{wrong}")[0] == 404

    as_json = api.post(
        path,
        {
            "occurred_on": "2025-03-06",
            "category": scene.categories["Elogio"],
            "impact": "positivo",
            "description": "Agradeceu o treinamento.",
        },
    )
    assert as_json.status_code == 201, as_json.get_data(as_text=True)
    assert as_json.get_json()["images"] == [] and as_json.get_json()["impact"] == "positivo"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"occurred_on": (date.today() + timedelta(days=3)).isoformat()}, "occurred_on"),
        ({"occurred_on": "05/03/2025"}, "occurred_on"),
        ({"impact": "bom"}, "impact"),
        ({"description": "   "}, "description"),
        ({"category": 999_999}, "category"),
        ({"request_number": "CS9999999"}, "request_number"),
        ({"surprise": "x"}, "surprise"),
    ],
)
def test_a_bad_field_is_422_naming_it(
    client: FlaskClient, scene: Scene, change: dict[str, Any], field: str
) -> None:
    api = ClientsApi(client, _token(scene.agent))
    body = {
        "occurred_on": "2025-03-05",
        "category": scene.categories["Reunião"],
        "impact": "neutro",
        "description": "Reunião de alinhamento.",
        **change,
    }
    problem = _problem(
        api.post(f"/clients/{scene.salvador.id}/occurrences", body), 422, "dados_invalidos"
    )
    assert [e["field"] for e in problem["errors"]] == [field]
    assert _count(Occurrence) == 0


def test_an_image_that_is_not_one_is_refused_naming_images(
    client: FlaskClient, scene: Scene
) -> None:
    api = ClientsApi(client, _token(scene.agent))
    sent = api.post_form(
        f"/clients/{scene.salvador.id}/occurrences",
        {
            "occurred_on": "2025-03-05",
            "category": str(scene.categories["Reunião"]),
            "impact": "neutro",
            "description": "",
            "images": [
                (io.BytesIO(png_image()), "ok.png"),
                (io.BytesIO(b"%PDF-1.4 not an image"), "ata.pdf"),
            ],
        },
    )
    problem = _problem(sent, 422, "dados_invalidos")
    assert [e["field"] for e in problem["errors"]] == ["description"]  # the schema's first
    sent = api.post_form(
        f"/clients/{scene.salvador.id}/occurrences",
        {
            "occurred_on": "2025-03-05",
            "category": str(scene.categories["Reunião"]),
            "impact": "neutro",
            "description": "Ata da reunião.",
            "images": [
                (io.BytesIO(png_image()), "ok.png"),
                (io.BytesIO(b"%PDF-1.4 not an image"), "ata.pdf"),
            ],
        },
    )
    problem = _problem(sent, 422, "dados_invalidos")
    assert [e["field"] for e in problem["errors"]] == ["images"]
    assert "ata.pdf" in problem["errors"][0]["message"]
    assert _count(Occurrence) == 0
    # A text part the document does not list is refused by name (found by Schemathesis).
    sent = api.post_form(
        f"/clients/{scene.salvador.id}/occurrences",
        {
            "occurred_on": "2025-03-05",
            "category": str(scene.categories["Reunião"]),
            "impact": "neutro",
            "description": "Ata da reunião.",
            "gravidade": "alta",
        },
    )
    assert [e["field"] for e in _problem(sent, 422, "dados_invalidos")["errors"]] == ["gravidade"]
    assert _count(Occurrence) == 0


def test_a_read_token_cannot_record(client: FlaskClient, scene: Scene) -> None:
    api = ClientsApi(client, _token(scene.agent, "read"))
    body = {
        "occurred_on": "2025-03-05",
        "category": scene.categories["Reunião"],
        "impact": "neutro",
        "description": "Reunião.",
    }
    _problem(
        api.post(f"/clients/{scene.salvador.id}/occurrences", body), 403, "escopo_insuficiente"
    )
    assert _count(Occurrence) == 0


# ------------------------------------------------------------------ cost and contract


def test_the_lists_cost_the_same_for_5_and_25_rows(
    client: FlaskClient, scene: Scene, make_org: Callable[..., Organisation], count_queries
) -> None:
    for k in range(25):
        org = make_org(name=f"Consórcio {k:02}", kind="outro", uf="SE")
        org.client_since = utcnow()
        record(scene, scene.salvador, occurred_on=date(2025, 1, 1) + timedelta(days=k))
    for occurrence in db.session.scalars(sa.select(Occurrence)):
        # An image on each, so the images' statement is exercised too.
        db.session.add(
            Attachment(
                owner_type="occurrence",
                owner_id=occurrence.id,
                original_name="tela.png",
                stored_name=f"x{occurrence.id}",
                size=1,
                content_type="image/png",
                sha256="0" * 64,
            )
        )
    db.session.commit()
    api = ClientsApi(client, _token(scene.agent, "read"))
    api.get("/clients?limit=1")  # the token's first use is recorded once
    costs = {}
    for path in ("/clients", f"/clients/{scene.salvador.id}/occurrences"):
        for size in (5, 25):
            with count_queries() as statements:
                response = api.get(f"{path}?limit={size}")
            assert response.status_code == 200
            rows = next(v for k, v in response.get_json().items() if k != "next_cursor")
            assert len(rows) == size
            costs[path, size] = len(statements)
    assert costs["/clients", 5] == costs["/clients", 25]
    occurrences = f"/clients/{scene.salvador.id}/occurrences"
    assert costs[occurrences, 5] == costs[occurrences, 25]


def test_the_openapi_document_documents_both_bodies(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    validate(spec)
    create = spec["paths"]["/api/v1/clients/{client_id}/occurrences"]["post"]
    content = create["requestBody"]["content"]
    assert set(content) == {"application/json", "multipart/form-data"}
    show = spec["paths"]["/api/v1/clients/{client_id}/occurrences/{occurrence_id}"]
    params = {p["name"]: p["schema"] for p in show["parameters"]}
    # Ids past what an integer column holds are outside the document (and 404).
    assert params["client_id"]["maximum"] == params["occurrence_id"]["maximum"] == 2**31 - 1
