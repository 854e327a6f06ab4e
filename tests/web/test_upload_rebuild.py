"""A GIF that is also an HTML page (issue 20): posted on the request form and on a message, what
comes back from the attachment's download is only the image, rebuilt from its pixels."""

from __future__ import annotations

import io
import re

from PIL import Image
from werkzeug.test import TestResponse

from portal.core.extensions import db
from portal.models import Attachment, ServiceRequest
from tests.conftest import AuthActions
from tests.files import GIF_COMMENT_POLYGLOT, image_bytes, polyglot

FORM = {"motivo": "Problema de acesso", "funcionalidade": "Acesso", "description": "Veja a tela."}


def _html(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def _download(auth: AuthActions, page: str, name: str) -> bytes:
    html = _html(auth.client.get(page))
    link = rf'href="({re.escape(page)}/anexos/\d+)">(?:(?!</a>).)*{re.escape(name)}</a>'
    match = re.search(link, html)
    assert match, f"no download link for {name}"
    with auth.client.get(match.group(1)) as download:
        assert download.status_code == 200
        return download.data


def _assert_only_the_image(data: bytes) -> None:
    assert b"<script" not in data.lower() and b"<html" not in data.lower()
    with Image.open(io.BytesIO(data)) as stored, Image.open(io.BytesIO(image_bytes("GIF"))) as sent:
        assert stored.format == "GIF"
        assert stored.convert("RGB").tobytes() == sent.convert("RGB").tobytes()


def test_polyglot_gif_is_stored_rebuilt_from_the_form_and_a_message(
    auth: AuthActions, make_user, catalog
) -> None:
    auth.login(make_user())
    created = auth.post(
        "/catalogo/gerid",
        {**FORM, "attachments": [(io.BytesIO(polyglot("GIF")), "tela.gif")]},
        content_type="multipart/form-data",
    )
    assert created.status_code == 302
    page = "/solicitacoes/" + db.session.query(ServiceRequest).one().number
    _assert_only_the_image(_download(auth, page, "tela.gif"))

    sent = auth.post(
        f"{page}/mensagem",
        {"body": "Outra tela", "attachments": [(io.BytesIO(polyglot("GIF")), "outra.gif")]},
        page=page,
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302
    _assert_only_the_image(_download(auth, page, "outra.gif"))
    stored = db.session.query(Attachment).order_by(Attachment.id).all()
    assert [a.original_name for a in stored] == ["tela.gif", "outra.gif"]
    assert all(a.size < len(polyglot("GIF")) for a in stored)  # the size of what is stored


def test_gif_header_hiding_a_script_is_refused_by_name(
    auth: AuthActions, make_user, make_request
) -> None:
    me = make_user()
    request = make_request(me)
    auth.login(me)
    page = f"/solicitacoes/{request.number}"
    response = auth.post(
        f"{page}/mensagem",
        {"body": "oi", "attachments": [(io.BytesIO(GIF_COMMENT_POLYGLOT), "truque.gif")]},
        page=page,
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "O arquivo “truque.gif” não é uma imagem válida." in _html(response)
    assert db.session.query(Attachment).count() == 0
