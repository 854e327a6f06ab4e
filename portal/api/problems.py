"""API errors as RFC 9457 problem details (`application/problem+json`), in one place.

Every error an API blueprint raises (our ServiceErrors, HTTP errors, webargs' 422 for bad
input, Flask-Limiter's 429, a crash) is answered here with a stable `code`, a Portuguese
`detail` and, for invalid input, `errors` naming each field as the HTML forms do. The HTML
pages keep their own handlers (core/http_errors.py): these are registered on the API
blueprints only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import marshmallow as ma
from flask import Blueprint, current_app, jsonify
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.wrappers import Response

from portal.core import upload_limits
from portal.core.errors import (
    FormErrors,
    ServiceError,
    StaleObject,
    ValidationError,
    http_status,
)
from portal.core.extensions import db
from portal.core.files import safe_filename

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

# status -> (code, title); the code is part of the API's contract and never changes.
KINDS: dict[int, tuple[str, str]] = {
    400: ("requisicao_invalida", "Requisição inválida"),
    401: ("nao_autenticado", "Não autenticado"),
    403: ("proibido", "Acesso negado"),
    404: ("nao_encontrado", "Não encontrado"),
    405: ("metodo_nao_permitido", "Método não permitido"),
    409: ("conflito", "Conflito"),
    413: ("muito_grande", "Conteúdo grande demais"),
    415: ("tipo_nao_suportado", "Tipo de conteúdo não suportado"),
    422: ("dados_invalidos", "Dados inválidos"),
    428: ("if_match_obrigatorio", "Pré-condição exigida"),
    429: ("muitas_requisicoes", "Muitas requisições"),
    500: ("erro_interno", "Erro interno"),
}
DETAILS = {
    400: "A requisição não pôde ser entendida.",
    401: "Envie um token de acesso válido no cabeçalho Authorization: Bearer <token>.",
    403: "O token não permite esta operação.",
    404: "O recurso não existe ou você não tem acesso a ele.",
    405: "Este endereço não aceita este método.",
    409: "A operação não se aplica ao estado atual do recurso.",
    413: "O envio é maior que o limite permitido.",
    415: "Envie o corpo como application/json.",
    422: "Alguns campos têm valores inválidos.",
    428: "Envie o cabeçalho If-Match com a ETag mais recente do recurso.",
    429: "Muitas requisições em pouco tempo. Aguarde e tente novamente.",
    500: "Ocorreu um erro inesperado. Tente novamente em instantes.",
}
# marshmallow's and webargs' own messages, as a person reads them here.
FIELD_MESSAGES = {
    "Missing data for required field.": "Campo obrigatório.",
    "Not a valid integer.": "Informe um número inteiro.",
    "Not a valid string.": "Informe um texto.",
    "Not a valid boolean.": "Informe true ou false.",
    "Unknown field.": "Campo desconhecido.",
    "Field may not be null.": "O campo não pode ser nulo.",
    "Invalid input type.": "Tipo de valor inválido.",
}


class FieldErrorSchema(ma.Schema):
    field = ma.fields.String(required=True, metadata={"description": "O campo com problema"})
    message = ma.fields.String(required=True, metadata={"description": "O que corrigir"})


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, with the portal's stable `code`."""

    type = ma.fields.String(required=True, metadata={"description": "URI estável do tipo"})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(required=True, metadata={"description": "Explicação em português"})
    code = ma.fields.String(required=True, metadata={"description": "Código estável"})
    errors = ma.fields.List(
        ma.fields.Nested(FieldErrorSchema),
        metadata={"description": "Os campos inválidos (erros de validação)"},
    )


def problem(
    status: int,
    *,
    code: str | None = None,
    detail: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """One problem+json response."""
    default_code, title = KINDS.get(status, KINDS[500] if status >= 500 else KINDS[400])
    code = code or default_code
    body: dict[str, Any] = {
        "type": f"{current_app.config['BASE_URL']}/problemas/{code}",
        "title": title,
        "status": status,
        "detail": detail or DETAILS.get(status, DETAILS[400]),
        "code": code,
    }
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _field_errors(messages: Any, prefix: str = "") -> list[dict[str, str]]:
    """webargs' {location: {field: [messages]}} (nested for nested fields) as a flat list."""
    found: list[dict[str, str]] = []
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            found.extend(_field_errors(value, name))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        found.extend({"field": prefix, "message": FIELD_MESSAGES.get(m) or m} for m in messages)
    elif isinstance(messages, str):
        found.append({"field": prefix, "message": FIELD_MESSAGES.get(messages) or messages})
    return found


LOCATIONS = {"query", "json", "form", "files", "headers"}


def _strip_location(messages: Any) -> Any:
    # webargs keys by location first ("query", "json"); clients know fields, not locations.
    if isinstance(messages, Mapping) and set(messages) <= LOCATIONS:
        merged: dict[str, Any] = {}
        for part in messages.values():
            if isinstance(part, Mapping):
                merged.update(part)
        return merged
    return messages


def from_http(error: HTTPException) -> Response | HTTPException:
    status = error.code or 500
    if status < 400:  # a redirect (a missing trailing slash) stays one
        return error
    data = getattr(error, "data", None) or {}
    if status == 422 and "messages" in data:
        return problem(422, errors=_field_errors(_strip_location(data["messages"])))
    headers: dict[str, str] = {}
    if status == 405 and error.get_response().headers.get("Allow"):
        headers["Allow"] = error.get_response().headers["Allow"]
    if status == 429:
        retry = error.get_response().headers.get("Retry-After")
        if retry:
            headers["Retry-After"] = retry
    if status == 400 and error.description != BadRequest.description:
        return problem(400, detail=error.description, headers=headers)
    return problem(status, headers=headers)


# A domain error whose problem needs its own stable code (besides its status's): looked up
# along the error's classes, so a subclass shares its parent's code unless it has one.
ERROR_CODES: dict[type[ServiceError], str] = {StaleObject: "alterada_por_outra_pessoa"}


def _code_of(error: ServiceError) -> str | None:
    for cls in type(error).__mro__:
        if cls in ERROR_CODES:
            return ERROR_CODES[cls]
    return None


def from_service(error: ServiceError) -> Response:
    db.session.rollback()  # the operation failed: nothing of it is kept
    if isinstance(error, ValidationError):
        parts = error.errors if isinstance(error, FormErrors) else [error]
        errors = [{"field": e.field or "", "message": str(e)} for e in parts]
        return problem(422, detail=str(parts[0]) if len(parts) == 1 else None, errors=errors)
    status = http_status(error)
    if status == 404:
        return problem(404)  # the same answer whether it does not exist or is not theirs
    return problem(status, code=_code_of(error), detail=str(error))


def unexpected(error: Exception) -> Response:
    log.exception("unhandled API error", exc_info=error)
    db.session.rollback()
    return problem(500)


def oversize_upload() -> Response | None:
    """A 413 naming the file parts over the per-file limit (upload_limits kept only their
    first bytes), or None when every file fits."""
    too_big = upload_limits.oversize_files()
    if not too_big:
        return None
    limit = upload_limits.describe_size(current_app.config["MAX_UPLOAD_BYTES"])
    names = ", ".join(f"“{safe_filename(name)}”" for name in too_big)
    return problem(413, detail=f"Maior que o limite de {limit} por arquivo: {names}.")


def register(bp: Blueprint) -> None:
    """Answer every error of this API blueprint as problem+json."""
    bp.register_error_handler(HTTPException, from_http)
    bp.register_error_handler(ServiceError, from_service)
    bp.register_error_handler(Exception, unexpected)


def documented_errors(bp: Any, *statuses: int) -> Any:
    """Name the problem responses an operation may give in the OpenAPI document (each one
    the shared component for its status, whose body is a Problem)."""

    def decorate(view: Any) -> Any:
        for status in statuses:
            view = bp.alt_response(status, response=HTTPStatus(status).name)(view)
        return view

    return decorate
