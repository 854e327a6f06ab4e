"""Keeping the catalog's category tree from Administração: create, rename, move (never into
itself), order among siblings, hide and show.

Same habits as portal.catalog.admin_services: the session and the actor, the catalog policy,
flush (the caller commits), and an audit entry with the values before and after.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from portal.catalog.admin_services import NAME_MAX, clean_text, step
from portal.catalog.models import CatalogItem, Category
from portal.catalog.policy import can_manage_catalog
from portal.catalog.services import index_item
from portal.core import audit
from portal.core.actors import Actor
from portal.core.database import DbSession
from portal.core.errors import NotFound, ValidationError, require


def _category(session: DbSession, category_id: int) -> Category:
    category = session.get(Category, category_id)
    if category is None:
        raise NotFound()
    return category


def _category_state(category: Category) -> dict[str, Any]:
    return audit.snapshot(category, ("name", "parent_id", "position", "hidden"))


def _siblings(session: DbSession, parent_id: int | None) -> list[Category]:
    query = select(Category).order_by(Category.position, Category.name, Category.id)
    query = query.where(
        Category.parent_id == parent_id if parent_id is not None else Category.parent_id.is_(None)
    )
    return list(session.scalars(query))


def _check_name(
    session: DbSession, name: str, parent_id: int | None, exclude_id: int | None = None
) -> str:
    """The name cleaned, refused when empty, too long or already used beside it (any case)."""
    name = clean_text(name)
    if not name:
        raise ValidationError("Informe o nome da categoria.", "name")
    if len(name) > NAME_MAX:
        raise ValidationError(f"O nome pode ter até {NAME_MAX} caracteres.", "name")
    for sibling in _siblings(session, parent_id):
        if sibling.id != exclude_id and sibling.name.casefold() == name.casefold():
            where = "dentro desta categoria" if parent_id else "entre as categorias principais"
            raise ValidationError(f"Já existe a categoria “{sibling.name}” {where}.", "name")
    return name


def _parent(session: DbSession, parent_id: int | None) -> Category | None:
    if parent_id is None:
        return None
    parent = session.get(Category, parent_id)
    if parent is None:
        raise ValidationError("Escolha a categoria superior na lista.", "parent_id")
    return parent


def create_category(
    session: DbSession, actor: Actor, name: str, parent_id: int | None = None
) -> Category:
    """A new category at the end of its siblings (a root when parent_id is None)."""
    require(can_manage_catalog(actor))
    parent = _parent(session, parent_id)
    name = _check_name(session, name, parent_id)
    last = session.scalar(
        select(func.max(Category.position)).where(
            Category.parent_id == parent_id if parent else Category.parent_id.is_(None)
        )
    )
    category = Category(name=name, parent=parent, position=(last + 1) if last is not None else 0)
    session.add(category)
    session.flush()
    audit.record(
        session, actor, "category.create", "category", category.id, after=_category_state(category)
    )
    return category


def _reindex_under(session: DbSession, category: Category) -> None:
    """Search knows an item by its category path: renaming or moving a category changes it."""
    ids = _subtree_ids(session, category.id)
    for item in session.scalars(select(CatalogItem).where(CatalogItem.category_id.in_(ids))):
        index_item(session, item)


def _subtree_ids(session: DbSession, category_id: int) -> set[int]:
    """The category and every category under it (one query for the whole tree)."""
    children: dict[int | None, list[int]] = {}
    for row_id, parent_id in session.execute(select(Category.id, Category.parent_id)):
        children.setdefault(parent_id, []).append(row_id)
    found, todo = set(), [category_id]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo.extend(children.get(current, []))
    return found


def rename_category(session: DbSession, actor: Actor, category_id: int, name: str) -> Category:
    require(can_manage_catalog(actor))
    category = _category(session, category_id)
    before = _category_state(category)
    category.name = _check_name(session, name, category.parent_id, exclude_id=category.id)
    session.flush()
    if category.name != before["name"]:
        _reindex_under(session, category)
        audit.record(
            session,
            actor,
            "category.rename",
            "category",
            category.id,
            before=before,
            after=_category_state(category),
        )
    return category


def move_category(
    session: DbSession, actor: Actor, category_id: int, parent_id: int | None
) -> Category:
    """Put the category (and everything under it) under another one, or at the top level,
    after the siblings it finds there."""
    require(can_manage_catalog(actor))
    category = _category(session, category_id)
    if parent_id == category.parent_id:
        return category
    if parent_id is not None and parent_id in _subtree_ids(session, category.id):
        raise ValidationError(
            "Uma categoria não pode ficar dentro dela mesma nem de uma de suas subcategorias.",
            "parent_id",
        )
    parent = _parent(session, parent_id)
    _check_name(session, category.name, parent_id, exclude_id=category.id)
    before = _category_state(category)
    category.parent = parent
    category.parent_id = parent_id
    category.position = len([s for s in _siblings(session, parent_id) if s.id != category.id])
    session.flush()
    _reindex_under(session, category)
    audit.record(
        session,
        actor,
        "category.move",
        "category",
        category.id,
        before=before,
        after=_category_state(category),
    )
    return category


def reorder_category(
    session: DbSession, actor: Actor, category_id: int, direction: str
) -> Category:
    """One step up or down among its siblings (nothing happens at either end)."""
    require(can_manage_catalog(actor))
    category = _category(session, category_id)
    siblings = _siblings(session, category.parent_id)
    before = [s.name for s in siblings]
    order = step(siblings, category.id, direction)
    if order is not None:
        session.flush()
        audit.record(
            session,
            actor,
            "category.reorder",
            "category",
            category.id,
            before={"order": before},
            after={"order": [s.name for s in order]},
        )
    return category


def set_category_hidden(
    session: DbSession, actor: Actor, category_id: int, hidden: bool
) -> Category:
    """Hide a category and all under it from requesters (catalog, forms, search, Itens
    Populares), or show it again."""
    require(can_manage_catalog(actor))
    category = _category(session, category_id)
    if category.hidden != hidden:
        before = _category_state(category)
        category.hidden = hidden
        session.flush()
        _reindex_under(session, category)  # its items leave search, or come back
        action = "category.hide" if hidden else "category.show"
        after = _category_state(category)
        audit.record(session, actor, action, "category", category.id, before=before, after=after)
    return category
