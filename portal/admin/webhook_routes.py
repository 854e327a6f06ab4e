"""Administração > Webhooks: the list, new and edit (events as checkboxes, the secret shown
once when generated), deactivate, and each webhook's delivery log with "Reenviar".

Admins only: everyone else gets 404. Each POST parses the form, calls one service of
portal.webhooks.services and commits (through `attempt`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from portal.core.errors import FormErrors
from portal.core.extensions import db
from portal.core.web import admin_required, attempt, attempt_and_flash, current_actor, int_or_none
from portal.webhooks import services
from portal.webhooks.events import EVENTS
from portal.webhooks.models import DeliveryStatus

bp = Blueprint("admin_webhooks", __name__, url_prefix="/admin/webhooks")

STATUS_LABELS = {
    DeliveryStatus.PENDING.value: "Pendente",
    DeliveryStatus.DELIVERED.value: "Entregue",
    DeliveryStatus.FAILED.value: "Falhou",
}


def _by_field(error: Any) -> dict[str, list[str]]:
    parts = error.errors if isinstance(error, FormErrors) else [error]
    found: dict[str, list[str]] = {}
    for part in parts:
        found.setdefault(getattr(part, "field", None) or "form", []).append(str(part))
    return found


def _values() -> dict[str, Any]:
    return {
        "url": request.form.get("url", "")[:600],
        "events": [e for e in request.form.getlist("events") if e in EVENTS],
        "active": request.form.get("ativo") == "1",
    }


def _form(
    values: dict[str, Any], errors: dict[str, list[str]], webhook_id: int | None, status: int
) -> ResponseReturnValue:
    return render_template(
        "admin/webhooks/form.html",
        values=values,
        errors=errors,
        webhook_id=webhook_id,
        events=EVENTS,
    ), status


@bp.get("/")
@admin_required
def index() -> ResponseReturnValue:
    lines = services.webhook_lines(db.session, current_actor())
    return render_template(
        "admin/webhooks/index.html", lines=lines, events=EVENTS, status_labels=STATUS_LABELS
    )


@bp.get("/novo")
@admin_required
def new() -> ResponseReturnValue:
    return _form({"url": "", "events": list(EVENTS), "active": True}, {}, None, 200)


def _show(webhook_id: int, secret: str | None = None) -> ResponseReturnValue:
    actor = current_actor()
    hook = services.get_webhook(db.session, actor, webhook_id)
    page = max(int_or_none(request.args.get("pagina")) or 1, 1)
    lines, more = services.attempt_log(db.session, actor, webhook_id, page)
    return render_template(
        "admin/webhooks/show.html",
        hook=hook,
        lines=lines,
        page=page,
        more=more,
        secret=secret,
        events=EVENTS,
        status_labels=STATUS_LABELS,
        failed=DeliveryStatus.FAILED.value,
    )


@bp.post("/novo")
@admin_required
def create() -> ResponseReturnValue:
    values = _values()
    saved, error = attempt(
        lambda: services.create(
            db.session, current_actor(), url=values["url"], events=values["events"]
        )
    )
    if error is not None or saved is None:
        return _form(values, _by_field(error), None, 400)
    # Rendered, not redirected: the secret is shown this once and never stored in clear.
    return _show(saved.id, saved.secret)


@bp.get("/<int:webhook_id>")
@admin_required
def show(webhook_id: int) -> ResponseReturnValue:
    return _show(webhook_id)


@bp.get("/<int:webhook_id>/editar")
@admin_required
def edit(webhook_id: int) -> ResponseReturnValue:
    hook = services.get_webhook(db.session, current_actor(), webhook_id)
    values = {"url": hook.url, "events": hook.event_list, "active": hook.active}
    return _form(values, {}, webhook_id, 200)


@bp.post("/<int:webhook_id>/editar")
@admin_required
def save(webhook_id: int) -> ResponseReturnValue:
    values = _values()
    new_secret = request.form.get("acao") == "novo-segredo"
    saved, error = attempt(
        lambda: services.update_webhook(
            db.session,
            current_actor(),
            webhook_id,
            url=values["url"],
            events=values["events"],
            active=values["active"],
            new_secret=new_secret,
        )
    )
    if error is not None or saved is None:
        return _form(values, _by_field(error), webhook_id, 400)
    if saved.secret:
        return _show(webhook_id, saved.secret)
    flash("Webhook atualizado.", "success")
    return redirect(url_for(".show", webhook_id=webhook_id))


@bp.post("/<int:webhook_id>/desativar")
@admin_required
def deactivate(webhook_id: int) -> Response:
    attempt_and_flash(
        lambda: services.deactivate(db.session, current_actor(), webhook_id),
        "Webhook desativado: nenhum evento novo será enviado a ele.",
    )
    return redirect(url_for(".show", webhook_id=webhook_id))


@bp.post("/<int:webhook_id>/entregas/<int:delivery_id>/reenviar")
@admin_required
def resend(webhook_id: int, delivery_id: int) -> Response:
    attempt_and_flash(
        lambda: services.resend(db.session, current_actor(), webhook_id, delivery_id),
        "Entrega colocada de novo na fila.",
    )
    return redirect(url_for(".show", webhook_id=webhook_id))
