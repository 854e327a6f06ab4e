"""The reference data staff keep for clients, with the defaults a fresh portal starts from:
company types ("Tipo de empresa"), client categories ("Categoria do cliente", with their own
fields) and occurrence categories. `ensure_reference_data` adds what is missing and changes
nothing that exists, so staff edits survive running it again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from portal.clients.models import (
    ClientCategory,
    CompanyType,
    OccurrenceCategory,
    OrganisationKind,
)
from portal.core.database import DbSession

COMPANY_TYPES: list[tuple[str, OrganisationKind, bool]] = [
    ("Município", OrganisationKind.MUNICIPIO, False),
    ("Estado", OrganisationKind.ESTADO, False),
    ("Órgão federal", OrganisationKind.OUTRO, True),
    ("Empresa", OrganisationKind.OUTRO, True),
    ("Organização da sociedade civil", OrganisationKind.OUTRO, True),
]

CLIENT_CATEGORIES: list[tuple[str, str, list[dict[str, Any]]]] = [
    (
        "Gestão municipal do Cadastro Único",
        "Prefeituras que fazem a gestão do Cadastro Único no município.",
        [
            {
                "name": "gestor_municipal",
                "label": "Gestor(a) municipal do Cadastro Único",
                "type": "text",
                "required": True,
            },
            {
                "name": "familias_cadastradas",
                "label": "Famílias cadastradas (aproximado)",
                "type": "number",
                "required": False,
            },
        ],
    ),
    (
        "Gestão estadual",
        "Governos estaduais: coordenação estadual do Cadastro Único.",
        [
            {
                "name": "coordenacao_estadual",
                "label": "Coordenação estadual responsável",
                "type": "text",
                "required": True,
            }
        ],
    ),
    ("Parceiro", "Órgãos e empresas parceiros do atendimento.", []),
]

OCCURRENCE_CATEGORIES = ["Reclamação", "Elogio", "Incidente", "Reunião", "Treinamento"]


def ensure_reference_data(session: DbSession) -> None:
    have_types = set(session.scalars(select(CompanyType.name)))
    for position, (name, kind, has_address) in enumerate(COMPANY_TYPES):
        if name not in have_types:
            session.add(
                CompanyType(name=name, kind=kind, has_address=has_address, position=position)
            )
    have_categories = set(session.scalars(select(ClientCategory.name)))
    for name, description, fields in CLIENT_CATEGORIES:
        if name not in have_categories:
            session.add(ClientCategory(name=name, description=description, fields=fields))
    have_occurrence = set(session.scalars(select(OccurrenceCategory.name)))
    for name in OCCURRENCE_CATEGORIES:
        if name not in have_occurrence:
            session.add(OccurrenceCategory(name=name))
    session.flush()


def company_types(session: DbSession) -> list[CompanyType]:
    query = select(CompanyType).where(CompanyType.active).order_by(CompanyType.position)
    return list(session.scalars(query))


def client_categories(session: DbSession) -> list[ClientCategory]:
    query = select(ClientCategory).where(ClientCategory.active).order_by(ClientCategory.name)
    return list(session.scalars(query))


def occurrence_categories(session: DbSession) -> list[OccurrenceCategory]:
    query = (
        select(OccurrenceCategory)
        .where(OccurrenceCategory.active)
        .order_by(OccurrenceCategory.name)
    )
    return list(session.scalars(query))
