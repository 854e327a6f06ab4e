"""REST API v1 under /api/v1: flask-smorest blueprints over the areas' services and policies.

flask-smorest keeps our Flask app and blueprints, generates the OpenAPI 3 document from the
marshmallow schemas of each view, and validates input (422) and shapes output from the same
schemas. One module per resource; each blueprint authenticates with a bearer token
(portal/api/auth.py) and answers errors as problem+json (portal/api/problems.py).
"""

from __future__ import annotations

import http
from typing import Any

from apispec import BasePlugin
from flask import Flask, request
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from portal.api import auth
from portal.api.problems import PROBLEM_JSON, ProblemSchema
from portal.core.extensions import csrf, limiter
from portal.core.text_input import DatabaseIdConverter

API_PREFIX = "/api/v1"
BEARER = {"type": "http", "scheme": "bearer", "description": "Token de acesso pessoal (pat_...)"}


# A documented example for each path argument, by name: what a request number, a catalog slug
# and an article's ref look like (the documentation page pre-fills them, and Schemathesis's
# examples phase calls with them, reaching real objects on its test data).
PATH_EXAMPLES: dict[str, Any] = {"number": "CS0000001", "slug": "gerid", "ref": "KB0000001"}


class PathExamples(BasePlugin):
    """An apispec plugin, after flask-smorest's: an `example` on each path parameter."""

    def path_helper(
        self,
        path: str | None = None,
        operations: dict[str, Any] | None = None,
        parameters: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        for parameter in parameters or []:
            if not isinstance(parameter, dict) or parameter.get("in") != "path":
                continue
            name = parameter.get("name", "")
            example = PATH_EXAMPLES.get(name, 1 if name.endswith("_id") else None)
            if example is not None:
                parameter.setdefault("example", example)


class PortalApi(Api):
    """flask-smorest's Api with problem+json errors, documented as such."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        # flask-smorest would answer every HTTP error of the whole app as JSON; the pages keep
        # their HTML errors, and each API blueprint registers problems.register instead.
        return None

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            if status < 400:
                continue
            response: dict[str, Any] = {"description": status.phrase, "schema": ProblemSchema}
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Erro (problem+json)", "schema": ProblemSchema}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def is_api_request() -> bool:
    """Whether this request is the API's (whose user comes from a token, never a cookie)."""
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def init_app(app: Flask) -> None:
    """Register the API's blueprints, its OpenAPI document and its documentation page."""
    from portal.api import (
        catalog,
        clients,
        docs,
        knowledge,
        me,
        occurrences,  # noqa: F401  (its routes join api_clients.bp)
        request_actions,  # noqa: F401  (its routes join api_requests.bp)
        request_files,  # noqa: F401  (its routes join api_requests.bp)
        request_lists,
    )
    from portal.api import requests as api_requests

    app.config.setdefault("API_TITLE", "Portal de Atendimento")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", API_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {"description": "API REST do Portal de Atendimento. Erros: RFC 9457."},
            "components": {"securitySchemes": {"bearerAuth": BEARER}},
            "security": [{"bearerAuth": []}],
        },
    )
    api = PortalApi(app, spec_kwargs={"extra_plugins": [PathExamples()]})
    # Every `<int:...>` is bounded (core/text_input.py): the document says so.
    api.register_converter(
        DatabaseIdConverter,
        lambda converter: {"type": "integer", "minimum": 0, "maximum": converter.max},
    )
    for blueprint in (
        me.bp,
        catalog.bp,
        api_requests.bp,
        request_lists.queue_bp,
        knowledge.bp,
        clients.bp,
    ):
        # Safe only because the API ignores the session cookie (auth.py): a forged cross-site
        # request carries no token, so there is nothing for CSRF to protect here.
        csrf.exempt(blueprint)
        limiter.limit(auth.rate_limit, key_func=auth.rate_limit_key)(blueprint)
        api.register_blueprint(blueprint)
    app.register_blueprint(docs.bp)
