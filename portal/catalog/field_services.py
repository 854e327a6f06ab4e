"""Editing an item's form draft one field at a time (Administração > Catálogo > Campos).

The draft is the item's ItemField rows; requesters keep seeing the published FormVersion until
an admin publishes (portal.catalog.versions). portal.catalog.field_definition checks each
definition (field by field and against the whole form); these services apply and audit it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from portal.catalog import field_definition
from portal.catalog.field_definition import FieldInput
from portal.catalog.formdef import FieldSpec
from portal.catalog.models import CatalogItem, ItemField
from portal.catalog.policy import can_manage_catalog
from portal.catalog.services import FIELD_AUDITED
from portal.core import audit
from portal.core.actors import Actor
from portal.core.database import DbSession
from portal.core.errors import ValidationError, require

__all__ = ["FieldInput", "add_field", "derive_key", "move_field", "remove_field", "update_field"]

KEY_MAX = 40
# Names the request form already uses for its own inputs and ids: a field may not take them.
RESERVED_KEYS = frozenset(
    {
        "attachments",
        "content",
        "csrf_token",
        "description",
        "extra_phone",
        "followers",
        "footer",
        "form",
        "requested_for",
        "requested_for_email",
        "requested_for_phone",
        "upload_tokens",
    }
)


def derive_key(label: str, taken: set[str]) -> str:
    """The field's key from its label: ascii, lower case, unique within the item. Set once at
    creation and never changed, so the answers stored under it keep their meaning."""
    text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "_", text).strip("_") or "campo"
    if base[0].isdigit():
        base = f"campo_{base}"
    base = base[: KEY_MAX - 4].rstrip("_")
    key, number = base, 2
    while key in taken or key in RESERVED_KEYS:
        key, number = f"{base}_{number}", number + 1
    return key


# ---------------------------------------------------------------- the services


def add_field(session: DbSession, actor: Actor, item: CatalogItem, data: FieldInput) -> ItemField:
    """A new field at the end of the draft."""
    require(can_manage_catalog(actor))
    fields = list(item.fields)
    key = derive_key(data.label, {f.key for f in fields})
    before = [FieldSpec.from_field(f) for f in fields]
    spec = field_definition.checked(data, key, before, before)
    field = ItemField(key=key, position=len(fields))
    _apply(field, spec)
    item.fields.append(field)
    session.flush()
    audit.record(
        session,
        actor,
        "item_field.create",
        "item_field",
        field.id,
        after={"item_id": item.id, **_state(field)},
    )
    return field


def update_field(
    session: DbSession, actor: Actor, item: CatalogItem, field: ItemField, data: FieldInput
) -> ItemField:
    """Change a field's definition; its key stays."""
    require(can_manage_catalog(actor))
    fields = list(item.fields)
    index = fields.index(field)
    before = [FieldSpec.from_field(f) for f in fields]
    spec = field_definition.checked(data, field.key, before[:index], before, index)
    old = _state(field)
    _apply(field, spec)
    session.flush()
    audit.record(
        session, actor, "item_field.update", "item_field", field.id, before=old, after=_state(field)
    )
    return field


def remove_field(session: DbSession, actor: Actor, item: CatalogItem, field: ItemField) -> None:
    """Take a field out of the draft; refused while another field depends on it."""
    require(can_manage_catalog(actor))
    users = _users_of(item, field)
    if users:
        raise ValidationError(
            f"Não é possível remover “{field.label}”: {' e '.join(users)}. "
            "Altere esses campos antes.",
            "fields",
        )
    old = {"item_id": item.id, **_state(field)}
    field_id = field.id
    item.fields.remove(field)
    for position, other in enumerate(item.fields):
        other.position = position
    session.flush()
    audit.record(session, actor, "item_field.remove", "item_field", field_id, before=old)


def move_field(
    session: DbSession, actor: Actor, item: CatalogItem, field: ItemField, up: bool
) -> None:
    """One place up or down; refused when a field would come before the one it depends on."""
    require(can_manage_catalog(actor))
    fields = list(item.fields)
    index = fields.index(field)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(fields):
        return
    moved = list(fields)
    moved[index], moved[other] = moved[other], moved[index]
    field_definition.refuse_new_problems(fields, moved, "fields")
    old_position = field.position
    for position, f in enumerate(moved):
        f.position = position
    item.fields = moved
    session.flush()
    audit.record(
        session,
        actor,
        "item_field.move",
        "item_field",
        field.id,
        before={"position": old_position},
        after={"position": field.position},
    )


def _users_of(item: CatalogItem, field: ItemField) -> list[str]:
    """How other fields of the draft use this one, in words."""
    key = field.key
    uses = [f"“{f.label}” depende dele" for f in item.fields if f.depends_on == key]
    uses += [f"“{f.label}” aparece conforme ele" for f in item.fields if f.show_when_key == key]
    return uses


def _apply(field: ItemField, spec: FieldSpec) -> None:
    field.label = spec.label
    field.type = spec.type
    field.required = spec.required
    field.help_text = spec.help_text
    field.preset = spec.preset
    field.default_value = spec.default
    field.options = list(spec.options)
    field.depends_on = spec.depends_on
    field.options_by_parent = {k: list(v) for k, v in spec.options_by_parent.items()}
    field.show_when_key = spec.show_when_key
    field.show_when_value = spec.show_when_value


def _state(field: ItemField) -> dict[str, Any]:
    return audit.mask(audit.snapshot(field, FIELD_AUDITED)) or {}
