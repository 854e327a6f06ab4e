"""Ocorrências (seed 000): the form ("Cadastros > Ocorrência" and the client page's
"Cadastrar +"), the list with its filters and CSV export, editing (the author), removing (an
admin), the images, and the client search behind "Relacione o Cliente".

Staff only: everyone else gets 404 on every URL here. Each POST parses its form, calls one
service and commits; a refused form comes back with everything typed and the images already
staged (kept by token, as the request form does).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from portal.accounts import queries as accounts_queries
from portal.clients import occurrence_queries as queries
from portal.clients import occurrences as services
from portal.clients import policy, reference
from portal.clients.models import Impact, Occurrence
from portal.clients.services import UFS
from portal.core import files as uploads
from portal.core import upload_limits
from portal.core.errors import FormErrors, ServiceError, ValidationError, http_status
from portal.core.extensions import db
from portal.core.models import PendingUpload
from portal.core.storage import file_store
from portal.core.web import attempt, current_actor, int_or_none, staff_required

bp = Blueprint("occurrences", __name__)

# The service's field names, as the form names its inputs.
FIELDS = {
    "description": "descricao",
    "category": "categoria",
    "impact": "impacto",
    "occurred_on": "data",
    "client": "cliente",
    "request_number": "solicitacao",
    "attachments": "attachments",
}


@bp.before_request
def _staff_only() -> None:
    """Clients and occurrences are staff-only (policy.can_see_clients): anyone else, 404."""
    if current_user.is_authenticated and not policy.can_see_clients(current_user):
        abort(404)


@bp.app_template_global("client_page_url")
def client_page_url(org_id: int) -> str:
    """The client's page, where an occurrence is read among the client's others."""
    return url_for("clients.show", org_id=org_id)


@dataclass
class OccurrenceInput:
    """The occurrence form as typed."""

    description: str = ""
    category_id: int | None = None
    impact: str = ""
    date_text: str = ""
    occurred_on: date | None = None
    client_id: int | None = None
    client_fixed: bool = False
    client_query: str = ""
    request_number: str = ""
    upload_tokens: list[str] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, form: MultiDict[str, str]) -> OccurrenceInput:
        data = cls(
            description=form.get("descricao", "")[:10_000],
            category_id=int_or_none(form.get("categoria")),
            impact=form.get("impacto", "")[:20],
            date_text=form.get("data", "").strip()[:20],
            client_id=int_or_none(form.get("cliente")),
            client_fixed=form.get("cliente_fixo") == "1",
            client_query=form.get("cliente_busca", "")[:100],
            request_number=form.get("solicitacao", "").strip()[:20],
            upload_tokens=form.getlist("upload_tokens")[:10],
        )
        if data.date_text:
            try:
                data.occurred_on = services.parse_date(data.date_text)
            except ValidationError as exc:
                data.add_error("data", str(exc))
        return data

    @classmethod
    def of(cls, occurrence: Occurrence) -> OccurrenceInput:
        return cls(
            description=occurrence.description,
            category_id=occurrence.category_id,
            impact=occurrence.impact,
            date_text=occurrence.occurred_on.strftime("%d/%m/%Y"),
            occurred_on=occurrence.occurred_on,
            client_id=occurrence.organisation_id,
            client_fixed=True,
            request_number=occurrence.request.number if occurrence.request else "",
        )

    def add_error(self, name: str, message: str) -> None:
        if message not in self.errors.get(name, []):
            self.errors.setdefault(name, []).append(message)

    def add_service_error(self, exc: ServiceError) -> None:
        problems = exc.errors if isinstance(exc, FormErrors) else [exc]
        for problem in problems:
            name = getattr(problem, "field", None)
            if name == "occurred_on" and "data" in self.errors:
                continue  # the typed date's own message says it already
            self.add_error(FIELDS.get(name or "", "form"), str(problem))


def _picker(chosen_id: int | None, typed: str) -> dict[str, object]:
    """The client picker's context: the chosen client and the options of its select."""
    chosen = queries.client_option(db.session, chosen_id)
    options = queries.search_clients(db.session, typed)
    if chosen is not None and all(o.id != chosen.id for o in options):
        options.insert(0, chosen)
    return {
        "chosen": chosen,
        "options": options,
        "query": typed,
        "limit": queries.SEARCH_LIMIT,
    }


def _form_context(data: OccurrenceInput) -> dict[str, object]:
    return {
        "data": data,
        "errors": data.errors,
        "categories": reference.occurrence_categories(db.session),
        "impacts": list(Impact),
        "date_hint": services.DATE_HINT,
        "today": services.local_today().strftime("%d/%m/%Y"),
    }


def _render_new(
    data: OccurrenceInput, pending: list[PendingUpload], status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "occurrences/new.html",
        picker=_picker(data.client_id, data.client_query),
        pending=pending,
        accept=services.IMAGE_ACCEPT,
        max_images=services.MAX_IMAGES,
        max_mb=current_app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024),
        **_form_context(data),
    ), status


def _occurrence_or_404(occurrence_id: int) -> Occurrence:
    found = queries.get_occurrence(db.session, occurrence_id)
    if found is None:
        abort(404)
    return found


# ------------------------------------------------------------------ the form


@bp.get("/ocorrencias/nova")
@staff_required
def new() -> ResponseReturnValue:
    client_id = int_or_none(request.args.get("cliente"))
    fixed = queries.client_option(db.session, client_id) is not None
    data = OccurrenceInput(client_id=client_id if fixed else None, client_fixed=fixed)
    return _render_new(data, [])


@bp.post("/ocorrencias/nova")
@staff_required
def create() -> ResponseReturnValue:
    me = current_actor()
    data = OccurrenceInput.parse(request.form)
    pending = uploads.pending_for(db.session, me, data.upload_tokens)[: services.MAX_IMAGES]
    chosen = request.files.getlist("attachments")
    staged, refused = services.stage_images(db.session, me, chosen, len(pending))
    pending += staged
    for message in refused:
        data.add_error("attachments", message)
    if request.form.get("acao") == "buscar":  # "Buscar" (no JavaScript): show matching clients
        data.errors.pop("data", None)
        db.session.commit()
        return _render_new(data, pending)
    fields: dict[str, Any] = {
        "organisation_id": data.client_id,
        "category_id": data.category_id,
        "impact": data.impact,
        "occurred_on": data.occurred_on,
        "description": data.description,
        "request_number": data.request_number,
        "images": pending,
    }
    if data.errors:
        data.add_service_error(FormErrors(services.check_input(db.session, **fields)))
    else:
        try:
            occurrence = services.record_occurrence(db.session, me, **fields)
        except ServiceError as exc:
            if http_status(exc) == 404:
                raise
            data.add_service_error(exc)
        else:
            org_id = occurrence.organisation_id  # read before the commit expires it
            db.session.commit()
            flash("Ocorrência cadastrada.", "success")
            return redirect(client_page_url(org_id))
    db.session.commit()  # keep the images already accepted for the next try
    return _render_new(data, pending, upload_limits.refusal_status())


# ------------------------------------------------------------------ the list


@bp.get("/ocorrencias")
@staff_required
def index() -> ResponseReturnValue:
    me = current_actor()
    filters = queries.OccurrenceFilters.parse(request.args)
    page = queries.occurrence_page(
        db.session, filters, page=int_or_none(request.args.get("pagina")) or 1
    )
    images = queries.images_by_occurrence(db.session, [o.id for o in page.rows])
    return render_template(
        "occurrences/index.html",
        page=page,
        filters=filters,
        args=filters.query_args(),
        picker=_picker(filters.client_id, request.args.get("cliente_busca", "")[:100]),
        ufs=sorted(UFS),
        categories=queries.categories(db.session),
        impacts=list(Impact),
        authors=accounts_queries.staff_members(db.session),
        images=images,
        editable={o.id for o in page.rows if policy.can_edit_occurrence(me, o)},
        removes=policy.can_remove_occurrence(me),
    )


@bp.get("/ocorrencias/exportar.csv")
@staff_required
def export() -> Response:
    filters = queries.OccurrenceFilters.parse(request.args)
    engine, tz = db.engine, current_app.config["TIMEZONE"]

    def lines() -> Iterator[str]:
        # Sent after the view has returned: a session of its own, read-only, closed at the end.
        with Session(engine) as session:
            yield from queries.csv_lines(session, filters, tz)

    response = Response(lines(), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="ocorrencias.csv"'
    return response


@bp.get("/clientes/buscar")
@staff_required
def client_search() -> Response:
    typed = request.args.get("q", "")[:100]
    found = queries.search_clients(db.session, typed)
    return jsonify({"results": [option.as_json() for option in found]})


@bp.get("/ocorrencias/<int:occurrence_id>/imagens/<int:attachment_id>")
@staff_required
def image(occurrence_id: int, attachment_id: int) -> Response:
    found = queries.image_of(db.session, occurrence_id, attachment_id)
    if found is None:
        abort(404)
    return uploads.send_attachment(found)


# ------------------------------------------------------------------ edit and remove


def _editable_or_404(occurrence_id: int) -> Occurrence:
    occurrence = _occurrence_or_404(occurrence_id)
    if not policy.can_edit_occurrence(current_actor(), occurrence):
        abort(404)
    return occurrence


def _render_edit(
    occurrence: Occurrence, data: OccurrenceInput, status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "occurrences/edit.html",
        occurrence=occurrence,
        images=queries.images_by_occurrence(db.session, [occurrence.id])[occurrence.id],
        **_form_context(data),
    ), status


@bp.get("/ocorrencias/<int:occurrence_id>/editar")
@staff_required
def edit(occurrence_id: int) -> ResponseReturnValue:
    occurrence = _editable_or_404(occurrence_id)
    return _render_edit(occurrence, OccurrenceInput.of(occurrence))


@bp.post("/ocorrencias/<int:occurrence_id>/editar")
@staff_required
def save(occurrence_id: int) -> ResponseReturnValue:
    occurrence = _editable_or_404(occurrence_id)
    org_id = occurrence.organisation_id
    data = OccurrenceInput.parse(request.form)
    fields: dict[str, Any] = {
        "category_id": data.category_id,
        "impact": data.impact,
        "occurred_on": data.occurred_on,
        "description": data.description,
        "request_number": data.request_number,
    }
    if data.errors:
        problems = services.check_input(db.session, organisation_id=org_id, images=(), **fields)
        data.add_service_error(FormErrors(problems))
    else:
        _, error = attempt(
            lambda: services.edit_occurrence(db.session, current_actor(), occurrence_id, **fields)
        )
        if error is None:
            flash("Ocorrência atualizada.", "success")
            return redirect(client_page_url(org_id))
        data.add_service_error(error)
    return _render_edit(_occurrence_or_404(occurrence_id), data, 400)


def _removable_or_404(occurrence_id: int) -> Occurrence:
    if not policy.can_remove_occurrence(current_actor()):
        abort(404)
    return _occurrence_or_404(occurrence_id)


@bp.get("/ocorrencias/<int:occurrence_id>/remover")
@staff_required
def confirm_remove(occurrence_id: int) -> ResponseReturnValue:
    occurrence = _removable_or_404(occurrence_id)
    images = queries.images_by_occurrence(db.session, [occurrence.id])[occurrence.id]
    return render_template("occurrences/remove.html", occurrence=occurrence, images=images)


@bp.post("/ocorrencias/<int:occurrence_id>/remover")
@staff_required
def remove(occurrence_id: int) -> Response:
    _removable_or_404(occurrence_id)
    stored, error = attempt(
        lambda: services.remove_occurrence(db.session, current_actor(), occurrence_id)
    )
    if error is not None:
        flash(str(error), "danger")
        return redirect(url_for(".confirm_remove", occurrence_id=occurrence_id))
    for name in stored or []:  # committed: the images' bytes can go
        file_store().delete(name)
    flash("Ocorrência removida.", "success")
    return redirect(url_for(".index"))
