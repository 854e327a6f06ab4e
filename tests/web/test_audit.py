"""The audit trail: every change to users, organisations, groups and the catalog writes one
entry in the same transaction (who, what, when, from where, before and after, secrets
masked); a rolled-back operation leaves none; the table refuses UPDATE and DELETE."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import func, select

from portal.accounts import services as accounts
from portal.catalog.services import upsert_item
from portal.clients import services as clients
from portal.core.errors import Forbidden
from portal.core.extensions import db
from portal.models import AuditEntry
from tests.conftest import PASSWORD, SETUP, AuthActions, new_cpf


def _entries(action: str | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(db.session.scalars(query))


def test_creating_a_user_records_who_what_when_where_with_the_secret_masked(
    app: Flask, org, make_user
) -> None:
    admin = make_user("Carla Admin", role="admin")
    cpf = new_cpf()
    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        user = accounts.create_user(
            db.session,
            admin,
            cpf=cpf,
            full_name="Nova Pessoa",
            email="nova@exemplo.gov.br",
            role="agent",
            organisation=org,
            password=PASSWORD,
            groups=[accounts.find_or_create_group(db.session, admin, "Suporte Novo")],
        )
        db.session.commit()
    [group_entry] = _entries("group.create")
    [entry] = [e for e in _entries("user.create") if e.object_id == user.id]
    assert (entry.actor_id, entry.actor_label) == (admin.id, f"Carla Admin (usuário {admin.id})")
    assert entry.address == "203.0.113.9" and entry.at is not None
    assert (entry.object_type, entry.object_id, entry.before) == ("user", user.id, None)
    assert entry.after["full_name"] == "Nova Pessoa" and entry.after["role"] == "agent"
    assert entry.after["groups"] == ["Suporte Novo"]
    assert entry.after["password_hash"] == "***"
    assert user.password_hash and user.password_hash not in str(entry.after)
    assert group_entry.after == {"name": "Suporte Novo"}


def test_a_rolled_back_operation_leaves_no_entry(app: Flask, org, make_user) -> None:
    admin = make_user("Carla Admin", role="admin")
    before = len(_entries())
    accounts.create_user(
        db.session,
        admin,
        cpf=new_cpf(),
        full_name="Desfeita",
        email="desfeita@exemplo.gov.br",
        role="requester",
        organisation=org,
    )
    clients.create_organisation(
        db.session, admin, identifier="9999999", name="Ente Desfeito", kind="municipio", uf="BA"
    )
    db.session.rollback()
    assert len(_entries()) == before


def test_a_failed_request_through_the_web_leaves_no_entry(auth: AuthActions, make_user) -> None:
    me = make_user()
    auth.login(me)
    before = len(_entries())
    response = auth.post("/perfil/telefone", {"extra_phone": "123"}, page="/perfil")
    assert response.status_code == 400
    assert len(_entries()) == before
    ok = auth.post("/perfil/telefone", {"extra_phone": "(71) 3202-0000"}, page="/perfil")
    assert ok.status_code == 302
    [entry] = _entries("user.update")
    assert entry.before == {"extra_phone": None}
    assert entry.after == {"extra_phone": "(71) 3202-0000"}
    assert entry.actor_id == me.id and entry.address == "127.0.0.1"


def test_passwords_are_audited_masked_and_only_admins_set_them(app: Flask, make_user) -> None:
    admin, person, other = make_user(role="admin"), make_user(), make_user(name="Outra")
    with pytest.raises(Forbidden):
        accounts.set_password(db.session, other, person, "uma frase bem longa")
    db.session.rollback()
    accounts.set_password(db.session, admin, person, "uma frase bem longa")
    accounts.change_password(db.session, person, "uma frase bem longa", "outra frase longa")
    db.session.commit()
    entries = _entries("user.set_password") + _entries("user.change_password")
    assert [(e.actor_id, e.object_id) for e in entries] == [
        (admin.id, person.id),
        (person.id, person.id),
    ]
    for entry in entries:
        assert entry.before == {"password_hash": "***"} and entry.after == {"password_hash": "***"}


def test_catalog_changes_keep_only_what_changed(app: Flask) -> None:
    spec = {
        "path": ["OUTROS"],
        "slug": "novo",
        "name": "Novo Serviço",
        "short_description": "x",
        "fields": [{"key": "motivo", "label": "Motivo", "required": True}],
    }
    item = upsert_item(db.session, SETUP, spec)
    upsert_item(db.session, SETUP, spec)  # nothing changed: nothing recorded
    upsert_item(db.session, SETUP, {**spec, "name": "Serviço Renomeado"})
    db.session.commit()
    [created] = _entries("catalog_item.create")
    [updated] = _entries("catalog_item.update")
    assert created.object_id == item.id and created.actor_label == "sistema (testes)"
    assert created.after["fields"][0]["label"] == "Motivo"
    assert updated.before == {"name": "Novo Serviço"}
    assert updated.after == {"name": "Serviço Renomeado"}
    assert [e.after["name"] for e in _entries("category.create")] == ["OUTROS"]


def test_the_command_line_acts_as_a_named_system_actor(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=[
            "portal",
            "org",
            "create",
            "--identifier",
            "29",
            "--name",
            "Bahia",
            "--kind",
            "estado",
        ]
    )
    assert result.exit_code == 0, result.output
    [entry] = _entries("organisation.create")
    assert entry.actor_id is None and entry.actor_label == "sistema (linha de comando)"
    assert entry.after["name"] == "Bahia" and entry.after["kind"] == "estado"


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_entries SET action = 'apagado'", "DELETE FROM audit_entries"],
)
def test_the_table_is_append_only(app: Flask, make_user, statement: str) -> None:
    make_user(role="admin")
    assert db.session.scalar(select(func.count()).select_from(AuditEntry))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.text(statement))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry))
