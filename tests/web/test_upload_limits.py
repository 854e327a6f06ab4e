"""Size limits on every form that takes files: a file over MAX_UPLOAD_BYTES answers 413 with
the form as typed, the file named next to the attachments and the good files kept by token;
only a body over the whole-request ceiling (MAX_CONTENT_LENGTH) gets the plain 413 page."""

from __future__ import annotations

import html as markup
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.test import TestResponse

from portal.accounts.models import User
from portal.clients.models import Occurrence, OccurrenceCategory, Organisation
from portal.core.actors import SystemActor
from portal.core.extensions import db
from portal.core.models import Attachment, PendingUpload
from portal.core.timeutil import utcnow
from portal.core.upload_limits import CappedFile
from portal.knowledge import services as kb_services
from portal.knowledge.models import Article
from portal.models import ServiceRequest, TimelineEntry
from tests.conftest import AuthActions
from tests.files import pdf_bytes, png_bytes

LIMIT = 1024
TOO_BIG = pdf_bytes() + b"0" * (LIMIT * 8)  # past the old whole-body limit (5 files' worth)
TYPED = 'Texto digitado com "aspas" & acentuação: não se perde.'


@pytest.fixture(autouse=True)
def small_limit(app: Flask) -> None:
    app.config["MAX_UPLOAD_BYTES"] = LIMIT
    # The ceiling in production's proportion: 20 files of the limit, plus room for the fields.
    app.config["MAX_CONTENT_LENGTH"] = 20 * LIMIT + 16 * 1024


def _html(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def _files(*named: tuple[bytes, str]) -> list[tuple[io.BytesIO, str]]:
    return [(io.BytesIO(data), name) for data, name in named]


def _tokens(html: str) -> list[str]:
    return re.findall(r'name="upload_tokens" value="([0-9a-f]{32})"', html)


def _error(html: str, error_id: str) -> str:
    found = re.search(rf'<span class="feedback danger[^"]*"[^>]*id="{error_id}">(.*?)</span>', html)
    assert found, f"no #{error_id} in the page"
    return found.group(1)


def _kept_files(html: str) -> list[str]:
    found = re.search(r'<ul class="pending-uploads".*?</ul>', html, re.S)
    return re.findall(r"</i> ([^<(]+?) \(", found.group(0)) if found else []


def _textarea(html: str, name: str) -> str:
    found = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    assert found, f"no textarea {name}"
    return markup.unescape(found.group(1))


def _count(model: type[Any]) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


# ------------------------------------------------------------------ the request form


def _request_form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "motivo": "Dúvida",
        "funcionalidade": "Acesso",
        "description": TYPED,
        "extra_phone": "(71) 3202-0000",
    }
    data.update(overrides)
    return data


def test_request_form_answers_413_and_keeps_what_was_typed(
    auth: AuthActions, make_user: Callable[..., User], catalog: Any
) -> None:
    auth.login(make_user())
    files = _files((png_bytes(), "tela.png"), (TOO_BIG, "grande.pdf"))
    response = auth.post(
        "/catalogo/gerid",
        _request_form(attachments=files),
        content_type="multipart/form-data",
    )
    html = _html(response)
    assert response.status_code == 413
    assert _textarea(html, "description") == TYPED
    assert '<option value="Dúvida" selected>' in html
    assert 'value="(71) 3202-0000"' in html
    assert _error(html, "attachments-error").endswith(
        "O arquivo “grande.pdf” é maior que o limite de 0 MB."
    )
    assert re.search(r'id="attachments"[^>]*aria-describedby="[^"]*attachments-error"', html)
    assert _kept_files(html) == ["tela.png"]
    assert _count(ServiceRequest) == 0 and _count(PendingUpload) == 1
    again = auth.post("/catalogo/gerid", _request_form(upload_tokens=_tokens(html)))
    assert again.status_code == 302  # the kept file goes with the next try
    assert [a.original_name for a in db.session.scalars(sa.select(Attachment))] == ["tela.png"]


def test_a_refusal_that_is_not_about_size_stays_400(
    auth: AuthActions, make_user: Callable[..., User], catalog: Any
) -> None:
    auth.login(make_user())
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"></svg>'
    response = auth.post(
        "/catalogo/gerid",
        _request_form(attachments=_files((svg, "desenho.svg"))),
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "“desenho.svg” não é de um tipo permitido" in _error(
        _html(response), "attachments-error"
    )


def test_every_file_input_carries_the_limit_in_bytes(
    auth: AuthActions, make_user: Callable[..., User], make_request: Callable[..., Any]
) -> None:
    me = make_user()
    request = make_request(me)
    auth.login(me)
    for path in ("/catalogo/gerid", f"/solicitacoes/{request.number}"):
        inputs = re.findall(r'<input[^>]*type="file"[^>]*>', _html(auth.client.get(path)))
        assert inputs, path
        assert all(f'data-max-bytes="{LIMIT}"' in tag for tag in inputs), path


# ------------------------------------------------------------------ the message form


def test_message_form_answers_413_and_keeps_the_text_and_the_good_file(
    auth: AuthActions, make_user: Callable[..., User], make_request: Callable[..., Any]
) -> None:
    me = make_user()
    request = make_request(me)
    entries = _count(TimelineEntry)
    auth.login(me)
    path = f"/solicitacoes/{request.number}"
    files = _files((png_bytes(), "print.png"), (TOO_BIG, "relatorio.pdf"))
    response = auth.post(
        f"{path}/mensagem",
        {"body": TYPED, "attachments": files},
        page=path,
        content_type="multipart/form-data",
    )
    html = _html(response)
    assert response.status_code == 413
    assert _textarea(html, "body") == TYPED
    assert "“relatorio.pdf” é maior que o limite" in _error(html, "message-files-error")
    assert re.search(r'id="message-files"[^>]*aria-describedby="message-files-error"', html)
    assert _kept_files(html) == ["print.png"]
    assert _count(TimelineEntry) == entries and _count(Attachment) == 0
    again = auth.post(
        f"{path}/mensagem",
        {"body": TYPED, "upload_tokens": _tokens(html)},
        page=path,
    )
    assert again.status_code == 302
    [attachment] = db.session.scalars(sa.select(Attachment))
    assert attachment.original_name == "print.png"
    assert _count(PendingUpload) == 0


# ------------------------------------------------------------------ the occurrence form


@pytest.fixture
def salvador(client_refs: None, make_org: Callable[..., Organisation]) -> Organisation:
    org = make_org(name="Prefeitura Municipal de Salvador", uf="BA")
    org.client_since = utcnow()
    db.session.commit()
    return org


def test_occurrence_form_answers_413_and_keeps_what_was_typed(
    auth: AuthActions, make_user: Callable[..., User], salvador: Organisation
) -> None:
    auth.login(make_user(name="Ana Atendente", role="agent"))
    category = db.session.scalar(sa.select(OccurrenceCategory).order_by(OccurrenceCategory.id))
    assert category is not None
    data = {
        "descricao": TYPED,
        "categoria": category.id,
        "impacto": "positivo",
        "data": "05/03/2025",
        "cliente": salvador.id,
        "acao": "cadastrar",
        "attachments": _files((png_bytes(), "foto.png"), (TOO_BIG, "foto-enorme.png")),
    }
    response = auth.post("/ocorrencias/nova", data, content_type="multipart/form-data")
    html = _html(response)
    assert response.status_code == 413
    assert _textarea(html, "descricao") == TYPED
    assert 'value="05/03/2025"' in html
    assert "“foto-enorme.png” é maior que o limite" in _error(html, "attachments-error")
    assert _kept_files(html) == ["foto.png"]
    assert _count(Occurrence) == 0 and _count(PendingUpload) == 1


# ------------------------------------------------------------------ the knowledge forms


@pytest.fixture
def writer(make_user: Callable[..., User]) -> User:
    return make_user("Ana Atendente", role="agent", groups=["Suporte GERID"])


def _article_form(writer: User, **overrides: Any) -> dict[str, Any]:
    category = kb_services.create_category(db.session, SystemActor("testes"), "Acesso")
    db.session.commit()
    data: dict[str, Any] = {
        "title": "Como acessar o GERID",
        "summary": "Primeiro acesso ao GERID.",
        "body": TYPED,
        "keywords": "gerid senha acesso",
        "category_id": str(category.id),
        "visibility": "public",
        "owner_group_id": str(db.session.get(User, writer.id).groups[0].id),  # type: ignore[union-attr]
    }
    data.update(overrides)
    return data


def test_new_article_form_answers_413_and_keeps_what_was_typed(
    auth: AuthActions, writer: User
) -> None:
    auth.login(writer)
    files = _files((png_bytes(), "passo-1.png"), (TOO_BIG, "manual.pdf"))
    response = auth.post(
        "/base-de-conhecimento/novo",
        _article_form(writer, attachments=files),
        content_type="multipart/form-data",
    )
    html = _html(response)
    assert response.status_code == 413
    assert _textarea(html, "body") == TYPED
    assert 'value="Como acessar o GERID"' in html
    assert "“manual.pdf” é maior que o limite" in _error(html, "attachments-error")
    assert _kept_files(html) == ["passo-1.png"]
    assert _count(Article) == 0 and _count(PendingUpload) == 1


def test_article_files_form_answers_413_and_keeps_the_good_file(
    auth: AuthActions, writer: User
) -> None:
    auth.login(writer)
    created = auth.post("/base-de-conhecimento/novo", _article_form(writer))
    editor = created.headers["Location"]
    number = re.search(r"(KB\d{7})", editor).group(1)  # type: ignore[union-attr]
    files = _files((png_bytes(), "passo-1.png"), (TOO_BIG, "manual.pdf"))
    response = auth.post(
        f"/base-de-conhecimento/{number}/arquivos",
        {"attachments": files},
        page=editor,
        content_type="multipart/form-data",
    )
    html = _html(response)
    assert response.status_code == 413
    assert "“manual.pdf” é maior que o limite" in _error(html, "attachments-error")
    assert _kept_files(html) == ["passo-1.png"]
    assert _count(Attachment) == 0
    again = auth.post(
        f"/base-de-conhecimento/{number}/arquivos", {"upload_tokens": _tokens(html)}, page=editor
    )
    assert again.status_code == 302
    assert [a.original_name for a in db.session.scalars(sa.select(Attachment))] == ["passo-1.png"]


# ------------------------------------------------------------------ the whole-body ceiling


def test_a_body_over_the_ceiling_gets_a_plain_413_page_that_says_the_limits(
    app: Flask, auth: AuthActions, make_user: Callable[..., User], catalog: Any
) -> None:
    auth.login(make_user())
    app.config["MAX_CONTENT_LENGTH"] = 4 * LIMIT
    response = auth.post(
        "/catalogo/gerid",
        _request_form(attachments=_files((TOO_BIG, "grande.pdf"))),
        content_type="multipart/form-data",
    )
    html = _html(response)
    assert response.status_code == 413
    assert "O envio é maior que o limite permitido de 4 KB por formulário" in html
    assert "Cada arquivo pode ter até 1 KB." in html
    assert _count(ServiceRequest) == 0 and _count(PendingUpload) == 0


def test_the_ceiling_is_twenty_files_of_the_per_file_limit(app: Flask) -> None:
    from portal.core.config import load_config

    config = load_config({"SECRET_KEY": "x"})
    assert config["MAX_CONTENT_LENGTH"] == 20 * config["MAX_UPLOAD_BYTES"] + 1024 * 1024


def test_a_capped_file_keeps_one_byte_past_the_limit_and_counts_the_rest() -> None:
    with CappedFile(LIMIT + 1) as sink:
        for _ in range(100):
            assert sink.write(b"x" * 1000) == 1000  # the parser goes on as if all was kept
        sink.seek(0)
        assert sink.read() == b"x" * (LIMIT + 1)
        assert sink.received == 100_000
