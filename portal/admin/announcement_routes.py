"""Administração > Comunicados: the list, the form (new and edit, with a preview of the text as
people will read it), publish, back to draft, and remove (drafts only).

Admins only: everyone else gets 404. Each POST parses the form, calls one service of
portal.home.announcements and commits; a refused form comes back with everything typed and
each error next to its field.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from portal.clients.models import OrganisationKind
from portal.clients.services import UFS
from portal.core.errors import FormErrors, ServiceError, ValidationError
from portal.core.extensions import db
from portal.core.web import admin_required, attempt, attempt_and_flash, current_actor, int_or_none
from portal.home import announcements as services
from portal.home import queries
from portal.home.announcements import AnnouncementFields
from portal.home.banner import Notice, notice
from portal.home.models import Announcement, AnnouncementState, Audience, Severity
from portal.knowledge import markdown

bp = Blueprint("admin_announcements", __name__, url_prefix="/admin/comunicados")

# The service's field names, as the form names its inputs.
FIELDS = {
    "title": "titulo",
    "body": "texto",
    "severity": "gravidade",
    "audience": "publico",
    "uf": "uf",
    "kind": "tipo",
    "organisation_id": "ente",
    "starts_at": "inicio",
    "ends_at": "termino",
}


def _tz() -> str:
    return str(current_app.config["TIMEZONE"])


@dataclass
class AnnouncementForm:
    """The Comunicado form as typed (dates as text until they parse)."""

    title: str = ""
    body: str = ""
    severity: str = Severity.INFO.value
    audience: str = Audience.ALL.value
    uf: str = ""
    kind: str = ""
    organisation_id: int | None = None
    organisation_query: str = ""
    starts_text: str = ""
    ends_text: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, form: MultiDict[str, str]) -> AnnouncementForm:
        data = cls(
            title=form.get("titulo", "")[:400],
            body=form.get("texto", "")[: services.BODY_MAX + 1],
            severity=form.get("gravidade", "")[:20],
            audience=form.get("publico", "")[:20],
            uf=form.get("uf", "")[:2],
            kind=form.get("tipo", "")[:20],
            organisation_id=int_or_none(form.get("ente")),
            organisation_query=form.get("ente_busca", "")[:100],
            starts_text=form.get("inicio", "").strip()[:30],
            ends_text=form.get("termino", "").strip()[:30],
        )
        for name, text in (("starts_at", data.starts_text), ("ends_at", data.ends_text)):
            try:
                setattr(data, name, services.parse_local_datetime(text, name, _tz()))
            except ValidationError as exc:
                data.add_service_error(exc)
        return data

    @classmethod
    def of(cls, announcement: Announcement) -> AnnouncementForm:
        value = announcement.audience_value or ""
        return cls(
            title=announcement.title,
            body=announcement.body,
            severity=announcement.severity,
            audience=announcement.audience,
            uf=value if announcement.audience == Audience.UF else "",
            kind=value if announcement.audience == Audience.KIND else "",
            organisation_id=announcement.audience_organisation_id,
            starts_text=services.local_text(announcement.starts_at, _tz()),
            ends_text=services.local_text(announcement.ends_at, _tz()),
            starts_at=announcement.starts_at,
            ends_at=announcement.ends_at,
        )

    def fields(self) -> AnnouncementFields:
        return AnnouncementFields(
            title=self.title,
            body=self.body,
            severity=self.severity,
            audience=self.audience,
            uf=self.uf or None,
            kind=self.kind or None,
            organisation_id=self.organisation_id,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
        )

    def add_service_error(self, exc: ServiceError) -> None:
        problems = exc.errors if isinstance(exc, FormErrors) else [exc]
        for problem in problems:
            name = FIELDS.get(getattr(problem, "field", None) or "", "form")
            if str(problem) not in self.errors.get(name, []):
                self.errors.setdefault(name, []).append(str(problem))

    def preview(self) -> Notice:
        """The text as the home will show it, from what was typed."""
        severity = self.severity if self.severity in {s.value for s in Severity} else "info"
        return Notice(
            id=0,
            title=self.title.strip() or "(sem título)",
            html=markdown.render(self.body),
            severity=Severity(severity),
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            published_at=None,
        )


def _render_form(
    data: AnnouncementForm,
    row: queries.AnnouncementRow | None = None,
    *,
    status: int = 200,
    preview: bool = False,
) -> ResponseReturnValue:
    chosen = queries.organisation_option(db.session, data.organisation_id)
    options = queries.organisation_options(db.session, data.organisation_query)
    if chosen is not None and all(o.id != chosen.id for o in options):
        options.insert(0, chosen)
    return render_template(
        "admin/announcements/form.html",
        data=data,
        errors=data.errors,
        row=row,
        status_text=queries.window_status(row.announcement) if row else None,
        preview=data.preview() if (preview or row is not None) else None,
        severities=list(Severity),
        audiences=list(Audience),
        ufs=sorted(UFS),
        kinds=list(OrganisationKind),
        organisations=options,
        organisation_limit=queries.ORGANISATION_LIMIT,
        datetime_hint=services.DATETIME_HINT,
    ), status


def _row_or_404(announcement_id: int) -> queries.AnnouncementRow:
    found = queries.get_announcement(db.session, announcement_id)
    if found is None:
        abort(404)
    return found


def _redisplay(action: str | None) -> bool:
    """ "Buscar" (the ente's search, without JavaScript) and "Pré-visualizar" save nothing."""
    return action in ("buscar", "previsualizar")


# ------------------------------------------------------------------ the list


@dataclass(frozen=True)
class ListLine:
    row: queries.AnnouncementRow
    notice: Notice
    status: str | None

    @property
    def announcement(self) -> Announcement:
        return self.row.announcement


@bp.get("/")
@admin_required
def index() -> ResponseReturnValue:
    page = queries.announcement_page(db.session, int_or_none(request.args.get("pagina")) or 1)
    lines = [
        ListLine(row, notice(row.announcement), queries.window_status(row.announcement))
        for row in page.rows
    ]
    return render_template(
        "admin/announcements/index.html", page=page, lines=lines, draft=AnnouncementState.DRAFT
    )


# ------------------------------------------------------------------ new and edit


@bp.get("/novo")
@admin_required
def new() -> ResponseReturnValue:
    return _render_form(AnnouncementForm())


@bp.post("/novo")
@admin_required
def create() -> ResponseReturnValue:
    data = AnnouncementForm.parse(request.form)
    action = request.form.get("acao")
    if _redisplay(action):
        return _render_form(replace(data, errors={}), preview=action == "previsualizar")
    if data.errors:
        data.add_service_error(FormErrors(services.check_fields(db.session, data.fields())))
        return _render_form(data, status=400)
    created: list[int] = []
    _, error = attempt(
        lambda: services.create_announcement(db.session, current_actor(), data.fields()),
        before_commit=lambda a: created.append(a.id),
    )
    if error is not None:
        data.add_service_error(error)
        return _render_form(data, status=400)
    flash("Comunicado salvo como rascunho. Publique-o para que apareça.", "success")
    return redirect(url_for(".edit", announcement_id=created[0]))


@bp.get("/<int:announcement_id>/editar")
@admin_required
def edit(announcement_id: int) -> ResponseReturnValue:
    row = _row_or_404(announcement_id)
    return _render_form(AnnouncementForm.of(row.announcement), row)


@bp.post("/<int:announcement_id>/editar")
@admin_required
def save(announcement_id: int) -> ResponseReturnValue:
    row = _row_or_404(announcement_id)
    data = AnnouncementForm.parse(request.form)
    if _redisplay(request.form.get("acao")):
        return _render_form(replace(data, errors={}), row)
    if data.errors:
        data.add_service_error(FormErrors(services.check_fields(db.session, data.fields())))
        return _render_form(data, row, status=400)
    _, error = attempt(
        lambda: services.update_announcement(
            db.session, current_actor(), announcement_id, data.fields()
        )
    )
    if error is not None:
        data.add_service_error(error)
        return _render_form(data, _row_or_404(announcement_id), status=400)
    flash("Comunicado atualizado.", "success")
    return redirect(url_for(".edit", announcement_id=announcement_id))


# ------------------------------------------------------------------ publish, draft, remove


def _back(announcement_id: int) -> Response:
    """Back to where the button was: the list or the Comunicado's own page."""
    if request.form.get("de") == "lista":
        return redirect(url_for(".index"))
    return redirect(url_for(".edit", announcement_id=announcement_id))


@bp.post("/<int:announcement_id>/publicar")
@admin_required
def publish(announcement_id: int) -> Response:
    attempt_and_flash(
        lambda: services.publish(db.session, current_actor(), announcement_id),
        "Comunicado publicado.",
    )
    return _back(announcement_id)


@bp.post("/<int:announcement_id>/rascunho")
@admin_required
def unpublish(announcement_id: int) -> Response:
    attempt_and_flash(
        lambda: services.return_to_draft(db.session, current_actor(), announcement_id),
        "Comunicado voltou para rascunho e deixou de aparecer.",
    )
    return _back(announcement_id)


@bp.get("/<int:announcement_id>/remover")
@admin_required
def confirm_remove(announcement_id: int) -> ResponseReturnValue:
    row = _row_or_404(announcement_id)
    return render_template(
        "admin/announcements/remove.html",
        row=row,
        notice=notice(row.announcement),
        removable=row.announcement.state == AnnouncementState.DRAFT,
    )


@bp.post("/<int:announcement_id>/remover")
@admin_required
def remove(announcement_id: int) -> Response:
    removed = attempt_and_flash(
        lambda: services.remove_announcement(db.session, current_actor(), announcement_id),
        "Comunicado removido.",
    )
    if not removed:
        return redirect(url_for(".confirm_remove", announcement_id=announcement_id))
    return redirect(url_for(".index"))
