"""The service catalog: a category tree, its items, and each item's form fields as data."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import SupportGroup
from portal.core.extensions import Model
from portal.core.timeutil import utcnow
from portal.core.types import UTCDateTime


class Category(Model):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("parent_id", "name", name="uq_categories_parent_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    # A hidden category (and what is under it) leaves the requester's catalog, not the admin's.
    hidden: Mapped[bool] = mapped_column(default=False)

    parent: Mapped[Category | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Category]] = relationship(
        back_populates="parent", order_by="Category.position"
    )
    items: Mapped[list[CatalogItem]] = relationship(
        back_populates="category", order_by="CatalogItem.position"
    )

    def path(self) -> list[Category]:
        """From the root down to this category (breadcrumbs)."""
        chain: list[Category] = []
        node: Category | None = self
        while node is not None:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))


class CatalogItem(Model):
    __tablename__ = "catalog_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    short_description: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    icon: Mapped[str] = mapped_column(String(40), default="fa-file-alt")
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("support_groups.id"), index=True)
    # Offered to requesters: active and published (a withdrawn item keeps its open requests).
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    # The number of the form version requesters fill in (None: never published).
    published_version: Mapped[int | None] = mapped_column(Integer)

    category: Mapped[Category] = relationship(back_populates="items")
    group: Mapped[SupportGroup | None] = relationship()
    # The draft the admin edits; requesters see the published FormVersion.
    fields: Mapped[list[ItemField]] = relationship(
        back_populates="item", order_by="ItemField.position", cascade="all, delete-orphan"
    )
    routing_rules: Mapped[list[RoutingRule]] = relationship(
        back_populates="item", order_by="RoutingRule.position", cascade="all, delete-orphan"
    )


class FieldType(enum.StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    SELECT = "select"
    # Options per value of another field (Módulo → Funcionalidade).
    DEPENDENT_SELECT = "dependent_select"
    # A value the requester sees and cannot change (Módulo "Gestão de usuários" in GERID).
    FIXED = "fixed"
    PHONE = "phone"
    EMAIL = "email"
    DATE = "date"
    NUMBER = "number"
    CPF = "cpf"
    YES_NO = "yes_no"

    @property
    def label(self) -> str:
        return FIELD_TYPE_LABELS[self]


FIELD_TYPE_LABELS = {
    FieldType.TEXT: "Texto curto",
    FieldType.TEXTAREA: "Texto longo",
    FieldType.SELECT: "Seleção",
    FieldType.DEPENDENT_SELECT: "Seleção dependente",
    FieldType.FIXED: "Valor fixo",
    FieldType.PHONE: "Telefone",
    FieldType.EMAIL: "E-mail",
    FieldType.DATE: "Data",
    FieldType.NUMBER: "Número",
    FieldType.CPF: "CPF",
    FieldType.YES_NO: "Sim/Não",
}


class ItemField(Model):
    """One item-specific question (Motivo, Módulo, Funcionalidade, Sintoma, ...)."""

    __tablename__ = "item_fields"
    __table_args__ = (
        UniqueConstraint("item_id", "key", name="uq_item_fields_item_key"),
        Index("ix_item_fields_item_position", "item_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_items.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(120))
    type: Mapped[FieldType] = mapped_column(
        Enum(
            FieldType, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]
        )
    )
    required: Mapped[bool] = mapped_column(default=False)
    help_text: Mapped[str] = mapped_column(String(500), default="")
    # The value a FIXED field always has (Módulo "Gestão de usuários" for GERID).
    preset: Mapped[str | None] = mapped_column(String(200))
    # What the form starts with (any other type).
    default_value: Mapped[str | None] = mapped_column(String(200))
    # Shown (and checked) only when the field `show_when_key` has the value `show_when_value`.
    show_when_key: Mapped[str | None] = mapped_column(String(40))
    show_when_value: Mapped[str | None] = mapped_column(String(200))
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Options that depend on another field's value: {"Login do Usuário": ["Lento", ...]}.
    depends_on: Mapped[str | None] = mapped_column(String(40))
    options_by_parent: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    position: Mapped[int] = mapped_column(default=0)

    item: Mapped[CatalogItem] = relationship(back_populates="fields")


class FormVersion(Model):
    """A published form: the fields as they were, frozen. A request keeps the version it was
    opened with, so its answers keep their labels after the draft changes."""

    __tablename__ = "form_versions"
    __table_args__ = (UniqueConstraint("item_id", "number", name="uq_form_versions_item_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_items.id"))
    number: Mapped[int] = mapped_column(Integer)
    # The fields as portal.catalog.formdef reads them (FieldSpec.to_dict for each).
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # What changed against the version before, in the admin's words ("Campo Sintoma removido").
    changes: Mapped[list[str]] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_by_label: Mapped[str] = mapped_column(String(200), default="")

    item: Mapped[CatalogItem] = relationship()


class RoutingRule(Model):
    """Send an item's requests to another group by the requester's UF or organisation kind
    ("Portal Rede Atendimento" from the Nordeste goes to "Suporte CadÚnico NE").
    The first rule that matches wins; with none, the item's own group."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_items.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int] = mapped_column(ForeignKey("support_groups.id"), index=True)
    # Empty list: any UF / any kind. Both given: both must match.
    ufs: Mapped[list[str]] = mapped_column(JSON, default=list)
    organisation_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(default=0)

    item: Mapped[CatalogItem] = relationship(back_populates="routing_rules")
    group: Mapped[SupportGroup] = relationship()
