"""The eMAG pieces that live on the server: Alto contraste (a cookie, set by a plain form),
the Acessibilidade page, the accessibility bar, and a new ente's Itens Populares."""

from __future__ import annotations

import io
import re

from portal.core.extensions import db
from portal.home.routes import CONTRAST_COOKIE
from tests.conftest import AuthActions, csrf_token_from


def test_high_contrast_is_a_form_that_persists_and_goes_back(auth: AuthActions) -> None:
    client = auth.client
    page = client.get("/login").get_data(as_text=True)
    assert 'class="high-contrast"' not in page and 'aria-pressed="false"' in page
    token = csrf_token_from(page)
    on = client.post("/alto-contraste", data={"csrf_token": token, "next": "/acessibilidade"})
    assert on.status_code == 302 and on.headers["Location"] == "/acessibilidade"
    assert CONTRAST_COOKIE in on.headers["Set-Cookie"] and "HttpOnly" in on.headers["Set-Cookie"]
    again = client.get("/login").get_data(as_text=True)
    assert '<html lang="pt-BR" class="high-contrast">' in again
    assert 'aria-pressed="true"' in again
    off = client.post("/alto-contraste", data={"csrf_token": token, "next": "/login"})
    assert off.status_code == 302
    assert 'class="high-contrast"' not in client.get("/login").get_data(as_text=True)


def test_high_contrast_never_redirects_elsewhere(auth: AuthActions) -> None:
    token = auth.csrf("/login")
    for target in ("//evil.example/x", "https://evil.example/", "/\\\\evil.example"):
        response = auth.client.post("/alto-contraste", data={"csrf_token": token, "next": target})
        assert response.headers["Location"] == "/", target
    assert auth.client.post("/alto-contraste", data={"next": "/"}).status_code == 400  # CSRF


def test_the_accessibility_page_and_bar_need_no_sign_in(auth: AuthActions, make_user) -> None:
    html = auth.client.get("/acessibilidade").get_data(as_text=True)
    assert "<title>Acessibilidade - Portal de Atendimento</title>" in html
    for text in ("Atalhos de teclado", "Alto contraste", "eMAG 3.1"):
        assert text in html
    bar = html.split('aria-label="Acessibilidade"', 1)[1].split("</nav>", 1)[0]
    assert 'href="#main-content" accesskey="1"' in bar and 'href="#footer" accesskey="4"' in bar
    assert 'accesskey="2"' not in bar  # no menu or search before signing in
    auth.login(make_user())
    signed_in = auth.client.get("/").get_data(as_text=True)
    for key, target in (
        ("1", "main-content"),
        ("2", "main-menu"),
        ("3", "header-q"),
        ("4", "footer"),
    ):
        assert f'href="#{target}" accesskey="{key}"' in signed_in
        assert f'id="{target}"' in signed_in


def test_a_new_ente_sees_what_the_whole_portal_uses_most(
    auth: AuthActions, make_user, make_org, make_request
) -> None:
    busy = make_user(name="Outro Ente", organisation=make_org(name="Ente Movimentado"))
    for _ in range(3):
        make_request(
            busy,
            item="portal-rede-atendimento",
            values={"motivo": "Dúvida", "funcionalidade": "Consulta Pessoa"},
        )
    make_request(busy, item="pronto-cliente", values={"motivo": "Dúvida"})
    db.session.commit()
    newcomer = make_user(name="Recém Chegada", organisation=make_org(name="Ente Novo"))
    auth.login(newcomer)
    html = auth.client.get("/").get_data(as_text=True)
    popular = re.findall(r"<h3>([^<]+)</h3>", html.split("Itens Populares", 1)[1])
    assert popular[:2] == ["Portal Rede Atendimento", "Pronto Cliente"]


def test_a_refused_message_keeps_what_was_typed(auth: AuthActions, make_user, make_request) -> None:
    me = make_user()
    request = make_request(me)
    auth.login(me)
    path = f"/solicitacoes/{request.number}"
    response = auth.post(
        f"{path}/mensagem",
        {"body": "Texto que não pode se perder", "attachments": [(io.BytesIO(b"<svg/>"), "x.svg")]},
        page=path,
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "não é de um tipo permitido" in html
    assert ">Texto que não pode se perder</textarea>" in html
