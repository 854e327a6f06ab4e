"""Sign-in, throttling, sessions, logout and password reset through the real forms."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from flask import Flask
from flask.testing import FlaskClient

from portal.core.cpf import format_cpf
from portal.core.extensions import db
from portal.core.outbox import deliver_pending
from portal.core.timeutil import utcnow
from portal.models import LoginAttempt, PasswordResetToken
from tests.conftest import PASSWORD, AuthActions, csrf_token_from, make_app

GENERIC = "CPF ou senha incorretos."
THROTTLED = "Muitas tentativas de acesso sem sucesso"


def test_login_page_has_the_gerid_fields(client: FlaskClient) -> None:
    html = client.get("/login").get_data(as_text=True)
    for text in ("CPF", "Senha", "Entrar", "Esqueci minha senha"):
        assert text in html
    assert 'name="csrf_token"' in html


def test_anonymous_user_is_sent_to_login(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_login_with_punctuated_cpf_lands_on_home(auth: AuthActions, make_user) -> None:
    user = make_user(name="Felipe Rodrigues")
    response = auth.login(format_cpf(user.cpf), follow_redirects=True)
    assert response.status_code == 200
    assert "Felipe" in response.get_data(as_text=True)
    assert user.last_login_at is not None or db.session.get(type(user), user.id).last_login_at


def test_wrong_password_and_unknown_cpf_get_the_same_answer(auth: AuthActions, make_user) -> None:
    user = make_user()
    wrong = auth.login(user, "not-the-password")
    unknown = auth.login("111.444.777-35", "whatever-password")
    assert wrong.status_code == unknown.status_code == 401
    assert GENERIC in wrong.get_data(as_text=True)
    assert GENERIC in unknown.get_data(as_text=True)


def test_invalid_cpf_check_digits_are_refused(auth: AuthActions) -> None:
    response = auth.login("529.982.247-24", "whatever")
    assert response.status_code == 400
    assert "CPF inválido" in response.get_data(as_text=True)


def test_inactive_user_cannot_sign_in(auth: AuthActions, make_user) -> None:
    user = make_user()
    user.active = False
    db.session.commit()
    assert GENERIC in auth.login(user).get_data(as_text=True)


def test_login_without_csrf_token_is_refused(client: FlaskClient, make_user) -> None:
    user = make_user()
    response = client.post("/login", data={"cpf": user.cpf, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # not signed in


def test_five_failures_for_a_cpf_throttle_it_from_any_address(
    client: FlaskClient, make_user
) -> None:
    user = make_user()
    auth = AuthActions(client)
    for i in range(5):
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{i}"
        assert auth.login(user, "wrong-password").status_code == 401
    client.environ_base["REMOTE_ADDR"] = "10.0.0.99"
    response = auth.login(user)  # even the right password is refused now
    assert response.status_code == 429
    assert THROTTLED in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_five_failures_from_an_address_throttle_every_cpf(auth: AuthActions, make_user) -> None:
    users = [make_user(name=f"Pessoa {i}") for i in range(6)]
    for user in users[:5]:
        assert auth.login(user, "wrong-password").status_code == 401
    assert auth.login(users[5]).status_code == 429


def test_throttle_lifts_after_the_window(auth: AuthActions, make_user) -> None:
    user = make_user()
    with time_machine.travel(utcnow(), tick=False) as traveller:
        for _ in range(5):
            auth.login(user, "wrong-password")
        assert auth.login(user).status_code == 429
        traveller.shift(timedelta(minutes=16))
        assert auth.login(user).status_code == 302


def test_throttle_is_shared_by_every_worker(app_config, make_user, app: Flask) -> None:
    """Two app instances stand for two gunicorn workers: the count lives in the database."""
    user = make_user()
    worker_a = AuthActions(make_app(app_config).test_client())
    worker_b = AuthActions(make_app(app_config).test_client())
    for _ in range(3):
        worker_a.login(user, "wrong-password")
    for _ in range(2):
        worker_b.login(user, "wrong-password")
    assert worker_a.login(user).status_code == 429
    assert db.session.query(LoginAttempt).count() == 5


def test_success_clears_the_cpf_failures(auth: AuthActions, make_user) -> None:
    user = make_user()
    for _ in range(4):
        auth.login(user, "wrong-password")
    assert auth.login(user).status_code == 302
    auth.logout()
    for _ in range(4):
        auth.login(user, "wrong-password")
    assert auth.login(user).status_code == 302  # 4 new failures, not 8


def test_next_parameter_cannot_redirect_off_site(auth: AuthActions, make_user) -> None:
    user = make_user()
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        data = {"cpf": user.cpf, "password": PASSWORD}
        response = auth.post(f"/login?next={target}", data, page="/login")
        assert response.headers["Location"] == "/"
        auth.logout()
    response = auth.post(
        "/login?next=/perfil", {"cpf": user.cpf, "password": PASSWORD}, page="/login"
    )
    assert response.headers["Location"] == "/perfil"


def test_session_cookie_flags(auth: AuthActions, make_user) -> None:
    user = make_user()
    response = auth.login(user)
    cookie = next(
        h for h in response.headers.getlist("Set-Cookie") if h.startswith("portal_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # BASE_URL is http in tests


def test_secure_cookie_when_served_over_https(app_config, make_user, app: Flask) -> None:
    user = make_user()
    https_app = make_app({**app_config, "BASE_URL": "https://portal.example"})
    assert https_app.config["SESSION_COOKIE_SECURE"] is True
    response = AuthActions(https_app.test_client()).login(user)
    cookie = next(
        h for h in response.headers.getlist("Set-Cookie") if h.startswith("portal_session=")
    )
    assert "Secure" in cookie


def test_logout_ends_the_session_even_if_the_cookie_is_replayed(
    auth: AuthActions, client: FlaskClient, make_user
) -> None:
    user = make_user()
    auth.login(user)
    stolen = client.get_cookie("portal_session").value
    assert client.get("/").status_code == 200
    assert auth.logout().status_code == 302
    client.set_cookie("portal_session", stolen)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_logout_is_not_possible_by_get(auth: AuthActions, client: FlaskClient, make_user) -> None:
    auth.login(make_user())
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


def test_idle_session_expires(auth: AuthActions, client: FlaskClient, make_user) -> None:
    with time_machine.travel(utcnow(), tick=False) as traveller:
        auth.login(make_user())
        assert client.get("/").status_code == 200
        traveller.shift(timedelta(hours=3))
        response = client.get("/")
        assert response.status_code == 302
        assert client.get("/", follow_redirects=True).request.path == "/login"


def test_security_headers(client: FlaskClient) -> None:
    headers = client.get("/login").headers
    csp = headers["Content-Security-Policy"]
    assert (
        "object-src 'none'" in csp and "base-uri 'none'" in csp and "frame-ancestors 'none'" in csp
    )
    assert "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"]


# ------------------------------------------------------------------ password reset


def _request_reset(auth: AuthActions, corporate: str, personal: str, **kwargs):
    return auth.post(
        "/esqueci-senha", {"corporate_email": corporate, "personal_email": personal}, **kwargs
    )


def _reset_link(smtp_server, address: str) -> str:
    deliver_pending(db.session)
    messages = smtp_server.to(address)
    assert len(messages) == 1
    text = messages[0].get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://\S+/redefinir-senha/\S+", text).group(0)


def test_forgot_password_form_has_the_tutorial_fields(client: FlaskClient) -> None:
    html = client.get("/esqueci-senha").get_data(as_text=True)
    for text in (
        "Email Corporativo",
        "Email Particular",
        "Confirmar Envio de Token",
        "8 caracteres",
    ):
        assert text in html


def test_reset_answers_the_same_whether_or_not_the_user_exists(
    auth: AuthActions, make_user, smtp_server
) -> None:
    user = make_user(email="maria@exemplo.gov.br")
    known = _request_reset(auth, user.email, user.email).get_data(as_text=True)
    unknown = _request_reset(auth, "ninguem@exemplo.gov.br", "ninguem@exemplo.gov.br").get_data(
        as_text=True
    )
    mismatch = _request_reset(auth, user.email, "outro@exemplo.gov.br").get_data(as_text=True)
    strip = lambda html: re.sub(r'value="[^"]+"', "", html)  # noqa: E731  (CSRF tokens differ)
    assert strip(known) == strip(unknown) == strip(mismatch)
    deliver_pending(db.session)
    assert len(smtp_server.messages) == 1  # only the matching request sent something


def test_reset_link_comes_from_configuration_not_the_host_header(
    auth: AuthActions, make_user, smtp_server
) -> None:
    user = make_user(email="maria@exemplo.gov.br")
    evil = {"Host": "evil.example"}
    page = auth.client.get("/esqueci-senha", headers=evil).get_data(as_text=True)
    data = {"corporate_email": user.email, "personal_email": user.email}
    response = auth.client.post(
        "/esqueci-senha", data={**data, "csrf_token": csrf_token_from(page)}, headers=evil
    )
    assert response.status_code == 200
    link = _reset_link(smtp_server, user.email)
    assert link.startswith("http://portal.test/redefinir-senha/")


def test_reset_token_is_stored_hashed_and_works_once(
    auth: AuthActions, client: FlaskClient, make_user, smtp_server
) -> None:
    user = make_user(email="maria@exemplo.gov.br")
    _request_reset(auth, user.email, user.email)
    link = _reset_link(smtp_server, user.email)
    raw = link.rsplit("/", 1)[1]
    stored = db.session.query(PasswordResetToken).one()
    assert stored.token_hash != raw and raw not in stored.token_hash
    path = "/redefinir-senha/" + raw
    response = auth.post(
        path, {"password": "uma frase longa e nova", "confirm": "uma frase longa e nova"}
    )
    assert response.status_code == 302
    assert auth.login(user, "uma frase longa e nova").status_code == 302
    auth.logout()
    assert client.get(path).status_code == 404  # used
    assert auth.login(user).status_code == 401  # the old password is gone


def test_reset_token_expires_after_one_hour(
    auth: AuthActions, client: FlaskClient, make_user, smtp_server
) -> None:
    user = make_user(email="maria@exemplo.gov.br")
    with time_machine.travel(utcnow(), tick=False) as traveller:
        _request_reset(auth, user.email, user.email)
        path = "/redefinir-senha/" + _reset_link(smtp_server, user.email).rsplit("/", 1)[1]
        traveller.shift(timedelta(minutes=59))
        assert client.get(path).status_code == 200
        traveller.shift(timedelta(minutes=2))
        assert client.get(path).status_code == 404


def test_reset_ends_every_other_session(
    app_config, auth: AuthActions, make_user, smtp_server, app
) -> None:
    user = make_user(email="maria@exemplo.gov.br")
    other_browser = AuthActions(make_app(app_config).test_client())
    other_browser.login(user)
    assert other_browser.client.get("/").status_code == 200
    _request_reset(auth, user.email, user.email)
    path = "/redefinir-senha/" + _reset_link(smtp_server, user.email).rsplit("/", 1)[1]
    auth.post(path, {"password": "uma frase longa e nova", "confirm": "uma frase longa e nova"})
    assert other_browser.client.get("/").status_code == 302


def test_reset_refuses_common_and_short_passwords(
    auth: AuthActions, make_user, smtp_server
) -> None:
    user = make_user(email="maria@exemplo.gov.br")
    _request_reset(auth, user.email, user.email)
    path = "/redefinir-senha/" + _reset_link(smtp_server, user.email).rsplit("/", 1)[1]
    common = auth.post(path, {"password": "senha123", "confirm": "senha123"})
    assert common.status_code == 200 and "muito comum" in common.get_data(as_text=True)
    short = auth.post(path, {"password": "abc", "confirm": "abc"})
    assert "8" in short.get_data(as_text=True) and short.status_code == 200
    long_ok = "x" * 64
    assert auth.post(path, {"password": long_ok, "confirm": long_ok}).status_code == 302


def test_change_password_asks_for_the_current_one(auth: AuthActions, make_user) -> None:
    user = make_user()
    auth.login(user)
    wrong = auth.post(
        "/perfil/senha",
        {
            "current_password": "nope-nope",
            "password": "outra frase longa",
            "confirm": "outra frase longa",
        },
    )
    assert "A senha atual não confere." in wrong.get_data(as_text=True)
    ok = auth.post(
        "/perfil/senha",
        {
            "current_password": PASSWORD,
            "password": "outra frase longa",
            "confirm": "outra frase longa",
        },
    )
    assert ok.status_code == 302
    assert auth.client.get("/perfil").status_code == 200  # this browser stays signed in
    auth.logout()
    assert auth.login(user, "outra frase longa").status_code == 302


def test_profile_shows_contact_data_and_keeps_the_extra_phone(auth: AuthActions, make_user) -> None:
    user = make_user(name="Felipe Rodrigues", phone="(71) 3202-0000")
    auth.login(user)
    html = auth.client.get("/perfil").get_data(as_text=True)
    for text in ("Felipe Rodrigues", user.email, "(71) 3202-0000", "Telefone Adicional"):
        assert text in html
    bad = auth.post("/perfil/telefone", {"extra_phone": "12"}, page="/perfil")
    assert bad.status_code == 400 and "Telefone inválido" in bad.get_data(as_text=True)
    assert 'value="12"' in bad.get_data(as_text=True)
    auth.post("/perfil/telefone", {"extra_phone": "71999998888"}, page="/perfil")
    assert 'value="(71) 99999-8888"' in auth.client.get("/perfil").get_data(as_text=True)


def test_login_rate_limit_works_with_redis_storage(app_config, make_user, app: Flask) -> None:
    """PORTAL_RATELIMIT_STORAGE_URL accepts Redis: the coarse per-address limit is shared there."""
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        import pytest

        pytest.skip("no Redis server on 127.0.0.1:6379")
    import redis

    redis.Redis(host="127.0.0.1", port=6379).flushdb()
    config = {
        **app_config,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
    }
    worker_a = AuthActions(make_app(config).test_client())
    worker_b = AuthActions(make_app(config).test_client())
    statuses = [
        (worker_a if i % 2 else worker_b).post("/login", {"cpf": "x"}).status_code
        for i in range(31)
    ]
    assert statuses[:30].count(429) == 0 and statuses[30] == 429
