"""The requester side: the item form, Minhas Solicitações / Meus Acompanhamentos, and the
request page with its messages, actions, followers and files (staff use these pages too; their
own forms are in staff_views)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from portal.accounts import queries as accounts_queries
from portal.accounts.models import User
from portal.catalog import versions
from portal.catalog.formdef import FieldSpec
from portal.catalog.models import CatalogItem
from portal.catalog.routes import item_or_404
from portal.core import files as uploads
from portal.core import upload_limits
from portal.core.database import reads_first
from portal.core.errors import FormErrors, ValidationError, http_status
from portal.core.extensions import db
from portal.core.models import PendingUpload
from portal.core.web import attempt, attempt_and_flash, current_actor, int_or_none
from portal.requests import policy, presenter, queries, timeline
from portal.requests import services as request_service
from portal.requests.forms import RequestFormInput, missing_required, shown_values
from portal.requests.lifecycle import Action, State
from portal.requests.models import PartyRelation, ServiceRequest

bp = Blueprint("requests", __name__)

DONE_MESSAGES = {
    Action.ACCEPT: "Você aceitou esta solução",
    Action.REJECT: "Você rejeitou esta solução",
    Action.REQUESTER_CANCEL: "Solicitação cancelada.",
    Action.REQUEST_CANCEL: "Pedido de cancelamento enviado ao atendimento.",
    Action.START: "Atendimento iniciado.",
    Action.AWAIT_SUPPORT: "Solicitação aguardando suporte ao atendimento.",
    Action.RESUME: "Atendimento retomado.",
    Action.RESOLVE: "Solicitação resolvida; aguardando a posição do usuário final.",
    Action.CANCEL: "Solicitação cancelada.",
    Action.CONFIRM_CANCEL: "Cancelamento confirmado.",
    Action.DECLINE_CANCEL: "Pedido de cancelamento recusado.",
}


def visible_or_404(number: str) -> ServiceRequest:
    """The request as the signed-in user may see it (policy.can_view), or 404."""
    found = queries.get_visible_request(db.session, current_actor(), number)
    if found is None:
        abort(404)
    return found


# ------------------------------------------------------------------ the form


def _render_form(
    item: CatalogItem,
    specs: list[FieldSpec],
    data: RequestFormInput | None,
    pending: list[PendingUpload],
    refused: list[str],
    status: int = 200,
) -> ResponseReturnValue:
    me = current_actor()
    people = accounts_queries.colleagues(db.session, me)
    chosen_id = data.requested_for_id if data and data.requested_for_id else me.id
    chosen = next((p for p in people if p.id == chosen_id), me)
    return render_template(
        "requests/new.html",
        item=item,
        trail=[
            ("Todos os Catálogos", url_for("catalog.index")),
            *[
                (c.name, url_for("catalog.index", _anchor=f"cat-{c.id}"))
                for c in item.category.path()
            ],
            (item.name, None),
        ],
        data=data,
        specs=specs,
        values=shown_values(specs, data),
        people=people,
        followable=[p for p in people if p.id != me.id],
        chosen=chosen,
        follower_ids=set(data.follower_ids) if data else set(),
        pending=pending,
        refused=refused,
        missing=missing_required(specs, data),
        errors=data.errors if data else {},
        accept=uploads.ACCEPT_ATTRIBUTE,
        allowed_files=uploads.ALLOWED_DESCRIPTION,
        max_mb=current_app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024),
    ), status


@bp.get("/catalogo/<slug>")
@login_required
def new(slug: str) -> ResponseReturnValue:
    item = item_or_404(slug)
    return _render_form(item, versions.published_specs(db.session, item), None, [], [])


@bp.post("/catalogo/<slug>")
@login_required
@reads_first
def create(slug: str) -> ResponseReturnValue:
    me = current_actor()
    item = item_or_404(slug)
    specs = versions.published_specs(db.session, item)
    data = RequestFormInput.parse(request.form, specs)
    staged, refused = uploads.stage_files(db.session, me, request.files.getlist("attachments"))
    pending = uploads.pending_for(db.session, me, data.upload_tokens) + staged
    for message in refused:  # shown next to the attachments field
        data.add_error("attachments", message)
    phone = data.normalized_phone()
    requested_for = db.session.get(User, data.requested_for_id) if data.requested_for_id else me
    followers = list(db.session.scalars(select(User).where(User.id.in_(data.follower_ids))))
    fields: dict[str, Any] = {
        "actor": me,
        "item": item,
        "requested_for": requested_for,
        "description": data.description,
        "values": data.values,
        "followers": followers,
    }
    problems, _ = request_service.check_request_input(db.session, **fields)
    _add_problems(data, problems)
    if not data.errors and not refused:
        try:
            created = request_service.create_request(
                db.session, **fields, extra_phone=phone, uploads=pending
            )
        except FormErrors as exc:  # changed since the check above (the service checks again)
            _add_problems(data, exc.errors)
        else:
            number = created.number  # read before the commit expires it (no second transaction)
            db.session.commit()
            flash(f"Solicitação {number} registrada.", "success")
            return redirect(url_for("requests.show", number=number))
    db.session.commit()  # keep the files already accepted for the next try
    return _render_form(item, specs, data, pending, refused, upload_limits.refusal_status())


def _add_problems(data: RequestFormInput, problems: list[ValidationError]) -> None:
    for problem in problems:
        data.add_error(problem.field or "form", str(problem))


# ------------------------------------------------------------------ lists


def _list_page(relation: PartyRelation, template: str, title: str) -> str:
    args = request.args
    sort = args.get("ordem", "aberto")
    descending = args.get("dir", "desc") != "asc"
    try:
        page_number = int(args.get("pagina", "1"))
    except ValueError:
        page_number = 1
    page = queries.request_list(
        db.session,
        current_actor(),
        relation,
        number=args.get("numero", "")[:20],
        state=args.get("estado", ""),
        sort=sort,
        descending=descending,
        page=page_number,
    )
    return render_template(
        template,
        title=title,
        page=page,
        states=list(State),
        filters={"numero": args.get("numero", ""), "estado": args.get("estado", "")},
        sort=sort,
        descending=descending,
    )


@bp.get("/solicitacoes")
@login_required
def mine() -> str:
    return _list_page(PartyRelation.MINE, "requests/list.html", "Minhas Solicitações")


@bp.get("/acompanhamentos")
@login_required
def following() -> str:
    return _list_page(PartyRelation.FOLLOWING, "requests/list.html", "Meus Acompanhamentos")


# ------------------------------------------------------------------ the request page


def render_request(
    req: ServiceRequest,
    *,
    message_error: str | None = None,
    message_body: str = "",
    message_files_error: str | None = None,
    message_pending: list[PendingUpload] | None = None,
    note: dict[str, str] | None = None,
    note_error: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    context = presenter.request_page(
        db.session,
        current_actor(),
        req,
        people_query=request.args.get("pessoa", "")[:100],
        message_error=message_error,
        message_body=message_body,
        message_files_error=message_files_error,
        message_pending=message_pending or [],
        note=note,
        note_error=note_error,
    )
    return render_template("requests/show.html", **context), status


@bp.get("/solicitacoes/<number>")
@login_required
def show(number: str) -> ResponseReturnValue:
    return render_request(visible_or_404(number))


@bp.post("/solicitacoes/<number>/mensagem")
@login_required
@reads_first
def message(number: str) -> ResponseReturnValue:
    me = current_actor()
    req = visible_or_404(number)
    staged, refused = uploads.stage_files(db.session, me, request.files.getlist("attachments"))
    tokens = request.form.getlist("upload_tokens")[:20]
    pending = uploads.pending_for(db.session, me, tokens) + staged
    body = request.form.get("body", "")
    if refused:
        db.session.commit()  # keep the files already accepted for the next try
        return render_request(
            req,
            message_body=body,
            message_files_error=" ".join(refused),
            message_pending=pending,
            status=upload_limits.refusal_status(),
        )
    number = req.number  # read now: after the commit it would take a second transaction
    _, error = attempt(lambda: request_service.add_message(db.session, req, me, body, pending))
    if error is not None:
        return render_request(
            req, message_error=str(error), message_body=body, status=http_status(error)
        )
    flash("Mensagem enviada." if body.strip() else "Anexo enviado.", "success")
    return redirect(url_for("requests.show", number=number))


@bp.post("/solicitacoes/<number>/acoes/<action>")
@login_required
def act(number: str, action: str) -> Response:
    req = visible_or_404(number)
    try:
        chosen = Action(action)
    except ValueError:
        abort(404)
    attempt_and_flash(
        lambda: request_service.fire(
            db.session,
            req,
            chosen,
            actor=current_actor(),
            reason=request.form.get("reason"),
            expected_version=int_or_none(request.form.get("version")),
        ),
        DONE_MESSAGES[chosen],
    )
    return redirect(url_for("requests.show", number=req.number))


@bp.post("/solicitacoes/<number>/acompanhantes")
@login_required
def add_follower(number: str) -> Response:
    req = visible_or_404(number)
    user = db.session.get(User, int_or_none(request.form.get("user_id")) or 0)

    def name_follower() -> object:
        if user is None:
            raise ValidationError("Escolha um usuário da lista.")
        return request_service.add_follower(db.session, req, current_actor(), user)

    attempt_and_flash(
        name_follower,
        lambda _: f"{user.full_name} agora acompanha esta solicitação." if user else "",
    )
    return redirect(url_for("requests.show", number=req.number))


@bp.post("/solicitacoes/<number>/acompanhantes/<int:user_id>/remover")
@login_required
def remove_follower(number: str, user_id: int) -> Response:
    req = visible_or_404(number)
    attempt_and_flash(
        lambda: request_service.remove_follower(db.session, req, current_actor(), user_id),
        "Acompanhante removido.",
    )
    return redirect(url_for("requests.show", number=req.number))


@bp.get("/solicitacoes/<number>/anexos/<int:attachment_id>")
@login_required
def download(number: str, attachment_id: int) -> Response:
    req = visible_or_404(number)
    found = timeline.file_of(db.session, req, attachment_id)
    if found is None:
        abort(404)
    attachment, entry_public = found
    if not policy.can_download(current_actor(), req, entry_public=entry_public):
        abort(404)
    return uploads.send_attachment(attachment)
