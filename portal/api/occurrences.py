"""A client's occurrences through the API, for staff: the list with the Ocorrências list's
filters, one occurrence, its images, and recording one. The routes join `clients.bp`, whose
before_request already answers 404 to anyone `policy.can_see_clients` refuses.

The same functions as the pages decide: the filters are `OccurrenceFilters.conditions`, the
lines `occurrence_lines`, the images `images_by_occurrence` and `image_of` (served by
`files.send_attachment`), one occurrence `get_occurrence`. Recording stages the images with
`stage_images` and records with `record_occurrence`, as the form does; a refused field is a 422
naming it. The list pages by cursor in the list's order (newest occurred_on first, then id).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, NamedTuple

import marshmallow as ma
from flask import request, url_for
from flask_smorest.fields import Upload
from sqlalchemy import and_, or_, select
from werkzeug.datastructures import FileStorage

from portal.api import auth
from portal.api.catalog import ListArgs
from portal.api.clients import CLIENT_ID, ClientRefSchema, bp, client_or_404
from portal.api.fields import ID_MAX, file_download, id_field, next_link
from portal.api.problems import documented_errors, oversize_upload
from portal.clients import occurrence_queries as queries
from portal.clients import occurrences as services
from portal.clients.models import Impact, Occurrence
from portal.clients.occurrence_lines import OccurrenceLine, occurrence_lines
from portal.core import files as uploads
from portal.core.errors import FormErrors, NotFound, ValidationError
from portal.core.extensions import db
from portal.core.models import Attachment

OCCURRENCE_ID = "<int:occurrence_id>"
ATTACHMENT_ID = "<int:attachment_id>"
IMPACTS = [i.value for i in Impact]
DESCRIPTION_MAX = 10_000  # what the form keeps of a description
# The list's cursor: the last line's occurred_on as a 7-digit day number (date.toordinal),
# then its id. Digits only, so every cursor the pattern admits is a position in the order.
CURSOR_PATTERN = r"^[0-9]{8,17}$"
DAY_DIGITS = 7
# A request number as the form takes it (spaces and case aside), or nothing.
REQUEST_NUMBER = r"^\s*(?:[Cc][Ss]\s*[0-9]{7}\s*)?$"
# The service's field names, as the API's body names them.
FIELDS = {"attachments": "images"}

# ------------------------------------------------------------------ schemas


class OccurrenceListArgs(ListArgs):
    cursor = ma.fields.String(
        validate=ma.validate.Regexp(
            CURSOR_PATTERN, error="Cursor inválido: use o next_cursor da página anterior."
        ),
        metadata={"description": "O next_cursor da página anterior"},
    )
    category = id_field(
        "Informe o id de uma categoria.", metadata={"description": "Categoria da ocorrência: id"}
    )
    impact = ma.fields.String(
        validate=ma.validate.OneOf(IMPACTS, error="Impacto desconhecido."),
        metadata={"description": "positivo, neutro ou negativo"},
    )
    author = id_field(
        "Informe o id de um atendente.", metadata={"description": "Registrada por: id do atendente"}
    )
    start = ma.fields.Date(
        data_key="from",
        error_messages={"invalid": "Data inválida. Use o formato AAAA-MM-DD."},
        metadata={"description": "Ocorridas a partir deste dia (AAAA-MM-DD)"},
    )
    end = ma.fields.Date(
        data_key="to",
        error_messages={"invalid": "Data inválida. Use o formato AAAA-MM-DD."},
        metadata={"description": "Ocorridas até este dia, inclusive (AAAA-MM-DD)"},
    )


class OccurrenceImageSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    filename = ma.fields.String(required=True)
    content_type = ma.fields.String(required=True)
    size = ma.fields.Integer(required=True, metadata={"description": "Bytes guardados"})
    url = ma.fields.String(required=True, metadata={"description": "Para baixar a imagem"})


class OccurrenceSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    client = ma.fields.Nested(ClientRefSchema, required=True)
    occurred_on = ma.fields.Date(required=True)
    category = ma.fields.Nested(ClientRefSchema, required=True)
    impact = ma.fields.String(required=True, metadata={"enum": IMPACTS})
    impact_label = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    request_number = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "A solicitação citada"}
    )
    author = ma.fields.Nested(
        ClientRefSchema, required=True, metadata={"description": "Quem registrou"}
    )
    images = ma.fields.List(ma.fields.Nested(OccurrenceImageSchema), required=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True, allow_none=True)


class OccurrencePageSchema(ma.Schema):
    occurrences = ma.fields.List(ma.fields.Nested(OccurrenceSchema), required=True)
    next_cursor = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "null na última página"}
    )


class OccurrenceInputSchema(ma.Schema):
    """An occurrence to record (as JSON, or the text parts of a multipart body)."""

    occurred_on = ma.fields.Date(
        required=True,
        error_messages={"invalid": "Data inválida. Use o formato AAAA-MM-DD."},
        metadata={"description": "AAAA-MM-DD; não pode estar no futuro"},
    )
    category = ma.fields.Integer(
        required=True,
        validate=ma.validate.Range(min=1, max=ID_MAX, error="Escolha a categoria."),
        metadata={"description": "Categoria da ocorrência (ativa): id"},
    )
    impact = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(IMPACTS, error="Escolha o impacto da ocorrência."),
    )
    description = ma.fields.String(
        required=True,
        validate=[
            # Something besides spaces, as the form asks ("Descreva a ocorrência"); no NUL,
            # which every view refuses (core/text_input.py).
            ma.validate.Regexp(r"^[^\x00]*[^\s\x00][^\x00]*$", error="Descreva a ocorrência."),
            ma.validate.Length(max=DESCRIPTION_MAX, error="Até 10.000 caracteres."),
        ],
    )
    request_number = ma.fields.String(
        load_default="",
        validate=[
            ma.validate.Length(max=20, error="Até 20 caracteres."),
            ma.validate.Regexp(
                REQUEST_NUMBER, error="Informe o número da solicitação: CS seguido de 7 dígitos."
            ),
        ],
        metadata={
            "description": "Uma solicitação deste cliente, CS seguido de 7 dígitos (opcional)"
        },
    )


class OccurrenceImagesSchema(ma.Schema):
    images = ma.fields.List(
        Upload(),
        load_default=list,
        validate=ma.validate.Length(max=services.MAX_IMAGES, error=services.TOO_MANY_IMAGES),
        metadata={"description": "Até 2 imagens (PNG, JPEG, GIF ou WebP), cada uma numa parte"},
    )


class OccurrenceFormSchema(OccurrenceInputSchema, OccurrenceImagesSchema):
    """The multipart body: the fields as text parts, and the image parts."""


REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": OccurrenceInputSchema},
        "multipart/form-data": {"schema": OccurrenceFormSchema},
    },
}

# ------------------------------------------------------------------ representations


class Stamps(NamedTuple):
    """What a list line lacks of the occurrence's own columns."""

    category_id: int
    created_at: datetime
    updated_at: datetime | None


def _image(client_id: int, occurrence_id: int, image: Attachment) -> dict[str, Any]:
    url = url_for(
        ".occurrence_image",
        client_id=client_id,
        occurrence_id=occurrence_id,
        attachment_id=image.id,
    )
    return {
        "id": image.id,
        "filename": image.original_name,
        "content_type": image.content_type,
        "size": image.size,
        "url": url,
    }


def occurrence_body(
    line: OccurrenceLine | Occurrence, stamps: Stamps, images: list[Attachment]
) -> dict[str, Any]:
    """An occurrence from its list line (or the row itself: it has the same flat names)."""
    return {
        "id": line.id,
        "client": {"id": line.organisation_id, "name": line.client_name},
        "occurred_on": line.occurred_on,
        "category": {"id": stamps.category_id, "name": line.category_name},
        "impact": line.impact,
        "impact_label": line.impact_enum.label,
        "description": line.description,
        "request_number": line.request_number,
        "author": {"id": line.author_id, "name": line.author_name},
        "images": [_image(line.organisation_id, line.id, image) for image in images],
        "created_at": stamps.created_at,
        "updated_at": stamps.updated_at,
    }


def _of_client(client_id: int, occurrence_id: int) -> Occurrence:
    """The client's occurrence; another client's, or none, is a 404 problem."""
    client_or_404(client_id)
    found = queries.get_occurrence(db.session, occurrence_id)
    if found is None or found.organisation_id != client_id:
        raise NotFound()
    return found


def _shown(occurrence: Occurrence) -> dict[str, Any]:
    images = queries.images_by_occurrence(db.session, [occurrence.id])[occurrence.id]
    stamps = Stamps(occurrence.category_id, occurrence.created_at, occurrence.updated_at)
    return occurrence_body(occurrence, stamps, images)


def encode_cursor(line: OccurrenceLine) -> str:
    return f"{line.occurred_on.toordinal():0{DAY_DIGITS}d}{line.id}"


def _after(cursor: str) -> Any:
    """The list's keyset condition: the lines after the cursor's (occurred_on, id). A day or an
    id past what can exist is clamped, so any cursor of the pattern is a place in the order."""
    day = min(max(int(cursor[:DAY_DIGITS]), 1), date.max.toordinal())
    on, after = date.fromordinal(day), min(int(cursor[DAY_DIGITS:]), ID_MAX)
    o = Occurrence
    return or_(o.occurred_on < on, and_(o.occurred_on == on, o.id < after))


# ------------------------------------------------------------------ views


@bp.get(f"/{CLIENT_ID}/occurrences")
@bp.arguments(OccurrenceListArgs, location="query")
@bp.response(200, OccurrencePageSchema)
@documented_errors(bp, 401, 404, 422, 429)
def occurrences(args: dict[str, Any], client_id: int) -> Any:
    """Ocorrências de um cliente

    Mais recentes primeiro (pela data da ocorrência), com os filtros da lista de Ocorrências:
    `category`, `impact`, `author`, `from` e `to` (AAAA-MM-DD, inclusive). Pagine com `cursor`
    (o `next_cursor`, também no cabeçalho `Link: rel="next"`).
    """
    client = client_or_404(client_id)
    filters = queries.OccurrenceFilters(
        client_id=client.id,
        category_id=args.get("category"),
        impact=args.get("impact", ""),
        author_id=args.get("author"),
        start=args.get("start"),
        end=args.get("end"),
    )
    conditions = filters.conditions()
    if args.get("cursor"):
        conditions.append(_after(args["cursor"]))
    o, limit = Occurrence, args["limit"]
    rows = db.session.execute(
        select(o.id, o.category_id, o.created_at, o.updated_at)
        .where(*conditions)
        .order_by(o.occurred_on.desc(), o.id.desc())
        .limit(limit + 1)
    ).all()
    stamps = {row[0]: Stamps(row[1], row[2], row[3]) for row in rows[:limit]}
    lines = occurrence_lines(db.session, list(stamps))
    images = queries.images_by_occurrence(db.session, list(stamps))
    last = lines[-1] if len(rows) > limit and lines else None
    next_cursor = encode_cursor(last) if last else None
    body = {
        "occurrences": [occurrence_body(x, stamps[x.id], images[x.id]) for x in lines],
        "next_cursor": next_cursor,
    }
    return body, 200, next_link(".occurrences", next_cursor, request.args, client_id=client.id)


@bp.get(f"/{CLIENT_ID}/occurrences/{OCCURRENCE_ID}")
@bp.response(200, OccurrenceSchema)
@documented_errors(bp, 401, 404, 429)
def occurrence(client_id: int, occurrence_id: int) -> dict[str, Any]:
    """Uma ocorrência

    Com as suas imagens. A ocorrência de outro cliente responde 404.
    """
    return _shown(_of_client(client_id, occurrence_id))


@bp.get(f"/{CLIENT_ID}/occurrences/{OCCURRENCE_ID}/images/{ATTACHMENT_ID}")
@file_download(bp)
@documented_errors(bp, 401, 404, 429)
def occurrence_image(client_id: int, occurrence_id: int, attachment_id: int) -> Any:
    """Baixar uma imagem

    Os bytes guardados (a imagem reconstruída a partir dos pixels no envio).
    """
    _of_client(client_id, occurrence_id)
    found = queries.image_of(db.session, occurrence_id, attachment_id)
    if found is None:
        raise NotFound()
    return uploads.send_attachment(found)


def _parsed_input() -> tuple[dict[str, Any], list[FileStorage]]:
    """The body's fields and images: multipart (text parts and `images` parts) or JSON."""
    parser = bp.ARGUMENTS_PARSER
    if request.mimetype == "multipart/form-data":
        fields = parser.parse(OccurrenceInputSchema(), location="form", unknown=ma.RAISE)
        chosen = parser.parse(OccurrenceImagesSchema(), location="files", unknown=ma.RAISE)[
            "images"
        ]
        return fields, chosen
    return parser.parse(OccurrenceInputSchema(), location="json"), []


def _named(errors: list[ValidationError]) -> list[ValidationError]:
    """The service's field names as the body names them."""
    return [ValidationError(str(e), FIELDS.get(e.field or "", e.field)) for e in errors]


@bp.post(f"/{CLIENT_ID}/occurrences")
@auth.token_required("write")
@bp.doc(requestBody=REQUEST_BODY)
@bp.response(201, OccurrenceSchema)
@documented_errors(bp, 401, 403, 404, 413, 422, 429)
def record(client_id: int) -> Any:
    """Registrar uma ocorrência

    JSON, ou `multipart/form-data` com os mesmos campos como partes de texto e até 2 partes
    `images`. As mesmas verificações do formulário: um campo recusado responde 422 nomeando-o
    (a data não pode estar no futuro; a solicitação citada deve ser deste cliente); as imagens
    são verificadas pelo conteúdo e reconstruídas; uma maior que o limite, 413.
    """
    me = auth.api_user()
    client = client_or_404(client_id)
    data, chosen = _parsed_input()
    too_big = oversize_upload()
    if too_big is not None:
        return too_big
    staged, refused = services.stage_images(db.session, me, chosen, 0)
    fields: dict[str, Any] = {
        "organisation_id": client.id,
        "category_id": data["category"],
        "impact": data["impact"],
        "occurred_on": data["occurred_on"],
        "description": data["description"],
        "request_number": data["request_number"],
        "images": staged,
    }
    try:
        if refused:  # every problem at once, as the form shows them
            problems = [ValidationError(message, "attachments") for message in refused]
            raise FormErrors(problems + services.check_input(db.session, **fields))
        occurrence = services.record_occurrence(db.session, me, **fields)
    except ValidationError as exc:
        # As the form does, the accepted images stay staged: the stale-upload job removes their
        # stored bytes, which a rollback would leave behind with no row naming them.
        db.session.commit()
        raise FormErrors(_named(exc.errors if isinstance(exc, FormErrors) else [exc])) from exc
    occurrence_id = occurrence.id
    db.session.commit()
    body = _shown(_of_client(client_id, occurrence_id))
    location = url_for(".occurrence", client_id=client_id, occurrence_id=occurrence_id)
    return body, 201, {"Location": location}
