"""Cadastros > Cliente: the registration wizard (seed 002) and "Dados do cliente", through the
pages, on a real database: steps, navigation, validation, contacts and external users, the
first-access e-mail, the permission matrix and the audit trail."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from portal.clients import services as client_services
from portal.clients.models import (
    ClientCategory,
    ClientWizard,
    CompanyType,
    Contact,
    Organisation,
)
from portal.core.cnpj import make_cnpj
from portal.core.cpf import format_cpf
from portal.core.extensions import db
from portal.core.models import AuditEntry, OutboxEmail
from portal.core.outbox import deliver_pending
from portal.core.timeutil import utcnow
from portal.models import User
from tests.conftest import SETUP, AuthActions, new_cpf

pytestmark = pytest.mark.usefixtures("client_refs")

START = "/clientes/novo"
NEW_PASSWORD = "uma frase longa para o primeiro acesso"


# ------------------------------------------------------------------ helpers


def type_id(name: str) -> int:
    return db.session.scalar(select(CompanyType.id).where(CompanyType.name == name))


def category_id(name: str) -> int:
    return db.session.scalar(select(ClientCategory.id).where(ClientCategory.name == name))


def feira(**extra: Any) -> Organisation:
    org = client_services.create_organisation(
        db.session, SETUP, identifier="2910800", name="Feira de Santana", kind="municipio", uf="BA"
    )
    db.session.commit()
    return org


def start(auth: AuthActions, source: int | None = None) -> int:
    data = {"organisation_id": str(source)} if source else {}
    response = auth.post(START, data)
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.search(r"/clientes/cadastro/(\d+)/tipo$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def post(auth: AuthActions, wid: int, step: str, data: dict[str, str], action: str = "proximo"):
    return auth.post(f"/clientes/cadastro/{wid}/{step}", {**data, "acao": action}, page=START)


def moved_to(response: Any, wid: int, step: str) -> bool:
    return response.status_code == 302 and response.headers["Location"].endswith(
        f"/clientes/cadastro/{wid}/{step}"
    )


def page(client: FlaskClient, wid: int, step: str) -> str:
    response = client.get(f"/clientes/cadastro/{wid}/{step}")
    assert response.status_code == 200, (step, response.headers.get("Location"))
    return response.get_data(as_text=True)


def step_titles(html: str) -> list[str]:
    nav = html.split('aria-label="Etapas do cadastro"', 1)[1].split("</nav>", 1)[0]
    return [
        re.sub(r"<[^>]+>|\s+", " ", t).replace("(concluída)", "").split(":", 1)[1].strip()
        for t in re.findall(
            r'<span class="wizard-step-title">(.*?)</span>\s*(?:</a>)?\s*</li>', nav
        )
    ]


def company(auth: AuthActions, wid: int, cnpj: str, name: str = "Empresa Parceira Ltda") -> None:
    """Steps 1-3 of an Empresa (category Parceiro, no fields of its own)."""
    tipo = {"company_type": str(type_id("Empresa")), "category": str(category_id("Parceiro"))}
    assert moved_to(post(auth, wid, "tipo", tipo), wid, "identificacao")
    ident = {"identifier": cnpj, "name": name, "uf": "DF"}
    assert moved_to(post(auth, wid, "identificacao", ident), wid, "endereco")
    address = {
        "cep": "70040-010",
        "street": "Esplanada dos Ministérios",
        "street_number": "",
        "complement": "Bloco A",
        "district": "Zona Cívico-Administrativa",
        "city": "Brasília",
    }
    assert moved_to(post(auth, wid, "endereco", address), wid, "contatos")


def contact(name: str, cpf: str = "", email: str = "", external: bool = False) -> dict[str, str]:
    data = {
        "contact_name": name,
        "contact_job_title": "Coordenadora",
        "contact_email": email,
        "contact_phone": "(75) 3602-0000",
        "contact_cpf": cpf,
    }
    if external:
        data["contact_external"] = "1"
    return data


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def counts() -> tuple[int, ...]:
    """Rows of everything a registration writes, and how many organisations are clients."""
    db.session.expire_all()
    models = (Organisation, Contact, User, AuditEntry, OutboxEmail, ClientWizard)
    totals = [db.session.scalar(select(func.count()).select_from(m)) or 0 for m in models]
    clients = select(func.count()).where(Organisation.client_since.is_not(None))
    return (*totals, db.session.scalar(clients) or 0)


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user("Ana Administradora", role="admin")


@pytest.fixture
def registrar(make_user: Callable[..., User]) -> User:
    user = make_user("Rita Cadastradora", role="agent")
    user.may_register_clients = True
    db.session.commit()
    return user


# ------------------------------------------------------------------ the done-when flow


def test_feira_de_santana_in_four_steps_with_an_external_user(
    auth: AuthActions, client: FlaskClient, admin: User, smtp_server: Any
) -> None:
    known = feira()
    auth.login(admin)
    found = client.get(START, query_string={"q": "feira de"}).get_data(as_text=True)
    assert "Feira de Santana" in found and f'name="organisation_id" value="{known.id}"' in found
    by_code = client.get(START, query_string={"q": "2910800"}).get_data(as_text=True)
    assert f'value="{known.id}"' in by_code
    wid = start(auth, known.id)

    html = page(client, wid, "tipo")
    assert re.search(rf'value="{type_id("Município")}" checked', html)  # pre-filled by kind
    tipo = {
        "company_type": str(type_id("Município")),
        "category": str(category_id("Gestão municipal do Cadastro Único")),
    }
    assert moved_to(post(auth, wid, "tipo", tipo), wid, "identificacao")
    html = page(client, wid, "identificacao")
    assert step_titles(html) == [
        "Tipo e categoria",
        "Identificação",
        "Informações adicionais",
        "Contatos da empresa",
    ]
    assert 'value="2910800"' in html and 'value="Feira de Santana"' in html
    assert 'aria-current="step"' in html
    ident = {"identifier": "2910800", "name": "Prefeitura Municipal de Feira de Santana"}
    assert moved_to(post(auth, wid, "identificacao", ident), wid, "informacoes")
    html = page(client, wid, "informacoes")
    assert "Município: <strong>Feira de Santana</strong> · UF: <strong>BA</strong>" not in html
    extra = {"campo_gestor_municipal": "Joana Gestora", "campo_familias_cadastradas": "12.345"}
    assert moved_to(post(auth, wid, "informacoes", extra), wid, "contatos")

    cpf = new_cpf()
    person = contact("Carla Contato", format_cpf(cpf), "carla@feira.ba.gov.br", external=True)
    assert moved_to(post(auth, wid, "contatos", person, "adicionar"), wid, "contatos")
    html = page(client, wid, "contatos")
    assert "Carla Contato" in html and "Usuário externo" in html
    finish = post(auth, wid, "contatos", {}, "finalizar")
    assert finish.status_code == 302
    assert finish.headers["Location"].endswith(f"/clientes/{known.id}")

    db.session.expire_all()
    org = db.session.get(Organisation, known.id)
    assert org is not None and org.client_since is not None
    assert org.name == "Prefeitura Municipal de Feira de Santana" and org.uf == "BA"
    assert org.company_type_id == type_id("Município")
    assert org.extra == {"gestor_municipal": "Joana Gestora", "familias_cadastradas": 12345}
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 2  # no copy
    assert db.session.get(ClientWizard, wid) is None
    user = db.session.scalar(select(User).where(User.cpf == cpf))
    assert user is not None and user.organisation_id == org.id and user.password_hash is None
    assert user.role.value == "requester"
    saved = db.session.scalar(select(Contact).where(Contact.organisation_id == org.id))
    assert saved is not None and saved.user_id == user.id and saved.cpf == cpf
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "client.register"))
    assert entry is not None and entry.actor_id == admin.id and entry.object_id == org.id
    assert entry.after["name"] == "Prefeitura Municipal de Feira de Santana"
    assert entry.before["name"] == "Feira de Santana"
    assert entry.after["contacts"][0]["user_id"] == user.id
    assert "user.create" in audit_actions()

    # The first-access e-mail: a single-use link that sets the password, then sign-in works.
    deliver_pending(db.session)
    mail = smtp_server.to("carla@feira.ba.gov.br")
    assert len(mail) == 1
    text = mail[0].get_body(preferencelist=("plain",)).get_content()
    assert "Prefeitura Municipal de Feira de Santana" in text
    link = re.search(r"https?://\S+/redefinir-senha/\S+", text).group(0)
    assert link.startswith("http://portal.test/redefinir-senha/")
    path = "/redefinir-senha/" + link.rsplit("/", 1)[1]
    auth.logout()
    done = auth.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    assert client.get(path).status_code == 404  # single use
    assert auth.login(cpf, NEW_PASSWORD).status_code == 302
    assert client.get(START).status_code == 404  # a requester


def test_the_first_access_link_expires(
    auth: AuthActions, client: FlaskClient, admin: User, smtp_server: Any, app: Any
) -> None:
    with time_machine.travel(utcnow(), tick=False) as traveller:
        auth.login(admin)
        wid = start(auth)
        company(auth, wid, make_cnpj("12ABC3450001"))
        person = contact("Beto", format_cpf(new_cpf()), "beto@empresa.com.br", external=True)
        assert post(auth, wid, "contatos", person, "finalizar").status_code == 302
        deliver_pending(db.session)
        text = smtp_server.to("beto@empresa.com.br")[0].get_body(("plain",)).get_content()
        path = "/redefinir-senha/" + re.search(r"redefinir-senha/(\S+)", text).group(1)
        hours = app.config["FIRST_ACCESS_TTL"] // timedelta(hours=1)
        assert hours == 72 and f"{hours} horas" in text
        auth.logout()
        traveller.shift(timedelta(hours=hours) - timedelta(minutes=1))
        assert client.get(path).status_code == 200
        traveller.shift(timedelta(minutes=2))
        assert client.get(path).status_code == 404


# ------------------------------------------------------------------ navigation


def test_steps_follow_the_type_and_navigation_keeps_values(
    auth: AuthActions, client: FlaskClient, registrar: User
) -> None:
    auth.login(registrar)
    wid = start(auth)
    html = page(client, wid, "tipo")
    assert 'disabled aria-disabled="true" aria-describedby="finalizar-hint">Finalizar' in html
    assert "fica disponível na última etapa" in html
    # A later step does not open before the earlier ones are done.
    assert moved_to(client.get(f"/clientes/cadastro/{wid}/contatos"), wid, "tipo")
    cnpj = make_cnpj("11222333" + "0001")
    company(auth, wid, cnpj)
    html = page(client, wid, "contatos")
    assert step_titles(html) == [
        "Tipo e categoria",
        "Identificação",
        "Endereço",
        "Contatos da empresa",
    ]
    assert (
        '"finalizar">Finalizar</button>' in html
        and "disabled" not in html.split("finalizar")[-2][-80:]
    )
    # Back through the steps: what was saved is shown again.
    assert moved_to(post(auth, wid, "contatos", {}, "anterior"), wid, "endereco")
    html = page(client, wid, "endereco")
    assert 'value="70040-010"' in html and 'value="Bloco A"' in html
    html = page(client, wid, "identificacao")
    assert 'value="11.222.333/0001-81"' in html and 'value="Empresa Parceira Ltda"' in html
    assert '<option value="DF" selected>' in html
    # "Anterior" with a mistake keeps what was typed, and the step must pass to go on.
    typed = {"identifier": "11.222.333/0001-00", "name": "Nome alterado", "uf": "DF"}
    assert moved_to(post(auth, wid, "identificacao", typed, "anterior"), wid, "tipo")
    html = page(client, wid, "identificacao")
    assert 'value="11.222.333/0001-00"' in html and 'value="Nome alterado"' in html
    assert moved_to(client.get(f"/clientes/cadastro/{wid}/endereco"), wid, "identificacao")
    # Changing the type changes the steps: a Município has no address step.
    tipo = {
        "company_type": str(type_id("Município")),
        "category": str(category_id("Parceiro")),
    }
    assert moved_to(post(auth, wid, "tipo", tipo), wid, "identificacao")
    html = page(client, wid, "identificacao")
    assert step_titles(html) == ["Tipo e categoria", "Identificação", "Contatos da empresa"]
    assert client.get(f"/clientes/cadastro/{wid}/endereco").status_code == 302


def test_cancel_saves_nothing(auth: AuthActions, client: FlaskClient, admin: User) -> None:
    auth.login(admin)
    before = counts()
    wid = start(auth)
    company(auth, wid, make_cnpj("123456780001"))
    post(auth, wid, "contatos", contact("Dora"), "adicionar")
    response = post(auth, wid, "contatos", contact("Edu"), "cancelar")
    assert response.status_code == 302 and response.headers["Location"].endswith("/clientes")
    assert counts() == before
    assert db.session.get(ClientWizard, wid) is None
    assert client.get(f"/clientes/cadastro/{wid}/tipo").status_code == 404


def test_remove_a_contact_without_javascript(
    auth: AuthActions, client: FlaskClient, admin: User
) -> None:
    auth.login(admin)
    wid = start(auth)
    company(auth, wid, make_cnpj("123456780001"))
    post(auth, wid, "contatos", contact("Dora Primeira"), "adicionar")
    post(auth, wid, "contatos", contact("Edu Segundo"), "adicionar")
    response = auth.post(f"/clientes/cadastro/{wid}/contatos", {"remover": "0"}, page=START)
    assert moved_to(response, wid, "contatos")
    html = page(client, wid, "contatos")
    assert "removido da lista" in html
    assert "<strong>Dora Primeira</strong>" not in html and "<strong>Edu Segundo</strong>" in html
    assert post(auth, wid, "contatos", {}, "finalizar").status_code == 302
    names = list(db.session.scalars(select(Contact.name)))
    assert names == ["Edu Segundo"]


# ------------------------------------------------------------------ validation


def _at_identification(auth: AuthActions, wid: int, type_name: str) -> None:
    tipo = {"company_type": str(type_id(type_name)), "category": str(category_id("Parceiro"))}
    assert moved_to(post(auth, wid, "tipo", tipo), wid, "identificacao")


@pytest.mark.parametrize(
    ("type_name", "identifier", "message"),
    [
        ("Município", "2910801", "Código IBGE do município não encontrado"),
        ("Município", "29", "Código IBGE do município não encontrado"),
        ("Estado", "2910800", "Código IBGE do estado não encontrado"),
        ("Empresa", "11.222.333/0001-82", "os dígitos verificadores não conferem"),
        ("Empresa", "11.222.333/0001", "CNPJ inválido"),
    ],
)
def test_identifier_errors_keep_what_was_typed(
    auth: AuthActions, admin: User, type_name: str, identifier: str, message: str
) -> None:
    auth.login(admin)
    wid = start(auth)
    _at_identification(auth, wid, type_name)
    before = counts()
    data = {"identifier": identifier, "name": '"><svg onload=alert(1)>', "uf": "BA"}
    response = post(auth, wid, "identificacao", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html
    assert 'aria-invalid="true" aria-describedby="identifier-hint identifier-error"' in html
    assert f'value="{identifier}"' in html
    assert "&#34;&gt;&lt;svg onload=alert(1)&gt;" in html and "<svg onload" not in html
    assert counts() == before
    saved = db.session.get(ClientWizard, wid)
    assert saved is not None and "identifier" not in saved.data


def test_alphanumeric_cnpj_and_state_codes_are_accepted(auth: AuthActions, admin: User) -> None:
    auth.login(admin)
    wid = start(auth)
    _at_identification(auth, wid, "Empresa")
    data = {"identifier": "12.abc.345/01de-35", "name": "Empresa Alfanumérica", "uf": "SP"}
    assert moved_to(post(auth, wid, "identificacao", data), wid, "endereco")
    db.session.expire_all()
    assert db.session.get(ClientWizard, wid).data["identifier"] == "12ABC34501DE35"
    other = start(auth)
    _at_identification(auth, other, "Estado")
    assert moved_to(
        post(auth, other, "identificacao", {"identifier": "29", "name": "Governo da Bahia"}),
        other,
        "contatos",
    )
    db.session.expire_all()
    assert db.session.get(ClientWizard, other).data["uf"] == "BA"


def test_missing_fields_are_named(auth: AuthActions, admin: User) -> None:
    auth.login(admin)
    wid = start(auth)
    html = post(auth, wid, "tipo", {}).get_data(as_text=True)
    assert "Escolha o tipo de empresa." in html and "Escolha a categoria do cliente." in html
    _at_identification(auth, wid, "Empresa")
    response = post(auth, wid, "identificacao", {"identifier": "", "name": "", "uf": ""})
    html = response.get_data(as_text=True)
    for text in ("Informe o CNPJ.", "Informe o nome do cliente.", "Escolha a UF."):
        assert text in html
    post(
        auth,
        wid,
        "identificacao",
        {"identifier": make_cnpj("999888770001"), "name": "X", "uf": "BA"},
    )
    html = post(auth, wid, "endereco", {"cep": "4400-000"}).get_data(as_text=True)
    assert "CEP inválido. Use o formato 00000-000." in html and "Informe o logradouro." in html


def test_missing_required_category_field(auth: AuthActions, admin: User) -> None:
    auth.login(admin)
    feira()
    wid = start(auth)
    tipo = {
        "company_type": str(type_id("Município")),
        "category": str(category_id("Gestão municipal do Cadastro Único")),
    }
    post(auth, wid, "tipo", tipo)
    post(auth, wid, "identificacao", {"identifier": "2910800", "name": "Prefeitura"})
    response = post(auth, wid, "informacoes", {"campo_familias_cadastradas": "muitas"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Preencha o campo “Gestor(a) municipal do Cadastro Único”." in html
    assert "Informe um número, ex.: 1.250 em “Famílias cadastradas (aproximado)”." in html
    assert 'value="muitas"' in html


def test_contact_validation(auth: AuthActions, admin: User) -> None:
    auth.login(admin)
    wid = start(auth)
    company(auth, wid, make_cnpj("123456780001"))
    html = post(auth, wid, "contatos", contact("Sem Dados", external=True), "adicionar").get_data(
        as_text=True
    )
    assert "Informe o CPF: o usuário externo entra no portal com ele." in html
    assert "Informe o e-mail: o usuário externo recebe" in html
    bad = {**contact("Fulano", "123.456.789-00", "nao-e-email"), "contact_phone": "123"}
    html = post(auth, wid, "contatos", bad, "adicionar").get_data(as_text=True)
    for text in ("CPF inválido.", "E-mail inválido.", "Telefone inválido."):
        assert text in html
    assert 'value="Fulano"' in html
    cpf = format_cpf(new_cpf())
    post(auth, wid, "contatos", contact("Primeira", cpf), "adicionar")
    html = post(auth, wid, "contatos", contact("Segunda", cpf), "adicionar").get_data(as_text=True)
    assert "Este CPF já está em outro contato desta lista." in html


# ------------------------------------------------------------------ duplicates and CPFs


def test_a_duplicate_identifier_names_the_client_and_links_to_it(
    auth: AuthActions, admin: User
) -> None:
    auth.login(admin)
    cnpj = make_cnpj("445566770001")
    first = start(auth)
    company(auth, first, cnpj, "Primeira Empresa")
    assert post(auth, first, "contatos", {}, "finalizar").status_code == 302
    existing = db.session.scalar(select(Organisation).where(Organisation.identifier == cnpj))
    assert existing is not None and existing.client_since is not None
    second = start(auth)
    _at_identification(auth, second, "Empresa")
    response = post(
        auth, second, "identificacao", {"identifier": cnpj, "name": "Outra", "uf": "DF"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Este identificador já pertence ao cliente Primeira Empresa (DF)." in html
    assert f'<a href="/clientes/{existing.id}">Primeira Empresa (DF)</a>' in html


def test_an_external_user_is_unique_by_cpf_across_organisations(
    auth: AuthActions, admin: User, make_user: Callable[..., User], make_org: Callable[..., Any]
) -> None:
    elsewhere = make_org("Prefeitura de Outro Lugar")
    taken = make_user("Já Usuária", organisation=elsewhere)
    auth.login(admin)
    wid = start(auth)
    company(auth, wid, make_cnpj("778899000001"))
    person = contact("Já Usuária", format_cpf(taken.cpf), "ja@empresa.com.br", external=True)
    response = post(auth, wid, "contatos", person, "adicionar")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Este CPF já é de um usuário de outro ente (Prefeitura de Outro Lugar)" in html
    # Without the external flag the contact is only a contact.
    plain = contact("Já Usuária", format_cpf(taken.cpf), "ja@empresa.com.br")
    assert moved_to(post(auth, wid, "contatos", plain, "adicionar"), wid, "contatos")
    assert post(auth, wid, "contatos", {}, "finalizar").status_code == 302
    assert db.session.scalar(select(Contact.user_id)) is None


def test_the_user_taken_between_adding_and_finishing_refuses_the_whole_registration(
    auth: AuthActions, admin: User, make_user: Callable[..., User], make_org: Callable[..., Any]
) -> None:
    auth.login(admin)
    wid = start(auth)
    company(auth, wid, make_cnpj("778899000002"))
    cpf = new_cpf()
    person = contact("Gil", format_cpf(cpf), "gil@empresa.com.br", external=True)
    assert moved_to(post(auth, wid, "contatos", person, "adicionar"), wid, "contatos")
    other = make_org("Prefeitura Rival")
    accounts_user = make_user("Gil", organisation=other)
    db.session.execute(update(User).where(User.id == accounts_user.id).values(cpf=cpf))
    db.session.commit()
    before = counts()
    response = post(auth, wid, "contatos", {}, "finalizar")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Contato 1: Este CPF já é de um usuário de outro ente (Prefeitura Rival)" in html
    assert counts() == before  # a refused step writes nothing
    assert db.session.get(ClientWizard, wid) is not None


def test_an_existing_user_of_the_same_organisation_is_linked(
    auth: AuthActions, admin: User, make_user: Callable[..., User], smtp_server: Any
) -> None:
    known = feira()
    member = make_user("Hugo Membro", organisation=known)
    auth.login(admin)
    wid = start(auth, known.id)
    tipo = {"company_type": str(type_id("Município")), "category": str(category_id("Parceiro"))}
    post(auth, wid, "tipo", tipo)
    post(auth, wid, "identificacao", {"identifier": "2910800", "name": "Prefeitura"})
    person = contact("Hugo Membro", format_cpf(member.cpf), member.email, external=True)
    assert moved_to(post(auth, wid, "contatos", person, "adicionar"), wid, "contatos")
    users_before = db.session.scalar(select(func.count()).select_from(User))
    assert post(auth, wid, "contatos", {}, "finalizar").status_code == 302
    assert db.session.scalar(select(Contact.user_id)) == member.id
    assert db.session.scalar(select(func.count()).select_from(User)) == users_before
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0


# ------------------------------------------------------------------ Dados do cliente


def test_edit_client_data_with_the_same_steps(
    auth: AuthActions, client: FlaskClient, registrar: User, make_user: Callable[..., User]
) -> None:
    auth.login(registrar)
    cnpj = make_cnpj("556677880001")
    wid = start(auth)
    company(auth, wid, cnpj, "Empresa Antiga")
    post(auth, wid, "contatos", contact("Ivo Contato"), "adicionar")
    post(auth, wid, "contatos", {}, "finalizar")
    org = db.session.scalar(select(Organisation).where(Organisation.identifier == cnpj))
    html = client.get(f"/clientes/{org.id}/dados").get_data(as_text=True)
    assert "Empresa Antiga" in html and "Ivo Contato" in html and "Editar" in html
    assert "70040-010" in html
    response = auth.post(f"/clientes/{org.id}/dados/editar", page=f"/clientes/{org.id}/dados")
    edit = int(re.search(r"/cadastro/(\d+)/tipo", response.headers["Location"]).group(1))
    html = page(client, edit, "identificacao")
    assert 'value="Empresa Antiga"' in html and "Editar cliente" in html
    ident = {"identifier": cnpj, "name": "Empresa Nova", "uf": "DF"}
    assert moved_to(post(auth, edit, "identificacao", ident), edit, "endereco")
    html = page(client, edit, "contatos")
    assert "Ivo Contato" in html
    post(auth, edit, "contatos", contact("Jane Nova"), "adicionar")
    done = post(auth, edit, "contatos", {}, "finalizar")
    assert done.headers["Location"].endswith(f"/clientes/{org.id}")
    db.session.expire_all()
    assert db.session.get(Organisation, org.id).name == "Empresa Nova"
    names = list(db.session.scalars(select(Contact.name).order_by(Contact.position)))
    assert names == ["Ivo Contato", "Jane Nova"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "client.update"))
    assert entry.before["name"] == "Empresa Antiga" and entry.after["name"] == "Empresa Nova"
    assert [c["name"] for c in entry.after["contacts"]] == ["Ivo Contato", "Jane Nova"]
    assert "identifier" not in entry.after  # only what changed
    # An agent without the permission reads the data but gets no Editar and no wizard.
    auth.logout()
    reader = make_user("Leo Leitor", role="agent")
    auth.login(reader)
    html = client.get(f"/clientes/{org.id}/dados").get_data(as_text=True)
    assert "Empresa Nova" in html and "Editar</button>" not in html


# ------------------------------------------------------------------ who may


@pytest.mark.parametrize(
    ("role", "may_register", "allowed"),
    [
        ("requester", False, False),
        ("agent", False, False),
        ("agent", True, True),
        ("admin", False, True),
    ],
)
def test_permission_matrix(
    auth: AuthActions,
    client: FlaskClient,
    admin: User,
    make_user: Callable[..., User],
    role: str,
    may_register: bool,
    allowed: bool,
) -> None:
    known = feira()
    auth.login(admin)
    admins_draft = start(auth)
    client_draft = start(auth)
    company(auth, client_draft, make_cnpj("101010100001"))
    post(auth, client_draft, "contatos", {}, "finalizar")
    the_client = db.session.scalar(
        select(Organisation.id).where(Organisation.client_since.is_not(None))
    )
    auth.logout()
    person = make_user("Pessoa", role=role)
    person.may_register_clients = may_register
    db.session.commit()
    auth.login(person)
    expected = 200 if allowed else 404
    assert client.get(START).status_code == expected
    assert client.get(START, query_string={"q": "Feira"}).status_code == expected
    # Someone else's draft is nobody else's business, whoever they are.
    assert client.get(f"/clientes/cadastro/{admins_draft}/tipo").status_code == 404
    assert post(auth, admins_draft, "tipo", {}, "cancelar").status_code == 404
    token = auth.csrf("/perfil")
    response = client.post(START, data={"csrf_token": token, "organisation_id": str(known.id)})
    assert response.status_code == (302 if allowed else 404)
    response = client.post(f"/clientes/{the_client}/dados/editar", data={"csrf_token": token})
    assert response.status_code == (302 if allowed else 404)
    dados = client.get(f"/clientes/{the_client}/dados").status_code
    assert dados == (404 if role == "requester" else 200)
    db.session.expire_all()
    assert db.session.get(ClientWizard, admins_draft) is not None


def test_a_client_cannot_be_started_again_from_its_organisation(
    auth: AuthActions, client: FlaskClient, admin: User
) -> None:
    auth.login(admin)
    wid = start(auth)
    cnpj = make_cnpj("202020200001")
    company(auth, wid, cnpj)
    post(auth, wid, "contatos", {}, "finalizar")
    org_id = db.session.scalar(select(Organisation.id).where(Organisation.identifier == cnpj))
    assert auth.post(START, {"organisation_id": str(org_id)}).status_code == 404
    html = client.get(START, query_string={"q": "Empresa Parceira"}).get_data(as_text=True)
    assert "0 entes encontrados" in html  # clients are not offered


def test_the_search_pages_in_sql(
    auth: AuthActions, client: FlaskClient, admin: User, count_queries: Callable[[], Any]
) -> None:
    client_services.load_ibge_organisations(db.session, SETUP)
    db.session.commit()
    auth.login(admin)
    with count_queries() as statements:
        html = client.get(START, query_string={"q": "santa"}).get_data(as_text=True)
    assert html.count('name="organisation_id"') == 20
    assert 'rel="next"' in html
    assert len(statements) < 10
    second = client.get(START, query_string={"q": "santa", "pagina": "2"}).get_data(as_text=True)
    assert second.count('name="organisation_id"') == 20
    by_code = client.get(START, query_string={"q": "29"}).get_data(as_text=True)
    assert "Bahia" in by_code or "Abaíra" in by_code


def test_the_search_ignores_accents_and_case(
    auth: AuthActions, client: FlaskClient, admin: User
) -> None:
    client_services.load_ibge_organisations(db.session, SETUP)
    db.session.commit()
    auth.login(admin)
    for typed in ("SAO GONCALO DOS CAMPOS", "são gonçalo dos campos", "2929305"):
        html = client.get(START, query_string={"q": typed}).get_data(as_text=True)
        assert "São Gonçalo dos Campos" in html, typed
        assert "1 ente encontrado" in html, typed


def test_finalizar_with_a_bad_typed_contact_registers_nothing(
    auth: AuthActions, admin: User
) -> None:
    auth.login(admin)
    wid = start(auth)
    cnpj = make_cnpj("77ZZ88990001")
    company(auth, wid, cnpj)
    typed = contact("Dora", "111.111.111-12", "dora@empresa.com.br", external=True)
    response = post(auth, wid, "contatos", typed, "finalizar")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "CPF inválido" in html and 'value="Dora"' in html
    assert db.session.scalar(select(Organisation.id).where(Organisation.identifier == cnpj)) is None
    # Corrected, the same Finalizar registers the client with the contact.
    typed["contact_cpf"] = format_cpf(new_cpf())
    assert post(auth, wid, "contatos", typed, "finalizar").status_code == 302
    db.session.expire_all()
    org = db.session.scalar(select(Organisation).where(Organisation.identifier == cnpj))
    assert org is not None and org.is_client
    names = db.session.scalars(select(Contact.name).where(Contact.organisation_id == org.id))
    assert list(names) == ["Dora"]
