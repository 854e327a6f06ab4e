"""A small Base de Conhecimento cast for the service tests: two agents of the owner group, one
of another group, an admin, two requesters, a category and the catalog's forms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from portal.accounts.models import SupportGroup, User
from portal.catalog.models import CatalogItem
from portal.core import fulltext
from portal.core.extensions import db
from portal.knowledge import services
from portal.knowledge.models import Article, KbCategory
from tests.conftest import SETUP

GROUP = "Suporte GERID"
OTHER_GROUP = "Suporte CadÚnico"


@dataclass
class Cast:
    writer: User
    peer: User  # another agent of the owner group
    outsider: User  # an agent of another group
    admin: User
    requester: User
    other_requester: User
    group: SupportGroup
    category: KbCategory
    items: dict[str, CatalogItem]

    def draft(self, **changes: Any) -> services.ArticleInput:
        values: dict[str, Any] = {
            "title": "Como acessar o GERID",
            "summary": "Primeiro acesso com CPF e senha.",
            "body": "## Passo a passo\n\n1. Abra o **GERID**.\n2. Informe o CPF e a senha.",
            "keywords": "login entrar",
            "category_id": self.category.id,
            "owner_group_id": self.group.id,
            "item_ids": [self.items["gerid"].id],
        }
        values.update(changes)
        return services.ArticleInput(**values)

    def create(self, **changes: Any) -> Article:
        article = services.create_article(db.session, self.writer, self.draft(**changes))
        db.session.commit()
        return article

    def published(self, **changes: Any) -> Article:
        """Written by the writer, sent for review, published by the peer."""
        article = self.create(**changes)
        services.submit_for_review(db.session, self.writer, article.id)
        services.publish(db.session, self.peer, article.id)
        db.session.commit()
        return article

    def revise(self, article: Article, author: User | None = None, **changes: Any) -> None:
        """A new version by `author` (the writer), reviewed and published by someone else."""
        author = author or self.writer
        reviewer = self.peer if author.id != self.peer.id else self.writer
        services.save_draft(db.session, author, article.id, self.draft(**changes))
        services.submit_for_review(db.session, author, article.id)
        services.publish(db.session, reviewer, article.id)
        db.session.commit()


def make_cast(make_user: Callable[..., User], catalog: dict[str, CatalogItem]) -> Cast:
    writer = make_user(name="Ana Atendente", role="agent", groups=[GROUP])
    peer = make_user(name="Paulo Revisor", role="agent", groups=[GROUP])
    outsider = make_user(name="Bruno Outro Grupo", role="agent", groups=[OTHER_GROUP])
    admin = make_user(name="Carla Administradora", role="admin")
    requester = make_user(name="Felipe Rodrigues")
    other_requester = make_user(name="Ellem Saraiva")
    group = db.session.scalar(select(SupportGroup).where(SupportGroup.name == GROUP))
    assert group is not None
    category = services.ensure_category_path(db.session, SETUP, ["Acesso e senhas", "GERID"])
    db.session.commit()
    return Cast(writer, peer, outsider, admin, requester, other_requester, group, category, catalog)


def found(typed: str, *, staff: bool) -> dict[int, str]:
    """Article id -> label, for what the search finds."""
    page = fulltext.search_documents(db.session, typed, staff=staff, kind="article", per_page=50)
    return {hit.ref_id: hit.label for hit in page.hits}
