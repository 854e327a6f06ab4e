from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import login_required

from portal.catalog import queries
from portal.catalog.models import CatalogItem
from portal.core.extensions import db

bp = Blueprint("catalog", __name__)


@bp.get("/catalogo")
@login_required
def index() -> str:
    return render_template("catalog/index.html", tree=queries.category_tree(db.session))


def item_or_404(slug: str) -> CatalogItem:
    item = queries.active_item(db.session, slug)
    if item is None:
        abort(404)
    return item
