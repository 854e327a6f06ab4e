"""A request's files and followers through the API, on SQLite and PostgreSQL.

- a PNG uploaded comes back, by id, as the bytes stored (rebuilt), listed with its sha256;
- a polyglot GIF comes back without its script; an .svg is refused 422 naming it, and nothing
  is posted; a file over the limit is 413;
- an outsider gets 404 on the list, a download and an upload; a read token cannot upload;
- files of internal notes are neither listed nor served to the requester, but are to staff;
- followers: the opener adds one (only of their own ente), a follower leaves by themselves
  but cannot remove someone else;
- the OpenAPI document still validates and documents the multipart body.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from werkzeug.datastructures import FileStorage

from portal.core import files
from portal.core.extensions import db
from portal.models import Attachment, Follower, ServiceRequest, TimelineEntry, User
from portal.requests import services as request_service
from portal.requests.models import ENTRY_OWNER
from tests.files import SVG, pdf_bytes, png_bytes, polyglot
from tests.web.test_api_requests import Api, _problem, _token


class FilesApi(Api):
    def upload(self, number: str, parts: list[tuple[bytes, str]], body: str = "") -> Any:
        data: dict[str, Any] = {"file": [(io.BytesIO(b), name) for b, name in parts]}
        if body:
            data["body"] = body
        return self.client.post(
            f"/api/v1/requests/{number}/attachments",
            data=data,
            content_type="multipart/form-data",
            headers=self.headers,
        )

    def download(self, path: str) -> tuple[int, bytes, dict[str, str]]:
        with self.client.get(path, headers=self.headers) as response:
            return response.status_code, response.data, dict(response.headers)

    def delete(self, path: str) -> Any:
        return self.client.delete(f"/api/v1{path}", headers=self.headers)


@pytest.fixture
def people(make_user, make_org) -> dict[str, User]:
    return {
        "maria": make_user("Maria Solicitante"),
        "joao": make_user("João Colega"),
        "lia": make_user("Lia Colega"),
        "outsider": make_user("Olga de Fora"),
        "far": make_user("Rui de Recife", organisation=make_org(name="Recife", uf="PE")),
        "admin": make_user("Ana Admin", role="admin"),
    }


def _listed(api: FilesApi, number: str) -> list[dict[str, Any]]:
    response = api.get(f"/requests/{number}/attachments")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["attachments"]  # type: ignore[no-any-return]


def test_an_uploaded_png_downloads_as_stored(
    client: FlaskClient, people: dict[str, User], make_request
) -> None:
    req = make_request(people["maria"])
    maria = FilesApi(client, _token(people["maria"]))
    sent = maria.upload(req.number, [(png_bytes(), "tela.png")], body="Segue a tela.")
    assert sent.status_code == 201, sent.get_data(as_text=True)
    entry = sent.get_json()
    assert entry["body"] == "Segue a tela." and entry["public"] is True
    assert [a["name"] for a in entry["attachments"]] == ["tela.png"]

    [listed] = _listed(maria, req.number)
    assert listed["name"] == "tela.png" and listed["content_type"] == "image/png"
    assert listed["entry_id"] == entry["id"] and listed["public"] is True
    assert listed["uploaded_by"] == {"id": people["maria"].id, "name": "Maria Solicitante"}
    status, data, headers = maria.download(listed["download_url"])
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert "attachment" in headers["Content-Disposition"]
    stored = db.session.get(Attachment, listed["id"])
    assert stored is not None
    with files.file_store().open(stored.stored_name) as kept:
        assert data == kept.read()  # the stored (rebuilt) bytes, not necessarily those sent
    assert hashlib.sha256(data).hexdigest() == listed["sha256"] and len(data) == listed["size"]
    assert data.startswith(b"\x89PNG")


def test_a_polyglot_gif_loses_its_script_and_an_svg_is_refused(
    client: FlaskClient, people: dict[str, User], make_request
) -> None:
    req = make_request(people["maria"])
    maria = FilesApi(client, _token(people["maria"]))
    assert b"<script" in polyglot("GIF")
    sent = maria.upload(req.number, [(polyglot("GIF"), "tela.gif")])
    assert sent.status_code == 201, sent.get_data(as_text=True)
    [gif] = _listed(maria, req.number)
    status, data, _ = maria.download(gif["download_url"])
    assert status == 200 and data.startswith(b"GIF8") and b"<script" not in data.lower()

    entries = db.session.scalar(db.select(db.func.count()).select_from(TimelineEntry))
    refused = _problem(
        maria.upload(req.number, [(png_bytes(), "ok.png"), (SVG, "desenho.svg")], body="Veja"),
        422,
        "dados_invalidos",
    )
    assert [e["field"] for e in refused["errors"]] == ["file"]
    assert "desenho.svg" in refused["errors"][0]["message"]
    # Nothing was posted: no new entry, and still only the GIF listed.
    assert db.session.scalar(db.select(db.func.count()).select_from(TimelineEntry)) == entries
    assert [a["name"] for a in _listed(maria, req.number)] == ["tela.gif"]
    # No file part at all: the field is named as the body names it.
    missing = maria.client.post(
        f"/api/v1/requests/{req.number}/attachments",
        data={"body": "Sem arquivo"},
        content_type="multipart/form-data",
        headers=maria.headers,
    )
    assert [e["field"] for e in _problem(missing, 422)["errors"]] == ["file"]
    # A text part the document does not list is refused by name, as a JSON property would be
    # (found by Schemathesis), and nothing is posted.
    odd = maria.client.post(
        f"/api/v1/requests/{req.number}/attachments",
        data={"file": (io.BytesIO(png_bytes()), "ok.png"), "mensagem": "Veja"},
        content_type="multipart/form-data",
        headers=maria.headers,
    )
    assert [e["field"] for e in _problem(odd, 422)["errors"]] == ["mensagem"]
    assert db.session.scalar(db.select(db.func.count()).select_from(TimelineEntry)) == entries


def test_a_file_over_the_limit_is_413(
    app: Flask, client: FlaskClient, people: dict[str, User], make_request
) -> None:
    app.config["MAX_UPLOAD_BYTES"] = 1024
    req = make_request(people["maria"])
    maria = FilesApi(client, _token(people["maria"]))
    body = _problem(maria.upload(req.number, [(pdf_bytes() + b"\0" * 2048, "grande.pdf")]), 413)
    assert "grande.pdf" in body["detail"]
    assert _listed(maria, req.number) == []


def test_an_outsider_gets_404_and_a_read_token_cannot_upload(
    client: FlaskClient, people: dict[str, User], make_request
) -> None:
    req = make_request(people["maria"])
    maria = FilesApi(client, _token(people["maria"]))
    assert maria.upload(req.number, [(png_bytes(), "tela.png")]).status_code == 201
    [listed] = _listed(maria, req.number)

    outsider = FilesApi(client, _token(people["outsider"]))
    _problem(outsider.get(f"/requests/{req.number}/attachments"), 404, "nao_encontrado")
    status, data, _ = outsider.download(listed["download_url"])
    assert status == 404 and b"PNG" not in data
    _problem(outsider.upload(req.number, [(png_bytes(), "meu.png")]), 404)

    reader = FilesApi(client, _token(people["maria"], scopes="read"))
    _problem(reader.upload(req.number, [(png_bytes(), "outra.png")]), 403, "escopo_insuficiente")
    assert db.session.scalar(db.select(db.func.count()).select_from(Attachment)) == 1


def test_internal_note_files_are_for_staff_only(
    client: FlaskClient, people: dict[str, User], make_request
) -> None:
    req = make_request(people["maria"])
    note = request_service.add_note(db.session, req, people["admin"], "Log", public=False)
    staged, _ = files.stage_files(
        db.session, people["admin"], [FileStorage(io.BytesIO(pdf_bytes()), "interno.pdf")]
    )
    [internal] = files.attach(db.session, ENTRY_OWNER, note.id, staged)
    internal_id = internal.id
    db.session.commit()
    path = f"/api/v1/requests/{req.number}/attachments/{internal_id}"

    maria = FilesApi(client, _token(people["maria"]))
    assert _listed(maria, req.number) == []
    assert maria.download(path)[0] == 404
    admin = FilesApi(client, _token(people["admin"]))
    [seen] = _listed(admin, req.number)
    assert seen["id"] == internal_id and seen["public"] is False
    status, data, _ = admin.download(path)
    assert status == 200 and data.startswith(b"%PDF")


def _follower_ids(number: str) -> set[int]:
    req_id = db.session.scalar(db.select(ServiceRequest.id).filter_by(number=number))
    query = db.select(Follower.user_id).filter_by(request_id=req_id)
    return set(db.session.scalars(query))


def test_followers_are_added_and_removed_as_the_policy_says(
    client: FlaskClient, people: dict[str, User], make_request
) -> None:
    req = make_request(people["maria"])
    number = req.number
    joao_id, lia_id, far_id = people["joao"].id, people["lia"].id, people["far"].id
    maria = FilesApi(client, _token(people["maria"]))

    added = maria.post(f"/requests/{number}/followers", {"user_id": joao_id})
    assert added.status_code == 200, added.get_data(as_text=True)
    assert joao_id in [f["id"] for f in added.get_json()["followers"]]
    assert maria.post(f"/requests/{number}/followers", {"user_id": lia_id}).status_code == 200
    # Someone of another ente may not be named by a requester; an unknown id neither.
    far = _problem(maria.post(f"/requests/{number}/followers", {"user_id": far_id}), 422)
    assert [e["field"] for e in far["errors"]] == ["user_id"]
    _problem(maria.post(f"/requests/{number}/followers", {"user_id": 999_999}), 422)
    assert _follower_ids(number) == {joao_id, lia_id}

    # A follower cannot remove another one, but may leave.
    joao = FilesApi(client, _token(people["joao"]))
    _problem(joao.delete(f"/requests/{number}/followers/{lia_id}"), 422)
    assert _follower_ids(number) == {joao_id, lia_id}
    assert joao.delete(f"/requests/{number}/followers/{joao_id}").status_code == 204
    assert _follower_ids(number) == {lia_id}
    # The opener removes anyone; an outsider is not told the request exists.
    outsider = FilesApi(client, _token(people["outsider"]))
    _problem(outsider.delete(f"/requests/{number}/followers/{lia_id}"), 404)
    _problem(outsider.post(f"/requests/{number}/followers", {"user_id": lia_id}), 404)
    assert maria.delete(f"/requests/{number}/followers/{lia_id}").status_code == 204
    assert _follower_ids(number) == set()


def test_the_openapi_document_documents_the_multipart_upload(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    validate(spec)
    upload = spec["paths"]["/api/v1/requests/{number}/attachments"]["post"]
    body = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    if "$ref" in body:
        body = spec["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
    assert body["properties"]["file"]["items"]["format"] == "binary"
    assert "413" in upload["responses"] and "422" in upload["responses"]
    assert "/api/v1/requests/{number}/followers/{user_id}" in spec["paths"]
