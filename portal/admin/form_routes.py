"""Administração > Catálogo > an item's form: Campos (the draft, field by field), Publicar,
Pré-visualizar and the version history.

Admins only (everyone else gets 404). Each POST parses its form, calls one service
(portal.catalog.field_services / versions) and commits; a refused definition comes back with
everything typed and its errors tied to the inputs. The preview checks answers with
formdef.check_answers, the very function a real submission goes through, and saves nothing.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.datastructures import MultiDict
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from portal.catalog import field_services, formdef, versions
from portal.catalog.field_services import FieldInput
from portal.catalog.formdef import VALUED_TYPES, FieldSpec
from portal.catalog.models import FIELD_TYPE_LABELS, CatalogItem, ItemField
from portal.core.errors import FormErrors, ServiceError
from portal.core.extensions import db
from portal.core.web import admin_required, attempt, attempt_and_flash, current_actor

bp = Blueprint("admin_forms", __name__, url_prefix="/admin/catalogo")

TEXT_LIMIT = 5000  # what a definition input keeps of what was sent (the service checks sizes)


def _item_or_404(item_id: int) -> CatalogItem:
    item = db.session.scalar(
        select(CatalogItem)
        .where(CatalogItem.id == item_id)
        .options(selectinload(CatalogItem.fields), joinedload(CatalogItem.group))
    )
    if item is None:
        abort(404)
    return item


def _field_or_404(item: CatalogItem, field_id: int) -> ItemField:
    found = next((f for f in item.fields if f.id == field_id), None)
    if found is None:
        abort(404)
    return found


def _url_or_none(endpoint: str, **values: Any) -> str | None:
    """A link to a sibling section's page, if that section is installed."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def _trail(item: CatalogItem, *last: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return [
        ("Administração", url_for("admin.index")),
        ("Catálogo", _url_or_none("admin_catalog.index")),
        (item.name, _url_or_none("admin_catalog.item", item_id=item.id)),
        *last,
    ]


def _errors(error: ServiceError) -> dict[str, list[str]]:
    problems = error.errors if isinstance(error, FormErrors) else [error]
    found: dict[str, list[str]] = {}
    for problem in problems:
        found.setdefault(getattr(problem, "field", None) or "form", []).append(str(problem))
    return found


def _parse(form: MultiDict[str, str]) -> FieldInput:
    """The definition form as typed; "condition" is one choice "key=value" (no script needed)."""
    key, _, value = form.get("condition", "").partition("=")

    def text(name: str) -> str:
        return form.get(name, "")[:TEXT_LIMIT]

    return FieldInput(
        label=text("label"),
        type=text("type"),
        required=form.get("required") == "1",
        help_text=text("help_text"),
        default=text("default"),
        preset=text("preset"),
        options=text("options"),
        depends_on=text("depends_on"),
        options_by_parent=text("options_by_parent"),
        show_when_key=key[:100],
        show_when_value=value[:TEXT_LIMIT],
    )


# ------------------------------------------------------------------ what the pages show


def describe_rules(spec: FieldSpec, labels: dict[str, str]) -> list[str]:
    """A field's dependency and condition, in words, for the lists."""
    rules = []
    if spec.depends_on:
        rules.append(f"Opções conforme {labels.get(spec.depends_on, spec.depends_on)}")
    if spec.show_when_key:
        name = labels.get(spec.show_when_key, spec.show_when_key)
        rules.append(f"Mostrar somente quando {name} for “{spec.show_when_value}”")
    return rules


def _definition_choices(specs: list[FieldSpec]) -> dict[str, Any]:
    """What a definition may refer to: the fields before it that have a list of values."""
    valued = [s for s in specs if s.type in VALUED_TYPES]
    return {
        "parents": valued,
        "conditions": [(s, v) for s in valued for v in formdef.possible_values(s)],
    }


def _render_fields(
    item: CatalogItem,
    data: FieldInput,
    errors: dict[str, list[str]],
    publish_errors: list[str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    specs = versions.draft_specs(item)
    labels = {s.key: s.label for s in specs}
    return render_template(
        "admin/forms/fields.html",
        item=item,
        rows=list(zip(item.fields, specs, strict=True)),
        rules={s.key: describe_rules(s, labels) for s in specs},
        types=FIELD_TYPE_LABELS,
        data=data,
        errors=errors,
        changes=versions.unpublished_changes(db.session, item),
        problems=formdef.problems(specs),
        publish_errors=publish_errors or [],
        trail=_trail(item, ("Campos", None)),
        **_definition_choices(specs),
    ), status


def _render_edit(
    item: CatalogItem, field: ItemField, data: FieldInput, errors: dict[str, list[str]], status: int
) -> ResponseReturnValue:
    specs = versions.draft_specs(item)
    return render_template(
        "admin/forms/edit.html",
        item=item,
        field=field,
        types=FIELD_TYPE_LABELS,
        data=data,
        errors=errors,
        trail=_trail(
            item,
            ("Campos", url_for("admin_forms.fields", item_id=item.id)),
            (field.label, None),
        ),
        **_definition_choices(specs[: item.fields.index(field)]),
    ), status


# ------------------------------------------------------------------ Campos


@bp.get("/itens/<int:item_id>/campos")
@admin_required
def fields(item_id: int) -> ResponseReturnValue:
    return _render_fields(_item_or_404(item_id), FieldInput(), {})


@bp.post("/itens/<int:item_id>/campos")
@admin_required
def add_field(item_id: int) -> ResponseReturnValue:
    item = _item_or_404(item_id)
    data = _parse(request.form)
    labels: list[str] = []
    _, error = attempt(
        lambda: field_services.add_field(db.session, current_actor(), item, data),
        before_commit=lambda f: labels.append(f.label),
    )
    if error is not None:
        return _render_fields(_item_or_404(item_id), data, _errors(error), status=400)
    flash(f"Campo “{labels[0]}” adicionado ao rascunho.", "success")
    return redirect(url_for("admin_forms.fields", item_id=item_id, _anchor="campos"))


@bp.get("/itens/<int:item_id>/campos/<int:field_id>")
@admin_required
def edit_field(item_id: int, field_id: int) -> ResponseReturnValue:
    item = _item_or_404(item_id)
    field = _field_or_404(item, field_id)
    return _render_edit(item, field, FieldInput.of(field), {}, 200)


@bp.post("/itens/<int:item_id>/campos/<int:field_id>")
@admin_required
def update_field(item_id: int, field_id: int) -> ResponseReturnValue:
    item = _item_or_404(item_id)
    field = _field_or_404(item, field_id)
    data = _parse(request.form)
    _, error = attempt(
        lambda: field_services.update_field(db.session, current_actor(), item, field, data)
    )
    if error is not None:
        item = _item_or_404(item_id)
        return _render_edit(item, _field_or_404(item, field_id), data, _errors(error), 400)
    flash("Campo alterado no rascunho.", "success")
    return redirect(url_for("admin_forms.fields", item_id=item_id, _anchor="campos"))


@bp.post("/itens/<int:item_id>/campos/<int:field_id>/remover")
@admin_required
def remove_field(item_id: int, field_id: int) -> Response:
    item = _item_or_404(item_id)
    field = _field_or_404(item, field_id)
    label = field.label
    attempt_and_flash(
        lambda: field_services.remove_field(db.session, current_actor(), item, field),
        f"Campo “{label}” removido do rascunho.",
    )
    return redirect(url_for("admin_forms.fields", item_id=item_id, _anchor="campos"))


@bp.post("/itens/<int:item_id>/campos/<int:field_id>/mover")
@admin_required
def move_field(item_id: int, field_id: int) -> Response:
    item = _item_or_404(item_id)
    field = _field_or_404(item, field_id)
    up = request.form.get("direcao") != "descer"
    label = field.label
    attempt_and_flash(
        lambda: field_services.move_field(db.session, current_actor(), item, field, up),
        f"Campo “{label}” movido para {'cima' if up else 'baixo'}.",
    )
    return redirect(url_for("admin_forms.fields", item_id=item_id, _anchor="campos"))


@bp.post("/itens/<int:item_id>/publicar")
@admin_required
def publish(item_id: int) -> ResponseReturnValue:
    item = _item_or_404(item_id)
    numbers: list[int] = []
    _, error = attempt(
        lambda: versions.publish_form(db.session, current_actor(), item),
        before_commit=lambda v: numbers.append(v.number),
    )
    if error is not None:
        problems = error.errors if isinstance(error, FormErrors) else [error]
        return _render_fields(
            _item_or_404(item_id), FieldInput(), {}, [str(p) for p in problems], 400
        )
    flash(f"Formulário publicado: versão {numbers[0]}.", "success")
    return redirect(url_for("admin_forms.fields", item_id=item_id))


# ------------------------------------------------------------------ Pré-visualizar, Versões


@bp.route("/itens/<int:item_id>/pre-visualizar", methods=["GET", "POST"])
@admin_required
def preview(item_id: int) -> ResponseReturnValue:
    """The draft as the requester's form shows it; a POST checks the answers as a real
    submission would (formdef.check_answers) and saves nothing."""
    item = _item_or_404(item_id)
    specs = versions.draft_specs(item)
    values = formdef.initial_values(specs)
    errors: dict[str, list[str]] = {}
    answers: list[tuple[str, str]] | None = None
    if request.method == "POST":
        typed = formdef.typed_answers(specs, request.form)
        values = {**typed, **{k: v for k, v in values.items() if k not in typed}}
        cleaned, problems = formdef.check_answers(specs, typed)
        for problem in problems:
            errors.setdefault(problem.field or "form", []).append(str(problem))
        answers = [(s.label, cleaned[s.key]) for s in specs if s.key in cleaned]
    return render_template(
        "admin/forms/preview.html",
        item=item,
        specs=specs,
        values=values,
        errors=errors,
        answers=answers if not errors else None,
        problems=formdef.problems(specs),
        trail=_trail(
            item,
            ("Campos", url_for("admin_forms.fields", item_id=item.id)),
            ("Pré-visualizar", None),
        ),
    ), (400 if errors else 200)


@bp.get("/itens/<int:item_id>/versoes")
@admin_required
def history(item_id: int) -> ResponseReturnValue:
    item = _item_or_404(item_id)
    found = versions.history(db.session, item)
    shown = []
    for version in found:
        specs = versions.version_specs(version)
        labels = {s.key: s.label for s in specs}
        shown.append((version, [(s, describe_rules(s, labels)) for s in specs]))
    return render_template(
        "admin/forms/versions.html",
        item=item,
        versions=shown,
        types=FIELD_TYPE_LABELS,
        trail=_trail(
            item,
            ("Campos", url_for("admin_forms.fields", item_id=item.id)),
            ("Versões", None),
        ),
    )
