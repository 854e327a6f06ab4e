"""Demo clients: the IBGE list as known organisations, the demo entes registered as clients
with their contacts (the demo users), and a dozen occurrences of each impact.

Feira de Santana and every other município stay known but unregistered, so "Cadastrar um
cliente a partir de uma empresa existente" has something to start from.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import cycle
from typing import Any

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.clients import registration
from portal.clients.models import (
    ClientCategory,
    CompanyType,
    Impact,
    Occurrence,
    OccurrenceCategory,
    Organisation,
)
from portal.clients.occurrences import local_today, record_occurrence
from portal.clients.reference import ensure_reference_data
from portal.clients.services import load_ibge_organisations
from portal.core.actors import DEMO_LOADER
from portal.core.database import DbSession
from portal.requests.models import ServiceRequest

# identifier → (company type, category, extra fields, address, a contact who is not a user)
CLIENTS: dict[str, tuple[str, str, dict[str, Any], dict[str, str], dict[str, str] | None]] = {
    "2927408": (
        "Município",
        "Gestão municipal do Cadastro Único",
        {"gestor_municipal": "Marta Lúcia Bastos", "familias_cadastradas": 512000},
        {},
        {"name": "Marta Lúcia Bastos", "job_title": "Gestora municipal do Cadastro Único"},
    ),
    "2611606": (
        "Município",
        "Gestão municipal do Cadastro Único",
        {"gestor_municipal": "Renato Albuquerque", "familias_cadastradas": 398000},
        {},
        None,
    ),
    "29": (
        "Estado",
        "Gestão estadual",
        {"coordenacao_estadual": "Coordenação Estadual do Cadastro Único - SJDHDS"},
        {},
        None,
    ),
    "42422253000101": (
        "Órgão federal",
        "Parceiro",
        {},
        {
            "cep": "70070120",
            "street": "Setor de Autarquias Sul, Quadra 1",
            "street_number": "Bloco E/F",
            "complement": "",
            "district": "Asa Sul",
            "city": "Brasília",
        },
        None,
    ),
}

OCCURRENCES: dict[Impact, list[tuple[str, str]]] = {
    Impact.POSITIVO: [
        ("Elogio", "A gestora elogiou o tempo de resposta no desbloqueio de senhas."),
        ("Treinamento", "Treinamento de operadores do CadÚnico concluído com 40 participantes."),
        ("Reunião", "Reunião de alinhamento sobre o novo fluxo de primeiro acesso."),
        ("Elogio", "Equipe agradeceu a orientação sobre o SIBEC."),
    ],
    Impact.NEUTRO: [
        ("Reunião", "Apresentação do calendário de revisão cadastral."),
        ("Treinamento", "Dúvidas sobre perfis de acesso no GERID esclarecidas por telefone."),
        ("Reunião", "Visita técnica agendada para o próximo mês."),
        ("Incidente", "Lentidão relatada no Portal Rede Atendimento, normalizada em 1 hora."),
    ],
    Impact.NEGATIVO: [
        ("Reclamação", "Reclamação sobre demora no desbloqueio de usuário master."),
        ("Incidente", "Indisponibilidade do acesso ao sistema durante a manhã."),
        ("Reclamação", "Solicitação encerrada sem resposta satisfatória, segundo o ente."),
        ("Incidente", "Erro ao anexar documentos no formulário de cadastro."),
    ],
}
PER_IMPACT = 12


def _by_name(session: DbSession, model: Any) -> dict[str, int]:
    return {str(row.name): int(row.id) for row in session.execute(select(model.id, model.name))}


def _register(session: DbSession) -> None:
    types = _by_name(session, CompanyType)
    categories = _by_name(session, ClientCategory)
    for identifier, (type_name, category_name, extra, address, other) in CLIENTS.items():
        org = session.scalar(select(Organisation).where(Organisation.identifier == identifier))
        if org is None or org.is_client:
            continue
        users = session.scalars(
            select(User).where(User.organisation_id == org.id).order_by(User.id)
        ).all()
        contacts = [
            {
                "name": user.full_name,
                "job_title": "Atendente" if user.is_staff else "Usuário master",
                "email": user.email,
                "phone": user.phone or "",
                "cpf": user.cpf,
                "external": True,
            }
            for user in users
        ]
        if other:
            contacts.append({"email": "", "phone": "", "cpf": "", "external": False, **other})
        draft = {
            "company_type_id": types[type_name],
            "category_id": categories[category_name],
            "identifier": identifier,
            "name": org.name,
            "uf": org.uf or "",
            "extra": extra,
            "contacts": contacts,
            **{name: "" for name in ("cep", "street", "street_number", "complement")},
            **{name: "" for name in ("district", "city")},
            **address,
        }
        registration.register_client(session, DEMO_LOADER, draft)


def _record_occurrences(session: DbSession) -> None:
    if session.scalar(select(func.count()).select_from(Occurrence)):
        return
    clients = session.scalars(
        select(Organisation).where(Organisation.client_since.is_not(None)).order_by(Organisation.id)
    ).all()
    authors = session.scalars(
        select(User).where(User.role.in_(("agent", "admin"))).order_by(User.id)
    ).all()
    if not clients or not authors:
        return
    categories = _by_name(session, OccurrenceCategory)
    today = local_today()
    client_cycle, author_cycle = cycle(clients), cycle(authors)
    for impact, samples in OCCURRENCES.items():
        for index in range(PER_IMPACT):
            client = next(client_cycle)
            category, text = samples[index % len(samples)]
            # Spread over five months: some fall outside the health summary's 90 days.
            day = today - timedelta(days=(index * 13 + len(impact.value)) % 150)
            cited = ""
            if index == 0:
                cited = (
                    session.scalar(
                        select(ServiceRequest.number)
                        .where(ServiceRequest.organisation_id == client.id)
                        .order_by(ServiceRequest.id)
                        .limit(1)
                    )
                    or ""
                )
            record_occurrence(
                session,
                DEMO_LOADER,
                organisation_id=client.id,
                category_id=categories[category],
                impact=impact.value,
                occurred_on=day,
                description=text,
                request_number=cited,
                author=next(author_cycle),
            )


def load_demo_clients(session: DbSession) -> str:
    added = load_ibge_organisations(session, DEMO_LOADER)
    ensure_reference_data(session)
    _register(session)
    _record_occurrences(session)
    clients = session.scalar(
        select(func.count()).select_from(Organisation).where(Organisation.client_since.is_not(None))
    )
    occurrences = session.scalar(select(func.count()).select_from(Occurrence))
    return f"{added} entes do IBGE adicionados, {clients} clientes, {occurrences} ocorrências"
