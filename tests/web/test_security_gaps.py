"""Holes the suite let through (issue 20, "Bugs the suite would let through today"): each test
here fails when its guard is removed, through the same HTTP path a person uses.

- CSRF on every POST route of the app, walked from the URL map (not only /mensagem and
  /login): a missing token is a 400 and changes nothing.
- The attachment download checks who may see the request: an outsider gets 404 for a file
  that exists (the older test asked for an attachment id that did not exist).
- The staff Histórico escapes what people wrote: a note or message holding markup shows as
  text, never as a tag.
"""

from __future__ import annotations

import io
import re

from flask import Flask
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.routing import Rule

from portal.core import files
from portal.core.extensions import db
from portal.models import AuditEntry, Follower, OutboxEmail, ServiceRequest, TimelineEntry
from portal.requests import services as request_service
from portal.requests.models import ENTRY_OWNER
from tests.conftest import AuthActions
from tests.files import pdf_bytes

SCRIPT = '<script>alert("x")</script>'
TABLES = (AuditEntry, Follower, OutboxEmail, ServiceRequest, TimelineEntry)


def _counts() -> dict[str, int]:
    db.session.rollback()
    return {t.__name__: db.session.scalar(select(func.count()).select_from(t)) for t in TABLES}


def _url(rule: Rule, number: str, object_id: int) -> str:
    def fill(match: re.Match[str]) -> str:
        converter, name = match.group(1), match.group(2)
        if converter == "int":
            return str(object_id)
        return number if name == "number" else "x"

    return re.sub(r"<(?:(\w+):)?(\w+)>", fill, rule.rule)


def test_every_post_route_refuses_a_missing_csrf_token(
    app: Flask, auth: AuthActions, make_user, make_request
) -> None:
    admin = make_user(role="admin", groups=["Suporte GERID"])
    request = make_request(make_user(name="Felipe Solicitante"))
    auth.login(admin)
    before = _counts()
    posts = [r for r in app.url_map.iter_rules() if "POST" in (r.methods or set())]
    assert len(posts) > 60  # every area's forms, not a handful
    for rule in posts:
        url = _url(rule, request.number, request.id)
        response = auth.client.post(url, data={"body": "sem token", "name": "sem token"})
        if rule.rule.startswith("/api/"):
            # The API is CSRF-exempt because it ignores the session cookie: signed in, a POST
            # without a bearer token is still refused, as a problem (tests/web/test_api_*).
            assert response.status_code in (401, 404, 405), (rule.endpoint, url)
            assert response.mimetype == "application/problem+json", rule.endpoint
            continue
        assert response.status_code == 400, (rule.endpoint, url, response.status_code)
        page = response.get_data(as_text=True)
        assert "Sua sessão de formulário expirou" in page, rule.endpoint
    assert _counts() == before


def _attachment_of(make_user, make_request) -> tuple[ServiceRequest, int, object]:
    owner = make_user(name="Dona do Anexo")
    request = make_request(owner)
    staged, _ = files.stage_files(
        db.session, owner, [FileStorage(io.BytesIO(pdf_bytes()), "comprovante.pdf")]
    )
    entry = request_service.add_message(db.session, request, owner, "Segue o comprovante.")
    [attachment] = files.attach(db.session, ENTRY_OWNER, entry.id, staged)
    db.session.commit()
    return request, attachment.id, owner


def test_an_outsider_gets_404_for_an_attachment_that_exists(
    auth: AuthActions, make_user, make_request
) -> None:
    request, attachment_id, owner = _attachment_of(make_user, make_request)
    path = f"/solicitacoes/{request.number}/anexos/{attachment_id}"
    auth.login(owner)
    with auth.client.get(path) as mine:  # a streamed file: closed when read
        assert mine.status_code == 200 and mine.data.startswith(b"%PDF")
    auth.logout()
    auth.login(make_user(name="Curioso de Outro Ente"))
    with auth.client.get(path) as refused:
        assert refused.status_code == 404
        assert not refused.data.startswith(b"%PDF")


def test_the_staff_history_shows_markup_as_text(auth: AuthActions, make_user, make_request) -> None:
    agent = make_user(name="Ana Atendente", role="agent", groups=["Suporte GERID"])
    request = make_request(make_user(name="Felipe Solicitante"), description=f"Erro {SCRIPT}")
    request_service.add_message(db.session, request, request.opened_by, f"Mensagem {SCRIPT}")
    db.session.commit()
    auth.login(agent)
    page = auth.client.get(f"/solicitacoes/{request.number}").get_data(as_text=True)
    history = page[page.index('class="history-title"') :]
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in history
