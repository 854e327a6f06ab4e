"""Registering client organisations ("entes") and finding them."""

from __future__ import annotations

import re

from sqlalchemy import insert, select

from portal.clients import ibge
from portal.clients.models import Organisation, OrganisationKind
from portal.clients.policy import can_manage_clients
from portal.core import audit
from portal.core.actors import Actor
from portal.core.database import DbSession
from portal.core.errors import ValidationError, require
from portal.core.timeutil import utcnow

UFS = frozenset(place.uf for place in ibge.states())


def create_organisation(
    session: DbSession, actor: Actor, *, identifier: str, name: str, kind: str, uf: str | None
) -> Organisation:
    require(can_manage_clients(actor))
    identifier = re.sub(r"\D", "", identifier or "")
    if not identifier:
        raise ValidationError("Informe o identificador (código IBGE ou CNPJ).", "identifier")
    if not (name or "").strip():
        raise ValidationError("Informe o nome.", "name")
    try:
        org_kind = OrganisationKind(kind)
    except ValueError as exc:
        options = ", ".join(k.value for k in OrganisationKind)
        raise ValidationError(f"Tipo inválido. Use: {options}.", "kind") from exc
    uf_value = (uf or "").strip().upper() or None
    if uf_value is not None and uf_value not in UFS:
        raise ValidationError("UF inválida.", "uf")
    exists = session.scalar(select(Organisation.id).where(Organisation.identifier == identifier))
    if exists:
        raise ValidationError(f"Já existe um ente com o identificador {identifier}.", "identifier")
    org = Organisation(identifier=identifier, name=name.strip(), kind=org_kind, uf=uf_value)
    session.add(org)
    session.flush()
    audit.record(
        session,
        actor,
        "organisation.create",
        "organisation",
        org.id,
        after=audit.snapshot(org, ("identifier", "name", "kind", "uf", "active")),
    )
    return org


def find_organisation(session: DbSession, identifier: str) -> Organisation:
    digits = re.sub(r"\D", "", identifier or "")
    org = session.scalar(select(Organisation).where(Organisation.identifier == digits))
    if org is None:
        raise ValidationError(f"Ente não encontrado: {identifier}.", "org")
    return org


def load_ibge_organisations(session: DbSession, actor: Actor) -> int:
    """Make the 27 UFs and 5,570 municípios known organisations (not clients), once: codes
    already present are left as they are. Returns how many were added."""
    require(can_manage_clients(actor))
    present = set(session.scalars(select(Organisation.identifier)))
    now = utcnow()
    rows = [
        {
            "kind": OrganisationKind.ESTADO if place.is_state else OrganisationKind.MUNICIPIO,
            "identifier": place.code,
            "name": place.name,
            "uf": place.uf,
            "active": True,
            "created_at": now,
            "extra": {},
        }
        for place in (*ibge.states(), *ibge.municipalities())
        if place.code not in present
    ]
    if rows:
        session.execute(insert(Organisation), rows)
        audit.record(
            session,
            actor,
            "organisation.load_ibge",
            "organisation",
            None,
            after={"added": len(rows)},
        )
    return len(rows)
