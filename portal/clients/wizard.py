"""The client-registration wizard (seed 002): which steps a draft has, how each step's fields are
read and checked, and the draft itself (`ClientWizard`), kept on the server between steps.

The steps vary with the company type (an address step when `CompanyType.has_address`) and the
category (an "Informações adicionais" step when it has fields of its own). The same parsers
check one step when the person presses "Próximo" and every step again when the registration
services (`portal.clients.registration`) finish the draft.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from portal.clients import ibge
from portal.clients.models import (
    ClientCategory,
    CompanyType,
    Organisation,
    OrganisationKind,
)
from portal.clients.wizard_contacts import contact_values, parse_contact, repeated_cpf
from portal.core.cnpj import InvalidCNPJ, format_cnpj, normalize_cnpj
from portal.core.database import DbSession
from portal.core.errors import FormErrors, ValidationError

UFS = tuple(sorted(place.uf for place in ibge.states()))
TITLES = {
    "tipo": "Tipo e categoria",
    "identificacao": "Identificação",
    "endereco": "Endereço",
    "informacoes": "Informações adicionais",
    "contatos": "Contatos da empresa",
}
ADDRESS_FIELDS = ("cep", "street", "street_number", "complement", "district", "city")
DRAFT_MAX_AGE = timedelta(days=1)
EXTRA_PREFIX = "campo_"


@dataclass(frozen=True)
class Step:
    key: str
    number: int

    @property
    def title(self) -> str:
        return TITLES[self.key]


class WizardErrors(FormErrors):
    """A step's field errors, naming the step they belong to."""

    def __init__(self, step: str, errors: list[ValidationError]) -> None:
        super().__init__(errors)
        self.step = step


class DuplicateClient(ValidationError):
    """The identifier is already a client's: the page names it and links to it."""

    def __init__(self, organisation: Organisation) -> None:
        super().__init__(
            f"Este identificador já pertence ao cliente {organisation.display_name}.", "identifier"
        )
        self.organisation_id = organisation.id
        self.organisation_name = organisation.display_name


@dataclass(frozen=True)
class Reference:
    """The company types and client categories the wizard offers (active ones)."""

    types: dict[int, CompanyType]
    categories: dict[int, ClientCategory]

    @classmethod
    def load(cls, session: DbSession) -> Reference:
        from portal.clients.reference import client_categories, company_types

        return cls(
            {t.id: t for t in company_types(session)},
            {c.id: c for c in client_categories(session)},
        )

    def company_type(self, data: Mapping[str, Any]) -> CompanyType | None:
        return self.types.get(data.get("company_type_id") or 0)

    def category(self, data: Mapping[str, Any]) -> ClientCategory | None:
        return self.categories.get(data.get("category_id") or 0)


def steps_for(ref: Reference, data: Mapping[str, Any]) -> list[Step]:
    """The draft's steps, as its type and category make them."""
    keys = ["tipo", "identificacao"]
    company_type = ref.company_type(data)
    if company_type is not None and company_type.has_address:
        keys.append("endereco")
    category = ref.category(data)
    if category is not None and category.fields:
        keys.append("informacoes")
    keys.append("contatos")
    return [Step(key, number) for number, key in enumerate(keys, start=1)]


# ---------------------------------------------------------------- what each step's inputs show


def _number_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return "" if value is None else str(value)


def _date_text(value: Any) -> str:
    try:
        return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
    except ValueError:
        return str(value or "")


def form_values(ref: Reference, key: str, data: Mapping[str, Any]) -> dict[str, str]:
    """What the inputs of step `key` show for the draft's saved values."""
    if key == "tipo":
        return {
            "company_type": str(data.get("company_type_id") or ""),
            "category": str(data.get("category_id") or ""),
        }
    if key == "identificacao":
        identifier = str(data.get("identifier") or "")
        company_type = ref.company_type(data)
        if company_type is not None and company_type.kind is OrganisationKind.OUTRO:
            identifier = format_cnpj(identifier)
        return {
            "identifier": identifier,
            "name": str(data.get("name") or ""),
            "uf": str(data.get("uf") or ""),
        }
    if key == "endereco":
        values = {name: str(data.get(name) or "") for name in ADDRESS_FIELDS}
        if len(values["cep"]) == 8:
            values["cep"] = f"{values['cep'][:5]}-{values['cep'][5:]}"
        return values
    if key == "informacoes":
        return form_values_of_extra(ref.category(data), data.get("extra") or {})
    return {}


def form_values_of_extra(
    category: ClientCategory | None, extra: Mapping[str, Any]
) -> dict[str, str]:
    values = {}
    for field in category.fields if category else []:
        value = extra.get(field["name"])
        kind = field.get("type")
        text = _number_text(value) if kind == "number" else str(value or "")
        values[EXTRA_PREFIX + field["name"]] = _date_text(value) if kind == "date" else text
    return values


def extra_display(
    category: ClientCategory | None, extra: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """The category's fields as (label, text) for reading, "—" when empty."""
    values = form_values_of_extra(category, extra)
    return [
        (field.get("label", field["name"]), values[EXTRA_PREFIX + field["name"]] or "—")
        for field in (category.fields if category else [])
    ]


# ---------------------------------------------------------------- parsing one step


def _text(form: Mapping[str, str], name: str) -> str:
    return " ".join((form.get(name) or "").split())


def _parse_type(ref: Reference, form: Mapping[str, str]) -> dict[str, Any]:
    errors = []
    type_id = int(form["company_type"]) if (form.get("company_type") or "").isdigit() else 0
    category_id = int(form["category"]) if (form.get("category") or "").isdigit() else 0
    if type_id not in ref.types:
        errors.append(ValidationError("Escolha o tipo de empresa.", "company_type"))
    if category_id not in ref.categories:
        errors.append(ValidationError("Escolha a categoria do cliente.", "category"))
    if errors:
        raise FormErrors(errors)
    return {"company_type_id": type_id, "category_id": category_id}


def _ibge_identifier(raw: str, kind: OrganisationKind) -> ibge.Place:
    size, what = (7, "do município") if kind is OrganisationKind.MUNICIPIO else (2, "do estado")
    if not raw:
        raise ValidationError(f"Informe o código IBGE {what} ({size} dígitos).", "identifier")
    digits = re.sub(r"[.\-\s]", "", raw)
    place = ibge.find(digits) if digits.isdigit() and len(digits) == size else None
    if place is None:
        raise ValidationError(
            f"Código IBGE {what} não encontrado. Informe os {size} dígitos da lista do IBGE.",
            "identifier",
        )
    return place


def _parse_identification(
    session: DbSession, ref: Reference, form: Mapping[str, str], data: Mapping[str, Any]
) -> dict[str, Any]:
    company_type = ref.company_type(data)
    if company_type is None:
        raise FormErrors([ValidationError("Escolha o tipo de empresa na etapa 1.", "identifier")])
    errors: list[ValidationError] = []
    raw = (form.get("identifier") or "").strip()
    identifier, uf = "", (form.get("uf") or "").strip().upper()
    try:
        if company_type.kind is OrganisationKind.OUTRO:
            if not raw:
                raise ValidationError("Informe o CNPJ.", "identifier")
            try:
                identifier = normalize_cnpj(raw)
            except InvalidCNPJ as exc:
                raise ValidationError(f"{exc} Confira o número digitado.", "identifier") from exc
        else:
            place = _ibge_identifier(raw, company_type.kind)
            identifier, uf = place.code, place.uf
    except ValidationError as exc:
        errors.append(exc)
    if company_type.kind is OrganisationKind.OUTRO and uf not in UFS:
        errors.append(ValidationError("Escolha a UF.", "uf"))
    name = _text(form, "name")
    if not name:
        errors.append(ValidationError("Informe o nome do cliente.", "name"))
    elif len(name) > 200:
        errors.append(ValidationError("O nome pode ter no máximo 200 caracteres.", "name"))
    if identifier:
        editing = data.get("organisation_id")
        other = session.scalar(select(Organisation).where(Organisation.identifier == identifier))
        if other is not None and other.id != editing:
            if other.client_since is not None:
                errors.append(DuplicateClient(other))
            elif editing:
                errors.append(
                    ValidationError(
                        f"Este identificador já pertence ao ente {other.display_name}, que "
                        "ainda não é cliente.",
                        "identifier",
                    )
                )
    if errors:
        raise FormErrors(errors)
    return {"identifier": identifier, "name": name, "uf": uf}


def _parse_address(form: Mapping[str, str]) -> dict[str, Any]:
    errors = []
    values = {name: _text(form, name) for name in ADDRESS_FIELDS}
    if not values["cep"]:
        errors.append(ValidationError("Informe o CEP.", "cep"))
    elif not re.fullmatch(r"\d{2}\.?\d{3}-?\d{3}", values["cep"]):
        errors.append(ValidationError("CEP inválido. Use o formato 00000-000.", "cep"))
    else:
        values["cep"] = re.sub(r"\D", "", values["cep"])
    required = {"street": "o logradouro", "district": "o bairro", "city": "a cidade"}
    for name, what in required.items():
        if not values[name]:
            errors.append(ValidationError(f"Informe {what}.", name))
    limits = {"street": 200, "street_number": 20, "complement": 100, "district": 100, "city": 120}
    for name, limit in limits.items():
        if len(values[name]) > limit:
            errors.append(ValidationError(f"Use no máximo {limit} caracteres.", name))
    if errors:
        raise FormErrors(errors)
    return values


def _number(text: str) -> int | float:
    compact = text.replace(" ", "")
    if re.fullmatch(r"-?\d{1,3}(\.\d{3})+", compact):
        return int(compact.replace(".", ""))
    if re.fullmatch(r"-?\d+", compact):
        return int(compact)
    if re.fullmatch(r"-?\d{1,3}(\.\d{3})*,\d+|-?\d+,\d+", compact):
        return float(compact.replace(".", "").replace(",", "."))
    raise ValueError(text)


def _date(text: str) -> str:
    for shape in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, shape).date().isoformat()
        except ValueError:
            continue
    raise ValueError(text)


def _parse_extra(category: ClientCategory | None, form: Mapping[str, str]) -> dict[str, Any]:
    errors = []
    extra: dict[str, Any] = {}
    for field in category.fields if category else []:
        name, label, kind = field["name"], field.get("label", field["name"]), field.get("type")
        key = EXTRA_PREFIX + name
        text = (form.get(key) or "").strip() if kind == "textarea" else _text(form, key)
        if not text:
            if field.get("required"):
                errors.append(ValidationError(f"Preencha o campo “{label}”.", key))
            continue
        try:
            if kind == "number":
                extra[name] = _number(text)
            elif kind == "date":
                extra[name] = _date(text)
            elif kind == "select" and text not in (field.get("options") or []):
                errors.append(ValidationError(f"Escolha uma das opções de “{label}”.", key))
            elif len(text) > (4000 if kind == "textarea" else 500):
                errors.append(ValidationError(f"O campo “{label}” está longo demais.", key))
            else:
                extra[name] = text
        except ValueError:
            what = "um número, ex.: 1.250" if kind == "number" else "uma data DD/MM/AAAA"
            errors.append(ValidationError(f"Informe {what} em “{label}”.", key))
    if errors:
        raise FormErrors(errors)
    return {"extra": extra}


def parse_step(
    session: DbSession, ref: Reference, key: str, form: Mapping[str, str], data: Mapping[str, Any]
) -> dict[str, Any]:
    """The draft values of step `key` read from `form`, or WizardErrors naming the step."""
    try:
        if key == "tipo":
            return _parse_type(ref, form)
        if key == "identificacao":
            return _parse_identification(session, ref, form, data)
        if key == "endereco":
            return _parse_address(form)
        if key == "informacoes":
            return _parse_extra(ref.category(data), form)
    except FormErrors as exc:
        raise WizardErrors(key, exc.errors) from exc
    return {}


def first_invalid_step(
    session: DbSession, ref: Reference, data: Mapping[str, Any], *, before: str | None = None
) -> WizardErrors | None:
    """The errors of the first step (before step `before`, or any) whose saved values do not
    pass its checks; the contacts are checked on their own (see `contacts`)."""
    for step in steps_for(ref, data):
        if step.key == before or step.key == "contatos":
            break
        if step.key in (data.get("typed") or {}):
            message = "Confira os campos desta etapa e clique em Próximo."
            return WizardErrors(step.key, [ValidationError(message, "form")])
        try:
            parse_step(session, ref, step.key, form_values(ref, step.key, data), data)
        except WizardErrors as exc:
            return exc
    return None


def check_draft(session: DbSession, ref: Reference, data: Mapping[str, Any]) -> dict[str, Any]:
    """Every step of the draft checked again, as "Finalizar" needs: the clean values, or the
    first failing step's WizardErrors."""
    failed = first_invalid_step(session, ref, data)
    if failed is not None:
        raise failed
    clean: dict[str, Any] = {"organisation_id": data.get("organisation_id")}
    keys = [step.key for step in steps_for(ref, data)]
    for key in keys:
        clean.update(parse_step(session, ref, key, form_values(ref, key, data), data))
    errors = []
    contacts: list[dict[str, Any]] = []
    for index, stored in enumerate(data.get("contacts") or []):
        try:
            contact = parse_contact(contact_values(stored))
        except FormErrors as exc:
            errors.append(ValidationError(f"Contato {index + 1}: {exc}", f"contact-{index}"))
            continue
        if repeated_cpf(contact, contacts):
            message = "Este CPF já está em outro contato desta lista."
            errors.append(ValidationError(message, f"contact-{index}"))
        contacts.append({**contact, "id": stored.get("id")})
    if errors:
        raise WizardErrors("contatos", errors)
    clean["contacts"] = contacts
    clean["has_address"] = "endereco" in keys
    return clean
