"""The wizard's last step, "Contatos da empresa": reading one contact typed in the "Adicionar
contato" sub-form, and the checks that need the other contacts or the whole system (a CPF is
one external user in the whole portal)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select

from portal.accounts.models import User
from portal.accounts.services import normalise_email
from portal.clients.models import Organisation
from portal.core.cpf import InvalidCPF, normalize_cpf
from portal.core.database import DbSession
from portal.core.errors import FormErrors, ValidationError
from portal.core.phone import InvalidPhone, normalize_phone

PREFIX = "contact_"
FIELDS = ("name", "job_title", "email", "phone", "cpf")


def contact_values(stored: Mapping[str, Any]) -> dict[str, str]:
    """The sub-form's inputs for a contact saved in the draft."""
    values = {PREFIX + name: str(stored.get(name) or "") for name in FIELDS}
    values[PREFIX + "external"] = "1" if stored.get("external") else ""
    return values


def typed_anything(form: Mapping[str, str]) -> bool:
    return any((form.get(PREFIX + name) or "").strip() for name in FIELDS)


def parse_contact(form: Mapping[str, str]) -> dict[str, Any]:
    """One contact from the sub-form's inputs, or FormErrors on its fields (`contact_*`)."""
    errors: list[ValidationError] = []

    def text(name: str) -> str:
        return " ".join((form.get(PREFIX + name) or "").split())

    contact: dict[str, Any] = {name: text(name) for name in FIELDS}
    contact["external"] = bool(form.get(PREFIX + "external"))
    if not contact["name"]:
        errors.append(ValidationError("Informe o nome do contato.", PREFIX + "name"))
    elif len(contact["name"]) > 200:
        errors.append(ValidationError("Use no máximo 200 caracteres.", PREFIX + "name"))
    if len(contact["job_title"]) > 120:
        errors.append(ValidationError("Use no máximo 120 caracteres.", PREFIX + "job_title"))
    if contact["email"]:
        try:
            contact["email"] = normalise_email(contact["email"], PREFIX + "email")
        except ValidationError as exc:
            errors.append(exc)
    elif contact["external"]:
        errors.append(
            ValidationError(
                "Informe o e-mail: o usuário externo recebe por e-mail o link do primeiro acesso.",
                PREFIX + "email",
            )
        )
    if contact["phone"]:
        try:
            contact["phone"] = normalize_phone(contact["phone"])
        except InvalidPhone:
            errors.append(
                ValidationError(
                    "Telefone inválido. Informe o DDD e o número, ex.: (71) 3202-0000.",
                    PREFIX + "phone",
                )
            )
    if contact["cpf"]:
        try:
            contact["cpf"] = normalize_cpf(contact["cpf"])
        except InvalidCPF:
            errors.append(
                ValidationError("CPF inválido. Confira os números digitados.", PREFIX + "cpf")
            )
    elif contact["external"]:
        errors.append(
            ValidationError(
                "Informe o CPF: o usuário externo entra no portal com ele.", PREFIX + "cpf"
            )
        )
    if errors:
        raise FormErrors(errors)
    return contact


def repeated_cpf(contact: Mapping[str, Any], others: Sequence[Mapping[str, Any]]) -> bool:
    return bool(contact["cpf"]) and any(other.get("cpf") == contact["cpf"] for other in others)


def user_elsewhere(session: DbSession, cpf: str, organisation_id: int | None) -> str | None:
    """Why a CPF cannot be made an external user of this organisation: the message naming the
    other organisation whose user it already is, or None."""
    row = session.execute(
        select(User.organisation_id, Organisation.name)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(User.cpf == cpf)
    ).first()
    if row is None or row.organisation_id == organisation_id:
        return None
    return (
        f"Este CPF já é de um usuário de outro ente ({row.name}). Um usuário externo é único "
        "no sistema: desmarque “Contato como usuário externo” ou use outro CPF."
    )


def known_organisation_id(session: DbSession, data: Mapping[str, Any]) -> int | None:
    """The organisation the draft will register or change, when it exists already."""
    if data.get("organisation_id"):
        return int(data["organisation_id"])
    identifier = data.get("identifier")
    if not identifier:
        return None
    return session.scalar(select(Organisation.id).where(Organisation.identifier == identifier))


def checked_contact(
    session: DbSession, form: Mapping[str, str], data: Mapping[str, Any]
) -> dict[str, Any]:
    """The contact typed in the sub-form, checked against the draft's other contacts and the
    system's users (an external user is unique by CPF), or FormErrors on its fields."""
    contact = parse_contact(form)
    if repeated_cpf(contact, data.get("contacts") or []):
        message = "Este CPF já está em outro contato desta lista."
        raise FormErrors([ValidationError(message, PREFIX + "cpf")])
    if contact["external"]:
        target = known_organisation_id(session, data)
        problem = user_elsewhere(session, contact["cpf"], target)
        if problem:
            raise FormErrors([ValidationError(problem, PREFIX + "cpf")])
    return contact
