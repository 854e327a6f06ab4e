"""/pesquisa (forms and articles together) and /pesquisa/sugestoes (articles for what someone
is typing, as JSON for static/js/suggestions.js)."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, render_template, request
from flask_login import login_required
from werkzeug.wrappers import Response

from portal.core.extensions import db, limiter
from portal.core.web import current_actor
from portal.knowledge import policy, tallies
from portal.search import presenter, queries

bp = Blueprint("search", __name__)
log = logging.getLogger(__name__)


@bp.get("/pesquisa")
@login_required
def results() -> str:
    filters = presenter.parse_filters(request.args)
    staff = policy.sees_restricted(current_actor())
    page = presenter.results_page(db.session, filters, staff=staff)
    return render_template("search/results.html", page=page, filters=page.filters)


@bp.get("/pesquisa/sugestoes")
@limiter.limit("120 per minute")
@login_required
def suggestions() -> Response:
    """Never restricted articles, whoever asks; counted as shown for the form's item."""
    slug = request.args.get("item", "")[:100]
    item_id = queries.active_item_id(db.session, slug) if slug else None
    articles = presenter.suggestions(
        db.session, request.args.get("q", ""), item_slug=slug if item_id else None
    )
    response = jsonify({"articles": articles})
    if articles and item_id is not None:
        tallies.count("catalog_item", item_id, "suggestions_shown")
        tallies.flush_when_due(response)
    return response
