"""The `portal` commands operators and scripts use."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from portal.core.extensions import db
from portal.core.models import AuditEntry
from portal.demo import DEMO_PASSWORD, USERS
from portal.models import (
    CatalogItem,
    EntryKind,
    Organisation,
    ServiceRequest,
    SupportGroup,
    TimelineEntry,
    User,
)
from portal.requests.lifecycle import State


def _run(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=["portal", *args])


def test_org_and_user_create(app: Flask) -> None:
    result = _run(
        app,
        "org",
        "create",
        "--identifier",
        "2927408",
        "--name",
        "Prefeitura de Salvador",
        "--kind",
        "municipio",
        "--uf",
        "BA",
    )
    assert result.exit_code == 0, result.output
    result = _run(
        app,
        "user",
        "create",
        "--cpf",
        "529.982.247-25",
        "--name",
        "Felipe Rodrigues",
        "--email",
        "Felipe@Salvador.ba.gov.br",
        "--role",
        "agent",
        "--org",
        "2927408",
        "--password",
        "uma senha comprida",
        "--group",
        "Suporte GERID",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.cpf == "52998224725"))
    assert user.email == "felipe@salvador.ba.gov.br"
    assert [g.name for g in user.groups] == ["Suporte GERID"]
    assert user.password_hash.startswith("scrypt:")


def test_bad_input_exits_non_zero_with_a_clear_message(app: Flask) -> None:
    _run(
        app, "org", "create", "--identifier", "2927408", "--name", "Salvador", "--kind", "municipio"
    )
    base = ["user", "create", "--name", "X Y", "--email", "x@y.gov.br", "--role", "requester"]
    invalid_cpf = _run(app, *base, "--cpf", "123.456.789-00", "--org", "2927408")
    assert invalid_cpf.exit_code != 0 and "CPF inválido" in invalid_cpf.output
    unknown_org = _run(app, *base, "--cpf", "529.982.247-25", "--org", "999")
    assert unknown_org.exit_code != 0 and "Ente não encontrado" in unknown_org.output
    assert _run(app, *base, "--cpf", "529.982.247-25", "--org", "2927408").exit_code == 0
    duplicate = _run(app, *base, "--cpf", "52998224725", "--org", "2927408")
    assert duplicate.exit_code != 0 and "Já existe um usuário com este CPF" in duplicate.output
    dup_org = _run(
        app, "org", "create", "--identifier", "2927408", "--name", "X", "--kind", "municipio"
    )
    assert dup_org.exit_code != 0 and "Já existe um ente" in dup_org.output


def test_set_password(app: Flask) -> None:
    _run(app, "org", "create", "--identifier", "29", "--name", "Bahia", "--kind", "estado")
    _run(
        app,
        "user",
        "create",
        "--cpf",
        "52998224725",
        "--name",
        "A B",
        "--email",
        "a@b.gov.br",
        "--org",
        "29",
    )
    weak = _run(app, "user", "set-password", "--cpf", "52998224725", "--password", "123456")
    assert weak.exit_code != 0 and "pelo menos 8" in weak.output
    ok = _run(
        app, "user", "set-password", "--cpf", "52998224725", "--password", "frase bem comprida"
    )
    assert ok.exit_code == 0, ok.output


def test_demo_data_is_complete_and_idempotent(app: Flask) -> None:
    first = _run(app, "demo-data")
    assert first.exit_code == 0, first.output
    assert DEMO_PASSWORD in first.output

    def counts() -> tuple[int, ...]:
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Organisation, User, CatalogItem, ServiceRequest, TimelineEntry)
        )

    before = counts()
    assert _run(app, "demo-data").exit_code == 0
    assert counts() == before
    states = set(db.session.scalars(select(ServiceRequest.state)))
    assert states == {s.value for s in State}
    assert before[1] == len(USERS)
    roles = {u.role.value for u in db.session.scalars(select(User))}
    assert roles == {"requester", "agent", "admin"}
    notes = set(
        db.session.execute(
            select(TimelineEntry.public).where(TimelineEntry.kind == EntryKind.NOTE)
        ).scalars()
    )
    assert notes == {True, False}  # notes of both kinds
    groups = {g.name for g in db.session.scalars(select(SupportGroup))}
    assert {"Suporte GERID", "Suporte CadÚnico"} <= groups


def test_the_cadastro_permission_opens_the_wizard_to_an_agent(app: Flask, make_user, auth) -> None:
    agent = make_user(role="agent")
    requester = make_user(role="requester")
    auth.login(agent)
    assert auth.client.get("/clientes/novo").status_code == 404
    given = _run(app, "user", "cadastro", "--cpf", agent.cpf)
    assert given.exit_code == 0, given.output
    assert auth.client.get("/clientes/novo").status_code == 200
    refused = _run(app, "user", "cadastro", "--cpf", requester.cpf)
    assert refused.exit_code != 0 and "atendentes" in refused.output
    taken = _run(app, "user", "cadastro", "--cpf", agent.cpf, "--revoke")
    assert taken.exit_code == 0, taken.output
    assert auth.client.get("/clientes/novo").status_code == 404
    db.session.expire_all()
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_id == agent.id)
    ).all()
    assert actions.count("user.client_registration") == 2


def test_load_ibge_once(app: Flask) -> None:
    first = _run(app, "org", "load-ibge")
    assert first.exit_code == 0 and "5597" in first.output, first.output
    again = _run(app, "org", "load-ibge")
    assert again.exit_code == 0 and "adicionados: 0" in again.output
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 5597
    feira = db.session.scalar(select(Organisation).where(Organisation.identifier == "2910800"))
    assert feira is not None and feira.name == "Feira de Santana" and feira.uf == "BA"
    assert feira.client_since is None
