from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import login_required

from portal.catalog import queries
from portal.catalog.models import CatalogItem
from portal.catalog.search import search
from portal.core.extensions import db

bp = Blueprint("catalog", __name__)


@bp.get("/catalogo")
@login_required
def index() -> str:
    by_parent = queries.category_tree(db.session)
    return render_template("catalog/index.html", by_parent=by_parent, roots=by_parent.get(None, []))


@bp.get("/pesquisa")
@login_required
def search_page() -> str:
    text = request.args.get("q", "")[:200]
    results = search(db.session, text)
    return render_template("catalog/search.html", q=text, results=results)


def item_or_404(slug: str) -> CatalogItem:
    item = queries.active_item(db.session, slug)
    if item is None:
        abort(404)
    return item
