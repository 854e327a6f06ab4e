"""The staff side of the Base de Conhecimento: writing, reviewing and keeping articles (Novo
artigo, the editor, Histórico), the Artigos list, Feedback de artigos, Categorias and Deflexão.

Agents and admins only (anyone else gets 404). Each POST parses its form, calls one service and
commits through `attempt`; a refused form is shown again with what was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.core import files as uploads
from portal.core import upload_limits
from portal.core.database import reads_first
from portal.core.errors import ServiceError, http_status
from portal.core.extensions import db
from portal.core.models import PendingUpload
from portal.core.web import attempt, attempt_and_flash, current_actor, int_or_none, staff_required
from portal.knowledge import policy, services, staff_queries
from portal.knowledge.diff import version_diff
from portal.knowledge.forms import ArticleForm
from portal.knowledge.lifecycle import Move
from portal.knowledge.models import Article, FeedbackState, VersionState
from portal.knowledge.staff_presenter import ArticleFile, editor_moves, restored_from, snippet
from portal.requests.queries import get_visible_request

bp = Blueprint("knowledge_staff", __name__, url_prefix="/base-de-conhecimento")


def _article_or_404(number: str) -> Article:
    article = staff_queries.article_by_number(db.session, number)
    if article is None or not policy.can_read(current_actor(), article):
        abort(404)
    return article


def _page_arg() -> int:
    return int_or_none(request.args.get("pagina")) or 1


@bp.app_context_processor
def _navigation() -> dict[str, Any]:
    def kb_open_feedback() -> int | None:
        """Open feedback tasks the viewer may handle (the menu's badge); None for non-staff."""
        if not current_user.is_authenticated or not policy.sees_restricted(current_user):
            return None
        if "kb_open_feedback" not in g:
            g.kb_open_feedback = staff_queries.open_feedback_count(db.session, current_user)
        return int(g.kb_open_feedback)

    return {"kb_open_feedback": kb_open_feedback}


# ------------------------------------------------------------------ the article form


def _form_choices(form: ArticleForm) -> dict[str, Any]:
    return {
        "form": form,
        "data": form.data,
        "errors": form.errors,
        "categories": staff_queries.category_options(db.session),
        "groups": staff_queries.group_options(db.session, form.data.owner_group_id),
        "items": staff_queries.item_options(db.session, form.data.item_ids),
        "accept": uploads.ACCEPT_ATTRIBUTE,
        "allowed_files": uploads.ALLOWED_DESCRIPTION,
        "max_mb": current_app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024),
    }


def _first_group_id() -> int | None:
    groups = sorted((g for g in current_actor().groups if g.active), key=lambda g: g.name)
    return groups[0].id if groups else None


def _render_new(
    form: ArticleForm, pending: list[PendingUpload], source: str | None, status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "knowledge/staff/new.html", pending=pending, source=source, **_form_choices(form)
    ), status


@bp.get("/novo")
@staff_required
def new() -> ResponseReturnValue:
    number = request.args.get("solicitacao", "").strip()[:20]
    if not number:
        return _render_new(ArticleForm.blank(_first_group_id()), [], None)
    req = get_visible_request(db.session, current_actor(), number)
    if req is None:
        abort(404)
    prefill = staff_queries.request_prefill(db.session, req, _first_group_id())
    return _render_new(ArticleForm(data=prefill), [], req.number)


@bp.post("/novo")
@staff_required
@reads_first
def create() -> ResponseReturnValue:
    me = current_actor()
    form = ArticleForm.parse(request.form)
    source = request.form.get("solicitacao", "")[:20] or None
    staged, refused = uploads.stage_files(db.session, me, request.files.getlist("attachments"))
    pending = uploads.pending_for(db.session, me, form.upload_tokens) + staged
    for message in refused:
        form.add_error("attachments", message)
    if not form.errors:
        try:
            article = services.create_article_with_files(db.session, me, form.data, pending)
        except ServiceError as exc:
            if http_status(exc) == 404:
                raise
            form.add_service_error(exc)
        else:
            number = article.number  # read before the commit expires it
            db.session.commit()
            flash(f"Artigo {number} criado como rascunho.", "success")
            return redirect(url_for(".edit", number=number))
    db.session.commit()  # keep the files already accepted for the next try
    return _render_new(form, pending, source, upload_limits.refusal_status())


# ------------------------------------------------------------------ the editor


def _render_editor(
    number: str,
    form: ArticleForm | None = None,
    *,
    files_error: str | None = None,
    pending: list[PendingUpload] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    article = _article_or_404(number)
    working = article.working_version
    source = working or article.live_version
    if source is None:
        source = staff_queries.latest_version(db.session, article.id)
    if form is None:
        form = ArticleForm.of_version(source) if source else ArticleForm.blank()
        form.based_on = working.id if working else 0
    moves, waits = editor_moves(current_actor(), article)
    files = [
        ArticleFile(
            attachment,
            snippet(
                attachment.original_name,
                url_for("knowledge.download", number=article.number, attachment_id=attachment.id),
                attachment.content_type,
            ),
            attachment.content_type in uploads.IMAGES,
        )
        for attachment in staff_queries.article_files(db.session, article.id)
    ]
    return render_template(
        "knowledge/staff/edit.html",
        article=article,
        working=working,
        working_in_review=working is not None and working.state is VersionState.REVIEW,
        working_is_draft=working is not None and working.state is VersionState.DRAFT,
        live=article.live_version if article.is_live else None,
        moves=moves,
        waits_for_reviewer=waits,
        files=files,
        files_error=files_error,
        pending=pending or [],
        **_form_choices(form),
    ), status


@bp.get("/<number>/editar")
@staff_required
def edit(number: str) -> ResponseReturnValue:
    return _render_editor(number)


@bp.post("/<number>/editar")
@staff_required
@reads_first
def save(number: str) -> ResponseReturnValue:
    article_id, number = _ids(number)
    form = ArticleForm.parse(request.form)
    me = current_actor()
    _, error = attempt(
        lambda: services.save_draft(db.session, me, article_id, form.data, based_on=form.based_on)
    )
    if error is not None:
        form.add_service_error(error)
        return _render_editor(number, form, status=http_status(error))
    flash("Rascunho salvo.", "success")
    return redirect(url_for(".edit", number=number))


def _ids(number: str) -> tuple[int, str]:
    """The article's id and number, read before a service's begin_write expires it."""
    article = _article_or_404(number)
    return article.id, article.number


MOVES: dict[Move, tuple[Callable[..., Any], Callable[[Any], str]]] = {
    Move.SUBMIT: (services.submit_for_review, lambda _: "Versão enviada para revisão."),
    Move.RETURN: (services.return_to_author, lambda _: "Versão devolvida ao autor."),
    Move.PUBLISH: (services.publish, lambda v: f"Versão {v.number} publicada."),
    Move.DISCARD: (services.discard_draft, lambda _: "Rascunho descartado."),
    Move.ARCHIVE: (services.archive, lambda _: "Artigo arquivado."),
}


@bp.post("/<number>/acao")
@staff_required
@reads_first
def act(number: str) -> Response:
    article_id, number = _ids(number)
    try:
        move = Move(request.form.get("move", ""))
    except ValueError:
        abort(404)
    if move not in MOVES:
        abort(404)
    service, done = MOVES[move]
    me = current_actor()
    attempt_and_flash(lambda: service(db.session, me, article_id), done)
    return redirect(url_for(".edit", number=number))


@bp.post("/<number>/arquivos")
@staff_required
@reads_first
def add_files(number: str) -> ResponseReturnValue:
    article_id, number = _ids(number)
    me = current_actor()
    staged, refused = uploads.stage_files(db.session, me, request.files.getlist("attachments"))
    tokens = request.form.getlist("upload_tokens")[:20]
    pending = uploads.pending_for(db.session, me, tokens) + staged
    if refused:
        db.session.commit()  # keep the files already accepted for the next try
        return _render_editor(
            number,
            files_error=" ".join(refused),
            pending=pending,
            status=upload_limits.refusal_status(),
        )
    attached, error = attempt(
        lambda: services.attach_article_files(db.session, me, article_id, pending)
    )
    if error is not None:
        return _render_editor(number, files_error=str(error), status=http_status(error))
    count = len(attached or [])
    flash("Arquivo adicionado." if count == 1 else f"{count} arquivos adicionados.", "success")
    return redirect(url_for(".edit", number=number, _anchor="arquivos"))


# ------------------------------------------------------------------ Histórico


@bp.get("/<number>/historico")
@staff_required
def history(number: str) -> str:
    article = _article_or_404(number)
    versions = staff_queries.versions(db.session, article.id)
    by_id = {v.id: v for v in versions}
    older = by_id.get(int_or_none(request.args.get("a")) or 0)
    newer = by_id.get(int_or_none(request.args.get("b")) or 0)
    diff = version_diff(older.content(), newer.content()) if older and newer else None
    return render_template(
        "knowledge/staff/history.html",
        article=article,
        versions=versions,
        restored_from={v.id: restored_from(v, by_id) for v in versions},
        chosen_a=older.id if older else (versions[1].id if len(versions) > 1 else None),
        chosen_b=newer.id if newer else (versions[0].id if versions else None),
        older=older,
        newer=newer,
        diff=diff,
        # A restore starts a draft: offered while no draft is under way.
        can_restore=article.working_version_id is None and policy.can_write(current_actor()),
    )


@bp.post("/<number>/restaurar")
@staff_required
@reads_first
def restore(number: str) -> Response:
    article_id, number = _ids(number)
    version_id = int_or_none(request.form.get("version_id")) or 0
    me = current_actor()
    if attempt_and_flash(
        lambda: services.restore(db.session, me, article_id, version_id),
        "Versão restaurada como novo rascunho. Revise e envie para revisão.",
    ):
        return redirect(url_for(".edit", number=number))
    return redirect(url_for(".history", number=number))


# ------------------------------------------------------------------ Artigos


@bp.get("/artigos")
@staff_required
def articles() -> str:
    args = request.args
    state = args.get("estado", "")
    filters = staff_queries.ArticleFilters(
        state=state if state in staff_queries.STATES else "",
        group_id=int_or_none(args.get("grupo")),
        category_id=int_or_none(args.get("categoria")),
    )
    return render_template(
        "knowledge/staff/articles.html",
        page=staff_queries.article_list(db.session, filters, _page_arg()),
        filters=filters,
        states=staff_queries.STATES,
        groups=staff_queries.group_options(db.session),
        categories=staff_queries.category_options(db.session),
    )


# ------------------------------------------------------------------ Feedback de artigos


def _render_feedback(
    state_key: str,
    page: int,
    *,
    errors: dict[int, str] | None = None,
    replies: dict[int, str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    if state_key not in staff_queries.FEEDBACK_STATES:
        state_key = "abertos"
    state = staff_queries.FEEDBACK_STATES[state_key]
    return render_template(
        "knowledge/staff/feedback.html",
        page=staff_queries.feedback_list(db.session, current_actor(), state, page),
        state_key=state_key,
        states={"abertos": "Abertos", "resolvidos": "Resolvidos", "descartados": "Descartados"},
        handles=state is FeedbackState.OPEN,
        errors=errors or {},
        replies=replies or {},
    ), status


@bp.get("/feedback")
@staff_required
def feedback() -> ResponseReturnValue:
    return _render_feedback(request.args.get("estado", "abertos"), _page_arg())


@bp.post("/feedback/<int:feedback_id>")
@staff_required
@reads_first
def handle_feedback(feedback_id: int) -> ResponseReturnValue:
    form = request.form
    resolution = form.get("resolution", "")
    reply = form.get("reply", "")
    me = current_actor()
    _, error = attempt(
        lambda: services.handle_feedback(
            db.session, me, feedback_id, resolution=resolution, reply=reply
        )
    )
    page = int_or_none(form.get("pagina")) or 1
    if error is not None:
        return _render_feedback(
            "abertos",
            page,
            errors={feedback_id: str(error)},
            replies={feedback_id: reply},
            status=http_status(error),
        )
    done = FeedbackState.RESOLVED.value == resolution
    flash(
        "Feedback resolvido; a pessoa foi avisada." if done else "Feedback descartado.", "success"
    )
    return redirect(url_for(".feedback", pagina=page))


# ------------------------------------------------------------------ Categorias


def _render_categories(
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    return render_template(
        "knowledge/staff/categories.html",
        categories=staff_queries.category_options(db.session),
        counts=staff_queries.categories_with_counts(db.session),
        errors=errors or {},
        typed=typed or {},
    ), status


@bp.get("/categorias")
@staff_required
def categories() -> ResponseReturnValue:
    return _render_categories()


@bp.post("/categorias")
@staff_required
def create_category() -> ResponseReturnValue:
    name = request.form.get("name", "")
    parent_id = int_or_none(request.form.get("parent_id"))
    me = current_actor()
    _, error = attempt(lambda: services.create_category(db.session, me, name, parent_id))
    if error is not None:
        return _render_categories(
            {"new": str(error)}, {"new": name, "parent": str(parent_id or "")}, http_status(error)
        )
    flash("Categoria criada.", "success")
    return redirect(url_for(".categories"))


@bp.post("/categorias/<int:category_id>")
@staff_required
def rename_category(category_id: int) -> ResponseReturnValue:
    name = request.form.get("name", "")
    me = current_actor()
    _, error = attempt(lambda: services.rename_category(db.session, me, category_id, name))
    if error is not None:
        key = f"rename-{category_id}"
        return _render_categories({key: str(error)}, {key: name}, http_status(error))
    flash("Categoria renomeada.", "success")
    return redirect(url_for(".categories"))


# ------------------------------------------------------------------ Deflexão


@bp.get("/deflexao")
@staff_required
def deflection() -> str:
    return render_template(
        "knowledge/staff/deflection.html", rows=staff_queries.deflection(db.session)
    )
