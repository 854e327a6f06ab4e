from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from portal import lifecycle, queries
from portal.catalog.routes import item_or_404
from portal.database import reads_first
from portal.extensions import db
from portal.lifecycle import Action, State
from portal.models import (
    Attachment,
    CatalogItem,
    PartyRelation,
    PendingUpload,
    ServiceRequest,
    TimelineEntry,
    User,
)
from portal.requests.forms import RequestFormInput, missing_required
from portal.services import requests as request_service
from portal.services import uploads
from portal.services.errors import NotFound, ServiceError, ValidationError
from portal.services.requests import FormErrors, roles_on
from portal.timeutil import format_datetime, utcnow

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


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _visible_or_404(number: str) -> ServiceRequest:
    found = queries.get_visible_request(db.session, _me(), number)
    if found is None:
        abort(404)
    return found


# ------------------------------------------------------------------ the form


def _render_form(
    item: CatalogItem,
    data: RequestFormInput | None,
    pending: list[PendingUpload],
    refused: list[str],
    status: int = 200,
) -> ResponseReturnValue:
    me = _me()
    people = queries.colleagues(db.session, me)
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
        people=people,
        chosen=chosen,
        follower_ids=set(data.follower_ids) if data else set(),
        pending=pending,
        refused=refused,
        missing=missing_required(item, data),
        errors=data.errors if data else {},
        accept=uploads.ACCEPT_ATTRIBUTE,
        allowed_files=uploads.ALLOWED_DESCRIPTION,
        max_mb=current_app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024),
    ), status


@bp.get("/catalogo/<slug>")
@login_required
def new(slug: str) -> ResponseReturnValue:
    return _render_form(item_or_404(slug), None, [], [])


@bp.post("/catalogo/<slug>")
@login_required
@reads_first
def create(slug: str) -> ResponseReturnValue:
    me = _me()
    item = item_or_404(slug)
    data = RequestFormInput.parse(request.form, item)
    staged, refused = uploads.stage_files(db.session, me, request.files.getlist("attachments"))
    pending = uploads.pending_for(db.session, me, data.upload_tokens) + staged
    phone = data.normalized_phone()
    requested_for = db.session.get(User, data.requested_for_id) if data.requested_for_id else me
    followers = list(db.session.scalars(select(User).where(User.id.in_(data.follower_ids))))
    fields = {
        "actor": me,
        "item": item,
        "requested_for": requested_for,
        "description": data.description,
        "values": data.values,
        "followers": followers,
    }
    problems, _ = request_service.check_request_input(**fields)
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
    return _render_form(item, data, pending, refused, 400)


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
        _me(),
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
    note: dict[str, str] | None = None,
    note_error: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    me = _me()
    staff = me.is_staff
    roles = roles_on(me, req)
    actions = lifecycle.allowed_actions(req.snapshot(), roles)
    closes_at = None
    if req.state == State.AWAITING_USER.value and req.resolved_at:
        closes_at = req.resolved_at + timedelta(days=current_app.config["AUTO_CLOSE_DAYS"])
    follower_ids = {f.user_id for f in req.followers}
    people_query = request.args.get("pessoa", "")[:100] if staff else ""
    pool = (
        queries.find_people(db.session, people_query)
        if staff
        else queries.colleagues(db.session, me)
    )
    candidates = [
        p
        for p in pool
        if p.id not in follower_ids and p.id not in (req.opened_by_id, req.requested_for_id)
    ]
    attachments = queries.attachments_of(db.session, req, include_internal=staff)
    entries = queries.timeline(db.session, req, include_internal=staff, attachments=attachments)
    return render_template(
        "requests/show.html",
        req=req,
        entries=entries,
        staff=staff,
        people_query=people_query,
        agents=queries.staff_members(db.session) if staff else [],
        groups=queries.support_groups(db.session) if staff else [],
        time_spent=sum(e.time_spent_minutes or 0 for e in entries) if staff else 0,
        note=note or {},
        note_error=note_error,
        now_local=format_datetime(utcnow(), current_app.config["TIMEZONE"]),
        attachments=attachments,
        actions=actions,
        lifecycle=lifecycle,
        closes_at=closes_at,
        candidates=candidates,
        can_remove_followers=staff or me.id == req.opened_by_id,
        message_error=message_error,
        accept=uploads.ACCEPT_ATTRIBUTE,
    ), status


@bp.get("/solicitacoes/<number>")
@login_required
def show(number: str) -> ResponseReturnValue:
    return render_request(_visible_or_404(number))


@bp.post("/solicitacoes/<number>/mensagem")
@login_required
@reads_first
def message(number: str) -> ResponseReturnValue:
    me = _me()
    req = _visible_or_404(number)
    staged, refused = uploads.stage_files(db.session, me, request.files.getlist("attachments"))
    if refused:
        db.session.rollback()
        return render_request(req, message_error=" ".join(refused), status=400)
    try:
        request_service.add_message(db.session, req, me, request.form.get("body", ""), staged)
    except ServiceError as exc:
        db.session.rollback()
        return render_request(req, message_error=str(exc), status=400)
    number = req.number  # read before the commit expires it (no second transaction)
    db.session.commit()
    flash(
        "Mensagem enviada." if request.form.get("body", "").strip() else "Anexo enviado.", "success"
    )
    return redirect(url_for("requests.show", number=number))


@bp.post("/solicitacoes/<number>/acoes/<action>")
@login_required
def act(number: str, action: str) -> Response:
    req = _visible_or_404(number)
    try:
        chosen = Action(action)
    except ValueError:
        abort(404)
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        version = None
    try:
        request_service.fire(
            db.session,
            req,
            chosen,
            actor=_me(),
            reason=request.form.get("reason"),
            expected_version=version,
        )
    except (lifecycle.TransitionError, ServiceError) as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    else:
        db.session.commit()
        flash(DONE_MESSAGES[chosen], "success")
    return redirect(url_for("requests.show", number=req.number))


@bp.post("/solicitacoes/<number>/acompanhantes")
@login_required
def add_follower(number: str) -> Response:
    req = _visible_or_404(number)
    user = db.session.get(User, int(request.form.get("user_id") or 0))
    try:
        if user is None:
            raise ValidationError("Escolha um usuário da lista.")
        request_service.add_follower(db.session, req, _me(), user)
    except NotFound:
        abort(404)
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    else:
        db.session.commit()
        flash(f"{user.full_name} agora acompanha esta solicitação.", "success")
    return redirect(url_for("requests.show", number=req.number))


@bp.post("/solicitacoes/<number>/acompanhantes/<int:user_id>/remover")
@login_required
def remove_follower(number: str, user_id: int) -> Response:
    req = _visible_or_404(number)
    try:
        request_service.remove_follower(db.session, req, _me(), user_id)
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    else:
        db.session.commit()
        flash("Acompanhante removido.", "success")
    return redirect(url_for("requests.show", number=req.number))


@bp.get("/solicitacoes/<number>/anexos/<int:attachment_id>")
@login_required
def download(number: str, attachment_id: int) -> Response:
    req = _visible_or_404(number)
    attachment = db.session.scalar(
        select(Attachment).where(Attachment.id == attachment_id, Attachment.request_id == req.id)
    )
    if attachment is None:
        abort(404)
    if attachment.entry_id is not None and not _me().is_staff:
        entry = db.session.get(TimelineEntry, attachment.entry_id)
        if entry is None or not entry.public:
            abort(404)
    path = uploads.storage_path(attachment.stored_name)
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=attachment.content_type or "application/octet-stream",
        as_attachment=True,
        download_name=attachment.original_name,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
