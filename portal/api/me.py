"""GET /api/v1/me: the token's user, so a client can check its token and whom it acts as."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint

from portal.api import auth
from portal.api.problems import documented_errors

bp = Blueprint("api_me", __name__, url_prefix="/api/v1", description="O usuário do token")
auth.protect(bp)


class OrganisationSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    uf = ma.fields.String(allow_none=True)


class MeSchema(ma.Schema):
    """Who the token acts as (never the CPF)."""

    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    role = ma.fields.String(required=True, metadata={"enum": ["requester", "agent", "admin"]})
    organisation = ma.fields.Nested(OrganisationSchema, required=True)
    scopes = ma.fields.List(ma.fields.String(), required=True)


@bp.get("/me")
@bp.response(200, MeSchema)
@documented_errors(bp, 401, 429)
def me() -> dict[str, Any]:
    """O usuário do token

    O usuário em nome de quem o token age, com o seu papel, o seu ente e os escopos do token.
    """
    user = auth.api_user()
    use = auth.current_token()
    return {
        "id": user.id,
        "name": user.full_name,
        "role": user.role.value,
        "organisation": {
            "id": user.organisation.id,
            "name": user.organisation.name,
            "uf": user.organisation.uf,
        },
        "scopes": sorted(use.scopes) if use else [],
    }
