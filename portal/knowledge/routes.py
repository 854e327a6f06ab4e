"""The reader's side of the Base de Conhecimento: the Base de Conhecimento page, a category,
an article (with its files, "Este artigo foi útil?" and, when opened from a request form's
suggestions, "Isto resolveu meu problema"). Staff read here too; their tools are in
staff_routes."""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import login_required
from werkzeug.wrappers import Response

from portal.accounts.models import User
from portal.core import files as uploads
from portal.core.database import reads_first
from portal.core.extensions import db
from portal.core.web import attempt_and_flash, current_actor, int_or_none
from portal.knowledge import deflection, markdown, policy, queries, services, tallies
from portal.knowledge.models import Article, ArticleVote, FeedbackState, KbCategory

bp = Blueprint("knowledge", __name__)
log = logging.getLogger(__name__)

ROOT = "/base-de-conhecimento"
CHOICES = {"sim": True, "nao": False}


def _article_or_404(number: str, *, versions: bool = False) -> Article:
    """The article with this number (KB0000123, nothing else) as the signed-in person may read
    it (policy.can_read), or 404 whether it exists or not."""
    parsed = queries.parse_ref(number)
    if parsed is None or parsed[1] is not None:
        abort(404)
    found = queries.readable_article(db.session, current_actor(), parsed[0], versions=versions)
    if found is None:
        abort(404)
    return found


def _article_url(article: Article, **values: Any) -> str:
    return url_for("knowledge.article", ref=queries.canonical_ref(article), **values)


# ------------------------------------------------------------------ browsing


@bp.get(ROOT)
@login_required
def index() -> str:
    me = current_actor()
    return render_template(
        "knowledge/index.html",
        tree=queries.category_tree(db.session, me),
        top=queries.highlights(db.session, me),
        staff=policy.sees_restricted(me),
    )


@bp.get(f"{ROOT}/categoria/<int:category_id>")
@login_required
def category(category_id: int) -> str:
    me = current_actor()
    tree = queries.category_tree(db.session, me)
    node = tree.by_id.get(category_id)
    if node is None:
        abort(404)
    page = queries.category_articles(
        db.session, me, category_id, int_or_none(request.args.get("pagina")) or 1
    )
    return render_template(
        "knowledge/category.html",
        node=node,
        crumbs=_crumbs(tree.trail(category_id)),
        page=page,
        staff=policy.sees_restricted(me),
    )


def _crumbs(trail: list[KbCategory], *last: tuple[str, None]) -> list[tuple[str, str | None]]:
    """Base de Conhecimento › category path (› the article's title)."""
    return [
        ("Base de Conhecimento", url_for("knowledge.index")),
        *[(c.name, url_for("knowledge.category", category_id=c.id)) for c in trail],
        *last,
    ]


# ------------------------------------------------------------------ an article


def _article_context(me: User, article: Article) -> dict[str, Any]:
    """Everything the article page shows, loaded here (the template reads no relationship)."""
    session = db.session
    version = queries.shown_version(session, article)
    if version is None:
        abort(404)
    item_ids = list(version.item_ids or [])
    vote: ArticleVote | None = queries.my_vote(session, me, article.id) if article.is_live else None
    feedback = queries.my_feedback(session, me, article.id)
    from_item = deflection.opened_from(session, request.args.get("de")) if article.is_live else None
    return {
        "article": article,
        "version": version,
        "body": markdown.render(version.body),
        "updated_at": version.published_at or version.updated_at,
        "crumbs": _crumbs(
            queries.category_tree(session, me, counted=False).trail(version.category_id),
            (version.title, None),
        ),
        "files": queries.article_files(session, article.id),
        "forms": queries.related_forms(session, item_ids),
        "related": queries.related_articles(session, me, article, version.category_id, item_ids),
        "vote": vote,
        "feedback": feedback,
        "replies": {t.id: t.reply for t in feedback if t.state is FeedbackState.RESOLVED},
        "from_item": from_item,
        "staff": policy.sees_restricted(me),
        "state_label": article.state_label,
    }


@bp.get(f"{ROOT}/<ref>")
@login_required
def article(ref: str) -> ResponseReturnValue:
    """KB0000123-current-slug; any other slug, or none, answers 301 to it, so links made
    before a title change keep working."""
    parsed = queries.parse_ref(ref)
    if parsed is None:
        abort(404)
    me = current_actor()
    found = queries.readable_article(db.session, me, parsed[0], versions=True)
    if found is None:
        abort(404)
    if ref != queries.canonical_ref(found):
        kept = {"de": request.args["de"]} if request.args.get("de") else {}
        return redirect(_article_url(found, **kept), 301)
    context = _article_context(me, found)
    tallies.count("article", found.id, "views")
    response = make_response(render_template("knowledge/article.html", **context))
    tallies.flush_when_due(response)
    return response


@bp.get(f"{ROOT}/<number>/arquivos/<int:attachment_id>")
@login_required
def download(number: str, attachment_id: int) -> Response:
    article = _article_or_404(number)
    attachment = queries.article_file(db.session, article.id, attachment_id)
    if attachment is None:
        abort(404)
    return uploads.send_attachment(attachment)


# ------------------------------------------------------------------ "Este artigo foi útil?"


def _vote_done(helpful: bool, comment: str) -> str:
    if helpful:
        return "Obrigado pela sua avaliação!"
    if comment.strip():
        return "Obrigado! Seu comentário foi enviado à equipe responsável pelo artigo."
    return "Obrigado pela sua avaliação. Se quiser, conte o que faltou no artigo."


@bp.post(f"{ROOT}/<number>/avaliar")
@login_required
@reads_first
def vote(number: str) -> Response:
    me = current_actor()
    article = _article_or_404(number)
    article_id, back = article.id, _article_url(article, _anchor="avaliacao")
    choice = request.form.get("helpful", "")
    if choice not in CHOICES:
        flash("Escolha Sim ou Não para avaliar o artigo.", "danger")
        return redirect(back)
    helpful, comment = CHOICES[choice], request.form.get("comment", "")
    attempt_and_flash(
        lambda: services.vote(db.session, me, article_id, helpful=helpful, comment=comment),
        _vote_done(helpful, comment),
    )
    return redirect(back)


# ------------------------------------------------------------------ deflection


@bp.post(f"{ROOT}/<number>/resolveu")
@login_required
@reads_first
def resolved(number: str) -> Response:
    """ "Isto resolveu meu problema": the visit ends here, with no request opened."""
    me = current_actor()
    article = _article_or_404(number)
    article_id, back = article.id, _article_url(article)
    item_slug = request.form.get("de", "")
    done = attempt_and_flash(
        lambda: deflection.record_avoided(db.session, me, article_id, item_slug),
        "Que bom que o artigo resolveu! Nenhuma solicitação foi aberta.",
    )
    return redirect(url_for("home.home") if done else back)
