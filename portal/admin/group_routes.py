"""Administração > Grupos: the support groups, their members and e-mail, archived and
reactivated (routing rules live on the catalog item's page).

Admins only; every view parses its form, calls one service of portal.accounts.groups, commits,
then redirects, or shows the form again with what was typed and the errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from portal.accounts import admin_queries as queries
from portal.accounts import groups as services
from portal.accounts.admin_queries import StaffOption
from portal.accounts.models import SupportGroup
from portal.core.errors import FormErrors, ServiceError
from portal.core.extensions import db
from portal.core.fulltext import fold
from portal.core.web import admin_required, attempt, attempt_and_flash, current_actor, int_or_none

bp = Blueprint("admin_groups", __name__, url_prefix="/admin/grupos")


@dataclass
class GroupInput:
    """The name and e-mail form as typed, with its errors by field."""

    name: str = ""
    email: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def parse(cls) -> GroupInput:
        return cls(
            name=request.form.get("name", "")[:200], email=request.form.get("email", "")[:254]
        )

    def add(self, error: ServiceError) -> None:
        for problem in error.errors if isinstance(error, FormErrors) else [error]:
            name = getattr(problem, "field", None) or "form"
            self.errors.setdefault(name, []).append(str(problem))


def _group_or_404(group_id: int) -> SupportGroup:
    group = queries.get_group(db.session, group_id)
    if group is None:
        abort(404)
    return group


@bp.get("/")
@admin_required
def index() -> ResponseReturnValue:
    return render_template("admin/groups/index.html", rows=queries.group_rows(db.session))


@bp.get("/novo")
@admin_required
def new() -> ResponseReturnValue:
    return render_template("admin/groups/new.html", data=GroupInput())


@bp.post("/novo")
@admin_required
def create() -> ResponseReturnValue:
    data = GroupInput.parse()
    created: list[int] = []
    _, error = attempt(
        lambda: services.create_group(
            db.session, current_actor(), name=data.name, email=data.email
        ),
        before_commit=lambda group: created.append(group.id),
    )
    if error is not None:
        data.add(error)
        return render_template("admin/groups/new.html", data=data), 400
    flash(f"Grupo “{' '.join(data.name.split())}” criado. Escolha os membros.", "success")
    return redirect(url_for(".edit", group_id=created[0]))


def _members_context(group: SupportGroup, search: str) -> dict[str, Any]:
    """The members picker: active staff matching the search, plus the current members that
    match (a deactivated member stays visible, to be removed)."""
    options = queries.staff_options(db.session, search)
    listed = {o.id for o in options}
    folded = fold(search)
    for member in group.members:
        if member.id not in listed and folded in fold(member.full_name):
            options.append(StaffOption(member.id, member.full_name, member.role, member.active))
    return {
        "options": sorted(options, key=lambda o: fold(o.full_name)),
        "member_ids": {m.id for m in group.members},
        "members": sorted(group.members, key=lambda m: fold(m.full_name)),
        "search": search,
    }


def _render_edit(
    group: SupportGroup,
    data: GroupInput | None = None,
    *,
    member_error: str | None = None,
    chosen: set[int] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    search = request.args.get("busca", request.form.get("busca", ""))[:100]
    members = _members_context(group, search)
    if chosen is not None:
        members["member_ids"] = chosen
    blockers = services.removal_blockers(db.session, group) if group.active else None
    return render_template(
        "admin/groups/edit.html",
        group=group,
        data=data or GroupInput(name=group.name, email=group.email or ""),
        picker=members,
        member_error=member_error,
        blockers=blockers.messages(group.name) if blockers else [],
    ), status


@bp.get("/<int:group_id>")
@admin_required
def edit(group_id: int) -> ResponseReturnValue:
    return _render_edit(_group_or_404(group_id))


@bp.post("/<int:group_id>")
@admin_required
def save(group_id: int) -> ResponseReturnValue:
    group = _group_or_404(group_id)
    data = GroupInput.parse()
    _, error = attempt(
        lambda: services.update_group(
            db.session, current_actor(), group, name=data.name, email=data.email
        )
    )
    if error is not None:
        data.add(error)
        return _render_edit(_group_or_404(group_id), data, status=400)
    flash("Grupo atualizado.", "success")
    return redirect(url_for(".edit", group_id=group_id))


def _ids(name: str) -> set[int]:
    return {i for i in (int_or_none(v) for v in request.form.getlist(name)[:1000]) if i}


@bp.post("/<int:group_id>/membros")
@admin_required
def save_members(group_id: int) -> ResponseReturnValue:
    """The picker may show only the people matching a search: members it did not show stay,
    and among those it showed, the checked ones are the members."""
    group = _group_or_404(group_id)
    shown, checked = _ids("shown"), _ids("members")
    wanted = ({m.id for m in group.members} - shown) | (checked & shown)
    people = queries.users_by_ids(db.session, wanted)
    _, error = attempt(lambda: services.set_members(db.session, current_actor(), group, people))
    search = request.form.get("busca", "")[:100]
    if error is not None:
        group = _group_or_404(group_id)
        return _render_edit(group, member_error=str(error), chosen=wanted, status=400)
    flash("Membros do grupo atualizados.", "success")
    return redirect(url_for(".edit", group_id=group_id, busca=search or None) + "#membros")


@bp.post("/<int:group_id>/arquivar")
@admin_required
def archive(group_id: int) -> Response:
    group = _group_or_404(group_id)
    name = group.name
    attempt_and_flash(
        lambda: services.archive_group(db.session, current_actor(), group),
        f"Grupo “{name}” arquivado: não aparece mais nas listas de escolha.",
    )
    return redirect(url_for(".edit", group_id=group_id))


@bp.post("/<int:group_id>/reativar")
@admin_required
def reactivate(group_id: int) -> Response:
    group = _group_or_404(group_id)
    name = group.name
    attempt_and_flash(
        lambda: services.reactivate_group(db.session, current_actor(), group),
        f"Grupo “{name}” reativado.",
    )
    return redirect(url_for(".edit", group_id=group_id))
