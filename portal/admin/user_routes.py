"""Administração > Usuários: search, create (with a first-access e-mail), and a user's page
with the role, organisation, groups, the "cadastro" permission, Desativar/Reativar,
Desbloquear acesso and Enviar redefinição de senha.

Admins only; each POST calls one service of portal.accounts (admin.py, services.py), commits
and redirects, or shows the page again with the error next to what it concerns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from portal.accounts import admin as services
from portal.accounts import admin_queries as queries
from portal.accounts import anonymise, two_factor
from portal.accounts.models import Role, SupportGroup, User
from portal.accounts.services import set_client_registration
from portal.clients.models import Organisation
from portal.core.cpf import format_cpf
from portal.core.errors import FormErrors, ServiceError, http_status
from portal.core.extensions import db
from portal.core.storage import file_store
from portal.core.web import admin_required, attempt, current_actor, int_or_none

bp = Blueprint("admin_users", __name__, url_prefix="/admin/usuarios")

STATUSES = [("", "Todos"), ("ativos", "Ativos"), ("desativados", "Desativados")]


@bp.app_template_filter("formatted_cpf")
def _cpf_filter(digits: str) -> str:
    return format_cpf(digits) if digits and len(digits) == 11 else digits


@bp.get("/")
@admin_required
def index() -> ResponseReturnValue:
    filters = queries.UserFilters.parse(request.args)
    page = queries.user_page(db.session, filters, page=int_or_none(request.args.get("pagina")) or 1)
    return render_template(
        "admin/users/index.html", page=page, filters=filters, roles=list(Role), statuses=STATUSES
    )


# ---------------------------------------------------------------- new user


def _groups_of(form: MultiDict[str, str]) -> list[SupportGroup]:
    ids = {i for i in (int_or_none(v) for v in form.getlist("groups")[:200]) if i}
    return [g for g in queries.active_groups(db.session) if g.id in ids] if ids else []


@dataclass
class NewUserForm:
    """The new-user form as typed, and its errors by field."""

    data: services.NewAccount
    org_search: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, form: MultiDict[str, str]) -> NewUserForm:
        org_id = int_or_none(form.get("organisation_id"))
        data = services.NewAccount(
            cpf=form.get("cpf", "")[:20],
            full_name=form.get("full_name", "")[:200],
            email=form.get("email", "")[:254],
            role=form.get("role", "")[:20],
            organisation=db.session.get(Organisation, org_id) if org_id else None,
            groups=_groups_of(form),
            may_register_clients=form.get("may_register_clients") == "1",
        )
        return cls(data=data, org_search=form.get("org_busca", "")[:100])

    def add(self, error: ServiceError) -> None:
        for problem in error.errors if isinstance(error, FormErrors) else [error]:
            name = getattr(problem, "field", None) or "form"
            self.errors.setdefault(name, []).append(str(problem))


def _render_new(form: NewUserForm, status: int = 200) -> ResponseReturnValue:
    chosen = form.data.organisation
    return render_template(
        "admin/users/new.html",
        form=form,
        data=form.data,
        errors=form.errors,
        roles=list(Role),
        groups=queries.active_groups(db.session),
        chosen_group_ids={g.id for g in form.data.groups},
        organisations=queries.organisation_options(
            db.session, form.org_search, chosen_id=chosen.id if chosen else None
        ),
    ), status


@bp.get("/novo")
@admin_required
def new() -> ResponseReturnValue:
    return _render_new(NewUserForm(data=services.NewAccount()))


@bp.post("/novo")
@admin_required
def create() -> ResponseReturnValue:
    form = NewUserForm.parse(request.form)
    if request.form.get("acao") == "buscar":  # "Buscar" organisation, without JavaScript
        return _render_new(form)
    created: list[int] = []
    _, error = attempt(
        lambda: services.create_account(db.session, current_actor(), form.data),
        before_commit=lambda user: created.append(user.id),
    )
    if error is not None:
        form.add(error)
        return _render_new(form, 400)
    flash("Usuário criado. Ele recebe por e-mail o link para criar a senha.", "success")
    return redirect(url_for(".show", user_id=created[0]))


# ---------------------------------------------------------------- a user's page


def _user_or_404(user_id: int) -> User:
    user = queries.get_user(db.session, user_id)
    if user is None:
        abort(404)
    return user


def _render_show(
    user: User, errors: dict[str, list[str]] | None = None, status: int = 200
) -> ResponseReturnValue:
    org_search = request.args.get("org_busca", "")[:100]
    me = current_actor()
    return render_template(
        "admin/users/show.html",
        user=user,
        errors=errors or {},
        roles=list(Role),
        groups=queries.active_groups(db.session),
        member_of={g.id for g in user.groups},
        archived_groups=sorted(g.name for g in user.groups if not g.active),
        organisations=queries.organisation_options(
            db.session, org_search, chosen_id=user.organisation_id
        ),
        org_search=org_search,
        sign_in=services.sign_in_status(db.session, user),
        is_self=me.id == user.id,
    ), status


@bp.get("/<int:user_id>")
@admin_required
def show(user_id: int) -> ResponseReturnValue:
    return _render_show(_user_or_404(user_id))


def _run(user_id: int, section: str, operation: Any, done: Any) -> ResponseReturnValue:
    """One action of the user page: the service's error shows next to its section (the page
    again, with the error's status); success flashes `done` (text, or a function of the
    result) and goes back to the page."""
    user = _user_or_404(user_id)
    messages: list[str] = []
    _, error = attempt(
        lambda: operation(user),
        before_commit=lambda result: messages.append(done(result) if callable(done) else done),
    )
    if error is not None:
        return _render_show(_user_or_404(user_id), {section: [str(error)]}, http_status(error))
    flash(messages[0], "success")
    return redirect(url_for(".show", user_id=user_id))


@bp.post("/<int:user_id>/papel")
@admin_required
def save_role(user_id: int) -> ResponseReturnValue:
    role = request.form.get("role", "")[:20]
    return _run(
        user_id,
        "role",
        lambda user: services.change_role(db.session, current_actor(), user, role),
        "Papel atualizado.",
    )


@bp.post("/<int:user_id>/organizacao")
@admin_required
def save_organisation(user_id: int) -> ResponseReturnValue:
    org_id = int_or_none(request.form.get("organisation_id"))
    organisation = db.session.get(Organisation, org_id) if org_id else None
    return _run(
        user_id,
        "organisation",
        lambda user: services.change_organisation(db.session, current_actor(), user, organisation),
        "Organização atualizada.",
    )


@bp.post("/<int:user_id>/grupos")
@admin_required
def save_groups(user_id: int) -> ResponseReturnValue:
    groups = _groups_of(request.form)
    return _run(
        user_id,
        "groups",
        lambda user: services.set_groups(db.session, current_actor(), user, groups),
        "Grupos atualizados.",
    )


@bp.post("/<int:user_id>/cadastro")
@admin_required
def save_registration(user_id: int) -> ResponseReturnValue:
    allowed = request.form.get("may_register_clients") == "1"
    return _run(
        user_id,
        "may_register_clients",
        lambda user: set_client_registration(db.session, current_actor(), user, allowed),
        "Permissão de cadastro atualizada.",
    )


@bp.post("/<int:user_id>/desativar")
@admin_required
def deactivate(user_id: int) -> ResponseReturnValue:
    return _run(
        user_id,
        "account",
        lambda user: services.deactivate(db.session, current_actor(), user),
        "Usuário desativado: todas as sessões dele foram encerradas.",
    )


@bp.post("/<int:user_id>/reativar")
@admin_required
def reactivate(user_id: int) -> ResponseReturnValue:
    return _run(
        user_id,
        "account",
        lambda user: services.reactivate(db.session, current_actor(), user),
        "Usuário reativado.",
    )


def _unlocked(result: services.Unlocked) -> str:
    text = f"Acesso desbloqueado ({result.removed} tentativas sem sucesso apagadas)."
    if result.address_still_throttled:
        text += (
            " O endereço de rede de onde ele tentou continua bloqueado por tentativas com "
            "outros CPFs; libera sozinho ao fim do prazo do bloqueio."
        )
    return text


@bp.post("/<int:user_id>/desbloquear")
@admin_required
def unlock(user_id: int) -> ResponseReturnValue:
    return _run(
        user_id,
        "unlock",
        lambda user: services.unlock_sign_in(db.session, current_actor(), user),
        _unlocked,
    )


SENT = {
    "first_access": "E-mail de primeiro acesso enviado (o usuário ainda não tinha criado a senha).",
    "password_reset": "E-mail de redefinição de senha enviado.",
}


@bp.post("/<int:user_id>/redefinir-senha")
@admin_required
def send_reset(user_id: int) -> ResponseReturnValue:
    return _run(
        user_id,
        "reset",
        lambda user: services.send_password_reset(db.session, current_actor(), user),
        lambda kind: SENT[kind],
    )


@bp.get("/<int:user_id>/segundo-fator")
@admin_required
def confirm_reset_two_factor(user_id: int) -> ResponseReturnValue:
    """Ask before "Redefinir segundo fator": it signs the user out everywhere."""
    return render_template("admin/users/reset_two_factor.html", user=_user_or_404(user_id))


@bp.post("/<int:user_id>/segundo-fator")
@admin_required
def reset_two_factor(user_id: int) -> ResponseReturnValue:
    return _run(
        user_id,
        "two_factor",
        lambda user: two_factor.reset(db.session, current_actor(), user),
        "Segundo fator redefinido: as sessões do usuário foram encerradas e ele configura "
        "a verificação de novo ao entrar.",
    )


# ---------------------------------------------------------------- LGPD: anonymise


def _render_anonymise(
    user: User, errors: dict[str, list[str]] | None = None, status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "admin/users/anonymise.html",
        user=user,
        errors=errors or {},
        word=anonymise.CONFIRMATION_WORD,
    ), status


@bp.get("/<int:user_id>/anonimizar")
@admin_required
def confirm_anonymise(user_id: int) -> ResponseReturnValue:
    """Ask before "Anonimizar": it cannot be undone, so the admin types a word."""
    return _render_anonymise(_user_or_404(user_id))


@bp.post("/<int:user_id>/anonimizar")
@admin_required
def anonymise_user(user_id: int) -> ResponseReturnValue:
    user = _user_or_404(user_id)
    typed = request.form.get("confirmacao", "")[:40]
    keys, error = attempt(
        lambda: anonymise.anonymise_user(db.session, current_actor(), user, confirmation=typed)
    )
    if error is not None:
        field_name = getattr(error, "field", None) or "anonymise"
        errors = {field_name: [str(error)]}
        return _render_anonymise(_user_or_404(user_id), errors, http_status(error))
    for key in keys or []:  # committed: the files' bytes can go
        file_store().delete(key)
    flash("Usuário anonimizado: os dados pessoais dele foram removidos do portal.", "success")
    return redirect(url_for(".show", user_id=user_id))
