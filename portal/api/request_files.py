"""A request's files and followers through the API.

The same functions as the request page decide: the list is `timeline.attachments_of` filtered
by `policy.can_download`, a download is `timeline.file_of` + `policy.can_download` (the HTML
download view's decision) served by `files.send_attachment`; an upload is checked and staged
by `files.stage_files` and posted by `add_message`, as the page's message form does; followers
are `add_follower` / `remove_follower`, whose policy says who may be named or removed.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request, url_for
from flask_smorest.fields import Upload
from sqlalchemy import select

from portal.accounts.models import User
from portal.api import auth
from portal.api.fields import file_download, id_field
from portal.api.problems import documented_errors, oversize_upload, problem
from portal.api.requests import (
    EntrySchema,
    RequestSchema,
    UserRefSchema,
    bp,
    detail,
    etag,
    message_entry,
    user_ref,
    visible,
)
from portal.core import files as uploads
from portal.core.database import reads_first
from portal.core.errors import FormErrors, NotFound, ValidationError
from portal.core.extensions import db
from portal.core.models import Attachment
from portal.requests import policy, services, timeline
from portal.requests.models import TimelineEntry

# ------------------------------------------------------------------ schemas


class AttachmentSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    size = ma.fields.Integer(required=True, metadata={"description": "Bytes guardados"})
    content_type = ma.fields.String(required=True)
    sha256 = ma.fields.String(required=True)
    uploaded_by = ma.fields.Nested(
        UserRefSchema, required=True, allow_none=True, metadata={"description": "Quem enviou"}
    )
    entry_id = ma.fields.Integer(
        required=True, metadata={"description": "Entrada da linha do tempo"}
    )
    public = ma.fields.Boolean(required=True, metadata={"description": "false: nota interna"})
    download_url = ma.fields.String(required=True)


class AttachmentListSchema(ma.Schema):
    attachments = ma.fields.List(ma.fields.Nested(AttachmentSchema), required=True)


class UploadSchema(ma.Schema):
    """The multipart body. `body` is a text part, read from the form (webargs' `files`
    location holds only the file parts; flask-smorest documents one request body per
    operation, so both parts are described here)."""

    file = ma.fields.List(
        Upload(),
        required=True,
        validate=ma.validate.Length(min=1, max=20),
        metadata={"description": "Um ou mais arquivos, cada um numa parte `file`"},
    )
    body = ma.fields.String(load_default="", metadata={"description": "Mensagem (opcional)"})


class FollowerSchema(ma.Schema):
    user_id = id_field("Escolha um usuário da lista.", required=True)


# ------------------------------------------------------------------ representations


def _attachment_rows(number: str, files: list[Attachment]) -> list[dict[str, Any]]:
    entry_ids = {a.owner_id for a in files}
    query = select(TimelineEntry.id, TimelineEntry.public).where(TimelineEntry.id.in_(entry_ids))
    public = {entry_id: bool(flag) for entry_id, flag in db.session.execute(query)}
    uploader_ids = {a.uploader_id for a in files if a.uploader_id is not None}
    uploaders = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(uploader_ids)))}
    rows = []
    for a in files:
        uploader = uploaders.get(a.uploader_id) if a.uploader_id is not None else None
        rows.append(
            {
                "id": a.id,
                "name": a.original_name,
                "size": a.size,
                "content_type": a.content_type,
                "sha256": a.sha256,
                "uploaded_by": user_ref(uploader) if uploader else None,
                "entry_id": a.owner_id,
                "public": bool(public.get(a.owner_id, False)),
                "download_url": url_for(".download", number=number, attachment_id=a.id),
            }
        )
    return rows


# ------------------------------------------------------------------ views


@bp.get("/<number>/attachments")
@bp.response(200, AttachmentListSchema)
@documented_errors(bp, 401, 404, 429)
def attachments(number: str) -> dict[str, Any]:
    """Os anexos

    Os arquivos da solicitação que você pode baixar, mais novos primeiro; os de notas
    internas só para atendentes.
    """
    me = auth.api_user()
    req = visible(number)
    found = timeline.attachments_of(db.session, req, include_internal=policy.sees_internal(me))
    rows = _attachment_rows(req.number, found)
    return {
        "attachments": [
            row for row in rows if policy.can_download(me, req, entry_public=row["public"])
        ]
    }


@bp.get("/<number>/attachments/<int:attachment_id>")
@file_download(bp)
@documented_errors(bp, 401, 404, 429)
def download(number: str, attachment_id: int) -> Any:
    """Baixar um anexo

    Os bytes guardados (imagens reconstruídas a partir dos pixels no envio). Um anexo que
    você não pode ver responde 404.
    """
    req = visible(number)
    found = timeline.file_of(db.session, req, attachment_id)
    if found is None:
        raise NotFound()
    attachment, entry_public = found
    if not policy.can_download(auth.api_user(), req, entry_public=entry_public):
        raise NotFound()
    return uploads.send_attachment(attachment)


@bp.post("/<number>/attachments")
@reads_first  # as the page's: checks and file decoding before the write lock
@auth.token_required("write")
@bp.arguments(UploadSchema, location="files")
@bp.response(201, EntrySchema)
@documented_errors(bp, 401, 403, 404, 413, 422, 429)
def upload(data: dict[str, Any], number: str) -> Any:
    """Enviar anexos

    `multipart/form-data` com uma ou mais partes `file` e, se quiser, uma parte de texto
    `body`: vira uma mensagem com os anexos, como na página. Os arquivos são verificados pelo
    conteúdo (imagens reconstruídas); um arquivo recusado responde 422 nomeando-o (campo
    `file`) e nada é publicado; um arquivo maior que o limite, 413.
    """
    me = auth.api_user()
    req = visible(number)
    # The text parts are read here, not by the schema (which reads the files): refuse any but
    # `body`, as the schema does an unknown file part and a JSON body an unknown property.
    unknown = sorted(set(request.form) - {"body"})
    if unknown:
        raise FormErrors(
            [ValidationError("Parte desconhecida: envie `file` e `body`.", n) for n in unknown]
        )
    too_big = oversize_upload()
    if too_big is not None:
        return too_big
    staged, refused = uploads.stage_files(db.session, me, data["file"])
    if refused:
        # As the page does, the accepted ones stay staged: the stale-upload job then removes
        # their stored bytes, which a rollback would leave behind with no row naming them.
        db.session.commit()
        errors = [{"field": "file", "message": message} for message in refused]
        return problem(422, detail=" ".join(refused), errors=errors)
    written = services.add_message(db.session, req, me, request.form.get("body", ""), staged)
    files = _attachment_rows(
        number, timeline.attachments_of(db.session, req, include_internal=True)
    )
    body = message_entry(
        written,
        me,
        [
            {k: row[k] for k in ("id", "name", "size", "content_type")}
            for row in files
            if row["entry_id"] == written.id
        ],
    )
    db.session.commit()
    return body, 201, {"Location": url_for(".attachments", number=number)}


def _followers_named(error: ValidationError) -> ValidationError:
    """The service names the follower `follower`; the body names it `user_id`."""
    parts = error.errors if isinstance(error, FormErrors) else [error]
    return FormErrors(
        [ValidationError(str(e), "user_id" if e.field == "follower" else e.field) for e in parts]
    )


@bp.post("/<number>/followers")
@auth.token_required("write")
@bp.arguments(FollowerSchema)
@bp.response(200, RequestSchema)
@documented_errors(bp, 401, 403, 404, 422, 429)
def add_follower(data: dict[str, Any], number: str) -> Any:
    """Incluir um acompanhante

    Quem você pode indicar é o mesmo que na página: atendentes qualquer pessoa; os demais,
    pessoas do seu ente. Quem já acompanha continua acompanhando.
    """
    me = auth.api_user()
    req = visible(number)
    user = db.session.get(User, data["user_id"])
    if user is None:
        raise ValidationError("Escolha um usuário da lista.", "user_id")
    try:
        services.add_follower(db.session, req, me, user)
    except ValidationError as exc:
        raise _followers_named(exc) from exc
    db.session.commit()
    req = visible(number)
    return detail(me, req), 200, {"ETag": etag(req)}


@bp.delete("/<number>/followers/<int:user_id>")
@auth.token_required("write")
@bp.response(204)
@documented_errors(bp, 401, 403, 404, 422, 429)
def remove_follower(number: str, user_id: int) -> Any:
    """Remover um acompanhante

    Quem abriu a solicitação e os atendentes removem qualquer acompanhante; um acompanhante
    pode sair sozinho. Os demais: 422.
    """
    req = visible(number)
    services.remove_follower(db.session, req, auth.api_user(), user_id)
    db.session.commit()
    return "", 204
