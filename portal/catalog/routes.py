from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.catalog.search import search
from portal.extensions import db
from portal.models import CatalogItem, Category

bp = Blueprint("catalog", __name__)


@bp.get("/catalogo")
@login_required
def index() -> str:
    categories = list(
        db.session.scalars(
            select(Category)
            .order_by(Category.position, Category.name)
            .options(selectinload(Category.items))
        )
    )
    by_parent: dict[int | None, list[Category]] = {}
    for category in categories:
        by_parent.setdefault(category.parent_id, []).append(category)
    return render_template("catalog/index.html", by_parent=by_parent, roots=by_parent.get(None, []))


@bp.get("/pesquisa")
@login_required
def search_page() -> str:
    text = request.args.get("q", "")[:200]
    results = search(db.session, text)
    return render_template("catalog/search.html", q=text, results=results)


def item_or_404(slug: str) -> CatalogItem:
    item = db.session.scalar(
        select(CatalogItem)
        .where(CatalogItem.slug == slug, CatalogItem.active)
        .options(selectinload(CatalogItem.fields))
    )
    if item is None:
        abort(404)
    return item
