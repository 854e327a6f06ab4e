"""The wizard's draft (`ClientWizard`): the state kept on the server between steps, owned by
the staff member who started it; another person's draft is 404 to them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from portal.clients.models import ClientWizard, Organisation
from portal.clients.policy import can_manage_clients
from portal.clients.wizard import ADDRESS_FIELDS, Reference
from portal.clients.wizard_contacts import checked_contact
from portal.core.actors import Actor
from portal.core.database import DbSession
from portal.core.errors import NotFound, require
from portal.core.timeutil import utcnow

DRAFT_MAX_AGE = timedelta(days=1)


def _prefill(ref: Reference, org: Organisation) -> dict[str, Any]:
    kind_types = [t for t in ref.types.values() if t.kind is org.kind]
    company_type_id = org.company_type_id if org.company_type_id in ref.types else None
    if company_type_id is None and kind_types:
        company_type_id = kind_types[0].id
    return {
        "company_type_id": company_type_id,
        "category_id": org.category_id if org.category_id in ref.categories else None,
        "identifier": org.identifier,
        "name": org.name,
        "uf": org.uf or "",
        **{name: getattr(org, name) or "" for name in ADDRESS_FIELDS},
        "extra": dict(org.extra or {}),
        "contacts": [],
    }


def start_draft(
    session: DbSession, actor: Actor, *, source_id: int | None = None, edit_id: int | None = None
) -> ClientWizard:
    """A new draft of the actor's: empty, from a known organisation that is not a client yet
    (`source_id`), or from a client to edit (`edit_id`). Drafts older than a day are dropped."""
    require(can_manage_clients(actor))
    session.execute(
        delete(ClientWizard).where(
            ClientWizard.user_id == actor.id, ClientWizard.updated_at < utcnow() - DRAFT_MAX_AGE
        )
    )
    data: dict[str, Any] = {"contacts": []}
    org_id = source_id or edit_id
    if org_id is not None:
        query = select(Organisation).where(Organisation.id == org_id)
        org = session.scalar(query.options(selectinload(Organisation.contacts)))
        if org is None or org.is_client != (edit_id is not None):
            raise NotFound()
        data = _prefill(Reference.load(session), org)
        if edit_id is not None:
            data["organisation_id"] = org.id
            data["contacts"] = [
                {
                    "id": c.id,
                    "name": c.name,
                    "job_title": c.job_title,
                    "email": c.email,
                    "phone": c.phone or "",
                    "cpf": c.cpf or "",
                    "external": c.user_id is not None,
                }
                for c in org.contacts
            ]
    draft = ClientWizard(user_id=actor.id, organisation_id=edit_id, data=data)
    session.add(draft)
    session.flush()
    return draft


def load_draft(session: DbSession, actor: Actor, wizard_id: int) -> ClientWizard:
    """The actor's own draft; anyone else's, or one that does not exist, is 404."""
    require(can_manage_clients(actor))
    draft = session.get(ClientWizard, wizard_id)
    if draft is None or draft.user_id != actor.id:
        raise NotFound()
    return draft


def save_draft(session: DbSession, draft: ClientWizard, data: dict[str, Any]) -> None:
    draft.data = data
    draft.updated_at = utcnow()
    session.flush()


def discard_draft(session: DbSession, draft: ClientWizard) -> None:
    session.delete(draft)
    session.flush()


def add_contact(session: DbSession, draft: ClientWizard, form: Mapping[str, str]) -> dict[str, Any]:
    """Append the contact typed in the sub-form to the draft's list, checked ("Adicionar
    contato"); FormErrors on the sub-form's fields otherwise, and the draft is unchanged."""
    data = dict(draft.data or {})
    contact = checked_contact(session, form, data)
    save_draft(session, draft, {**data, "contacts": [*(data.get("contacts") or []), contact]})
    return contact


def remove_contact(session: DbSession, draft: ClientWizard, index: int) -> dict[str, Any] | None:
    """Take a contact off the draft's list ("Remover"); None when there is no such line."""
    data = dict(draft.data or {})
    contacts = list(data.get("contacts") or [])
    if not 0 <= index < len(contacts):
        return None
    gone = contacts.pop(index)
    save_draft(session, draft, {**data, "contacts": contacts})
    return dict(gone)
