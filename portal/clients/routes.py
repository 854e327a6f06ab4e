"""The client list (/clientes) and the client page ("Client 360", /clientes/<id>).

Staff only, and only for those policy.can_see_clients allows; anyone else gets 404, as for an
organisation that is not a registered client."""

from __future__ import annotations

from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue

from portal.clients import ibge, policy, queries, reference
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.core.web import current_actor, int_or_none, staff_required

bp = Blueprint("clients", __name__)


def _clients_staff(view: Any) -> Any:
    """Staff who may see clients (policy.can_see_clients); 404 for anyone else."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not policy.can_see_clients(current_actor()):
            abort(404)
        return view(*args, **kwargs)

    return staff_required(wrapper)


@bp.get("/clientes")
@_clients_staff
def index() -> ResponseReturnValue:
    args = request.args
    ufs = [place.uf for place in sorted(ibge.states(), key=lambda p: p.uf)]
    uf = args.get("uf", "").strip().upper()
    filters = queries.ClientFilters(
        text=args.get("q", "")[:100],
        uf=uf if uf in ufs else "",
        company_type_id=int_or_none(args.get("tipo")),
        category_id=int_or_none(args.get("categoria")),
    )
    page = queries.client_list(db.session, filters, page=int_or_none(args.get("pagina")) or 1)
    return render_template(
        "clients/index.html",
        page=page,
        filters=filters,
        ufs=ufs,
        company_types=reference.company_types(db.session),
        categories=reference.client_categories(db.session),
        can_manage=policy.can_manage_clients(current_actor()),
    )


@bp.get("/clientes/<int:org_id>")
@_clients_staff
def show(org_id: int) -> ResponseReturnValue:
    client = queries.get_client(db.session, org_id)
    if client is None:
        abort(404)
    today = utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()
    return render_template(
        "clients/show.html",
        view=queries.client_page(db.session, client, today),
        client=client,
        can_manage=policy.can_manage_clients(current_actor()),
        can_record=policy.can_record_occurrence(current_actor()),
    )
