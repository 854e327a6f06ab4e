"""Requests through the API, on SQLite and PostgreSQL.

- an outsider's token gets 404 on others' requests (show, timeline, message, action);
- a read token cannot write (403 escopo_insuficiente);
- a requester lists mine and following; the queue (/queue) is for staff (403
  apenas_atendentes), with the page's filters;
- opening a request checks the answers as the form does (422 naming `fields.<key>`), and the
  new request appears in the list;
- the cursor is stable under an insert between pages;
- an action needs If-Match (428); a stale one is 409 and changes nothing; the right ETag
  accepts a resolved request (Fechado);
- the list costs the same statements for 5 and 25 rows.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from portal.core.extensions import db
from portal.models import User
from portal.requests import services as request_service
from portal.requests.lifecycle import Action
from portal.requests.models import ServiceRequest, TimelineEntry
from tests.conftest import GERID_VALUES, api_token

GERID_FIELDS = {**GERID_VALUES, "modulo": "GERID"}


def _token(user: User, scopes: str = "read write") -> str:
    return api_token(user, scopes)


class Api:
    """A client that speaks to the API with one token."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.headers, **kw)

    def post(self, path: str, body: dict[str, Any], **headers: str) -> Any:
        return self.client.post(f"/api/v1{path}", json=body, headers={**self.headers, **headers})


@pytest.fixture
def people(make_user) -> dict[str, User]:
    return {
        "maria": make_user("Maria Solicitante"),
        "joao": make_user("João Acompanhante"),
        "outsider": make_user("Olga de Fora"),
        "admin": make_user("Ana Admin", role="admin"),
    }


def _problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    if code:
        assert body["code"] == code
    return body


def _numbers(response: Any) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [r["number"] for r in response.get_json()["requests"]]


def test_an_outsider_gets_404_on_others_requests(
    client: FlaskClient, people: dict[str, User], make_request
) -> None:
    req = make_request(people["maria"])
    number, version = req.number, req.version
    outsider = Api(client, _token(people["outsider"]))
    _problem(outsider.get(f"/requests/{number}"), 404, "nao_encontrado")
    _problem(outsider.get(f"/requests/{number}/timeline"), 404, "nao_encontrado")
    _problem(outsider.post(f"/requests/{number}/messages", {"body": "Oi"}), 404)
    cancel = {"action": "requester_cancel", "reason": "Não preciso mais"}
    _problem(
        outsider.post(f"/requests/{number}/actions", cancel, **{"If-Match": f'"{version}"'}), 404
    )
    # The same request, for its requester: there.
    maria = Api(client, _token(people["maria"]))
    assert maria.get(f"/requests/{number}").status_code == 200
    assert db.session.scalar(db.select(ServiceRequest.state).filter_by(number=number)) == "open"
    entries = db.select(db.func.count()).select_from(TimelineEntry)
    assert db.session.scalar(entries) == 1


def test_a_read_token_cannot_write(
    client: FlaskClient, people: dict[str, User], make_request
) -> None:
    req = make_request(people["maria"])
    reader = Api(client, _token(people["maria"], scopes="read"))
    body = {"item": "gerid", "fields": GERID_FIELDS, "description": "Sem acesso"}
    _problem(reader.post("/requests", body), 403, "escopo_insuficiente")
    _problem(reader.post(f"/requests/{req.number}/messages", {"body": "Oi"}), 403)
    accept = {"action": "requester_cancel", "reason": "x"}
    _problem(reader.post(f"/requests/{req.number}/actions", accept, **{"If-Match": '"1"'}), 403)
    assert db.session.scalar(db.select(db.func.count()).select_from(ServiceRequest)) == 1


def test_a_requester_lists_mine_and_following_not_the_queue(
    client: FlaskClient, people: dict[str, User], make_request
) -> None:
    maria, joao = people["maria"], people["joao"]
    own = make_request(maria, followers=[joao]).number
    other = make_request(joao).number
    make_request(people["outsider"])
    api = Api(client, _token(joao))
    assert _numbers(api.get("/requests")) == [other]
    assert _numbers(api.get("/requests?scope=following")) == [own]
    assert _numbers(api.get("/requests?scope=mine&state=closed")) == []
    assert _numbers(api.get(f"/requests?scope=mine&number={other}")) == [other]
    _problem(api.get("/queue"), 403, "apenas_atendentes")
    body = _problem(api.get("/requests?scope=queue"), 422, "dados_invalidos")
    assert [e["field"] for e in body["errors"]] == ["scope"]
    # Staff see the queue, everyone's, with its filters.
    admin = Api(client, _token(people["admin"]))
    queue = _numbers(admin.get("/queue"))
    assert set(queue) >= {own, other} and len(queue) == 3
    assert _numbers(admin.get("/queue?state=closed")) == []
    assert _numbers(admin.get("/queue?item=gerid")) == queue
    assert _numbers(admin.get("/queue?item=servico-que-nao-existe")) == []


def test_create_checks_the_answers_as_the_form_does(
    client: FlaskClient, people: dict[str, User], catalog
) -> None:
    api = Api(client, _token(people["maria"]))
    bad = {"item": "gerid", "fields": {**GERID_FIELDS, "motivo": "Inventado"}, "description": ""}
    body = _problem(api.post("/requests", bad), 422, "dados_invalidos")
    assert {e["field"] for e in body["errors"]} == {"fields.motivo", "description"}
    assert all(e["message"] for e in body["errors"])
    _problem(api.post("/requests", {**bad, "item": "nao-existe"}), 422)
    assert db.session.scalar(db.select(db.func.count()).select_from(ServiceRequest)) == 0

    good = {"item": "gerid", "fields": GERID_FIELDS, "description": "Sem acesso ao GERID"}
    created = api.post("/requests", good)
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert created.headers["Location"] == f"/api/v1/requests/{body['number']}"
    assert created.headers["ETag"] == f'"{body["version"]}"'
    assert body["state_label"] == "Aberto" and body["item"]["slug"] == "gerid"
    answers = {a["key"]: (a["label"], a["value"]) for a in body["answers"]}
    assert answers["motivo"][1] == "Problema de acesso"
    assert body["requested_for"]["id"] == people["maria"].id
    assert "requester_cancel" in {a["action"] for a in body["allowed_actions"]}
    assert _numbers(api.get("/requests")) == [body["number"]]
    timeline = api.get(f"/requests/{body['number']}/timeline").get_json()["entries"]
    assert [e["body"] for e in timeline] == [f"{body['number']} Criado"]


def test_the_cursor_is_stable_under_inserts(
    client: FlaskClient, people: dict[str, User], make_request
) -> None:
    maria = people["maria"]
    opened = [make_request(maria).number for _ in range(5)]
    api = Api(client, _token(maria))
    first = api.get("/requests?limit=2")
    assert _numbers(first) == opened[::-1][:2]
    link = first.headers["Link"]
    newest = make_request(maria).number  # between two pages
    seen = _numbers(first)
    path = link[1 : link.index(">")].removeprefix("/api/v1")
    while path:
        page = api.get(path)
        seen += _numbers(page)
        cursor = page.get_json()["next_cursor"]
        path = f"/requests?limit=2&cursor={cursor}" if cursor else ""
    assert seen == opened[::-1], "every request once, none skipped or repeated"
    assert _numbers(api.get("/requests?limit=2"))[0] == newest


def _resolved(make_request, people: dict[str, User]) -> ServiceRequest:
    req = make_request(people["maria"])
    admin = people["admin"]
    request_service.fire(db.session, req, Action.START, actor=admin)
    request_service.fire(db.session, req, Action.RESOLVE, actor=admin, reason="Liberado.")
    db.session.commit()
    return req


def test_an_action_needs_the_current_etag(
    client: FlaskClient, people: dict[str, User], make_request
) -> None:
    req = _resolved(make_request, people)
    api = Api(client, _token(people["maria"]))
    shown = api.get(f"/requests/{req.number}")
    etag = shown.headers["ETag"]
    assert etag == f'"{shown.get_json()["version"]}"'
    assert "accept" in {a["action"] for a in shown.get_json()["allowed_actions"]}
    path = f"/requests/{req.number}/actions"

    _problem(api.post(path, {"action": "accept"}), 428, "if_match_obrigatorio")
    # A message meanwhile never conflicts (it keeps the version, as on the page) ...
    assert api.post(f"/requests/{req.number}/messages", {"body": "Obrigada!"}).status_code == 201
    assert api.get(f"/requests/{req.number}").headers["ETag"] == etag
    # ... a transition does: the ETag read before it is stale.
    stale = etag
    request_service.fire(
        db.session, req, Action.REJECT, actor=people["maria"], reason="Ainda sem acesso"
    )
    request_service.fire(db.session, req, Action.RESOLVE, actor=people["admin"], reason="Agora.")
    db.session.commit()
    body = _problem(api.post(path, {"action": "accept"}, **{"If-Match": stale}), 409)
    assert body["code"] == "alterada_por_outra_pessoa"
    assert "alterada por outra pessoa" in body["detail"]
    db.session.expire_all()
    assert db.session.get(ServiceRequest, req.id).state == "awaiting_user"

    fresh = api.get(f"/requests/{req.number}").headers["ETag"]
    assert fresh != stale
    accepted = api.post(path, {"action": "accept"}, **{"If-Match": fresh})
    assert accepted.status_code == 200, accepted.get_data(as_text=True)
    assert accepted.get_json()["state_label"] == "Fechado"
    assert accepted.headers["ETag"] != fresh
    assert accepted.get_json()["allowed_actions"] == []
    # The timeline says what changed, in the page's words.
    newest = api.get(f"/requests/{req.number}/timeline").get_json()["entries"][0]
    assert newest["action"] == "accept" and newest["to_state"] == "closed"
    assert newest["state_change"] == "Aguardando posição do usuário final → Fechado"


def test_actions_the_lifecycle_refuses_are_409_and_reasons_are_fields(
    client: FlaskClient, people: dict[str, User], make_request
) -> None:
    req = make_request(people["maria"])
    api = Api(client, _token(people["maria"]))
    path = f"/requests/{req.number}/actions"
    tag = {"If-Match": f'"{req.version}"'}
    _problem(api.post(path, {"action": "accept"}, **tag), 409, "acao_nao_permitida")
    _problem(api.post(path, {"action": "start"}, **tag), 409, "acao_nao_permitida")
    body = _problem(api.post(path, {"action": "requester_cancel"}, **tag), 422)
    assert [e["field"] for e in body["errors"]] == ["reason"]
    body = _problem(api.post(path, {"action": "voar"}, **tag), 422)
    assert [e["field"] for e in body["errors"]] == ["action"]
    db.session.expire_all()
    assert db.session.get(ServiceRequest, req.id).state == "open"


def test_the_timeline_hides_internal_notes_from_requesters(
    client: FlaskClient, people: dict[str, User], make_request
) -> None:
    req = make_request(people["maria"])
    request_service.add_note(db.session, req, people["admin"], "Segredo", public=False)
    db.session.commit()
    maria = Api(client, _token(people["maria"]))
    posted = maria.post(f"/requests/{req.number}/messages", {"body": "Alguma novidade?"})
    assert posted.status_code == 201 and posted.get_json()["body"] == "Alguma novidade?"
    mine = [e["body"] for e in maria.get(f"/requests/{req.number}/timeline").get_json()["entries"]]
    assert "Segredo" not in mine and "Alguma novidade?" in mine
    admin = Api(client, _token(people["admin"]))
    theirs = admin.get(f"/requests/{req.number}/timeline").get_json()["entries"]
    assert "Segredo" in [e["body"] for e in theirs]
    assert next(e for e in theirs if e["body"] == "Segredo")["public"] is False


def test_the_list_costs_the_same_for_5_and_25_rows(
    client: FlaskClient, people: dict[str, User], make_request, make_user, count_queries
) -> None:
    maria = people["maria"]
    api = Api(client, _token(maria))
    api.get("/requests").close()  # the token's first use is recorded once

    def statements(count: int) -> int:
        with count_queries() as seen:
            response = api.get("/requests?limit=25")
        assert len(response.get_json()["requests"]) == count
        return len(seen)

    # Each for someone else, so a person loaded per row would show as a statement per row.
    others = [make_user(f"Colega {n}", password=None) for n in range(25)]
    for other in others[:5]:
        make_request(maria, requested_for=other, followers=[people["joao"]])
    five = statements(5)
    for other in others[5:]:
        make_request(maria, requested_for=other)
    assert statements(25) == five
