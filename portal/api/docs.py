"""GET /api/v1/docs: Swagger UI over /api/v1/openapi.json, served from static/vendor.

A page of its own (not a portal page: no header, no sign-in), with no inline script, so the
portal's Content-Security-Policy (`script-src 'self'`) holds: static/js/api-docs.js starts
Swagger UI. The spec itself is public; every operation needs a token.
"""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask.typing import ResponseReturnValue

bp = Blueprint("api_docs_page", __name__, url_prefix="/api/v1")


@bp.get("/docs")
def docs() -> ResponseReturnValue:
    return render_template("api/docs.html", spec_url=url_for("api-docs.openapi_json"))
