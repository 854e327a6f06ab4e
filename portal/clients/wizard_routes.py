"""Cadastros > Cliente: the registration wizard (seed 002) and "Dados do cliente".

The draft lives on the server (`ClientWizard`), so the wizard works without JavaScript: each
step is a page whose form posts its fields with the button pressed ("Anterior", "Próximo",
"Cancelar", "Finalizar", "Adicionar contato", "Remover"), and "Finalizar" calls one service.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from portal.clients import ibge, registration, wizard, wizard_drafts
from portal.clients.models import ClientWizard, OrganisationKind
from portal.clients.policy import can_manage_clients, can_see_clients
from portal.clients.wizard import Reference, Step, WizardErrors
from portal.clients.wizard_contacts import checked_contact, typed_anything
from portal.core.errors import FormErrors, ServiceError, ValidationError
from portal.core.extensions import db
from portal.core.web import attempt, current_actor, int_or_none, only

bp = Blueprint("client_wizard", __name__)


def client_url(org_id: int) -> str:
    return url_for("clients.show", org_id=org_id)


def clients_url() -> str:
    return url_for("clients.index")


# ---------------------------------------------------------------- starting


@bp.route("/clientes/novo", methods=["GET", "POST"])
@only(can_manage_clients)
def start() -> ResponseReturnValue:
    actor = current_actor()
    if request.method == "POST":
        source_id = int_or_none(request.form.get("organisation_id"))
        ids: list[int] = []
        attempt(
            lambda: wizard_drafts.start_draft(db.session, actor, source_id=source_id),
            before_commit=lambda draft: ids.append(draft.id),
        )
        return redirect(url_for(".step", wizard_id=ids[0], step="tipo"))
    text = (request.args.get("q") or "").strip()[:100]
    page = int_or_none(request.args.get("pagina")) or 1
    found = registration.find_prospects(db.session, actor, text, page) if text else None
    return render_template("clients/wizard/start.html", q=text, found=found, back_url=clients_url())


@bp.route("/clientes/<int:org_id>/dados")
@only(can_see_clients)
def edit(org_id: int) -> ResponseReturnValue:
    actor = current_actor()
    org = registration.client_data(db.session, actor, org_id)
    return render_template(
        "clients/wizard/data.html",
        org=org,
        place=ibge.find(org.identifier) if org.kind is not OrganisationKind.OUTRO else None,
        extra=wizard.extra_display(org.category, org.extra or {}),
        can_edit=can_manage_clients(actor),
        client_url=client_url(org.id),
    )


@bp.route("/clientes/<int:org_id>/dados/editar", methods=["POST"])
@only(can_manage_clients)
def start_edit(org_id: int) -> ResponseReturnValue:
    actor = current_actor()
    ids: list[int] = []
    attempt(
        lambda: wizard_drafts.start_draft(db.session, actor, edit_id=org_id),
        before_commit=lambda draft: ids.append(draft.id),
    )
    return redirect(url_for(".step", wizard_id=ids[0], step="tipo"))


# ---------------------------------------------------------------- the steps


def _errors_of(exc: FormErrors) -> tuple[dict[str, str], wizard.DuplicateClient | None]:
    errors: dict[str, str] = {}
    duplicate = None
    for error in exc.errors:
        errors.setdefault(error.field or "form", str(error))
        if isinstance(error, wizard.DuplicateClient):
            duplicate = error
    return errors, duplicate


def _render(
    draft: ClientWizard,
    ref: Reference,
    data: dict[str, Any],
    current: Step,
    *,
    values: dict[str, str] | None = None,
    failure: FormErrors | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    steps = wizard.steps_for(ref, data)
    errors, duplicate = _errors_of(failure) if failure else ({}, None)
    if values is None:
        typed = (data.get("typed") or {}).get(current.key)
        values = typed or wizard.form_values(ref, current.key, data)
    identifier = str(data.get("identifier") or "")
    company_type = ref.company_type(data)
    editing = draft.organisation_id
    return (
        render_template(
            "clients/wizard/step.html",
            draft=draft,
            steps=steps,
            current=current,
            is_last=current.key == steps[-1].key,
            previous=next((s for s in steps if s.number == current.number - 1), None),
            values=values,
            errors=errors,
            duplicate=duplicate,
            duplicate_url=client_url(duplicate.organisation_id) if duplicate else None,
            types=list(ref.types.values()),
            categories=list(ref.categories.values()),
            company_type=company_type,
            category=ref.category(data),
            kinds=OrganisationKind,
            place=ibge.find(identifier) if company_type and identifier.isdigit() else None,
            ufs=wizard.UFS,
            data=data,
            contacts=data.get("contacts") or [],
            editing=editing,
            title="Editar cliente" if editing else "Cadastrar cliente",
            back_url=client_url(editing) if editing else clients_url(),
        ),
        status,
    )


def _go(draft: ClientWizard, step: Step | None) -> ResponseReturnValue:
    return redirect(url_for(".step", wizard_id=draft.id, step=step.key if step else "tipo"))


def _finish(
    draft: ClientWizard,
    ref: Reference,
    data: dict[str, Any],
    current: Step,
    values: dict[str, str],
    contact_form: Mapping[str, str] | None = None,
) -> ResponseReturnValue:
    """ "Finalizar": the contact still typed in the sub-form (if any) joins the list, then one
    service registers or updates the client, in one transaction."""
    actor = current_actor()
    editing = draft.organisation_id
    ids: list[int] = []

    def operation() -> int:
        final = data
        if contact_form is not None:
            contact = checked_contact(db.session, contact_form, data)
            final = {**data, "contacts": [*(data.get("contacts") or []), contact]}
        if editing:
            org = registration.update_client(db.session, actor, editing, final)
        else:
            org = registration.register_client(db.session, actor, final)
        wizard_drafts.discard_draft(db.session, draft)
        return org.id

    _, error = attempt(operation, before_commit=ids.append)
    if error is None:
        flash("Dados do cliente salvos." if editing else "Cliente cadastrado.", "success")
        return redirect(client_url(ids[0]))
    step_key = error.step if isinstance(error, WizardErrors) else current.key
    failed = next(s for s in wizard.steps_for(ref, data) if s.key == step_key)
    saved = load_fresh(draft.id)
    if failed.key != current.key:
        values = wizard.form_values(ref, failed.key, saved.data)
    return _render(
        saved, ref, dict(saved.data), failed, values=values, failure=_as_form(error), status=400
    )


def _as_form(error: ServiceError) -> FormErrors:
    return error if isinstance(error, FormErrors) else FormErrors([ValidationError(str(error))])


def load_fresh(wizard_id: int) -> ClientWizard:
    return wizard_drafts.load_draft(db.session, current_actor(), wizard_id)


def _contacts_post(
    draft: ClientWizard, ref: Reference, data: dict[str, Any], current: Step, action: str
) -> ResponseReturnValue:
    """The last step's buttons: Remover a listed contact, Adicionar contato (Enter too),
    Finalizar (with the contact still typed, if any), Anterior."""
    form = request.form
    removed = int_or_none(form.get("remover"))
    if removed is not None:
        gone, _ = attempt(lambda: wizard_drafts.remove_contact(db.session, draft, removed))
        if gone:
            flash(f"Contato {gone.get('name')} removido da lista.", "success")
        return _go(draft, current)
    typed = {key: form.get(key, "") for key in form if key.startswith("contact_")}
    if action == "finalizar":
        return _finish(draft, ref, data, current, typed, form if typed_anything(form) else None)
    if action in ("adicionar", "enter") and typed_anything(form):
        added, error = attempt(lambda: wizard_drafts.add_contact(db.session, draft, form))
        if error is not None or added is None:
            saved = load_fresh(draft.id)
            failure = _as_form(error) if error else FormErrors([])
            return _render(
                saved, ref, dict(saved.data), current, values=typed, failure=failure, status=400
            )
        flash(f"Contato {added['name']} adicionado à lista.", "success")
        return _go(draft, current)
    if action == "adicionar":
        failure = FormErrors([ValidationError("Informe o nome do contato.", "contact_name")])
        return _render(draft, ref, data, current, values=typed, failure=failure, status=400)
    if action == "anterior":
        previous = wizard.steps_for(ref, data)[current.number - 2]
        return _go(draft, previous)
    return _go(draft, current)


@bp.route("/clientes/cadastro/<int:wizard_id>/<step>", methods=["GET", "POST"])
@only(can_manage_clients)
def step(wizard_id: int, step: str) -> ResponseReturnValue:
    actor = current_actor()
    draft = wizard_drafts.load_draft(db.session, actor, wizard_id)
    ref = Reference.load(db.session)
    data: dict[str, Any] = dict(draft.data or {})
    steps = wizard.steps_for(ref, data)
    current = next((s for s in steps if s.key == step), None)
    if current is None:
        return _go(draft, steps[0])
    action = request.form.get("acao", "") if request.method == "POST" else ""
    if action == "cancelar":
        back = client_url(draft.organisation_id) if draft.organisation_id else clients_url()
        wizard_drafts.discard_draft(db.session, draft)
        db.session.commit()
        flash("Cadastro cancelado. Nada foi salvo.", "info")
        return redirect(back)
    # A later step opens only when the ones before it are filled in and valid.
    blocked = wizard.first_invalid_step(db.session, ref, data, before=current.key)
    if blocked is not None:
        return _go(draft, next(s for s in steps if s.key == blocked.step))
    if request.method == "GET":
        return _render(draft, ref, data, current)
    if current.key == "contatos":
        return _contacts_post(draft, ref, data, current, action)
    typed = {key: value for key, value in request.form.items() if key not in ("csrf_token", "acao")}
    typed_all: dict[str, Any] = dict(data.get("typed") or {})
    try:
        updates = wizard.parse_step(db.session, ref, current.key, request.form, data)
    except WizardErrors as exc:
        if action != "anterior":
            return _render(draft, ref, data, current, values=typed, failure=exc, status=400)
        # Going back keeps what was typed; the step must pass before the wizard moves on.
        typed_all[current.key] = typed
        wizard_drafts.save_draft(db.session, draft, {**data, "typed": typed_all})
        db.session.commit()
        return _go(draft, steps[current.number - 2] if current.number > 1 else current)
    typed_all.pop(current.key, None)
    data = {**data, **updates, "typed": typed_all}
    wizard_drafts.save_draft(db.session, draft, data)
    db.session.commit()
    moved = wizard.steps_for(ref, data)
    index = current.number - 1
    target = moved[index - 1] if action == "anterior" else moved[min(index + 1, len(moved) - 1)]
    if action == "anterior" and index == 0:
        target = moved[0]
    return _go(draft, target)
