"""Perfil > Meus dados: the LGPD export holds the person's data and nobody else's."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta
from typing import Any

from werkzeug.test import TestResponse

from portal.accounts import tokens
from portal.core.cpf import format_cpf
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.requests import services as request_service
from tests.conftest import AuthActions
from tests.files import pdf_bytes, png_bytes

PAGE = "/perfil/meus-dados"


def _archive(response: TestResponse) -> zipfile.ZipFile:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.data))


def _json(archive: zipfile.ZipFile, name: str) -> Any:
    return json.loads(archive.read(name).decode())


def _post_message(auth: AuthActions, number: str, body: str, files: list[Any]) -> None:
    path = f"/solicitacoes/{number}"
    data: dict[str, Any] = {"body": body}
    if files:
        data["attachments"] = files
    response = auth.post(f"{path}/mensagem", data, page=path, content_type="multipart/form-data")
    assert response.status_code == 302


def test_export_holds_my_data_and_nothing_of_anyone_else(
    auth: AuthActions, make_user, make_request
) -> None:
    me = make_user("Felipe Exportador Silva", email="felipe.exporta@exemplo.gov.br")
    other = make_user("Joana Compartilhada Souza", email="joana.partilha@exemplo.gov.br")
    admin = make_user("Carla Chefe Equipe", role="admin")
    mine = make_request(me, followers=[other], description="Meu acesso caiu ontem.")
    for_me = make_request(other, requested_for=me, description="Aberta pela colega para mim.")
    followed = make_request(other, followers=[me], description="Segredo da Joana Compartilhada.")
    request_service.add_note(db.session, mine, admin, "Nota interna sigilosa", public=False)
    request_service.add_note(db.session, mine, admin, "Resposta pública da equipe", public=True)
    in_ten_days = (utcnow() + timedelta(days=10)).strftime("%d/%m/%Y")
    made = tokens.create(
        db.session,
        me,
        name="Sistema da prefeitura",
        scopes="read",
        expires_on=in_ten_days,
        timezone="America/Sao_Paulo",
    )
    tokens.create(
        db.session,
        other,
        name="Token da Joana",
        scopes="read",
        expires_on=in_ten_days,
        timezone="America/Sao_Paulo",
    )
    db.session.commit()

    auth.login(other)
    _post_message(
        auth, mine.number, "Mensagem da Joana aqui", [(io.BytesIO(pdf_bytes()), "da-joana.pdf")]
    )
    auth.logout()
    auth.login(me)
    _post_message(
        auth, mine.number, "Minha mensagem com anexo", [(io.BytesIO(png_bytes()), "print-meu.png")]
    )
    _post_message(auth, followed.number, "Eu também acompanho", [])

    page = auth.client.get(PAGE)
    assert page.status_code == 200 and "Baixar meus dados" in page.get_data(as_text=True)
    with auth.post(PAGE) as response:
        today = utcnow().astimezone().date()  # the day may differ only around midnight
        disposition = response.headers["Content-Disposition"]
        assert re.search(r'filename="?meus-dados-\d{4}-\d{2}-\d{2}\.zip', disposition)
        assert str(today.year) in disposition
        archive = _archive(response)

    names = set(archive.namelist())
    assert {"README.txt", "profile.json", "requests.json", "messages.json", "follows.json"} <= names
    assert {"sign_ins.json", "sessions.json", "attachments.json"} <= names
    assert "Meus dados" in archive.read("README.txt").decode()

    profile = _json(archive, "profile.json")
    assert profile["nome"] == "Felipe Exportador Silva" and profile["cpf"] == me.cpf
    assert profile["email"] == "felipe.exporta@exemplo.gov.br"
    assert not {k for k in profile if "senha" in k or "hash" in k or "segredo" in k}

    requests = {r["numero"]: r for r in _json(archive, "requests.json")}
    assert set(requests) == {mine.number, for_me.number}
    assert requests[mine.number]["aberta_por_voce"] and requests[mine.number]["para_voce"]
    assert requests[mine.number]["descricao"] == "Meu acesso caiu ontem."
    assert {"campo": "Motivo", "resposta": "Problema de acesso"} in requests[mine.number][
        "respostas"
    ]
    assert requests[for_me.number] | {} and not requests[for_me.number]["aberta_por_voce"]
    assert requests[for_me.number]["para_voce"]

    texts = [m["texto"] for m in _json(archive, "messages.json")]
    assert "Minha mensagem com anexo" in texts and "Eu também acompanho" in texts

    assert _json(archive, "follows.json") == [
        {
            "numero": followed.number,
            "formulario": followed.item.name,
            "acompanha_desde": _json(archive, "follows.json")[0]["acompanha_desde"],
        }
    ]
    assert [e["resultado"] for e in _json(archive, "sign_ins.json")].count("Entrada") >= 1
    assert any(s["fim"] is None for s in _json(archive, "sessions.json"))
    [token] = _json(archive, "tokens.json")  # mine only, and never the token itself
    assert token["nome"] == "Sistema da prefeitura" and token["escopo"] == "read"
    assert token["revogado_em"] is None and token["valido_ate"]
    assert made.raw not in json.dumps(token) and made.raw[:8] in token["inicio"]

    [listed] = _json(archive, "attachments.json")
    assert listed["nome"] == "print-meu.png" and listed["solicitacao"] == mine.number
    assert archive.read(listed["arquivo"]) == png_bytes()

    everything = b"".join(archive.read(name) for name in archive.namelist())
    text = everything.decode("utf-8", "replace")
    for foreign in (
        other.full_name,
        "Joana",
        other.cpf,
        format_cpf(other.cpf),
        other.email,
        admin.full_name,
        "Mensagem da Joana",
        "Nota interna sigilosa",
        "Resposta pública da equipe",
        "Segredo da Joana",
        "da-joana.pdf",
    ):
        assert foreign not in text, foreign
    assert pdf_bytes() not in everything


def test_export_needs_sign_in_and_csrf(auth: AuthActions, client, make_user) -> None:
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    me = make_user()
    auth.login(me)
    assert auth.client.post(PAGE).status_code == 400  # no CSRF token
    profile = auth.client.get("/perfil").get_data(as_text=True)
    assert f'href="{PAGE}"' in profile
