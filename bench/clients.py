"""The bench's clients and occurrences (the generator's part for portal/clients/).

Every município and UF of the IBGE list (portal/clients/ibge.py: real codes, names and UFs)
is an organisation registered as a client, with its company type, category and the
category's own fields; each gets 1 to 3 contacts, some of them its users. 200,000
occurrences are spread over three years, whatever the number of requests, so a run at 10k
and one at 1M requests differ only in the requests. The busy client (the heavy user's
organisation, the one with the most requests) gets 5,000 of them: its page is the worst case.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.clients import ibge
from portal.clients.models import Impact
from portal.clients.reference import ensure_reference_data
from portal.core.cpf import make_cpf

OCCURRENCES = 200_000
BUSY_SHARE = 5_000  # the busy client's occurrences, at most a fortieth of them all
CITING = 0.03  # share of occurrences that cite a request of their client
IMPACT_WEIGHTS = {Impact.POSITIVO: 30, Impact.NEUTRO: 45, Impact.NEGATIVO: 25}
MUNICIPAL_CATEGORY, STATE_CATEGORY = "Gestão municipal do Cadastro Único", "Gestão estadual"
JOB_TITLES = [
    "Gestor(a) municipal do Cadastro Único", "Coordenador(a) do Cadastro Único",
    "Entrevistador(a)", "Operador(a) do sistema", "Secretário(a) de Assistência Social",
    "Técnico(a) de referência",
]  # fmt: skip
FIRST_NAMES = [
    "Ana", "Bruno", "Carla", "Daniel", "Elisa", "Fábio", "Gabriela", "Heitor", "Isabel",
    "João", "Luíza", "Marcos", "Natália", "Otávio", "Patrícia", "Rafael", "Sônia", "Tiago",
]  # fmt: skip
LAST_NAMES = [
    "Almeida", "Barbosa", "Cardoso", "Dias", "Ferreira", "Gomes", "Lima", "Moura",
    "Nascimento", "Oliveira", "Pereira", "Ribeiro", "Santos", "Teixeira", "Vieira",
]  # fmt: skip
DESCRIPTIONS = [
    "Reclamação sobre a demora no atendimento de solicitações de acesso ao GERID.",
    "Elogio da gestão municipal ao atendimento prestado na troca do usuário máster.",
    "Indisponibilidade do Portal Rede Atendimento relatada pela equipe do Cadastro Único.",
    "Reunião de alinhamento com a coordenação sobre a atualização cadastral.",
    "Treinamento de entrevistadores no Formulário de Cadastro.",
    "Relatórios gerenciais com totais divergentes apontados pela gestão.",
    "Usuários bloqueados após a troca de senha; orientação enviada por e-mail.",
    "Visita técnica para acompanhar a transferência de famílias.",
    "Ligação do gestor agradecendo a solução rápida do problema de perfil.",
    "Atraso no envio do token de redefinição de senha para vários usuários.",
]
CONTACT_COLUMNS = (
    "organisation_id", "name", "job_title", "email", "phone", "cpf", "user_id", "position",
    "created_at",
)  # fmt: skip
OCCURRENCE_COLUMNS = (
    "id", "organisation_id", "uf", "category_id", "impact", "occurred_on", "description",
    "author_id", "request_id", "created_at", "updated_at",
)  # fmt: skip


class Loads(Protocol):
    postgresql: bool

    def load(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None: ...


def _ids(conn: sa.Connection, table: str) -> dict[str, int]:
    return {row.name: row.id for row in conn.execute(sa.text(f"SELECT id, name FROM {table}"))}


def organisations(conn: sa.Connection, rng: random.Random, now: datetime) -> list[dict[str, Any]]:
    """The reference data, then one client row per município (ids 1 to 5,570, in the IBGE
    list's order) and per UF (after them), registered at some time in the last five years."""
    session = Session(bind=conn)
    ensure_reference_data(session)
    session.close()
    types, categories = _ids(conn, "company_types"), _ids(conn, "client_categories")
    span = int(timedelta(days=5 * 365).total_seconds())
    rows: list[dict[str, Any]] = []
    for place in (*ibge.municipalities(), *ibge.states()):
        if place.is_state:
            kind, company_type, category = "estado", "Estado", STATE_CATEGORY
            extra: dict[str, Any] = {"coordenacao_estadual": f"Coordenação estadual {place.uf}"}
        else:
            kind, company_type, category = "municipio", "Município", MUNICIPAL_CATEGORY
            extra = {
                "gestor_municipal": _person(rng),
                "familias_cadastradas": str(rng.randrange(500, 200_000)),
            }
        since = now - timedelta(seconds=rng.randrange(span))
        rows.append(
            {
                "id": len(rows) + 1,
                "kind": kind,
                "identifier": place.code,
                "name": place.name,
                "uf": place.uf,
                "active": True,
                "created_at": since,
                "client_since": since,
                "company_type_id": types[company_type],
                "category_id": categories[category],
                "extra": extra,
            }
        )
    return rows


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {rng.choice(LAST_NAMES)}"


def load(
    conn: sa.Connection,
    loader: Loads,
    rng: random.Random,
    *,
    requesters: list[dict[str, Any]],
    agents: list[int],
    busy: int,
    busy_requests: int,
    requests: int,
    occurrences: int,
    now: datetime,
) -> None:
    """Contacts and occurrences, once the requests are in (some occurrences cite one).

    `busy` is the busy client's id; requests 1 to `busy_requests` are its own."""
    _contacts(conn, loader, rng, requesters, now)
    _occurrences(
        conn,
        loader,
        rng,
        agents=agents,
        busy=busy,
        busy_requests=busy_requests,
        requests=requests,
        count=occurrences,
        now=now,
    )


def _contacts(
    conn: sa.Connection,
    loader: Loads,
    rng: random.Random,
    requesters: list[dict[str, Any]],
    now: datetime,
) -> None:
    """1 to 3 contacts per client; about half of them one of its users (each user at most
    once), the others people who do not sign in, some with a CPF."""
    users: dict[int, list[dict[str, Any]]] = {}
    for user in requesters:
        users.setdefault(user["organisation_id"], []).append(user)
    rows = []
    for org in conn.execute(sa.text("SELECT id FROM organisations ORDER BY id")):
        org_id: int = org.id
        own = list(users.get(org_id, ()))
        for position in range(rng.randint(1, 3)):
            job = rng.choice(JOB_TITLES)
            if own and rng.random() < 0.5:
                user = own.pop(0)
                rows.append(
                    (
                        org_id, user["full_name"], job, user["email"], _phone(rng), user["cpf"],
                        user["id"], position, now,
                    )
                )  # fmt: skip
                continue
            name = _person(rng)
            email = f"contato{len(rows) + 1}@ente{org_id}.gov.br"
            cpf = make_cpf(f"{700000000 + len(rows):09d}") if rng.random() < 0.4 else None
            rows.append((org_id, name, job, email, _phone(rng), cpf, None, position, now))
    loader.load("client_contacts", CONTACT_COLUMNS, rows)
    if loader.postgresql:
        conn.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('client_contacts', 'id'), "
            "(SELECT COALESCE(MAX(id), 1) FROM client_contacts))"
        )


def _phone(rng: random.Random) -> str:
    return f"({rng.randint(11, 99)}) 9{rng.randint(1000, 9999)}-{rng.randint(0, 9999):04d}"


def _occurrences(
    conn: sa.Connection,
    loader: Loads,
    rng: random.Random,
    *,
    agents: list[int],
    busy: int,
    busy_requests: int,
    requests: int,
    count: int,
    now: datetime,
) -> None:
    """`count` occurrences over three years up to `now`, a fortieth (up to 5,000) on the
    busy client; a few cite a request of their client."""
    ufs: dict[int, str] = {
        row.id: row.uf for row in conn.execute(sa.text("SELECT id, uf FROM organisations"))
    }
    others = [org_id for org_id in sorted(ufs) if org_id != busy]
    categories = sorted(_ids(conn, "occurrence_categories").values())
    impacts, weights = [i.value for i in IMPACT_WEIGHTS], list(IMPACT_WEIGHTS.values())
    busy_count = min(BUSY_SHARE, count // 40)
    # Requests cited by the other clients' occurrences: drawn first, their clients read by id.
    cited = sorted(rng.sample(range(1, requests + 1), min(requests, int(count * CITING))))
    owners = _request_owners(conn, cited)
    # The busy client gets exactly its share at every size: its own requests are cited above.
    cited = [request_id for request_id in cited if owners[request_id] != busy]
    today, days = now.date(), 3 * 365
    rows = []
    for oid in range(1, count + 1):
        request_id = None
        if oid <= busy_count:
            org_id = busy
            if busy_requests and rng.random() < CITING:
                request_id = rng.randint(1, busy_requests)
        elif cited and rng.random() < CITING:
            request_id = cited.pop()
            org_id = owners[request_id]
        else:
            org_id = rng.choice(others)
        day = today - timedelta(days=rng.randrange(days))
        created = datetime.combine(day, now.timetz()) + timedelta(minutes=rng.randrange(600))
        rows.append(
            (
                oid, org_id, ufs[org_id], rng.choice(categories),
                rng.choices(impacts, weights)[0], _iso(day), rng.choice(DESCRIPTIONS),
                rng.choice(agents), request_id, min(created, now), None,
            )
        )  # fmt: skip
    loader.load("occurrences", OCCURRENCE_COLUMNS, rows)
    if loader.postgresql:
        conn.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('occurrences', 'id'), "
            "(SELECT COALESCE(MAX(id), 1) FROM occurrences))"
        )


def _iso(day: date) -> str:
    """A date as both databases take it in bulk (no default sqlite3 date adapter)."""
    return day.isoformat()


def _request_owners(conn: sa.Connection, ids: list[int]) -> dict[int, int]:
    requests = sa.table("service_requests", sa.column("id"), sa.column("organisation_id"))
    owners: dict[int, int] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        query = sa.select(requests.c.id, requests.c.organisation_id).where(requests.c.id.in_(chunk))
        owners.update((row.id, row.organisation_id) for row in conn.execute(query))
    return owners


def busy_client(conn: sa.Connection, cpf: str) -> int:
    """The busy client's id: the organisation of the user with this CPF (the heavy user)."""
    return int(
        conn.execute(
            sa.text("SELECT organisation_id FROM users WHERE cpf = :cpf"), {"cpf": cpf}
        ).scalar_one()
    )
