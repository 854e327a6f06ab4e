"""The service catalog: a category tree, its items, and each item's form fields as data."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import SupportGroup
from portal.core.extensions import Model


class Category(Model):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("parent_id", "name", name="uq_categories_parent_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)

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
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    # Accent- and case-folded name and descriptions, kept by the catalog service for search.
    search_text: Mapped[str] = mapped_column(Text, default="")

    category: Mapped[Category] = relationship(back_populates="items")
    group: Mapped[SupportGroup | None] = relationship()
    fields: Mapped[list[ItemField]] = relationship(
        back_populates="item", order_by="ItemField.position", cascade="all, delete-orphan"
    )


class FieldType(enum.StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    SELECT = "select"


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
    # A preset value the requester cannot change (Módulo "Gestão de usuários" for GERID).
    preset: Mapped[str | None] = mapped_column(String(200))
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Options that depend on another field's value: {"Login do Usuário": ["Lento", ...]}.
    depends_on: Mapped[str | None] = mapped_column(String(40))
    options_by_parent: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    position: Mapped[int] = mapped_column(default=0)

    item: Mapped[CatalogItem] = relationship(back_populates="fields")

    def display_options(self, values: dict[str, Any]) -> list[str]:
        """Options to offer: those valid for the parent's answer, or all while it is empty."""
        if self.depends_on and not values.get(self.depends_on):
            seen: dict[str, None] = {}
            for options in self.options_by_parent.values():
                seen.update(dict.fromkeys(options))
            return list(seen)
        return self.choices_for(values)

    def choices_for(self, values: dict[str, Any]) -> list[str]:
        """The options valid given the other answers (all of them when independent)."""
        if self.depends_on:
            return list(self.options_by_parent.get(str(values.get(self.depends_on) or ""), []))
        return list(self.options or [])
