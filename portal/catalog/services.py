"""Keeping the catalog: categories, items and their fields."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from portal.accounts.services import find_or_create_group
from portal.catalog import versions
from portal.catalog.indexing import index_item
from portal.catalog.models import CatalogItem, Category, FieldType, ItemField
from portal.catalog.policy import can_manage_catalog
from portal.core import audit
from portal.core.actors import Actor
from portal.core.database import DbSession
from portal.core.errors import require

ITEM_AUDITED = ("slug", "name", "short_description", "description", "icon", "active")
FIELD_AUDITED = (
    "key",
    "label",
    "type",
    "required",
    "help_text",
    "preset",
    "default_value",
    "options",
    "depends_on",
    "options_by_parent",
    "show_when_key",
    "show_when_value",
)


def ensure_category_path(session: DbSession, actor: Actor, names: list[str]) -> Category:
    """The category at the end of this path of names, creating what is missing."""
    require(can_manage_catalog(actor))
    parent: Category | None = None
    for position, name in enumerate(names):
        query = select(Category).where(Category.name == name)
        query = query.where(
            Category.parent_id == parent.id if parent else Category.parent_id.is_(None)
        )
        category = session.scalar(query)
        if category is None:
            category = Category(name=name, parent=parent, position=position)
            session.add(category)
            session.flush()
            audit.record(
                session,
                actor,
                "category.create",
                "category",
                category.id,
                after={"name": name, "parent_id": parent.id if parent else None},
            )
        parent = category
    assert parent is not None
    return parent


def _item_state(item: CatalogItem) -> dict[str, Any]:
    return {
        **audit.snapshot(item, ITEM_AUDITED),
        "category_id": item.category_id,
        "group_id": item.group_id,
        "fields": [audit.mask(audit.snapshot(f, FIELD_AUDITED)) for f in item.fields],
    }


def upsert_item(session: DbSession, actor: Actor, spec: dict[str, Any]) -> CatalogItem:
    """Create or update an item and its fields from a spec like those in catalog.data, and
    publish the form when it changed (the demo data, the command line and tests)."""
    require(can_manage_catalog(actor))
    category = ensure_category_path(session, actor, spec["path"])
    group = find_or_create_group(session, actor, spec["group"]) if spec.get("group") else None
    item = session.scalar(select(CatalogItem).where(CatalogItem.slug == spec["slug"]))
    before = None
    if item is None:
        item = CatalogItem(slug=spec["slug"])
        session.add(item)
    else:
        before = _item_state(item)
    item.name = spec["name"]
    item.short_description = spec.get("short_description", "")
    item.description = spec.get("description", "")
    item.icon = spec.get("icon", "fa-file-alt")
    item.category = category
    item.group = group
    existing = {f.key: f for f in item.fields}
    fields = []
    for position, field_spec in enumerate(spec.get("fields", [])):
        field = existing.get(field_spec["key"]) or ItemField(key=field_spec["key"])
        field.label = field_spec["label"]
        field.type = FieldType(field_spec.get("type", "text"))
        field.required = bool(field_spec.get("required", False))
        field.help_text = field_spec.get("help_text", "")
        field.preset = field_spec.get("preset")
        field.default_value = field_spec.get("default")
        field.options = list(field_spec.get("options", []))
        field.depends_on = field_spec.get("depends_on")
        field.options_by_parent = dict(field_spec.get("options_by_parent", {}))
        field.show_when_key = field_spec.get("show_when_key")
        field.show_when_value = field_spec.get("show_when_value")
        field.position = position
        fields.append(field)
    item.fields = fields
    session.flush()
    if item.group_id is not None:
        versions.publish_form(session, actor, item)
    index_item(session, item)
    after = _item_state(item)
    if before != after:
        action = "catalog_item.update" if before is not None else "catalog_item.create"
        audit.record(session, actor, action, "catalog_item", item.id, before=before, after=after)
    return item
