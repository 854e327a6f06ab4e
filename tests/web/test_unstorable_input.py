"""Input PostgreSQL cannot hold is refused cleanly, never a server error (core/text_input.py).

Both were 500s on PostgreSQL only (SQLite takes them), found by Schemathesis:
- a NUL character in a query string, a form field or a JSON string: now a 400 that says so;
- an id above 2³¹−1 in an address (`<int:...>`), which no integer column holds: now a 404.
"""

from __future__ import annotations

from flask.testing import FlaskClient

from portal.core.extensions import db
from portal.core.text_input import NUL_MESSAGE
from portal.models import ServiceRequest, TimelineEntry
from tests.conftest import AuthActions, api_token, csrf_token_from


def _token(user) -> str:
    return api_token(user)


def _entries() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(TimelineEntry)) or 0


def test_a_nul_in_a_page_address_or_form_is_a_clear_400(
    client: FlaskClient, auth: AuthActions, make_user, make_request
) -> None:
    maria = make_user()
    req = make_request(maria)
    auth.login(maria)
    page = client.get("/solicitacoes?numero=CS%00")
    assert page.status_code == 400 and page.mimetype == "text/html"
    assert "caractere nulo" in page.get_data(as_text=True)
    shown = client.get(f"/solicitacoes/{req.number}")
    assert shown.status_code == 200
    before = _entries()
    sent = client.post(
        f"/solicitacoes/{req.number}/mensagem",
        data={"csrf_token": csrf_token_from(shown.get_data(as_text=True)), "body": "Oi\x00"},
    )
    assert sent.status_code == 400
    assert _entries() == before  # nothing written


def test_a_nul_in_the_api_is_a_400_problem(client: FlaskClient, make_user, make_request) -> None:
    maria = make_user()
    req = make_request(maria)
    headers = {"Authorization": f"Bearer {_token(maria)}"}
    listed = client.get("/api/v1/requests?number=%00", headers=headers)
    assert listed.status_code == 400 and listed.mimetype == "application/problem+json"
    assert listed.get_json()["detail"] == NUL_MESSAGE
    before = _entries()
    sent = client.post(
        f"/api/v1/requests/{req.number}/messages", json={"body": "a\x00b"}, headers=headers
    )
    assert sent.status_code == 400 and sent.get_json()["detail"] == NUL_MESSAGE
    assert _entries() == before
    # The same without the NUL goes through: the check is the NUL, not the message.
    fine = client.post(
        f"/api/v1/requests/{req.number}/messages", json={"body": "ab"}, headers=headers
    )
    assert fine.status_code == 201
    assert db.session.get(ServiceRequest, req.id) is not None


def test_an_id_no_column_can_hold_is_a_404(
    client: FlaskClient, auth: AuthActions, make_user, make_request
) -> None:
    maria = make_user()
    req = make_request(maria)
    headers = {"Authorization": f"Bearer {_token(maria)}"}
    huge = 2**31
    api = client.get(f"/api/v1/requests/{req.number}/attachments/{huge}", headers=headers)
    assert api.status_code == 404 and api.mimetype == "application/problem+json"
    assert (
        client.get(
            f"/api/v1/requests/{req.number}/attachments/{huge - 1}", headers=headers
        ).status_code
        == 404
    )
    auth.login(maria)
    page = client.get(f"/solicitacoes/{req.number}/anexos/{huge}")
    assert page.status_code == 404 and page.mimetype == "text/html"


HUGE = str(2**40)
# Every query argument a page reads as an id or a number, all at once.
NUMERIC_ARGS = [
    *("pagina", "categoria", "category", "cliente", "client", "grupo", "group", "item"),
    *("servico", "autor", "ator", "objeto_id", "company_type", "solicitacao", "quem"),
    *("organizacao", "papel"),
]


def test_no_page_fails_on_a_number_no_column_holds(
    app, client: FlaskClient, auth: AuthActions, make_user, make_request
) -> None:
    """Every page without a path argument, asked by an admin with every numeric filter set
    past 2³¹−1: never a server error (PostgreSQL's integer columns cannot compare with it)."""
    admin = make_user("Carla Admin", role="admin")
    make_request(make_user())
    auth.login(admin)
    query = "&".join(f"{name}={HUGE}" for name in NUMERIC_ARGS)
    failed = []
    for rule in app.url_map.iter_rules():
        if (
            "GET" not in (rule.methods or set())
            or rule.arguments
            # /healthz answers 503 by design here: no scheduler runs in the test.
            or rule.rule.startswith(("/static", "/api/", "/sair", "/logout", "/healthz"))
        ):
            continue
        try:  # the test app propagates a server error as an exception
            response = client.get(f"{rule.rule}?{query}")
            status = response.status_code
            response.close()  # a CSV stopped halfway, as a dropped download: cursor closed
        except Exception as error:
            db.session.rollback()
            failed.append(f"{rule.rule}: {type(error).__name__}")
            continue
        if status >= 500:
            failed.append(rule.rule)
    assert failed == [], "\n".join(failed)


def test_a_form_with_such_a_number_is_refused_not_a_crash(
    client: FlaskClient, auth: AuthActions, make_user, catalog
) -> None:
    """The request form's "para quem" and followers are ids typed by the browser."""
    maria = make_user()
    auth.login(maria)
    page = client.get("/catalogo/gerid")
    sent = client.post(
        "/catalogo/gerid",
        data={
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "motivo": "Problema de acesso",
            "funcionalidade": "Acesso",
            "requested_for": HUGE,
            "followers": HUGE,
            "description": "Sem acesso",
        },
    )
    assert sent.status_code in (302, 400), sent.status_code
    if sent.status_code == 302:  # read as "for me", with no follower: opened for Maria
        assert db.session.scalars(db.select(ServiceRequest)).one().requested_for_id == maria.id
