"""Errors to HTTP, in one place: error pages in Portuguese, JSON for clients that ask for it.

A domain error (portal.core.errors) that a view does not handle itself becomes the page for
the status `http_status` gives it; HTTP errors and crashes get their own pages here too.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.wrappers import Response

from portal.core import upload_limits
from portal.core.errors import ServiceError, http_status

security_log = logging.getLogger("portal.security")

MESSAGES = {
    400: "Requisição inválida.",
    403: "Você não tem permissão para acessar esta página.",
    404: "Página não encontrada.",
    405: "Método não permitido.",
    413: "O envio é maior que o limite permitido. Envie arquivos menores.",
    429: "Muitas tentativas em pouco tempo. Aguarde alguns minutos e tente novamente.",
    500: "Ocorreu um erro inesperado. Tente novamente em instantes.",
}


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def _render(code: int, message: str) -> tuple[Response | str, int]:
    if _wants_json():
        return jsonify(error=message, status=code), code
    return render_template("errors/error.html", code=code, message=message), code


def _log_refusal() -> None:
    # Refused or unknown objects are logged with who asked (ASVS V16.3).
    if current_user.is_authenticated:
        security_log.info(
            "refused %s %s user=%s address=%s",
            request.method,
            request.path,
            current_user.id,
            request.remote_addr,
        )


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> tuple[Response | str, int]:
        app.logger.warning("CSRF refused: %s", error.description)
        return _render(400, "Sua sessão de formulário expirou ou é inválida. Recarregue a página.")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[Response | str, int] | Response | HTTPException:
        from portal.api import is_api_request, problems

        if is_api_request():
            # An address or a method the API does not route never reached a blueprint, so its
            # error handlers: it still answers problem+json (with Allow on a 405).
            return problems.from_http(error)
        code = error.code or 500
        if code < 400:
            return error
        if code in (403, 404):
            _log_refusal()
        if code == 413:  # a body above the ceiling: say how big a form and a file may be
            return _render(413, upload_limits.too_large_message())
        if code == 400 and error.description != BadRequest.description:
            return _render(400, error.description or MESSAGES[400])  # our own, in Portuguese
        return _render(code, MESSAGES.get(code, error.description or MESSAGES[500]))

    @app.errorhandler(ServiceError)
    def _domain(error: ServiceError) -> tuple[Response | str, int]:
        from portal.core.extensions import db

        db.session.rollback()  # the operation failed: nothing of it is kept
        code = http_status(error)
        if code == 404:
            _log_refusal()
            return _render(404, MESSAGES[404])
        return _render(code, str(error))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Response | str, int]:
        app.logger.exception("unhandled error", exc_info=error)
        from portal.core.extensions import db

        db.session.rollback()
        return _render(500, MESSAGES[500])
