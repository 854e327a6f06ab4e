"""Ocorrências (seed 000): the form with its client picker, images and date, the list with its
filters, paging and CSV, editing by the author, removing by an admin, the audit trail, and
the request's staff page. Staff only: a requester gets 404 on every URL."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.test import TestResponse

from portal.accounts.models import User
from portal.clients import occurrence_queries as queries
from portal.clients import occurrences as services
from portal.clients.models import OCCURRENCE_OWNER, Occurrence, OccurrenceCategory, Organisation
from portal.clients.occurrence_queries import PAGE_SIZE
from portal.clients.occurrence_routes import client_page_url
from portal.core.errors import Forbidden, FormErrors, ValidationError
from portal.core.extensions import db
from portal.core.models import Attachment, AuditEntry, PendingUpload
from portal.core.storage import file_store
from portal.core.timeutil import utcnow
from tests.conftest import AuthActions
from tests.files import pdf_bytes, png_bytes

NEW = "/ocorrencias/nova"


def _html(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def _client_select(html: str) -> str:
    found = re.search(r'<select id="cliente".*?</select>', html, re.S)
    assert found, "no client select"
    return found.group(0)


def _shown_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'id="ocorrencia-(\d+)"', html)]


@dataclass
class Scene:
    salvador: Organisation
    recife: Organisation
    stranger: Organisation  # known, not a client
    ana: User  # agent
    bruno: User  # agent
    carla: User  # admin
    felipe: User  # requester of Salvador
    roberto: User  # requester of Recife
    categories: dict[str, int]


@pytest.fixture
def scene(
    client_refs: None, make_org: Callable[..., Organisation], make_user: Callable[..., User]
) -> Scene:
    def client_org(name: str, uf: str) -> Organisation:
        org = make_org(name=name, uf=uf)
        org.client_since = utcnow()
        db.session.commit()
        return org

    salvador = client_org("Prefeitura Municipal de Salvador", "BA")
    recife = client_org("Prefeitura do Recife", "PE")
    stranger = make_org(name="Prefeitura de Fora", uf="SP")
    categories = {c.name: c.id for c in db.session.scalars(sa.select(OccurrenceCategory))}
    return Scene(
        salvador=salvador,
        recife=recife,
        stranger=stranger,
        ana=make_user(name="Ana Atendente", role="agent"),
        bruno=make_user(name="Bruno Atendente", role="agent"),
        carla=make_user(name="Carla Administradora", role="admin"),
        felipe=make_user(name="Felipe Solicitante", organisation=salvador),
        roberto=make_user(name="Roberto Solicitante", organisation=recife),
        categories=categories,
    )


def record(
    scene: Scene,
    author: User,
    org: Organisation,
    *,
    impact: str = "negativo",
    category: str = "Reclamação",
    occurred_on: date = date(2025, 3, 5),
    description: str = "Cliente relatou demora no atendimento.",
    request_number: str = "",
) -> Occurrence:
    occurrence = services.record_occurrence(
        db.session,
        author,
        organisation_id=org.id,
        category_id=scene.categories[category],
        impact=impact,
        occurred_on=occurred_on,
        description=description,
        request_number=request_number,
    )
    db.session.commit()
    return occurrence


def form(scene: Scene, org: Organisation | None = None, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "descricao": "Reunião de alinhamento sobre o Cadastro Único.",
        "categoria": scene.categories["Reunião"],
        "impacto": "positivo",
        "data": "05/03/2025",
        "cliente": (org or scene.salvador).id,
    }
    values.update(overrides)
    return values


def images(*names: str, data: bytes | None = None) -> list[tuple[io.BytesIO, str]]:
    return [(io.BytesIO(data if data is not None else png_bytes()), name) for name in names]


def occurrences() -> list[Occurrence]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Occurrence).order_by(Occurrence.id)))


def attachments_of(occurrence_id: int) -> list[Attachment]:
    return list(
        db.session.scalars(
            sa.select(Attachment).where(
                Attachment.owner_type == OCCURRENCE_OWNER, Attachment.owner_id == occurrence_id
            )
        )
    )


# ------------------------------------------------------------------ the form


def test_form_offers_clients_only_and_preselects_from_the_client_page(
    scene: Scene, auth: AuthActions
) -> None:
    auth.login(scene.ana)
    html = _html(auth.client.get(NEW))
    for label in ("Ocorrência", "Categoria", "Impacto da Ocorrência", "Data da ocorrência"):
        assert label in html
    assert "Relacione o Cliente" in html and "Anexar Imagens (opcional)" in html
    assert "Solicitação relacionada (opcional)" in html and ">Cadastrar</button>" in html
    assert "POSITIVO" in html and "NEUTRO" in html and "NEGATIVO" in html
    assert f'<option value="{scene.salvador.id}"' in _client_select(html)
    assert f'<option value="{scene.stranger.id}"' not in _client_select(html)  # not a client

    fixed = _html(auth.client.get(f"{NEW}?cliente={scene.recife.id}"))
    assert "Prefeitura do Recife" in fixed
    assert f'<input type="hidden" name="cliente" value="{scene.recife.id}">' in fixed
    assert 'id="cliente_busca"' not in fixed
    # An organisation that is not a client is not preselected.
    assert 'id="cliente_busca"' in _html(auth.client.get(f"{NEW}?cliente={scene.stranger.id}"))


def test_record_without_images_goes_to_the_client_page_and_is_audited(
    scene: Scene, auth: AuthActions, app: Flask
) -> None:
    auth.login(scene.ana)
    response = auth.post(NEW, form(scene, scene.recife))
    assert response.status_code == 302
    with app.test_request_context():
        assert response.headers["Location"] == client_page_url(scene.recife.id)
    [occurrence] = occurrences()
    assert occurrence.organisation_id == scene.recife.id and occurrence.uf == "PE"
    assert occurrence.author_id == scene.ana.id and occurrence.impact == "positivo"
    assert occurrence.occurred_on == date(2025, 3, 5)
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "occurrence.create"))
    assert entry is not None and entry.object_id == occurrence.id and entry.actor_id == scene.ana.id
    assert entry.after is not None and entry.after["impact"] == "positivo"


@pytest.mark.parametrize("count", [1, 2])
def test_record_with_images(scene: Scene, auth: AuthActions, count: int) -> None:
    auth.login(scene.ana)
    names = [f"foto-{n}.png" for n in range(count)]
    response = auth.post(NEW, {**form(scene), "attachments": images(*names)}, page=NEW)
    assert response.status_code == 302
    [occurrence] = occurrences()
    assert sorted(a.original_name for a in attachments_of(occurrence.id)) == names
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingUpload)) == 0


def test_a_third_image_is_refused_by_name_and_nothing_is_lost(
    scene: Scene, auth: AuthActions
) -> None:
    auth.login(scene.ana)
    typed = form(scene, descricao="Texto digitado que não pode sumir", solicitacao="")
    files = images("um.png", "dois.png", "tres.png")
    response = auth.post(NEW, {**typed, "attachments": files}, page=NEW)
    html = _html(response)
    assert response.status_code == 400
    assert "tres.png" in html and "Anexe no máximo 2 imagens." in html
    assert "Texto digitado que não pode sumir" in html
    tokens = re.findall(r'name="upload_tokens" value="([0-9a-f]+)"', html)
    assert len(tokens) == 2 and not occurrences()

    # Another image on top of the two kept is refused the same way.
    again = auth.post(
        NEW, {**typed, "upload_tokens": tokens, "attachments": images("quatro.png")}, page=NEW
    )
    assert again.status_code == 400 and "quatro.png" in _html(again)

    done = auth.post(NEW, {**typed, "upload_tokens": tokens}, page=NEW)
    assert done.status_code == 302
    [occurrence] = occurrences()
    assert sorted(a.original_name for a in attachments_of(occurrence.id)) == ["dois.png", "um.png"]


def test_only_images_by_content(scene: Scene, auth: AuthActions) -> None:
    auth.login(scene.ana)
    fake = auth.post(
        NEW, {**form(scene), "attachments": images("foto.png", data=b"isto e texto")}, page=NEW
    )
    assert fake.status_code == 400 and "foto.png" in _html(fake)
    pdf = auth.post(
        NEW, {**form(scene), "attachments": images("relatorio.pdf", data=pdf_bytes())}, page=NEW
    )
    assert pdf.status_code == 400
    assert "“relatorio.pdf” não é uma imagem" in _html(pdf)
    assert not occurrences()
    # A real image with a misleading name is accepted (its content decides).
    named = auth.post(NEW, {**form(scene), "attachments": images("foto.txt")}, page=NEW)
    assert named.status_code == 302


def test_dates_dd_mm_aaaa_iso_and_never_in_the_future(scene: Scene, auth: AuthActions) -> None:
    assert services.parse_date("5/3/2025") == date(2025, 3, 5)
    assert services.parse_date("2025-03-05") == date(2025, 3, 5)
    for bad in ("03-05-2025", "31/02/2025", "amanhã"):
        with pytest.raises(ValidationError):
            services.parse_date(bad)
    auth.login(scene.ana)
    tomorrow = services.local_today() + timedelta(days=1)
    future = auth.post(NEW, form(scene, data=tomorrow.strftime("%d/%m/%Y")))
    assert future.status_code == 400
    assert "não pode estar no futuro" in _html(future)
    invalid = auth.post(NEW, form(scene, data="31/02/2025"))
    assert invalid.status_code == 400 and "Data inexistente" in _html(invalid)
    assert 'aria-describedby="data-hint data-error"' in _html(invalid)
    assert auth.post(NEW, form(scene, data="2025-03-06")).status_code == 302
    assert occurrences()[0].occurred_on == date(2025, 3, 6)


def test_missing_fields_are_all_named(scene: Scene, auth: AuthActions) -> None:
    auth.login(scene.ana)
    response = auth.post(NEW, {"descricao": " ", "data": ""})
    html = _html(response)
    assert response.status_code == 400
    for message in (
        "Descreva a ocorrência.",
        "Escolha a categoria.",
        "Escolha o impacto da ocorrência.",
        "Informe a data da ocorrência",
        "Relacione o cliente.",
    ):
        assert message in html


def test_the_cited_request_must_be_the_clients(
    scene: Scene, auth: AuthActions, make_request: Callable[..., Any]
) -> None:
    ours = make_request(scene.felipe)
    theirs = make_request(scene.roberto)
    auth.login(scene.ana)
    refused = auth.post(NEW, form(scene, solicitacao=theirs.number))
    assert refused.status_code == 400
    assert f"A solicitação {theirs.number} não é deste cliente" in _html(refused)
    unknown = auth.post(NEW, form(scene, solicitacao="CS9999999"))
    assert "Solicitação CS9999999 não encontrada." in _html(unknown)
    assert auth.post(NEW, form(scene, solicitacao=ours.number.lower())).status_code == 302
    assert occurrences()[0].request_id == ours.id


def test_buscar_without_javascript_keeps_what_was_typed(scene: Scene, auth: AuthActions) -> None:
    auth.login(scene.ana)
    typed = form(scene, descricao="Texto guardado", cliente="", cliente_busca="recif")
    response = auth.post(NEW, {**typed, "acao": "buscar", "attachments": images("a.png")})
    html = _html(response)
    assert response.status_code == 200 and not occurrences()
    assert f'<option value="{scene.recife.id}"' in _client_select(html)
    assert f'<option value="{scene.salvador.id}"' not in _client_select(html)
    assert "Texto guardado" in html and 'value="recif"' in html
    assert len(re.findall(r'name="upload_tokens"', html)) == 1


def test_client_search_by_name_accents_and_identifier(
    scene: Scene, auth: AuthActions, make_org: Callable[..., Organisation]
) -> None:
    gonzalo = make_org(name="São Gonçalo dos Campos", uf="BA")
    gonzalo.client_since = utcnow()
    for n in range(25):
        make_org(name=f"Cliente Numerado {n:02d}", uf="MG").client_since = utcnow()
    db.session.commit()
    auth.login(scene.ana)

    def names(q: str) -> list[str]:
        response = auth.client.get("/clientes/buscar", query_string={"q": q})
        assert response.status_code == 200
        return [r["name"] for r in response.get_json()["results"]]

    assert names("sao gonc") == ["São Gonçalo dos Campos"]
    assert names("SALVADOR") == ["Prefeitura Municipal de Salvador"]
    assert names(scene.recife.identifier) == ["Prefeitura do Recife"]
    assert names("fora") == []  # known organisation, not a client
    assert len(names("numerado")) == 20
    # Names that start with the text come first.
    assert names("prefeitura")[0].startswith("Prefeitura")
    assert names("%") == [] and names("_") == []


# ------------------------------------------------------------------ the list


@pytest.fixture
def varied(scene: Scene) -> dict[str, Occurrence]:
    return {
        "a": record(scene, scene.ana, scene.salvador, impact="negativo", category="Reclamação",
                    occurred_on=date(2025, 1, 10)),
        "b": record(scene, scene.bruno, scene.recife, impact="positivo", category="Elogio",
                    occurred_on=date(2025, 2, 10)),
        "c": record(scene, scene.ana, scene.recife, impact="neutro", category="Reunião",
                    occurred_on=date(2025, 3, 10)),
        "d": record(scene, scene.bruno, scene.salvador, impact="negativo", category="Incidente",
                    occurred_on=date(2025, 4, 10)),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, "dcba"),
        ({"cliente": "salvador"}, "da"),
        ({"uf": "PE"}, "cb"),
        ({"categoria": "Elogio"}, "b"),
        ({"impacto": "negativo"}, "da"),
        ({"de": "01/02/2025", "ate": "15/03/2025"}, "cb"),
        ({"de": "2025-03-01"}, "dc"),
        ({"autor": "bruno"}, "db"),
        ({"impacto": "negativo", "autor": "ana"}, "a"),
    ],
)
def test_list_filters(
    scene: Scene, varied: dict[str, Occurrence], auth: AuthActions, args: dict[str, str],
    expected: str,
) -> None:  # fmt: skip
    lookup = {
        "salvador": scene.salvador.id,
        "bruno": scene.bruno.id,
        "ana": scene.ana.id,
        "Elogio": scene.categories["Elogio"],
    }
    query = {k: lookup.get(v, v) for k, v in args.items()}
    auth.login(scene.bruno)
    response = auth.client.get("/ocorrencias", query_string=query)
    assert response.status_code == 200
    assert _shown_ids(_html(response)) == [varied[k].id for k in expected]


def test_list_pages_in_sql_newest_first(scene: Scene, auth: AuthActions) -> None:
    made = [
        record(scene, scene.ana, scene.salvador, occurred_on=date(2024, 1, 1) + timedelta(days=n))
        for n in range(PAGE_SIZE + 2)
    ]
    newest_first = [o.id for o in reversed(made)]
    auth.login(scene.ana)
    first = _html(auth.client.get("/ocorrencias"))
    assert _shown_ids(first) == newest_first[:PAGE_SIZE]
    assert f"de {PAGE_SIZE + 2}" in first and 'rel="next"' in first
    second = _html(auth.client.get("/ocorrencias", query_string={"pagina": 2}))
    assert _shown_ids(second) == newest_first[PAGE_SIZE:]
    # Past the last page: the last page.
    last = _html(auth.client.get("/ocorrencias?pagina=99"))
    assert _shown_ids(last) == newest_first[PAGE_SIZE:]


def test_list_counts_only_ten_pages_ahead(scene: Scene) -> None:
    for n in range(12):
        record(scene, scene.ana, scene.salvador, occurred_on=date(2024, 1, 1) + timedelta(n))
    filters = queries.OccurrenceFilters.parse({})
    page = queries.occurrence_page(db.session, filters, page=1, per_page=1)
    assert page.more and page.total == 11 and len(page.rows) == 1
    last = queries.occurrence_page(db.session, filters, page=3, per_page=5)
    assert not last.more and last.total == 12 and len(last.rows) == 2


def test_list_reads_a_bounded_number_of_statements(
    scene: Scene,
    auth: AuthActions,
    make_request: Callable[..., Any],
    make_user: Callable[..., User],
    count_queries: Callable[[], Any],
) -> None:
    auth.login(scene.carla)

    def statements() -> int:
        with count_queries() as sent:
            assert auth.client.get("/ocorrencias").status_code == 200
        return len(sent)

    record(scene, scene.ana, scene.salvador)
    few = statements()
    for n in range(24):
        author = make_user(name=f"Agente {n}", role="agent")
        org = scene.salvador if n % 2 else scene.recife
        requester = scene.felipe if n % 2 else scene.roberto
        number = make_request(requester).number
        record(scene, author, org, request_number=number, category="Incidente")
    assert statements() == few


def test_impact_filter_reads_its_index(scene: Scene) -> None:
    record(scene, scene.ana, scene.salvador)
    filters = queries.OccurrenceFilters.parse({"impacto": "negativo"})
    statement = (
        sa.select(Occurrence.id)
        .where(*filters.conditions())
        .order_by(Occurrence.occurred_on.desc(), Occurrence.id.desc())
        .limit(25)
    )
    compiled = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    if db.engine.dialect.name == "postgresql":
        # A tiny table tempts the planner into other plans; what matters is that this index
        # can give the page in order (no Sort) once the table is large.
        db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        db.session.execute(sa.text("SET LOCAL enable_bitmapscan = off"))
        plan = "\n".join(db.session.scalars(sa.text(f"EXPLAIN {compiled}")))
        assert "ix_occurrences_impact_date" in plan and "Sort" not in plan
    else:
        rows = db.session.execute(sa.text(f"EXPLAIN QUERY PLAN {compiled}")).all()
        plan = "\n".join(str(r[-1]) for r in rows)
        assert "ix_occurrences_impact_date" in plan and "TEMP B-TREE" not in plan
    db.session.rollback()


def test_csv_export_for_brazilian_excel_with_formulas_neutralised(
    scene: Scene, varied: dict[str, Occurrence], auth: AuthActions
) -> None:
    record(
        scene,
        scene.ana,
        scene.salvador,
        description='=HYPERLINK("http://mal.example","clique")',
        occurred_on=date(2025, 5, 1),
    )
    record(scene, scene.ana, scene.salvador, description="-5 famílias; @alguém", impact="neutro")
    auth.login(scene.ana)
    response = auth.client.get(
        "/ocorrencias/exportar.csv", query_string={"cliente": scene.salvador.id}
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Data da ocorrência" and rows[0][5] == "Impacto"
    body = rows[1:]
    assert [r[0] for r in body] == ["01/05/2025", "10/04/2025", "05/03/2025", "10/01/2025"]
    assert {r[1] for r in body} == {"Prefeitura Municipal de Salvador"}
    assert body[0][6] == '\'=HYPERLINK("http://mal.example","clique")'
    assert body[2][6] == "'-5 famílias; @alguém"
    assert (
        body[1][5] == "NEGATIVO" and body[1][4] == "Incidente" and body[1][7] == "Bruno Atendente"
    )
    impact_only = auth.client.get("/ocorrencias/exportar.csv?impacto=positivo").get_data()
    assert len(list(csv.reader(io.StringIO(impact_only.decode("utf-8-sig")), delimiter=";"))) == 2


# ------------------------------------------------------------------ edit, remove, images


def test_only_the_author_edits(
    scene: Scene, auth: AuthActions, make_request: Callable[..., Any]
) -> None:
    occurrence = record(scene, scene.ana, scene.salvador)
    path = f"/ocorrencias/{occurrence.id}/editar"
    for other in (scene.bruno, scene.carla):
        auth.login(other)
        assert auth.client.get(path).status_code == 404
        token = auth.csrf("/ocorrencias")
        assert auth.client.post(path, data={**form(scene), "csrf_token": token}).status_code == 404
        auth.logout()
    with pytest.raises(Forbidden):
        services.edit_occurrence(
            db.session, scene.bruno, occurrence.id, category_id=scene.categories["Elogio"],
            impact="positivo", occurred_on=date(2025, 3, 5), description="x",
        )  # fmt: skip
    db.session.rollback()

    request = make_request(scene.felipe)
    auth.login(scene.ana)
    page = _html(auth.client.get(path))
    assert "Cliente relatou demora no atendimento." in page and 'value="05/03/2025"' in page
    bad = auth.post(path, form(scene, data="01/01/2999"))
    assert bad.status_code == 400 and "não pode estar no futuro" in _html(bad)
    changed = form(scene, descricao="Texto corrigido", impacto="neutro", solicitacao=request.number)
    assert auth.post(path, changed).status_code == 302
    db.session.expire_all()
    edited = db.session.get(Occurrence, occurrence.id)
    assert edited is not None and edited.description == "Texto corrigido"
    assert edited.impact == "neutro" and edited.request_id == request.id
    assert edited.organisation_id == scene.salvador.id  # the client is not part of the edit
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "occurrence.update"))
    assert entry is not None and entry.before is not None and entry.after is not None
    assert entry.before["impact"] == "negativo" and entry.after["impact"] == "neutro"
    assert entry.after["description"] == "Texto corrigido"


def test_only_an_admin_removes_with_a_confirmation_step(scene: Scene, auth: AuthActions) -> None:
    auth.login(scene.ana)
    auth.post(NEW, {**form(scene), "attachments": images("prova.png")}, page=NEW)
    [occurrence] = occurrences()
    occurrence_id = occurrence.id
    [image] = attachments_of(occurrence_id)
    stored = image.stored_name
    path = f"/ocorrencias/{occurrence_id}/remover"
    assert auth.client.get(path).status_code == 404  # the author is an agent
    token = auth.csrf("/ocorrencias")
    assert auth.client.post(path, data={"csrf_token": token}).status_code == 404
    assert occurrences() and path not in _html(auth.client.get("/ocorrencias"))
    auth.logout()

    auth.login(scene.carla)
    assert path in _html(auth.client.get("/ocorrencias"))
    confirm = _html(auth.client.get(path))
    assert "Remover ocorrência" in confirm and "suas 1 imagem(ns)" in confirm
    assert occurrences()  # the confirmation page changes nothing
    response = auth.post(path, page=path)
    assert response.status_code == 302
    assert not occurrences() and not attachments_of(occurrence_id)
    assert not file_store().exists(stored)
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "occurrence.remove"))
    assert entry is not None and entry.object_id == occurrence_id
    assert entry.before is not None and entry.before["images"] == ["prova.png"]


def test_images_are_served_only_through_their_occurrence(scene: Scene, auth: AuthActions) -> None:
    auth.login(scene.ana)
    auth.post(NEW, {**form(scene), "attachments": images("prova.png")}, page=NEW)
    auth.post(NEW, form(scene, descricao="Outra"))
    first, second = occurrences()
    [image] = attachments_of(first.id)
    auth.logout()
    auth.login(scene.bruno)  # any staff member may see it
    response = auth.client.get(f"/ocorrencias/{first.id}/imagens/{image.id}")
    assert response.status_code == 200 and response.get_data() == png_bytes()
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response.headers["Content-Disposition"]
    response.close()  # what the server does once the response is out
    assert auth.client.get(f"/ocorrencias/{second.id}/imagens/{image.id}").status_code == 404
    # A request's file is not an occurrence's image, whatever id is typed.
    other = Attachment(
        owner_type="timeline_entry", owner_id=first.id, original_name="x.png",
        stored_name="nao-existe", size=1, content_type="image/png", sha256="0" * 64,
    )  # fmt: skip
    db.session.add(other)
    db.session.commit()
    assert auth.client.get(f"/ocorrencias/{first.id}/imagens/{other.id}").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/ocorrencias",
        "/ocorrencias/nova",
        "/ocorrencias/exportar.csv",
        "/clientes/buscar?q=pre",
        "/ocorrencias/{id}/editar",
        "/ocorrencias/{id}/remover",
        "/ocorrencias/{id}/imagens/{image}",
    ],
)
def test_a_requester_gets_404_everywhere(scene: Scene, auth: AuthActions, path: str) -> None:
    auth.login(scene.ana)
    auth.post(NEW, {**form(scene), "attachments": images("prova.png")}, page=NEW)
    [occurrence] = occurrences()
    [image] = attachments_of(occurrence.id)
    auth.logout()
    auth.login(scene.felipe)
    url = path.format(id=occurrence.id, image=image.id)
    assert auth.client.get(url).status_code == 404
    token = auth.csrf("/perfil")
    if url.endswith(("/nova", "/editar", "/remover")):
        assert auth.client.post(url, data={**form(scene), "csrf_token": token}).status_code == 404
    assert len(occurrences()) == 1


def test_record_needs_staff_and_a_named_author_for_the_system(scene: Scene) -> None:
    from portal.core.actors import DEMO_LOADER

    fields: dict[str, Any] = {
        "organisation_id": scene.salvador.id,
        "category_id": scene.categories["Elogio"],
        "impact": "positivo",
        "occurred_on": date(2025, 1, 1),
        "description": "Elogio ao atendimento.",
    }
    with pytest.raises(Forbidden):
        services.record_occurrence(db.session, scene.felipe, **fields)
    with pytest.raises(ValidationError):
        services.record_occurrence(db.session, DEMO_LOADER, **fields)
    made = services.record_occurrence(db.session, DEMO_LOADER, author=scene.bruno, **fields)
    assert made.author_id == scene.bruno.id
    with pytest.raises(FormErrors):
        services.record_occurrence(
            db.session, scene.ana, **{**fields, "organisation_id": scene.stranger.id}
        )
    db.session.rollback()


# ------------------------------------------------------------------ the request page


def test_the_request_staff_page_lists_citing_occurrences(
    scene: Scene, auth: AuthActions, make_request: Callable[..., Any]
) -> None:
    request = make_request(scene.felipe)
    record(scene, scene.ana, scene.salvador, request_number=request.number,
           description="Ligação sobre esta solicitação")  # fmt: skip
    path = f"/solicitacoes/{request.number}"
    auth.login(scene.bruno)
    staff_page = _html(auth.client.get(path))
    assert "Ocorrências que citam esta solicitação" in staff_page
    assert "Ligação sobre esta solicitação" in staff_page and "NEGATIVO" in staff_page
    auth.logout()
    auth.login(scene.felipe)
    response = auth.client.get(path)
    assert response.status_code == 200
    assert "Ligação sobre esta solicitação" not in _html(response)
    assert "Ocorrências que citam" not in _html(response)
