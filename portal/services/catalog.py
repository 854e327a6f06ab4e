"""Keeping the catalog: categories, items and their fields."""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import CatalogItem, Category, FieldType, ItemField
from portal.services.accounts import find_or_create_group


def fold(text: str) -> str:
    """Lower case without accents: "Solicitação" and "solicitacao" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def ensure_category_path(session: Session, names: list[str]) -> Category:
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
        parent = category
    assert parent is not None
    return parent


def refresh_search_text(item: CatalogItem) -> None:
    parts = [item.name, item.short_description, item.description]
    if item.category is not None:
        parts.extend(c.name for c in item.category.path())
    item.search_text = fold(" ".join(p for p in parts if p))


def upsert_item(session: Session, spec: dict[str, Any]) -> CatalogItem:
    """Create or update an item and its fields from a spec like those in catalog_data."""
    category = ensure_category_path(session, spec["path"])
    group = find_or_create_group(session, spec["group"]) if spec.get("group") else None
    item = session.scalar(select(CatalogItem).where(CatalogItem.slug == spec["slug"]))
    if item is None:
        item = CatalogItem(slug=spec["slug"])
        session.add(item)
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
        field.preset = field_spec.get("preset")
        field.options = list(field_spec.get("options", []))
        field.depends_on = field_spec.get("depends_on")
        field.options_by_parent = dict(field_spec.get("options_by_parent", {}))
        field.position = position
        fields.append(field)
    item.fields = fields
    refresh_search_text(item)
    session.flush()
    return item
