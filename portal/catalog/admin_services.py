"""Keeping the catalog's items from Administração: create, edit, withdraw and reactivate
(the category tree is kept by portal.catalog.category_services).

Every function takes the session and the actor, checks policy.can_manage_catalog, flushes
(the caller commits) and writes an audit entry with the values before and after. An item's
form (its fields, versions and publishing) lives in portal.catalog.versions; its routing
rules in portal.catalog.rule_services.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from portal.accounts.models import SupportGroup
from portal.catalog.models import CatalogItem, Category
from portal.catalog.policy import can_manage_catalog
from portal.catalog.services import ITEM_AUDITED, index_item
from portal.core import audit
from portal.core.actors import Actor
from portal.core.database import DbSession
from portal.core.errors import FormErrors, NotFound, ValidationError, require
from portal.core.fulltext import fold

# Font Awesome 5 icons the portal serves (static/vendor/fontawesome), with what each suggests.
ICONS: tuple[tuple[str, str], ...] = (
    ("fa-file-alt", "Documento"),
    ("fa-id-card", "Identificação"),
    ("fa-users", "Pessoas"),
    ("fa-headset", "Atendimento"),
    ("fa-user-lock", "Acesso"),
    ("fa-key", "Senha"),
    ("fa-user-shield", "Perfis e permissões"),
    ("fa-laptop", "Sistema"),
    ("fa-globe", "Portal"),
    ("fa-database", "Dados"),
    ("fa-chart-bar", "Relatórios"),
    ("fa-clipboard-list", "Formulário"),
    ("fa-envelope", "E-mail"),
    ("fa-hand-holding-usd", "Benefícios"),
    ("fa-money-check", "Pagamentos"),
    ("fa-graduation-cap", "Capacitação"),
    ("fa-tools", "Manutenção"),
    ("fa-question-circle", "Dúvidas"),
)
ICON_NAMES = frozenset(name for name, _ in ICONS)
DEFAULT_ICON = "fa-file-alt"
NAME_MAX, SHORT_MAX, SLUG_MAX = 120, 255, 80


def clean_text(text: str | None) -> str:
    """Words joined by single spaces (names typed with stray spaces)."""
    return " ".join((text or "").split())


def load_item(session: DbSession, item_id: int) -> CatalogItem:
    """The item, or NotFound (404)."""
    item = session.get(CatalogItem, item_id)
    if item is None:
        raise NotFound()
    return item


def step(rows: Sequence[Any], row_id: int, direction: str) -> list[Any] | None:
    """The rows in their new order with `row_id` one step up or down (None: nothing moves)."""
    if direction not in ("up", "down"):
        raise ValidationError("Escolha subir ou descer.", "direction")
    order = list(rows)
    index = next((i for i, row in enumerate(order) if row.id == row_id), None)
    if index is None:
        raise NotFound()
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(order):
        return None
    order[index], order[other] = order[other], order[index]
    for position, row in enumerate(order):
        row.position = position
    return order


# ---------------------------------------------------------------- items


@dataclass
class ItemInput:
    """An item's own data as the admin types it (its form and rules are kept elsewhere)."""

    name: str = ""
    short_description: str = ""
    description: str = ""
    icon: str = DEFAULT_ICON
    category_id: int | None = None
    group_id: int | None = None

    @classmethod
    def of(cls, item: CatalogItem) -> ItemInput:
        return cls(
            name=item.name,
            short_description=item.short_description,
            description=item.description,
            icon=item.icon,
            category_id=item.category_id,
            group_id=item.group_id,
        )


def _item_state(item: CatalogItem) -> dict[str, Any]:
    return {
        **audit.snapshot(item, ITEM_AUDITED),
        "category_id": item.category_id,
        "group_id": item.group_id,
        "published_version": item.published_version,
    }


def _check_item(
    session: DbSession, data: ItemInput, item: CatalogItem | None
) -> tuple[ItemInput, list[ValidationError]]:
    """The input cleaned, and every problem with it at once (a form shows them all)."""
    clean = ItemInput(
        name=clean_text(data.name),
        short_description=clean_text(data.short_description),
        description=(data.description or "").strip(),
        icon=data.icon or DEFAULT_ICON,
        category_id=data.category_id,
        group_id=data.group_id,
    )
    errors: list[ValidationError] = []
    if not clean.name:
        errors.append(ValidationError("Informe o nome do item.", "name"))
    elif len(clean.name) > NAME_MAX:
        errors.append(ValidationError(f"O nome pode ter até {NAME_MAX} caracteres.", "name"))
    if len(clean.short_description) > SHORT_MAX:
        errors.append(
            ValidationError(
                f"A descrição curta pode ter até {SHORT_MAX} caracteres.", "short_description"
            )
        )
    if clean.icon not in ICON_NAMES and not (item is not None and clean.icon == item.icon):
        errors.append(ValidationError("Escolha um ícone da lista.", "icon"))
    if clean.category_id is None or session.get(Category, clean.category_id) is None:
        errors.append(ValidationError("Escolha a categoria do item.", "category_id"))
    errors.extend(_group_problems(session, clean.group_id, item))
    return clean, errors


def _group_problems(
    session: DbSession, group_id: int | None, item: CatalogItem | None
) -> list[ValidationError]:
    if group_id is None:
        if item is not None and item.active and item.published_version is not None:
            return [
                ValidationError(
                    "Um item publicado precisa de um grupo para receber as solicitações: "
                    "escolha outro grupo ou retire o item do catálogo.",
                    "group_id",
                )
            ]
        return []
    group = session.get(SupportGroup, group_id)
    keeps = item is not None and item.group_id == group_id  # an archived group it already has
    if group is None or not (group.active or keeps):
        return [ValidationError("Escolha um grupo ativo da lista.", "group_id")]
    return []


def make_slug(session: DbSession, name: str) -> str:
    """The item's address in the catalog, from its name: ASCII, lower case, words joined by
    hyphens, unique ("sibec-beneficios", then "sibec-beneficios-2")."""
    base = re.sub(r"[^a-z0-9]+", "-", fold(name)).strip("-")[: SLUG_MAX - 4].strip("-") or "item"
    taken = set(session.scalars(select(CatalogItem.slug).where(CatalogItem.slug.like(f"{base}%"))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _end_of(session: DbSession, category_id: int | None) -> int:
    last = session.scalar(
        select(func.max(CatalogItem.position)).where(CatalogItem.category_id == category_id)
    )
    return (last + 1) if last is not None else 0


def create_item(session: DbSession, actor: Actor, data: ItemInput) -> CatalogItem:
    """A new item, active and not offered yet: requesters see it once its form is published
    (a draft form is kept by portal.catalog.versions)."""
    require(can_manage_catalog(actor))
    clean, errors = _check_item(session, data, None)
    if errors:
        raise FormErrors(errors)
    item = CatalogItem(
        slug=make_slug(session, clean.name),
        name=clean.name,
        short_description=clean.short_description,
        description=clean.description,
        icon=clean.icon,
        category_id=clean.category_id,
        group_id=clean.group_id,
        active=True,
        published_version=None,
        position=_end_of(session, clean.category_id),
    )
    session.add(item)
    session.flush()
    index_item(session, item)
    audit.record(
        session, actor, "catalog_item.create", "catalog_item", item.id, after=_item_state(item)
    )
    return item


def update_item(session: DbSession, actor: Actor, item_id: int, data: ItemInput) -> CatalogItem:
    """Change an item's name, descriptions, icon, category and group (its address stays)."""
    require(can_manage_catalog(actor))
    item = load_item(session, item_id)
    clean, errors = _check_item(session, data, item)
    if errors:
        raise FormErrors(errors)
    assert clean.category_id is not None  # _check_item refused an item without one
    before = _item_state(item)
    if clean.category_id != item.category_id:
        item.position = _end_of(session, clean.category_id)
    item.name = clean.name
    item.short_description = clean.short_description
    item.description = clean.description
    item.icon = clean.icon
    item.category_id = clean.category_id
    item.group_id = clean.group_id
    session.flush()
    session.expire(item, ["category", "group"])
    index_item(session, item)
    after = _item_state(item)
    if after != before:
        audit.record(
            session,
            actor,
            "catalog_item.update",
            "catalog_item",
            item.id,
            before=before,
            after=after,
        )
    return item


def withdraw_item(session: DbSession, actor: Actor, item_id: int) -> CatalogItem:
    """Take the item out of the catalog and search; its open requests go on as they are."""
    return _set_active(session, actor, item_id, False)


def reactivate_item(session: DbSession, actor: Actor, item_id: int) -> CatalogItem:
    """Offer a withdrawn item again (when its form is published and it has a group)."""
    return _set_active(session, actor, item_id, True)


def _set_active(session: DbSession, actor: Actor, item_id: int, active: bool) -> CatalogItem:
    require(can_manage_catalog(actor))
    item = load_item(session, item_id)
    if item.active == active:
        return item
    if active and item.published_version is not None and item.group_id is None:
        raise ValidationError(
            "Escolha o grupo que recebe as solicitações deste item antes de reativá-lo.",
            "group_id",
        )
    before = _item_state(item)
    item.active = active
    session.flush()
    index_item(session, item)
    action = "catalog_item.reactivate" if active else "catalog_item.withdraw"
    audit.record(
        session, actor, action, "catalog_item", item.id, before=before, after=_item_state(item)
    )
    return item
