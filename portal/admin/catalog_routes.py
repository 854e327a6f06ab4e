"""Administração › Catálogo: the category tree with its items, a category's page (rename,
move, hide), an item's page (its data, withdraw or reactivate, its routing rules) and the
new-item page. The item's form (Campos, Pré-visualizar, versions) is admin_forms' section.

Admins only (everyone else gets 404). Each POST parses its form, calls one service of
portal.catalog, commits and redirects; a refused form comes back, status 400, with what was
typed and each error beside its field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from portal.catalog import admin_queries as queries
from portal.catalog import admin_services as items
from portal.catalog import category_services as categories
from portal.catalog import rule_services as rules
from portal.catalog.admin_services import ICONS, ItemInput
from portal.catalog.regions import REGIONS, ufs_chosen
from portal.clients.models import OrganisationKind
from portal.core.errors import FormErrors, ServiceError
from portal.core.extensions import db
from portal.core.web import admin_required, attempt, attempt_and_flash, current_actor, int_or_none

bp = Blueprint("admin_catalog", __name__, url_prefix="/admin/catalogo")

DIRECTIONS = {"subir": "up", "descer": "down"}


def errors_of(exc: ServiceError, names: dict[str, str] | None = None) -> dict[str, list[str]]:
    """A service's error(s) by form field (unnamed ones under "form")."""
    found: dict[str, list[str]] = {}
    for problem in exc.errors if isinstance(exc, FormErrors) else [exc]:
        key = getattr(problem, "field", None) or "form"
        found.setdefault((names or {}).get(key, key), []).append(str(problem))
    return found


def fields_url(item_id: int) -> str:
    """The item's form editor (Campos), kept by the admin_forms section."""
    return f"/admin/catalogo/itens/{item_id}/campos"


# ------------------------------------------------------------------ the tree


def _render_index(
    typed: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    tree = queries.admin_tree(db.session)
    return render_template(
        "admin/catalog/index.html",
        tree=tree,
        options=tree.options(),
        typed=typed or {},
        errors=errors or {},
    ), status


@bp.get("/")
@admin_required
def index() -> ResponseReturnValue:
    return _render_index()


@bp.post("/categorias")
@admin_required
def create_category() -> ResponseReturnValue:
    name = request.form.get("name", "")[:200]
    parent_id = int_or_none(request.form.get("parent_id"))
    me = current_actor()
    _, error = attempt(lambda: categories.create_category(db.session, me, name, parent_id))
    if error is not None:
        return _render_index({"name": name, "parent_id": parent_id}, errors_of(error), 400)
    flash(f"Categoria “{' '.join(name.split())}” criada.", "success")
    return redirect(url_for(".index"))


@bp.post("/categorias/<int:category_id>/ordem")
@admin_required
def reorder_category(category_id: int) -> ResponseReturnValue:
    direction = DIRECTIONS.get(request.form.get("direcao", ""), "")
    me = current_actor()
    attempt_and_flash(
        lambda: categories.reorder_category(db.session, me, category_id, direction),
        "Ordem das categorias atualizada.",
    )
    return redirect(url_for(".index") + f"#categoria-{category_id}")


# ------------------------------------------------------------------ one category


def _render_category(
    category_id: int,
    typed: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    tree = queries.admin_tree(db.session)
    node = tree.by_id.get(category_id)
    if node is None:
        abort(404)
    inside = {n.id for n in tree.walk() if node.id in _ancestors(tree, n.id)}
    return render_template(
        "admin/catalog/category.html",
        node=node,
        trail=tree.trail(node.id),
        parents=[(i, path) for i, path in tree.options() if i not in inside],
        typed=typed or {},
        errors=errors or {},
    ), status


def _ancestors(tree: queries.AdminTree, category_id: int) -> set[int]:
    """The category and those above it."""
    found: set[int] = set()
    node = tree.by_id.get(category_id)
    while node is not None:
        found.add(node.id)
        node = tree.by_id.get(node.parent_id) if node.parent_id is not None else None
    return found


@bp.get("/categorias/<int:category_id>")
@admin_required
def category(category_id: int) -> ResponseReturnValue:
    return _render_category(category_id)


@bp.post("/categorias/<int:category_id>/nome")
@admin_required
def rename_category(category_id: int) -> ResponseReturnValue:
    name = request.form.get("name", "")[:200]
    me = current_actor()
    _, error = attempt(lambda: categories.rename_category(db.session, me, category_id, name))
    if error is not None:
        return _render_category(category_id, {"name": name}, errors_of(error), 400)
    flash("Categoria renomeada.", "success")
    return redirect(url_for(".category", category_id=category_id))


@bp.post("/categorias/<int:category_id>/mover")
@admin_required
def move_category(category_id: int) -> ResponseReturnValue:
    parent_id = int_or_none(request.form.get("parent_id"))
    me = current_actor()
    _, error = attempt(lambda: categories.move_category(db.session, me, category_id, parent_id))
    if error is not None:
        return _render_category(category_id, {"parent_id": parent_id}, errors_of(error), 400)
    flash("Categoria movida.", "success")
    return redirect(url_for(".category", category_id=category_id))


@bp.post("/categorias/<int:category_id>/visibilidade")
@admin_required
def set_category_hidden(category_id: int) -> ResponseReturnValue:
    hidden = request.form.get("oculta") == "1"
    me = current_actor()
    attempt_and_flash(
        lambda: categories.set_category_hidden(db.session, me, category_id, hidden),
        "Categoria oculta do catálogo." if hidden else "Categoria visível no catálogo.",
    )
    return redirect(url_for(".category", category_id=category_id))


# ------------------------------------------------------------------ items


def _item_input(form: MultiDict[str, str]) -> ItemInput:
    return ItemInput(
        name=form.get("name", "")[:400],
        short_description=form.get("short_description", "")[:1000],
        description=form.get("description", "")[:20_000],
        icon=form.get("icon", "")[:40],
        category_id=int_or_none(form.get("category_id")),
        group_id=int_or_none(form.get("group_id")),
    )


def _item_form_context(data: ItemInput, keep_group: int | None) -> dict[str, Any]:
    return {
        "data": data,
        "icons": ICONS,
        "categories": queries.admin_tree(db.session, with_items=False).options(),
        "groups": queries.group_options(db.session, keep_group),
    }


@bp.get("/itens/novo")
@admin_required
def new_item() -> ResponseReturnValue:
    data = ItemInput(category_id=int_or_none(request.args.get("categoria")))
    return render_template(
        "admin/catalog/new_item.html", errors={}, **_item_form_context(data, None)
    )


@bp.post("/itens/novo")
@admin_required
def create_item() -> ResponseReturnValue:
    data = _item_input(request.form)
    me = current_actor()
    item_id, error = attempt(lambda: items.create_item(db.session, me, data).id)
    if error is not None:
        return render_template(
            "admin/catalog/new_item.html", errors=errors_of(error), **_item_form_context(data, None)
        ), 400
    flash("Item criado. Monte o formulário em Campos e publique-o para oferecê-lo.", "success")
    return redirect(url_for(".item", item_id=item_id))


@dataclass
class RuleInput:
    """The routing-rule form as typed."""

    group_id: int | None = None
    ufs: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, form: MultiDict[str, str]) -> RuleInput:
        return cls(
            group_id=int_or_none(form.get("regra_grupo")),
            ufs=[u[:2] for u in form.getlist("uf")[:40]],
            regions=[r[:20] for r in form.getlist("regiao")[:10]],
            kinds=[k[:20] for k in form.getlist("tipo")[:10]],
        )

    @property
    def chosen_ufs(self) -> list[str]:
        """The UFs ticked and those of the regions ticked (a region without JavaScript)."""
        return ufs_chosen(self.ufs, self.regions)


RULE_FIELDS = {"group_id": "regra-grupo", "ufs": "regra-ufs", "kinds": "regra-tipos"}


def _render_item(
    item_id: int,
    data: ItemInput | None = None,
    errors: dict[str, list[str]] | None = None,
    rule: RuleInput | None = None,
    rule_errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    item = queries.item_with_rules(db.session, item_id)
    if item is None:
        abort(404)
    return render_template(
        "admin/catalog/item.html",
        item=item,
        rules=[(r, rules.describe_rule(r)) for r in item.routing_rules],
        rule=rule or RuleInput(),
        rule_errors=rule_errors or {},
        regions=REGIONS,
        kinds=list(OrganisationKind),
        rule_groups=queries.group_options(db.session),
        state=queries.item_state(item.active, item.published_version),
        open_requests=queries.open_request_count(db.session, item.id),
        fields_url=fields_url(item.id),
        errors=errors or {},
        **_item_form_context(data or ItemInput.of(item), item.group_id),
    ), status


@bp.get("/itens/<int:item_id>")
@admin_required
def item(item_id: int) -> ResponseReturnValue:
    return _render_item(item_id)


@bp.post("/itens/<int:item_id>")
@admin_required
def update_item(item_id: int) -> ResponseReturnValue:
    data = _item_input(request.form)
    me = current_actor()
    _, error = attempt(lambda: items.update_item(db.session, me, item_id, data))
    if error is not None:
        return _render_item(item_id, data, errors_of(error), status=400)
    flash("Item atualizado.", "success")
    return redirect(url_for(".item", item_id=item_id))


@bp.post("/itens/<int:item_id>/retirar")
@admin_required
def withdraw_item(item_id: int) -> ResponseReturnValue:
    me = current_actor()
    _, error = attempt(lambda: items.withdraw_item(db.session, me, item_id))
    if error is not None:
        return _render_item(item_id, errors=errors_of(error), status=400)
    flash("Item retirado do catálogo e da pesquisa; as solicitações abertas continuam.", "success")
    return redirect(url_for(".item", item_id=item_id))


@bp.post("/itens/<int:item_id>/reativar")
@admin_required
def reactivate_item(item_id: int) -> ResponseReturnValue:
    me = current_actor()
    _, error = attempt(lambda: items.reactivate_item(db.session, me, item_id))
    if error is not None:
        return _render_item(item_id, errors=errors_of(error), status=400)
    flash("Item reativado.", "success")
    return redirect(url_for(".item", item_id=item_id))


# ------------------------------------------------------------------ routing rules


@bp.post("/itens/<int:item_id>/regras")
@admin_required
def add_rule(item_id: int) -> ResponseReturnValue:
    typed = RuleInput.parse(request.form)
    me = current_actor()
    _, error = attempt(
        lambda: rules.add_rule(
            db.session, me, item_id, typed.group_id, typed.chosen_ufs, typed.kinds
        )
    )
    if error is not None:
        problems = errors_of(error, RULE_FIELDS)
        return _render_item(item_id, rule=typed, rule_errors=problems, status=400)
    flash("Regra de encaminhamento adicionada.", "success")
    return redirect(url_for(".item", item_id=item_id) + "#regras")


@bp.post("/itens/<int:item_id>/regras/<int:rule_id>/remover")
@admin_required
def remove_rule(item_id: int, rule_id: int) -> ResponseReturnValue:
    me = current_actor()
    attempt_and_flash(
        lambda: rules.remove_rule(db.session, me, item_id, rule_id), "Regra removida."
    )
    return redirect(url_for(".item", item_id=item_id) + "#regras")


@bp.post("/itens/<int:item_id>/regras/<int:rule_id>/ordem")
@admin_required
def move_rule(item_id: int, rule_id: int) -> ResponseReturnValue:
    direction = DIRECTIONS.get(request.form.get("direcao", ""), "")
    me = current_actor()
    attempt_and_flash(
        lambda: rules.move_rule(db.session, me, item_id, rule_id, direction),
        "Ordem das regras atualizada.",
    )
    return redirect(url_for(".item", item_id=item_id) + "#regras")
