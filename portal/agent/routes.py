from __future__ import annotations

from datetime import datetime
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from portal import queries
from portal.extensions import db
from portal.lifecycle import State
from portal.models import CatalogItem, ServiceRequest, SupportGroup, User
from portal.requests.routes import render_request
from portal.services import requests as request_service
from portal.services.errors import ServiceError

bp = Blueprint("agent", __name__)


def staff_required(view: Any) -> Any:
    """Agents and admins only; anyone else gets 404, as for objects they cannot see."""

    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_staff:
            abort(404)
        return view(*args, **kwargs)

    return wrapper


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def _request_or_404(number: str) -> ServiceRequest:
    found = queries.get_visible_request(db.session, _me(), number)
    if found is None:
        abort(404)
    return found


@bp.get("/atendimento")
@staff_required
def queue() -> str:
    args = request.args
    filters = queries.QueueFilters(
        state=args.get("estado", ""),
        group_id=_int(args.get("grupo")),
        assigned=args.get("atribuido", "qualquer"),
        item_id=_int(args.get("servico")),
        organisation=args.get("organizacao", "")[:100],
        text=args.get("texto", "")[:100],
        oldest_first=args.get("ordem") == "antigas",
    )
    me = _me()
    page = queries.agent_queue(db.session, me, filters, page=_int(args.get("pagina")) or 1)
    groups = queries.support_groups(db.session)
    items = list(db.session.scalars(select(CatalogItem).order_by(CatalogItem.name)))
    return render_template(
        "agent/queue.html",
        page=page,
        filters=filters,
        args=args,
        counters=queries.queue_counters(db.session, me),
        states=list(State),
        groups=groups if me.is_admin else sorted(me.groups, key=lambda g: g.name),
        items=items,
        stale_after_days=2,
    )


@bp.post("/solicitacoes/<number>/atribuir")
@staff_required
def assign(number: str) -> Response:
    req = _request_or_404(number)
    me = _me()
    form = request.form
    if form.get("to_me"):
        assignee: User | None = me
    else:
        assignee = db.session.get(User, _int(form.get("assignee_id")) or 0)
    group = db.session.get(SupportGroup, _int(form.get("group_id")) or 0)
    try:
        request_service.assign(
            db.session,
            req,
            me,
            assignee=assignee,
            group=group,
            reason=form.get("reason"),
            expected_version=_int(form.get("version")),
        )
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    else:
        db.session.commit()
        flash("Atribuição registrada.", "success")
    return redirect(url_for("requests.show", number=req.number))


def _occurred_at(raw: str) -> datetime | None:
    """`datetime-local` input, in the portal's time zone."""
    if not raw:
        return None
    try:
        local = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return local.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))


@bp.post("/solicitacoes/<number>/notas")
@staff_required
def add_note(number: str) -> ResponseReturnValue:
    req = _request_or_404(number)
    form = request.form
    minutes_raw = form.get("time_spent", "").strip()
    try:
        minutes = int(minutes_raw) if minutes_raw else None
        occurred = _occurred_at(form.get("occurred_at", ""))
        if form.get("occurred_at") and occurred is None:
            raise ServiceError("Data da ocorrência inválida.")
        request_service.add_note(
            db.session,
            req,
            _me(),
            form.get("body", ""),
            public=bool(form.get("public")),
            send_email=bool(form.get("send_email")),
            time_spent_minutes=minutes,
            occurred_at=occurred,
        )
    except ValueError:
        error = "Informe o tempo gasto em minutos (0 ou mais)."
    except ServiceError as exc:
        error = str(exc)
    else:
        db.session.commit()
        flash("Nota registrada.", "success")
        return redirect(url_for("requests.show", number=req.number))
    db.session.rollback()
    # Show the page again with everything the agent typed.
    return render_request(req, note=dict(form), note_error=error, status=400)
