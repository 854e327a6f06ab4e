"""The staff side: the Fila de Atendimento, assignment and notes (agents and admins only)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from portal.accounts import queries as people
from portal.accounts.models import SupportGroup, User
from portal.catalog import queries as catalog_queries
from portal.clients.models import Organisation
from portal.core.errors import ValidationError, http_status
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.core.web import attempt, attempt_and_flash, current_actor, int_or_none, staff_required
from portal.requests import lifecycle
from portal.requests import queue as queue_queries
from portal.requests import services as request_service
from portal.requests.lifecycle import State
from portal.requests.models import ServiceRequest
from portal.requests.views import render_request, visible_or_404

bp = Blueprint("staff", __name__)

STALE_AFTER_DAYS = 2


@bp.get("/atendimento")
@staff_required
def queue() -> str:
    args = request.args
    filters = queue_queries.QueueFilters(
        state=args.get("estado", ""),
        group_id=int_or_none(args.get("grupo")),
        assigned=args.get("atribuido", "qualquer"),
        item_id=int_or_none(args.get("servico")),
        organisation=args.get("organizacao", "")[:100],
        client_id=int_or_none(args.get("cliente")),
        text=args.get("texto", "")[:100],
        oldest_first=args.get("ordem") == "antigas",
    )
    me = current_actor()
    page = queue_queries.agent_queue(
        db.session, me, filters, page=int_or_none(args.get("pagina")) or 1
    )
    # The group filter offers active groups only: an archived one names old requests only.
    if me.is_admin:
        groups = people.support_groups(db.session)
    else:
        groups = sorted((g for g in me.groups if g.active), key=lambda g: g.name)
    return render_template(
        "requests/staff/queue.html",
        page=page,
        filters=filters,
        args=args,
        counters=queue_queries.queue_counters(db.session, me),
        states=list(State),
        groups=groups,
        items=catalog_queries.items_by_name(db.session),
        stale=_stale(page.rows),
        client=db.session.get(Organisation, filters.client_id) if filters.client_id else None,
    )


def _stale(rows: list[ServiceRequest]) -> dict[int, int]:
    """Days idle of the rows that wait on us and sat for STALE_AFTER_DAYS or more."""
    now = utcnow()
    idle = {row.id: (now - row.updated_at) // timedelta(days=1) for row in rows}
    return {
        row.id: idle[row.id]
        for row in rows
        if lifecycle.waits_on_support(row.snapshot()) and idle[row.id] >= STALE_AFTER_DAYS
    }


@bp.post("/solicitacoes/<number>/atribuir")
@staff_required
def assign(number: str) -> Response:
    req = visible_or_404(number)
    me = current_actor()
    form = request.form
    if form.get("to_me"):
        assignee: User | None = me
    else:
        assignee = db.session.get(User, int_or_none(form.get("assignee_id")) or 0)
    group = db.session.get(SupportGroup, int_or_none(form.get("group_id")) or 0)
    attempt_and_flash(
        lambda: request_service.assign(
            db.session,
            req,
            me,
            assignee=assignee,
            group=group,
            reason=form.get("reason"),
            expected_version=int_or_none(form.get("version")),
        ),
        "Atribuição registrada.",
    )
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


def _minutes(raw: str) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        raise ValidationError(
            "Informe o tempo gasto em minutos (0 ou mais).", "time_spent"
        ) from None


@bp.post("/solicitacoes/<number>/notas")
@staff_required
def add_note(number: str) -> ResponseReturnValue:
    req = visible_or_404(number)
    form = request.form

    def write_note() -> object:
        minutes = _minutes(form.get("time_spent", "").strip())
        occurred = _occurred_at(form.get("occurred_at", ""))
        if form.get("occurred_at") and occurred is None:
            raise ValidationError("Data da ocorrência inválida.", "occurred_at")
        return request_service.add_note(
            db.session,
            req,
            current_actor(),
            form.get("body", ""),
            public=bool(form.get("public")),
            send_email=bool(form.get("send_email")),
            time_spent_minutes=minutes,
            occurred_at=occurred,
        )

    number = req.number  # read now: after the commit it would take a second transaction
    _, error = attempt(write_note)
    if error is None:
        flash("Nota registrada.", "success")
        return redirect(url_for("requests.show", number=number))
    # Show the page again with everything the agent typed.
    return render_request(req, note=dict(form), note_error=str(error), status=http_status(error))
