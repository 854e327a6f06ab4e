"""Administração > Auditoria: the audit trail as a list filtered by who, what, object and
period, with the values before and after, and the same filter as CSV.

Also each user's sign-in history (Histórico de acessos), linked from the user's page and from
this list when it is filtered by one person.

Admins only (404 for anyone else). The list reads portal.core.audit_queries; "Quem" by name
asks the accounts area which users a name, CPF or e-mail means. Nothing here writes: the trail
is append-only, and `portal audit verify` checks its chain.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from portal.accounts import history
from portal.accounts import queries as accounts_queries
from portal.accounts.anonymised_audit import shown_entries
from portal.accounts.models import User
from portal.core import audit_queries as queries
from portal.core.audit_labels import action_label, object_label, value_changes
from portal.core.extensions import db
from portal.core.models import AuditEntry
from portal.core.paging import Page
from portal.core.web import admin_required, current_actor, int_or_none

bp = Blueprint("admin_audit", __name__, url_prefix="/admin")

# The admin page of each kind of object, when there is one: (endpoint, its id argument).
OBJECT_PAGES = {
    "user": ("admin_users.show", "user_id"),
    "group": ("admin_groups.edit", "group_id"),
    "catalog_item": ("admin_catalog.item", "item_id"),
    "category": ("admin_catalog.category", "category_id"),
    "announcement": ("admin_announcements.edit", "announcement_id"),
}


def object_url(entry: AuditEntry) -> str | None:
    """The object's admin page, or None (no such page, or no id)."""
    page = OBJECT_PAGES.get(entry.object_type)
    if page is None or entry.object_id is None or page[0] not in current_app.view_functions:
        return None
    values: dict[str, Any] = {page[1]: entry.object_id}
    return url_for(page[0], **values)


def _filters() -> queries.AuditFilters:
    filters = queries.AuditFilters.parse(request.args)
    if filters.name:
        filters.people = tuple(accounts_queries.people_matching(db.session, filters.name))
    return filters


@bp.get("/auditoria")
@admin_required
def index() -> ResponseReturnValue:
    filters = _filters()
    tz = current_app.config["TIMEZONE"]
    page = queries.audit_page(
        db.session, filters, tz, page=int_or_none(request.args.get("pagina")) or 1
    )
    # Anonymised people are masked when shown: the stored entries are chained, never rewritten.
    shown = Page(
        rows=shown_entries(db.session, page.rows),
        total=page.total,
        page=page.page,
        per_page=page.per_page,
        more=page.more,
    )
    return render_template(
        "admin/audit/index.html",
        page=shown,
        filters=filters,
        args=filters.query_args(),
        people=accounts_queries.audited_staff(db.session),
        actions=queries.actions_in_use(db.session),
        object_types=queries.object_types_in_use(db.session),
        system=queries.SYSTEM,
        action_label=action_label,
        object_label=object_label,
        object_url=object_url,
        value_changes=value_changes,
        sign_ins_of=_sign_ins_of(filters),
    )


def _sign_ins_of(filters: queries.AuditFilters) -> str | None:
    """When the list shows one person's actions, the link to that person's sign-ins."""
    if not filters.actor or filters.actor == queries.SYSTEM:
        return None
    return url_for(".sign_ins", user_id=int(filters.actor))


@bp.get("/auditoria/acessos/<int:user_id>")
@admin_required
def sign_ins(user_id: int) -> ResponseReturnValue:
    """A user's newest sign-ins and failures (the same list the person sees under Perfil)."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    lines = history.recent_sign_ins(db.session, current_actor(), user)
    return render_template(
        "admin/audit/sign_ins.html", lines=lines, size=history.HISTORY_SIZE, subject=user
    )


@bp.get("/auditoria.csv")
@admin_required
def export() -> Response:
    filters = _filters()
    engine, tz = db.engine, current_app.config["TIMEZONE"]

    def lines() -> Iterator[str]:
        # Sent after the view has returned: a session of its own, read-only, closed at the end.
        with Session(engine) as session:
            yield from queries.csv_lines(
                session, filters, tz, shown=lambda rows: shown_entries(session, rows)
            )

    response = Response(lines(), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="auditoria.csv"'
    return response
