"""The catalog through the API: the offered items, and one item with its published form, as
data enough for a client to build the form without reading HTML.

What is offered is the HTML catalog's one rule (`catalog.queries.offered`); the fields are the
published FormVersion's (`catalog.versions`), as the request form reads them.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.api import auth
from portal.api.fields import ID_MAX, next_link
from portal.api.problems import documented_errors
from portal.catalog import versions
from portal.catalog.formdef import FieldSpec
from portal.catalog.models import CatalogItem
from portal.catalog.queries import active_item, offered
from portal.core.errors import NotFound, ValidationError
from portal.core.extensions import db

bp = Blueprint(
    "api_catalog", __name__, url_prefix="/api/v1/catalog", description="Itens do catálogo"
)
auth.protect(bp)

PAGE_MAX = 100


CURSOR_PATTERN = r"^[0-9]{1,18}$"


def encode_cursor(last_id: int) -> str:
    """The last id listed: a page never shifts when items are added. Documented as digits, so
    every cursor the published pattern admits is a position (no forged value to refuse)."""
    return str(last_id)


def decode_cursor(cursor: str) -> int:
    if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 18:  # the schema's pattern
        raise ValidationError("Cursor inválido: use o next_cursor da página anterior.", "cursor")
    # Past the largest id there is nothing more to list (and no integer column holds more).
    return min(int(cursor), ID_MAX)


class ListArgs(ma.Schema):
    cursor = ma.fields.String(
        validate=ma.validate.Regexp(
            CURSOR_PATTERN, error="Cursor inválido: use o next_cursor da página anterior."
        ),
        metadata={"description": "O next_cursor da página anterior"},
    )
    limit = ma.fields.Integer(
        load_default=20,
        validate=ma.validate.Range(
            min=1, max=PAGE_MAX, error=f"Informe um número de 1 a {PAGE_MAX}."
        ),
        metadata={"description": f"Itens por página (1 a {PAGE_MAX})"},
    )


class CategorySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class ItemSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    short_description = ma.fields.String(required=True)
    category = ma.fields.Nested(CategorySchema, required=True)


class ItemPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ItemSchema), required=True)
    next_cursor = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "null na última página"}
    )


class ShowWhenSchema(ma.Schema):
    field = ma.fields.String(required=True)
    value = ma.fields.String(required=True)


class FieldSchema(ma.Schema):
    """One question of the form, in order."""

    key = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    type = ma.fields.String(
        required=True,
        metadata={
            "enum": [
                "text",
                "textarea",
                "select",
                "dependent_select",
                "fixed",
                "phone",
                "email",
                "date",
                "number",
                "cpf",
                "yes_no",
            ]
        },
    )
    required = ma.fields.Boolean(required=True)
    help = ma.fields.String(required=True)
    default = ma.fields.String(required=True, allow_none=True)
    fixed_value = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "Campo fixo: o valor enviado"}
    )
    options = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "select e yes_no"}
    )
    depends_on = ma.fields.String(required=True, allow_none=True)
    options_by_parent = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        required=True,
        metadata={"description": "dependent_select: as opções para cada resposta de depends_on"},
    )
    show_when = ma.fields.Nested(
        ShowWhenSchema,
        required=True,
        allow_none=True,
        metadata={"description": "Mostrado só quando `field` tem a resposta `value`"},
    )


class FormSchema(ma.Schema):
    version = ma.fields.Integer(required=True)
    # "fields" is a Schema attribute of marshmallow's own: named through data_key.
    questions = ma.fields.List(
        ma.fields.Nested(FieldSchema), required=True, data_key="fields", attribute="fields"
    )


class ItemDetailSchema(ItemSchema):
    description = ma.fields.String(required=True)
    form = ma.fields.Nested(FormSchema, required=True)


def _item(item: CatalogItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "slug": item.slug,
        "name": item.name,
        "short_description": item.short_description,
        "category": {"id": item.category.id, "name": item.category.name},
    }


def _field(spec: FieldSpec) -> dict[str, Any]:
    return {
        "key": spec.key,
        "label": spec.label,
        "type": spec.type.value,
        "required": spec.required,
        "help": spec.help_text,
        "default": spec.default,
        "fixed_value": spec.preset if spec.is_fixed else None,
        "options": spec.choices_for({}) if spec.type.value in ("select", "yes_no") else [],
        "depends_on": spec.depends_on,
        "options_by_parent": {k: list(v) for k, v in spec.options_by_parent.items()},
        "show_when": (
            {"field": spec.show_when_key, "value": spec.show_when_value or ""}
            if spec.show_when_key
            else None
        ),
    }


@bp.get("/items")
@bp.arguments(ListArgs, location="query", as_kwargs=True)
@bp.response(200, ItemPageSchema)
@documented_errors(bp, 401, 422, 429)
def items(limit: int, cursor: str | None = None) -> Any:
    """Itens oferecidos

    Os itens que o catálogo oferece (ativos, publicados, fora de categorias ocultas), em ordem
    de id. Pagine com `cursor`: o `next_cursor` da página anterior, também no cabeçalho
    `Link: rel="next"`; um item criado entre duas páginas não desloca nenhuma delas.
    """
    after = decode_cursor(cursor) if cursor else 0
    rows = list(
        db.session.scalars(
            select(CatalogItem)
            .options(selectinload(CatalogItem.category))
            .where(offered(), CatalogItem.id > after)
            .order_by(CatalogItem.id)
            .limit(limit + 1)
        )
    )
    page, more = rows[:limit], len(rows) > limit
    next_cursor = encode_cursor(page[-1].id) if more else None
    body = {"items": [_item(item) for item in page], "next_cursor": next_cursor}
    return body, 200, next_link(".items", next_cursor, {"limit": limit})


@bp.get("/items/<slug>")
@bp.response(200, ItemDetailSchema)
@documented_errors(bp, 401, 404, 429)
def item(slug: str) -> dict[str, Any]:
    """Um item com o seu formulário

    O item e o formulário publicado: campos em ordem, tipos, obrigatoriedade, opções, opções
    dependentes (`depends_on` e `options_by_parent`) e condições (`show_when`). Itens ocultos,
    retirados ou nunca publicados respondem 404.
    """
    found = active_item(db.session, slug)
    if found is None:
        raise NotFound()
    version = versions.current_version(db.session, found)
    if version is None:
        raise NotFound()
    return {
        **_item(found),
        "description": found.description,
        "form": {
            "version": version.number,
            "fields": [_field(spec) for spec in versions.version_specs(version)],
        },
    }
