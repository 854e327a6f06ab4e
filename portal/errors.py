"""Error pages in Portuguese (JSON for clients that ask for it)."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

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


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> tuple[Response | str, int]:
        app.logger.warning("CSRF refused: %s", error.description)
        return _render(400, "Sua sessão de formulário expirou ou é inválida. Recarregue a página.")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[Response | str, int] | HTTPException:
        code = error.code or 500
        if code < 400:
            return error
        if code in (403, 404) and current_user.is_authenticated:
            # Refused or unknown objects are logged with who asked (ASVS V16.3).
            security_log.info(
                "refused %s %s user=%s address=%s",
                request.method,
                request.path,
                current_user.id,
                request.remote_addr,
            )
        return _render(code, MESSAGES.get(code, error.description or MESSAGES[500]))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Response | str, int]:
        app.logger.exception("unhandled error", exc_info=error)
        from portal.extensions import db

        db.session.rollback()
        return _render(500, MESSAGES[500])
