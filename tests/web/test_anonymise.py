"""Anonimizar (LGPD): an admin removes a deactivated person from every page, search and
export, while their requests stay and the audit chain still verifies."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import func, select

from portal.accounts import admin as admin_services
from portal.accounts.anonymise import ANONYMISED_NAME
from portal.clients.models import Contact
from portal.core.audit_chain import verify
from portal.core.cpf import format_cpf
from portal.core.extensions import db
from portal.core.models import Attachment, AuditEntry, OutboxEmail
from portal.core.storage import file_store
from portal.core.timeutil import utcnow
from portal.models import SignInEvent, User, UserSession
from tests.conftest import PASSWORD, SETUP, AuthActions
from tests.files import png_bytes

NAME = "Rogério Anônimo Pereira"
EMAIL = "rogerio.sumido@exemplo.gov.br"


def _text(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _absent(html: str, *values: str) -> None:
    for value in values:
        assert value not in html, value


@pytest.fixture
def scene(auth: AuthActions, make_user, make_request, org) -> dict[str, Any]:
    """A requester who wrote their name and CPF into a request, sent a file, is a client
    contact, has e-mails in the outbox and sign-ins; then was deactivated."""
    admin = make_user("Carla Chefe Administradora", role="admin")
    person = make_user(NAME, email=EMAIL, phone="(71) 99876-5432")
    colleague = make_user("Colega Seguidora Lima")
    cpf = person.cpf
    request = make_request(
        person,
        followers=[colleague],
        description=f"Sou {NAME}, CPF {format_cpf(cpf)}, telefone 71 99876-5432, sem acesso.",
    )
    auth.login(person)
    path = f"/solicitacoes/{request.number}"
    sent = auth.post(
        f"{path}/mensagem",
        {"body": f"Assino: {NAME} ({EMAIL})", "attachments": [(io.BytesIO(png_bytes()), "rg.png")]},
        page=path,
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302
    auth.logout()
    org.client_since = utcnow()
    db.session.add(
        Contact(organisation_id=org.id, name=NAME, email=EMAIL, cpf=cpf, phone="71998765432")
    )
    db.session.commit()
    admin_services.deactivate(db.session, SETUP, person)
    db.session.commit()
    keys = list(
        db.session.scalars(
            select(Attachment.stored_name).where(Attachment.uploader_id == person.id)
        )
    )
    assert keys and all(file_store().exists(k) for k in keys)
    assert db.session.scalar(
        select(func.count()).select_from(OutboxEmail).where(OutboxEmail.recipient == EMAIL)
    )
    return {"admin": admin, "person": person, "cpf": cpf, "request": request, "keys": keys}


# Each search, and what its page says when it finds nothing.
SEARCHES = [
    ("/admin/usuarios/?q={q}", "Nenhum usuário com estes filtros."),
    ("/atendimento?estado=todos&texto={q}", "Nenhuma solicitação nesta fila com estes filtros."),
    ("/pesquisa?q={q}", "Nenhum resultado encontrado"),
    ("/clientes?q={q}", "Nenhum cliente com estes filtros."),
    ("/admin/auditoria?nome={q}", "Nenhuma entrada com estes filtros."),
]


def _search_everywhere(auth: AuthActions, typed: tuple[str, ...], old: tuple[str, ...]) -> None:
    """Every search finds nothing for each old identifier; the page only echoes what was
    typed (the box, the links), so that is taken out before looking for the others."""
    for url, empty in SEARCHES:
        for q in typed:
            html = _text(auth.client.get(url.format(q=q)))
            assert empty in html, (url, q)
            _absent(html.replace(q, ""), *old)


def test_anonymise_removes_the_person_everywhere(auth: AuthActions, scene: dict[str, Any]) -> None:
    admin, person, cpf, request = scene["admin"], scene["person"], scene["cpf"], scene["request"]
    old = (NAME, cpf, format_cpf(cpf), EMAIL, "99876-5432")
    auth.login(admin)
    # Before: the searches do find the person, so finding nothing afterwards means something.
    assert NAME in _text(auth.client.get(f"/admin/usuarios/?q={cpf}"))
    assert request.number in _text(auth.client.get(f"/atendimento?estado=todos&texto={NAME}"))
    assert "user.create" in str(db.session.scalars(select(AuditEntry.action)).all())

    page = f"/admin/usuarios/{person.id}"
    assert "Anonimizar" in _text(auth.client.get(page))
    wrong = auth.post(f"{page}/anonimizar", {"confirmacao": "sim"})
    assert wrong.status_code == 400 and "Digite ANONIMIZAR" in wrong.get_data(as_text=True)
    done = auth.post(f"{page}/anonimizar", {"confirmacao": "anonimizar"})
    assert done.status_code == 302

    _search_everywhere(auth, (NAME, cpf, format_cpf(cpf), "Rogério Anônimo", EMAIL), old)

    listing = _text(auth.client.get(f"/admin/auditoria?objeto=user&objeto_id={person.id}"))
    assert "Usuário: anonimização" in listing and "(anonimizado)" in listing
    _absent(listing, *old)
    with auth.client.get(f"/admin/auditoria.csv?objeto=user&objeto_id={person.id}") as csv:
        _absent(csv.get_data(as_text=True), *old)

    staff_view = _text(auth.client.get(f"/solicitacoes/{request.number}"))
    assert ANONYMISED_NAME in staff_view
    _absent(staff_view, *old)
    user_page = _text(auth.client.get(page))
    assert ANONYMISED_NAME in user_page and "Anonimizado" in user_page
    _absent(user_page, *old)
    client_page = _text(auth.client.get(f"/clientes/{person.organisation_id}"))
    _absent(client_page, *old)

    assert not any(file_store().exists(k) for k in scene["keys"])
    assert not db.session.scalars(
        select(Attachment).where(Attachment.uploader_id == person.id)
    ).all()
    for table in (SignInEvent,):
        assert not db.session.scalars(select(table).where(table.user_id == person.id)).all()
    assert all(
        s.ended_at
        for s in db.session.scalars(select(UserSession).where(UserSession.user_id == person.id))
    )
    outbox = db.session.scalars(select(OutboxEmail)).all()
    _absent(
        "\n".join(f"{m.recipient} {m.subject} {m.body_text} {m.body_html}" for m in outbox), *old
    )
    db.session.expire_all()
    gone = db.session.get(User, person.id)
    assert gone.cpf == f"X{person.id:010d}" and gone.email == f"anonimizado-{person.id}@invalid"
    assert gone.password_hash is None and gone.anonymised_at is not None
    assert verify(db.session).ok

    auth.logout()
    refused = auth.login(cpf, PASSWORD)
    assert "CPF ou senha incorretos" in refused.get_data(as_text=True)


def test_follower_sees_anonymised_requester(
    auth: AuthActions, scene: dict[str, Any], make_user
) -> None:
    auth.login(scene["admin"])
    assert (
        auth.post(
            f"/admin/usuarios/{scene['person'].id}/anonimizar", {"confirmacao": "ANONIMIZAR"}
        ).status_code
        == 302
    )
    auth.logout()
    colleague = db.session.scalar(select(User).where(User.full_name == "Colega Seguidora Lima"))
    auth.login(colleague)
    html = _text(auth.client.get(f"/solicitacoes/{scene['request'].number}"))
    assert ANONYMISED_NAME in html
    _absent(html, NAME, scene["cpf"], format_cpf(scene["cpf"]), EMAIL)


def test_only_admins_and_only_deactivated_users(auth: AuthActions, make_user) -> None:
    admin = make_user("Carla Chefe Administradora", role="admin")
    agent = make_user("Ana Agente Teste", role="agent")
    active = make_user(NAME, email=EMAIL)
    path = f"/admin/usuarios/{active.id}/anonimizar"
    auth.login(agent)
    assert auth.client.get(path).status_code == 404
    token = auth.csrf("/perfil")
    assert (
        auth.client.post(path, data={"confirmacao": "ANONIMIZAR", "csrf_token": token}).status_code
        == 404
    )
    auth.logout()
    auth.login(admin)
    refused = auth.post(path, {"confirmacao": "ANONIMIZAR"})
    assert refused.status_code == 409
    assert "Só é possível anonimizar um usuário desativado" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, active.id).full_name == NAME
    # Once anonymised, nobody brings the account back.
    admin_services.deactivate(db.session, SETUP, active)
    db.session.commit()
    assert auth.post(path, {"confirmacao": "ANONIMIZAR"}).status_code == 302
    again = auth.post(f"/admin/usuarios/{active.id}/reativar", page=f"/admin/usuarios/{active.id}")
    assert again.status_code == 409 and "anonimizado não pode ser reativado" in again.get_data(
        as_text=True
    )
