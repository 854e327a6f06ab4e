"""Perfil > Tokens de acesso: the person's API tokens (list, Criar, Revogar).

A new token is shown on the page that answers the POST, once: it is never stored and never
put in a redirect or a flash message. Only the owner sees and revokes a token; anyone else's
id answers 404 (portal.accounts.tokens).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from portal.accounts import tokens
from portal.core.errors import FormErrors, ValidationError
from portal.core.extensions import db
from portal.core.web import attempt, attempt_and_flash, current_actor

bp = Blueprint("account_tokens", __name__, url_prefix="/perfil")


def _render(
    status: int = 200,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    created: tokens.CreatedToken | None = None,
) -> tuple[str, int]:
    lines = tokens.mine(db.session, current_actor())
    return render_template(
        "accounts/tokens.html",
        lines=lines,
        values=values or {"scopes": "read"},
        errors=errors or {},
        created=created,
        scope_choices=tokens.SCOPE_CHOICES,
        max_days=tokens.MAX_DAYS,
        api_docs=url_for("api_docs_page.docs"),
    ), status


@bp.get("/tokens")
@login_required
def index() -> ResponseReturnValue:
    return _render()


@bp.post("/tokens")
@login_required
def create() -> ResponseReturnValue:
    values = {k: request.form.get(k, "").strip() for k in ("name", "scopes", "expires_on")}
    created, error = attempt(
        lambda: tokens.create(
            db.session,
            current_actor(),
            name=values["name"],
            scopes=values["scopes"],
            expires_on=values["expires_on"],
            timezone=current_app.config["TIMEZONE"],
        )
    )
    if error is not None:
        return _render(400, values=values, errors=_by_field(error))
    return _render(created=created)


@bp.post("/tokens/<int:token_id>/revogar")
@login_required
def revoke(token_id: int) -> ResponseReturnValue:
    # Another person's id raises NotFound, which the error handler answers with 404.
    attempt_and_flash(
        lambda: tokens.revoke(db.session, current_actor(), token_id),
        "Token revogado. Quem o usava não tem mais acesso à API com ele.",
    )
    return redirect(url_for(".index"))


def _by_field(error: Any) -> dict[str, list[str]]:
    parts = error.errors if isinstance(error, FormErrors) else [error]
    found: dict[str, list[str]] = {}
    for part in parts:
        field = part.field if isinstance(part, ValidationError) and part.field else "name"
        found.setdefault(field, []).append(str(part))
    return found
