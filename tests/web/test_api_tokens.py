"""Personal access tokens and the API's front door, on SQLite and PostgreSQL.

- Perfil > Tokens de acesso shows a new token once; the database keeps only its hash;
- the token acts as its user (GET /api/v1/me), records its last use at most once a minute;
- expired, revoked and deactivated users' tokens, a session cookie alone, a malformed header:
  401 problem+json; a read token on a write operation: 403 escopo_insuficiente;
- Revogar is the owner's only (404 for anyone else), and the Perfil forms need CSRF;
- the rate limit counts per token and answers 429 as a problem;
- migration 0011 goes up, down and up again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade

from portal import create_app
from portal.accounts import admin as account_admin
from portal.accounts import tokens
from portal.accounts.models import ApiToken, User
from portal.api.auth import token_required
from portal.core.extensions import csrf, db
from portal.core.models import AuditEntry
from portal.core.timeutil import utcnow
from tests.conftest import SETUP, AuthActions, make_app
from tests.scratch_db import scratch_database_url

TZ = "America/Sao_Paulo"
TOKEN_RE = re.compile(r'id="new-token"[^>]*value="(pat_[A-Za-z0-9_-]{40})"')


def _in_days(days: int, start: datetime | None = None) -> str:
    return ((start or utcnow()) + timedelta(days=days)).strftime("%d/%m/%Y")


def _new_token(
    user: User, scopes: str = "read", days: int = 30, now: datetime | None = None
) -> str:
    created = tokens.create(
        db.session,
        user,
        name="Sistema",
        scopes=scopes,
        expires_on=_in_days(days, now),
        timezone=TZ,
        now=now,
    )
    db.session.commit()
    return created.raw


def _bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def _assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["code"] == code
    assert body["type"] == f"http://portal.test/problemas/{code}"
    assert body["title"] and body["detail"]
    return body


def test_a_token_is_shown_once_and_stored_hashed(
    client: FlaskClient, auth: AuthActions, make_user
) -> None:
    user = make_user("Joana Prado")
    auth.login(user)
    page = auth.post(
        "/perfil/tokens",
        {"name": "Sistema da prefeitura", "scopes": "read write", "expires_on": _in_days(90)},
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    match = TOKEN_RE.search(html)
    assert match, "the new token is shown in its read-only field"
    raw = match.group(1)
    assert "não será mostrado de novo" in html

    row = db.session.scalars(sa.select(ApiToken)).one()
    assert row.user_id == user.id and row.name == "Sistema da prefeitura"
    assert row.scopes == "read write" and row.prefix == raw[:8]
    assert row.token_hash == tokens.token_hash(raw)
    stored = db.session.execute(sa.select(ApiToken.__table__)).one()
    assert all(raw not in str(value) for value in stored), "the raw token is never stored"

    again = client.get("/perfil/tokens").get_data(as_text=True)
    assert raw not in again and raw[:8] in again and "Sistema da prefeitura" in again
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "token.create")
    ).one()
    assert (
        entry.object_id == row.id
        and raw not in str(entry.after)
        and row.token_hash not in str(entry.after)
    )

    me = client.get("/api/v1/me", headers=_bearer(raw))
    assert me.status_code == 200 and me.headers["Cache-Control"] == "no-store"
    assert me.get_json()["id"] == user.id and me.get_json()["scopes"] == ["read", "write"]
    assert user.cpf not in me.get_data(as_text=True)


def test_the_creation_form_names_its_field_errors(auth: AuthActions, make_user) -> None:
    auth.login(make_user())
    page = auth.post("/perfil/tokens", {"name": "", "scopes": "admin", "expires_on": _in_days(400)})
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert 'id="name-error"' in html and 'id="scopes-error"' in html
    assert 'id="expires_on-error"' in html and "365 dias" in html
    page = auth.post(
        "/perfil/tokens",
        {"name": "x", "scopes": "read", "expires_on": "2099-01-01"},
        page="/perfil/tokens",
    )
    assert page.status_code == 400 and "DD/MM/AAAA" in page.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


def test_me_is_the_tokens_user_and_last_use_is_recorded_once_a_minute(
    client: FlaskClient, make_user
) -> None:
    user = make_user("Rui Campos")
    raw = _new_token(user)
    response = client.get("/api/v1/me", headers=_bearer(raw))
    body = response.get_json()
    assert body["name"] == "Rui Campos" and body["role"] == "requester"
    assert body["organisation"]["id"] == user.organisation_id and body["scopes"] == ["read"]
    first = db.session.scalar(sa.select(ApiToken.last_used_at))
    assert first is not None and utcnow() - first < timedelta(minutes=1)

    later = first + timedelta(seconds=30)
    use = tokens.authenticate(db.session, raw, now=later)
    assert use is not None and not use.use_due
    assert not tokens.record_use(db.session, use.id, now=later)  # twice at once: written once
    db.session.commit()
    assert db.session.scalar(sa.select(ApiToken.last_used_at)) == first
    much_later = first + timedelta(minutes=2)
    use = tokens.authenticate(db.session, raw, now=much_later)
    assert use is not None and use.use_due
    assert tokens.record_use(db.session, use.id, now=much_later)
    assert not tokens.record_use(db.session, use.id, now=much_later)
    db.session.commit()
    assert db.session.scalar(sa.select(ApiToken.last_used_at)) == much_later


def test_staff_tokens_need_no_second_factor(client: FlaskClient, make_user) -> None:
    agent = make_user("Ana Atendente", role="agent", groups=["Suporte GERID"])
    assert agent.totp_enabled_at is not None
    response = client.get("/api/v1/me", headers=_bearer(_new_token(agent)))
    assert response.status_code == 200 and response.get_json()["role"] == "agent"


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer pat_desconhecido", "Basic dXNlcjpzZW5oYQ==", "Token pat_x"],
)
def test_no_valid_token_is_a_401_problem(client: FlaskClient, header: str) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": header} if header else {})
    _assert_problem(response, 401, "nao_autenticado")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_token_is_refused(client: FlaskClient, make_user) -> None:
    user = make_user()
    raw = _new_token(user, days=1, now=utcnow() - timedelta(days=3))
    _assert_problem(client.get("/api/v1/me", headers=_bearer(raw)), 401, "nao_autenticado")
    assert db.session.scalar(sa.select(ApiToken.last_used_at)) is None
    lines = tokens.mine(db.session, user)
    assert [line.state for line in lines] == ["Expirado"]


def test_a_revoked_token_is_refused_and_only_its_owner_may_revoke_it(
    client: FlaskClient, auth: AuthActions, make_user
) -> None:
    owner, other = make_user("Dona do Token"), make_user("Outra Pessoa")
    raw = _new_token(owner)
    token_id = db.session.scalar(sa.select(ApiToken.id))
    auth.login(other)
    refused = auth.post(f"/perfil/tokens/{token_id}/revogar", page="/perfil/tokens")
    assert refused.status_code == 404
    assert client.get("/api/v1/me", headers=_bearer(raw)).status_code == 200

    auth.logout()
    auth.login(owner)
    done = auth.post(f"/perfil/tokens/{token_id}/revogar", page="/perfil/tokens")
    assert done.status_code == 302
    _assert_problem(client.get("/api/v1/me", headers=_bearer(raw)), 401, "nao_autenticado")
    assert "Revogado" in client.get("/perfil/tokens").get_data(as_text=True)
    assert (
        db.session.scalar(
            sa.select(AuditEntry.object_id).where(AuditEntry.action == "token.revoke")
        )
        == token_id
    )
    again = auth.post(f"/perfil/tokens/{token_id}/revogar", page="/perfil/tokens")
    assert again.status_code == 404


def test_deactivating_a_user_kills_their_tokens(client: FlaskClient, make_user) -> None:
    admin = make_user("Carla Admin", role="admin")
    user = make_user("Saulo Saída")
    raw = _new_token(user, scopes="read write")
    assert client.get("/api/v1/me", headers=_bearer(raw)).status_code == 200
    account_admin.deactivate(db.session, admin, db.session.get(User, user.id))
    db.session.commit()
    _assert_problem(client.get("/api/v1/me", headers=_bearer(raw)), 401, "nao_autenticado")
    assert [line.state for line in tokens.mine(db.session, user)] == ["Revogado"]


def test_an_inactive_users_token_is_refused_even_if_not_revoked(
    client: FlaskClient, make_user
) -> None:
    # authenticate checks the user on every use, not only the rows deactivate marks.
    user = make_user()
    raw = _new_token(user)
    db.session.execute(sa.update(User).where(User.id == user.id).values(active=False))
    db.session.commit()
    _assert_problem(client.get("/api/v1/me", headers=_bearer(raw)), 401, "nao_autenticado")


def test_a_session_cookie_alone_gets_401(client: FlaskClient, auth: AuthActions, make_user) -> None:
    user = make_user()
    auth.login(user)
    assert client.get("/perfil").status_code == 200  # the cookie is a valid session
    response = client.get("/api/v1/me")
    _assert_problem(response, 401, "nao_autenticado")
    assert "Set-Cookie" not in response.headers
    assert client.get("/perfil").status_code == 200  # and the session itself lives on


def test_the_perfil_forms_need_csrf(client: FlaskClient, auth: AuthActions, make_user) -> None:
    user = make_user()
    raw = _new_token(user)
    token_id = db.session.scalar(sa.select(ApiToken.id))
    auth.login(user)
    created = client.post(
        "/perfil/tokens", data={"name": "x", "scopes": "read", "expires_on": _in_days(5)}
    )
    assert created.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 1
    revoked = client.post(f"/perfil/tokens/{token_id}/revogar")
    assert revoked.status_code == 400
    assert client.get("/api/v1/me", headers=_bearer(raw)).status_code == 200


@pytest.fixture
def scoped_app(app_config: dict[str, Any]) -> Iterator[Flask]:
    """An app with one write operation on the API, to check token_required('write')."""
    application = make_app(app_config)

    @token_required("write")
    def change() -> dict[str, bool]:
        return {"ok": True}

    csrf.exempt(change)  # as the API blueprints are (portal/api/__init__.py)
    application.add_url_rule("/api/v1/teste-escrita", "scope_check", change, methods=["POST"])
    yield application


def test_a_read_token_cannot_write(scoped_app: Flask, make_user) -> None:
    user = make_user()
    reader, writer = _new_token(user, "read"), _new_token(user, "read write")
    client = scoped_app.test_client()
    refused = client.post("/api/v1/teste-escrita", headers=_bearer(reader))
    body = _assert_problem(refused, 403, "escopo_insuficiente")
    assert "write" in body["detail"]
    assert client.post("/api/v1/teste-escrita", headers=_bearer(writer)).get_json() == {"ok": True}


def test_the_rate_limit_counts_per_token_and_answers_429(
    app_config: dict[str, Any], make_user, make_request
) -> None:
    limited = make_app({**app_config, "RATELIMIT_ENABLED": True, "API_RATE_LIMIT": "2 per minute"})
    user = make_user()
    first, second = _new_token(user), _new_token(user)
    client = limited.test_client()
    for _ in range(2):
        assert client.get("/api/v1/me", headers=_bearer(first)).status_code == 200
    response = client.get("/api/v1/me", headers=_bearer(first))
    _assert_problem(response, 429, "muitas_requisicoes")
    assert response.headers.get("Retry-After")
    assert client.get("/api/v1/me", headers=_bearer(second)).status_code == 200
    # The limiter reads the token before the request declares how it writes: a write view
    # that reads first (a message) still works, the token's first use recorded apart.
    number = make_request(user).number
    writer = _new_token(user, scopes="read write")
    sent = client.post(
        f"/api/v1/requests/{number}/messages", json={"body": "Oi"}, headers=_bearer(writer)
    )
    assert sent.status_code == 201, sent.get_data(as_text=True)


def test_unknown_api_addresses_and_methods_are_problems(client: FlaskClient) -> None:
    _assert_problem(client.get("/api/v1/nada"), 404, "nao_encontrado")
    wrong = client.delete("/api/v1/me")
    _assert_problem(wrong, 405, "metodo_nao_permitido")
    assert "GET" in wrong.headers["Allow"]
    # Methods outside HTTP's usual few (found by Schemathesis) are refused the same way.
    for method in ("TRACE", "QUERY"):
        odd = client.open("/api/v1/requests", method=method)
        _assert_problem(odd, 405, "metodo_nao_permitido")
        assert {"GET", "POST"} <= set(odd.headers["Allow"].split(", "))
    html = client.get("/nada-aqui")
    assert html.status_code == 404 and html.mimetype == "text/html"


SCHEMA = "api_tokens_migration"


@pytest.fixture
def migration_url(tmp_path: Path) -> Iterator[str]:
    with scratch_database_url(tmp_path, SCHEMA) as url:
        yield url


def test_0011_goes_up_down_and_up(migration_url: str) -> None:
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": migration_url, "SECRET_KEY": "test", "TESTING": True}
    )
    try:
        with app.app_context():
            upgrade(revision="0011")
            assert "api_tokens" in sa.inspect(db.engine).get_table_names()
            downgrade(revision="0010")
            assert "api_tokens" not in sa.inspect(db.engine).get_table_names()
            upgrade()
            columns = {c["name"] for c in sa.inspect(db.engine).get_columns("api_tokens")}
            assert {"token_hash", "prefix", "scopes", "expires_at", "last_used_at"} <= columns
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_setup_actor_cannot_create_tokens(app: Flask) -> None:
    with pytest.raises(Exception, match="Página não encontrada"):
        tokens.create(
            db.session, SETUP, name="x", scopes="read", expires_on=_in_days(3), timezone=TZ
        )
