"""Read side of the catalog's admin pages: the whole tree with every item (hidden, withdrawn
and draft ones too) and what each shows, in a fixed number of queries whatever its size."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.accounts.models import SupportGroup
from portal.catalog.models import CatalogItem, Category, RoutingRule
from portal.core.database import DbSession
from portal.requests.lifecycle import ACTIVE_STATES
from portal.requests.models import ServiceRequest


@dataclass(frozen=True)
class ItemRow:
    """One item as the tree lists it."""

    id: int
    name: str
    slug: str
    icon: str
    category_id: int
    group_name: str | None
    active: bool
    published_version: int | None
    open_requests: int
    rules: int

    @property
    def state(self) -> tuple[str, str]:
        return item_state(self.active, self.published_version)


def item_state(active: bool, published_version: int | None) -> tuple[str, str]:
    """An item's state tag as (text, css modifier): Publicado v3, Rascunho or Retirado."""
    if not active:
        return "Retirado", "withdrawn"
    if published_version is None:
        return "Rascunho", "draft"
    return f"Publicado v{published_version}", "published"


@dataclass
class Node:
    """A category with its place in the tree."""

    id: int
    name: str
    parent_id: int | None
    hidden: bool
    depth: int
    # Hidden because a category above it is (requesters see nothing under a hidden one).
    hidden_above: bool
    children: list[Node] = field(default_factory=list)
    items: list[ItemRow] = field(default_factory=list)

    @property
    def item_total(self) -> int:
        """Items here and in every category below."""
        return len(self.items) + sum(child.item_total for child in self.children)


@dataclass
class AdminTree:
    roots: list[Node] = field(default_factory=list)
    by_id: dict[int, Node] = field(default_factory=dict)

    def walk(self) -> list[Node]:
        """Every category in tree order (what a select of categories offers)."""
        found: list[Node] = []

        def visit(nodes: list[Node]) -> None:
            for node in nodes:
                found.append(node)
                visit(node.children)

        visit(self.roots)
        return found

    def options(self) -> list[tuple[int, str]]:
        """(id, path) of every category, in tree order: "MCID › CADÚNICO"."""
        return [(node.id, " › ".join(self.trail(node.id))) for node in self.walk()]

    def trail(self, category_id: int) -> list[str]:
        names: list[str] = []
        node = self.by_id.get(category_id)
        while node is not None:
            names.append(node.name)
            node = self.by_id.get(node.parent_id) if node.parent_id is not None else None
        return list(reversed(names))

    def first_and_last(self, node: Node) -> tuple[bool, bool]:
        """Whether the category is the first and the last of its siblings (no Subir/Descer)."""
        siblings = self.by_id[node.parent_id].children if node.parent_id else self.roots
        return siblings[0].id == node.id, siblings[-1].id == node.id


def admin_tree(session: DbSession, *, with_items: bool = True) -> AdminTree:
    """Every category and (unless only the categories are wanted, for a select) every item,
    with each item's group, open requests and rules."""
    categories = session.execute(
        select(Category.id, Category.name, Category.parent_id, Category.hidden).order_by(
            Category.position, Category.name, Category.id
        )
    ).all()
    children: dict[int | None, list[tuple[int, str, int | None, bool]]] = {}
    for row in categories:
        children.setdefault(row.parent_id, []).append(tuple(row))  # type: ignore[arg-type]
    tree = AdminTree()

    def build(parent_id: int | None, depth: int, hidden_above: bool) -> list[Node]:
        nodes = []
        for row_id, name, parent, hidden in children.get(parent_id, []):
            node = Node(row_id, name, parent, hidden, depth, hidden_above)
            tree.by_id[row_id] = node
            node.children = build(row_id, depth + 1, hidden_above or hidden)
            nodes.append(node)
        return nodes

    tree.roots = build(None, 0, False)
    for item in item_rows(session) if with_items else []:
        if item.category_id in tree.by_id:
            tree.by_id[item.category_id].items.append(item)
    return tree


def _open_requests() -> Any:
    return select(ServiceRequest.item_id, func.count()).where(
        ServiceRequest.state.in_([s.value for s in ACTIVE_STATES])
    )


def open_request_count(session: DbSession, item_id: int) -> int:
    """Requests of the item not closed nor cancelled (they go on if it is withdrawn)."""
    row = session.execute(
        _open_requests().where(ServiceRequest.item_id == item_id).group_by(ServiceRequest.item_id)
    ).first()
    return int(row[1]) if row else 0


def item_rows(session: DbSession) -> list[ItemRow]:
    open_counts = dict(session.execute(_open_requests().group_by(ServiceRequest.item_id)).all())
    rule_counts = dict(
        session.execute(
            select(RoutingRule.item_id, func.count()).group_by(RoutingRule.item_id)
        ).all()
    )
    rows = session.execute(
        select(CatalogItem, SupportGroup.name)
        .outerjoin(SupportGroup, SupportGroup.id == CatalogItem.group_id)
        .order_by(CatalogItem.position, CatalogItem.name, CatalogItem.id)
    ).all()
    return [
        ItemRow(
            id=item.id,
            name=item.name,
            slug=item.slug,
            icon=item.icon,
            category_id=item.category_id,
            group_name=group_name,
            active=item.active,
            published_version=item.published_version,
            open_requests=int(open_counts.get(item.id, 0)),
            rules=int(rule_counts.get(item.id, 0)),
        )
        for item, group_name in rows
    ]


def group_options(session: DbSession, keep_id: int | None = None) -> list[SupportGroup]:
    """The groups an item or a rule may send requests to: the active ones, and the one the
    item already has even when it has been archived since."""
    query = select(SupportGroup).order_by(SupportGroup.name)
    if keep_id is not None:
        query = query.where(SupportGroup.active | (SupportGroup.id == keep_id))
    else:
        query = query.where(SupportGroup.active)
    return list(session.scalars(query))


def item_with_rules(session: DbSession, item_id: int) -> CatalogItem | None:
    """The item for its admin page, with its rules and their groups loaded."""
    return session.scalar(
        select(CatalogItem)
        .where(CatalogItem.id == item_id)
        .options(selectinload(CatalogItem.routing_rules).selectinload(RoutingRule.group))
    )
