"""Registering a client and changing its data: what the wizard's "Finalizar" does, in one
transaction with its contacts, its external users, their first-access e-mails and the audit
entries. Also the search for known organisations a client can be started from."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.accounts import reset
from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.clients.models import Contact, Organisation
from portal.clients.policy import can_manage_clients, can_see_clients
from portal.clients.queries import name_or_identifier
from portal.clients.wizard import (
    ADDRESS_FIELDS,
    DuplicateClient,
    Reference,
    WizardErrors,
    check_draft,
)
from portal.clients.wizard_contacts import user_elsewhere
from portal.core import audit
from portal.core.actors import Actor
from portal.core.database import DbSession
from portal.core.errors import NotFound, ValidationError, require
from portal.core.paging import Page
from portal.core.timeutil import utcnow

PROSPECTS_PER_PAGE = 20
AUDITED = (
    "identifier",
    "name",
    "kind",
    "uf",
    "client_since",
    "company_type_id",
    "category_id",
    *ADDRESS_FIELDS,
    "extra",
)


def _snapshot(org: Organisation, contacts: list[Contact]) -> dict[str, Any]:
    return {
        **audit.snapshot(org, AUDITED),
        "contacts": [
            {
                "id": c.id,
                "name": c.name,
                "job_title": c.job_title,
                "email": c.email,
                "phone": c.phone,
                "cpf": c.cpf,
                "user_id": c.user_id,
            }
            for c in contacts
        ],
    }


def _apply(org: Organisation, ref: Reference, clean: dict[str, Any]) -> None:
    company_type = ref.types[clean["company_type_id"]]
    org.kind = company_type.kind
    org.identifier = clean["identifier"]
    org.name = clean["name"]
    org.uf = clean["uf"] or None
    org.company_type_id = company_type.id
    org.category_id = clean["category_id"]
    for name in ADDRESS_FIELDS:
        setattr(org, name, (clean.get(name) or None) if clean["has_address"] else None)
    org.extra = dict(clean.get("extra") or {})
    org.updated_at = utcnow()


def _linked_cpfs(session: DbSession, contacts: list[Contact]) -> dict[int, str]:
    ids = [c.user_id for c in contacts if c.user_id is not None]
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.cpf).where(User.id.in_(ids))).tuples())


def _external_user(
    session: DbSession, actor: Actor, org: Organisation, item: dict[str, Any], field: str
) -> int:
    """The user id of an external contact: this organisation's user with that CPF, or a new
    one who gets the first-access e-mail. A CPF of another organisation's user is refused."""
    problem = user_elsewhere(session, item["cpf"], org.id)
    if problem:
        raise ValidationError(problem, field)
    user_id = session.scalar(select(User.id).where(User.cpf == item["cpf"]))
    if user_id is not None:
        return user_id
    user = accounts.create_external_user(
        session,
        actor,
        cpf=item["cpf"],
        full_name=item["name"],
        email=item["email"],
        phone=item["phone"] or None,
        organisation=org,
    )
    reset.send_first_access(session, user)
    return user.id


def _sync_contacts(
    session: DbSession,
    actor: Actor,
    org: Organisation,
    wanted: list[dict[str, Any]],
    existing: list[Contact],
) -> list[Contact]:
    """Make the organisation's contacts the draft's: update kept ones, add new ones, delete
    the ones removed; link or create the external users."""
    by_id = {c.id: c for c in existing}
    kept: set[int] = {int(item["id"]) for item in wanted if item.get("id") in by_id}
    for contact in existing:
        if contact.id not in kept:
            session.delete(contact)
    session.flush()
    linked = _linked_cpfs(session, [by_id[i] for i in kept])
    errors: list[ValidationError] = []
    result: list[Contact] = []
    for index, item in enumerate(wanted):
        known = item.get("id")
        contact = by_id[int(known)] if known in kept else Contact(organisation_id=org.id)
        contact.name, contact.job_title = item["name"], item["job_title"]
        contact.email, contact.cpf = item["email"], item["cpf"] or None
        contact.phone = item["phone"] or None
        contact.position = index
        if not item["external"]:
            contact.user_id = None
        elif contact.user_id is None or linked.get(contact.user_id) != item["cpf"]:
            try:
                contact.user_id = _external_user(session, actor, org, item, f"contact-{index}")
            except ValidationError as exc:
                errors.append(ValidationError(f"Contato {index + 1}: {exc}", f"contact-{index}"))
                continue
        if contact.id is None:
            session.add(contact)
        result.append(contact)
    if errors:
        raise WizardErrors("contatos", errors)
    session.flush()
    return result


def register_client(session: DbSession, actor: Actor, draft_data: dict[str, Any]) -> Organisation:
    """ "Finalizar" of a new client: the known organisation with that identifier (a município
    from the IBGE list, say) becomes the client, or a new one is created."""
    require(can_manage_clients(actor))
    ref = Reference.load(session)
    clean = check_draft(session, ref, {**draft_data, "organisation_id": None})
    org = session.scalar(
        select(Organisation)
        .where(Organisation.identifier == clean["identifier"])
        .options(selectinload(Organisation.contacts))
    )
    if org is not None and org.is_client:
        raise WizardErrors("identificacao", [DuplicateClient(org)])
    before = None
    existing: list[Contact] = []
    if org is None:
        org = Organisation(identifier=clean["identifier"], name=clean["name"], extra={})
    else:
        existing = list(org.contacts)
        before = _snapshot(org, existing)
    _apply(org, ref, clean)
    org.client_since = utcnow()
    session.add(org)
    session.flush()
    contacts = _sync_contacts(session, actor, org, clean["contacts"], existing)
    after = _snapshot(org, contacts)
    audit.record(
        session, actor, "client.register", "organisation", org.id, before=before, after=after
    )
    return org


def update_client(
    session: DbSession, actor: Actor, org_id: int, draft_data: dict[str, Any]
) -> Organisation:
    """ "Finalizar" of "Dados do cliente": the client changed as the draft says, audited with
    what it was before."""
    require(can_manage_clients(actor))
    org = session.scalar(
        select(Organisation)
        .where(Organisation.id == org_id, Organisation.client_since.is_not(None))
        .options(selectinload(Organisation.contacts))
    )
    if org is None:
        raise NotFound()
    ref = Reference.load(session)
    clean = check_draft(session, ref, {**draft_data, "organisation_id": org.id})
    existing = list(org.contacts)
    before = _snapshot(org, existing)
    _apply(org, ref, clean)
    session.flush()
    contacts = _sync_contacts(session, actor, org, clean["contacts"], existing)
    audit.record(
        session,
        actor,
        "client.update",
        "organisation",
        org.id,
        before=before,
        after=_snapshot(org, contacts),
    )
    return org


def client_data(session: DbSession, actor: Actor, org_id: int) -> Organisation:
    """A client with its type, category, contacts and their users, for "Dados do cliente"."""
    require(can_see_clients(actor))
    org = session.scalar(
        select(Organisation)
        .where(Organisation.id == org_id, Organisation.client_since.is_not(None))
        .options(
            selectinload(Organisation.company_type),
            selectinload(Organisation.category),
            selectinload(Organisation.contacts).selectinload(Contact.user),
        )
    )
    if org is None:
        raise NotFound()
    return org


def find_prospects(
    session: DbSession, actor: Actor, text: str, page: int = 1
) -> Page[Organisation]:
    """Known organisations that are not clients yet, by name or identifier (IBGE code, CNPJ),
    in name order, a page of 20 at a time (read along ix_organisations_client_name)."""
    require(can_manage_clients(actor))
    query = select(Organisation).where(Organisation.client_since.is_(None))
    condition = name_or_identifier(session, text or "")
    if condition is not None:
        query = query.where(condition)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(1, page)
    rows = session.scalars(
        query.order_by(Organisation.name, Organisation.id)
        .limit(PROSPECTS_PER_PAGE)
        .offset((page - 1) * PROSPECTS_PER_PAGE)
    )
    return Page(list(rows), total, page, PROSPECTS_PER_PAGE)
