"""Requests through the API, write side (write scope): open one, post a message, run an action.

The same services as the pages decide: `check_request_input` / `create_request` check the
answers as the form does, `add_message` takes the message, and `transitions.fire` asks the
lifecycle whether the action applies. An action carries the ETag the client read
(`If-Match`, required): a stale one is the page's "alterada por outra pessoa", 409.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request, url_for
from sqlalchemy import select
from werkzeug.exceptions import PreconditionRequired

from portal.accounts.models import User
from portal.api import auth
from portal.api.fields import id_field
from portal.api.problems import documented_errors
from portal.api.requests import (
    EntrySchema,
    RequestSchema,
    bp,
    detail,
    etag,
    message_entry,
    visible,
)
from portal.catalog import versions
from portal.catalog.queries import active_item
from portal.core.database import reads_first
from portal.core.errors import FormErrors, ValidationError
from portal.core.extensions import db
from portal.requests import services
from portal.requests.lifecycle import Action, ReasonRequired
from portal.requests.services import MESSAGE_MAX

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,79}$"
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "description": "A ETag lida por último (GET da solicitação); sem ela: 428",
    # A strong or weak tag of one version; `*` would skip the check the header exists for.
    "schema": {"type": "string", "pattern": '^(W/)?"[0-9]{1,9}"$'},
}


class NewRequestSchema(ma.Schema):
    item = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(SLUG_PATTERN, error="Informe o slug de um item do catálogo."),
        metadata={"description": "Slug do item do catálogo"},
    )
    # "fields" is a Schema attribute of marshmallow's own: loaded as `answers`.
    answers = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        load_default=dict,
        data_key="fields",
        metadata={"description": "As respostas do formulário, por chave do campo"},
    )
    description = ma.fields.String(load_default="")
    requested_for = id_field(
        "Escolha um usuário da lista.",
        allow_none=True,
        metadata={"description": "Id do usuário; sem ele: você"},
    )
    followers = ma.fields.List(
        id_field("Escolha usuários da lista."),
        load_default=list,
        validate=ma.validate.Length(max=50, error="Informe no máximo 50 acompanhantes."),
    )


class MessageSchema(ma.Schema):
    body = ma.fields.String(
        required=True,
        validate=[
            # Something besides spaces, as the page's form asks ("Digite uma mensagem").
            ma.validate.Regexp(r"^\s*\S", error="Digite uma mensagem."),
            ma.validate.Length(max=MESSAGE_MAX, error="A mensagem é longa demais."),
        ],
    )


class ActionSchema(ma.Schema):
    action = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(
            [a.value for a in Action if a is not Action.AUTO_CLOSE], error="Ação desconhecida."
        ),
        metadata={"description": "Uma das `allowed_actions` da solicitação"},
    )
    reason = ma.fields.String(allow_none=True, metadata={"description": "Motivo ou solução"})


def _named_for_api(errors: list[ValidationError], keys: set[str]) -> FormErrors:
    """The service's field names as the body names them: an answer is `fields.<key>`, and the
    form as a whole (a withdrawn service) is `item`."""
    renamed = []
    for error in errors:
        field = error.field
        if field in keys:
            field = f"fields.{field}"
        elif field == "form":
            field = "item"
        renamed.append(ValidationError(str(error), field))
    return FormErrors(renamed)


@bp.post("")
@reads_first  # as the page's: the checks read before the write lock is taken
@auth.token_required("write")
@bp.arguments(NewRequestSchema)
@bp.response(201, RequestSchema)
@documented_errors(bp, 401, 403, 422, 429)
def create(data: dict[str, Any]) -> Any:
    """Abrir uma solicitação

    As respostas (`fields`, por chave) são verificadas como no formulário do portal; cada
    campo inválido vem nomeado em `errors` (`fields.<chave>`, `description`, ...).
    """
    me = auth.api_user()
    item = active_item(db.session, data["item"])
    if item is None:
        raise ValidationError("Escolha um serviço oferecido pelo catálogo.", "item")
    chosen = data.get("requested_for")
    requested_for = me if chosen is None else db.session.get(User, chosen)
    follower_ids = data["followers"]
    followers = list(db.session.scalars(select(User).where(User.id.in_(follower_ids))))
    fields: dict[str, Any] = {
        "actor": me,
        "item": item,
        "requested_for": requested_for,
        "description": data["description"],
        "values": data["answers"],
        "followers": followers,
    }
    try:
        problems, _ = services.check_request_input(db.session, **fields)
        if problems:
            raise FormErrors(problems)
        created = services.create_request(db.session, **fields)
    except FormErrors as exc:
        keys = {spec.key for spec in versions.published_specs(db.session, item)}
        raise _named_for_api(exc.errors, keys) from exc
    number = created.number
    db.session.commit()
    req = visible(number)
    headers = {"Location": url_for(".show", number=number), "ETag": etag(req)}
    return detail(me, req), 201, headers


@bp.post("/<number>/messages")
@reads_first  # as the page's: the checks read before the write lock is taken
@auth.token_required("write")
@bp.arguments(MessageSchema)
@bp.response(201, EntrySchema)
@documented_errors(bp, 401, 403, 404, 422, 429)
def message(data: dict[str, Any], number: str) -> Any:
    """Enviar uma mensagem

    Uma mensagem pública ("Comentários adicionais"), como na página da solicitação.
    """
    me = auth.api_user()
    req = visible(number)
    written = services.add_message(db.session, req, me, data["body"])
    body = message_entry(written, me, [])
    db.session.commit()
    return body, 201, {"Location": url_for(".request_timeline", number=number)}


def _expected_version() -> int:
    """The version the client read, from If-Match (428 without one). A tag that is no
    version of ours never matches: it is stale, as any other old tag."""
    tags = request.if_match
    if not tags or tags.star_tag:
        raise PreconditionRequired()
    found = tags.as_set(include_weak=True)
    tag = next(iter(found)) if len(found) == 1 else ""
    return int(tag) if tag.isdigit() and len(tag) < 10 else 0


@bp.post("/<number>/actions")
@auth.token_required("write")
@bp.arguments(ActionSchema)
@bp.response(200, RequestSchema)
@bp.doc(parameters=[IF_MATCH])
@documented_errors(bp, 401, 403, 404, 409, 422, 428, 429)
def act(data: dict[str, Any], number: str) -> Any:
    """Executar uma ação

    Aceitar ou rejeitar a solução, cancelar, pedir cancelamento e as ações dos atendentes:
    as de `allowed_actions`. Exige `If-Match` com a ETag lida (428 sem ela); se a solicitação
    mudou desde então, 409 `alterada_por_outra_pessoa` e nada muda. Uma ação que não se
    aplica agora: 409 `acao_nao_permitida`.
    """
    me = auth.api_user()
    req = visible(number)
    expected = _expected_version()
    try:
        services.fire(
            db.session,
            req,
            Action(data["action"]),
            actor=me,
            reason=data.get("reason"),
            expected_version=expected,
        )
    except ReasonRequired as exc:  # a field of the body, named as such
        raise ValidationError(str(exc), "reason") from exc
    db.session.commit()
    req = visible(number)
    return detail(me, req), 200, {"ETag": etag(req)}
