"""Demo data: organisations, one account per role, the catalog, requests in every state, the
Base de Conhecimento's articles, and the clients with their contacts and occurrences.

Loading twice changes nothing: everything is looked up by its natural key first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.catalog.data import CATALOG
from portal.catalog.models import CatalogItem
from portal.catalog.services import upsert_item
from portal.clients import services as clients
from portal.clients.demo import load_demo_clients
from portal.clients.models import Organisation
from portal.core.actors import DEMO_LOADER
from portal.core.cpf import format_cpf, make_cpf
from portal.core.database import DbSession
from portal.core.timeutil import utcnow
from portal.home.announcements import AnnouncementFields, publish_announcement
from portal.home.models import Announcement
from portal.knowledge.demo import load_demo_articles
from portal.requests import services as requests
from portal.requests.lifecycle import Action
from portal.requests.models import ServiceRequest

DEMO_PASSWORD = "portal-demo-2026"  # noqa: S105  (documented demo password)


@dataclass(frozen=True)
class DemoUser:
    cpf: str
    name: str
    email: str
    role: str
    org: str
    groups: tuple[str, ...] = ()


ORGANISATIONS = [
    ("2927408", "Prefeitura Municipal de Salvador", "municipio", "BA"),
    ("2611606", "Prefeitura Municipal do Recife", "municipio", "PE"),
    ("29", "Governo do Estado da Bahia", "estado", "BA"),
    ("42422253000101", "DATAPREV", "outro", "DF"),
]

USERS = [
    DemoUser(
        make_cpf("529982247"),
        "Felipe Rodrigues Andrade",
        "felipe@salvador.ba.gov.br",
        "requester",
        "2927408",
    ),
    DemoUser(
        make_cpf("111444777"),
        "Ellem Saraiva Reis",
        "ellem@salvador.ba.gov.br",
        "requester",
        "2927408",
    ),
    DemoUser(
        make_cpf("390533447"),
        "Roberto Luciano Matos",
        "roberto@recife.pe.gov.br",
        "requester",
        "2611606",
    ),
    DemoUser(
        make_cpf("714602380"), "Greziella Costa Lima", "greziella@ba.gov.br", "requester", "29"
    ),
    DemoUser(
        make_cpf("248438034"),
        "Ana Paula Atendente",
        "ana.atendente@dataprev.gov.br",
        "agent",
        "42422253000101",
        ("Suporte GERID",),
    ),
    DemoUser(
        make_cpf("362456128"),
        "Bruno Souza Atendente",
        "bruno.atendente@dataprev.gov.br",
        "agent",
        "42422253000101",
        ("Suporte CadÚnico",),
    ),
    DemoUser(
        make_cpf("935411347"),
        "Carla Mendes Administradora",
        "carla.admin@dataprev.gov.br",
        "admin",
        "42422253000101",
        ("Suporte GERID", "Suporte CadÚnico"),
    ),
]

# An informação for everyone, and a crítico for Pernambuco only: signed in as Roberto (Recife),
# its banner shows on every page until "Fechar".
ANNOUNCEMENTS = [
    AnnouncementFields(
        title="Novo Portal de Atendimento",
        body="O Pronto Cliente agora é o Portal de Atendimento. Suas solicitações antigas "
        "continuam disponíveis em “Ver minhas solicitações”.",
    ),
    AnnouncementFields(
        title="Instabilidade no Cadastro Único em Pernambuco",
        body="A inclusão de famílias está **lenta** para os municípios de Pernambuco. "
        "A equipe já trabalha na correção; não é preciso abrir nova solicitação.",
        severity="critical",
        audience="uf",
        uf="PE",
    ),
]


def _ensure_orgs(session: DbSession) -> dict[str, Organisation]:
    orgs = {}
    for identifier, name, kind, uf in ORGANISATIONS:
        org = session.scalar(select(Organisation).where(Organisation.identifier == identifier))
        if org is None:
            org = clients.create_organisation(
                session, DEMO_LOADER, identifier=identifier, name=name, kind=kind, uf=uf
            )
        orgs[identifier] = org
    return orgs


def _ensure_users(session: DbSession, orgs: dict[str, Organisation]) -> dict[str, User]:
    users = {}
    for spec in USERS:
        user = session.scalar(select(User).where(User.cpf == spec.cpf))
        if user is None:
            user = accounts.create_user(
                session,
                DEMO_LOADER,
                cpf=spec.cpf,
                full_name=spec.name,
                email=spec.email,
                role=spec.role,
                organisation=orgs[spec.org],
                password=DEMO_PASSWORD,
                phone="(71) 3202-0000" if spec.org == "2927408" else None,
                groups=[
                    accounts.find_or_create_group(session, DEMO_LOADER, g) for g in spec.groups
                ],
            )
        users[spec.name.split()[0].lower()] = user
    return users


def _ensure_requests(
    session: DbSession, users: dict[str, User], items: dict[str, CatalogItem]
) -> None:
    if session.scalar(select(func.count()).select_from(ServiceRequest)):
        return
    felipe, ellem, roberto = users["felipe"], users["ellem"], users["roberto"]
    ana, bruno = users["ana"], users["bruno"]
    gerid, portal = items["gerid"], items["portal-rede-atendimento"]
    base = utcnow() - timedelta(days=20)

    def open_(
        item: CatalogItem, who: User, days: int, description: str, **values: str
    ) -> ServiceRequest:
        return requests.create_request(
            session,
            actor=who,
            item=item,
            requested_for=who,
            description=description,
            values=values,
            followers=[ellem] if who is felipe else [],
            now=base + timedelta(days=days),
        )

    def act(
        req: ServiceRequest,
        action: Action,
        who: User | None,
        days: float,
        reason: str | None = None,
    ) -> None:
        requests.fire(
            session, req, action, actor=who, reason=reason, now=base + timedelta(days=days)
        )

    portal_values = {
        "motivo": "Erro no sistema",
        "funcionalidade": "Login do Usuário",
        "sintoma": "Lento",
    }
    gerid_values = {"motivo": "Atribuição de perfil", "funcionalidade": "Acesso"}

    open_(
        gerid,
        felipe,
        19,
        "Não consigo atribuir o perfil de entrevistador ao usuário "
        "Maria da Silva, CPF 123.456.789-09.",
        **gerid_values,
    )

    started = open_(
        portal, felipe, 10, "A tela de login do Portal demora mais de 2 minutos.", **portal_values
    )
    requests.assign(
        session, started, bruno, assignee=bruno, group=None, now=base + timedelta(days=10.1)
    )
    act(started, Action.START, bruno, 10.2)
    requests.add_note(
        session,
        started,
        bruno,
        "Logs do balanceador mostram picos às 9h.",
        public=False,
        time_spent_minutes=25,
        now=base + timedelta(days=10.3),
    )
    requests.add_note(
        session,
        started,
        bruno,
        "Estamos analisando a lentidão com a equipe de infraestrutura. Retornaremos em breve.",
        public=True,
        send_email=True,
        time_spent_minutes=5,
        now=base + timedelta(days=10.4),
    )
    requests.add_message(
        session,
        started,
        felipe,
        "Obrigado. Hoje pela manhã ocorreu de novo.",
        now=base + timedelta(days=11),
    )

    waiting = open_(
        portal,
        felipe,
        8,
        "Consulta Família por Tipo de Ocorrência não retorna dados.",
        motivo="Erro no sistema",
        funcionalidade="Consulta Família por Tipo de Ocorrência",
        sintoma="Indisponível",
    )
    act(waiting, Action.START, bruno, 8.1)
    act(waiting, Action.AWAIT_SUPPORT, bruno, 8.3, "Aguardando a equipe de infraestrutura.")

    resolved = open_(gerid, felipe, 6, "Usuário bloqueado após troca de senha.", **gerid_values)
    requests.assign(session, resolved, ana, assignee=ana, group=None, now=base + timedelta(days=6))
    act(resolved, Action.START, ana, 6.1)
    requests.add_note(
        session,
        resolved,
        ana,
        "Desbloqueio feito no GERID, perfil revisado.",
        public=False,
        time_spent_minutes=40,
        now=base + timedelta(days=19.4),
    )
    act(
        resolved,
        Action.RESOLVE,
        ana,
        19.5,
        "Desbloqueio realizado. Peça ao usuário que entre novamente.",
    )

    closed = open_(
        portal,
        felipe,
        2,
        "Relatório gerencial com totais divergentes.",
        motivo="Dúvida",
        funcionalidade="Relatórios Gerenciais",
        sintoma="Inconsistente",
    )
    act(closed, Action.START, bruno, 2.1)
    act(
        closed,
        Action.RESOLVE,
        bruno,
        3,
        "Os totais consideram apenas famílias com cadastro atualizado.",
    )
    act(closed, Action.ACCEPT, felipe, 3.5)

    cancelled = open_(gerid, felipe, 4, "Pedido aberto em duplicidade.", **gerid_values)
    act(
        cancelled, Action.REQUESTER_CANCEL, felipe, 4.01, "Foi realizada abertura de outra demanda."
    )

    other = open_(
        portal,
        roberto,
        12,
        "Transferência de família entre municípios falha.",
        motivo="Erro no sistema",
        funcionalidade="Transferência de Família",
        sintoma="Mensagem de erro",
    )
    act(other, Action.START, bruno, 12.5)


def load_demo_data(session: DbSession) -> str:
    orgs = _ensure_orgs(session)
    users = _ensure_users(session, orgs)
    items = {spec["slug"]: upsert_item(session, DEMO_LOADER, spec) for spec in CATALOG}
    if not session.scalar(select(func.count()).select_from(Announcement)):
        for fields in ANNOUNCEMENTS:
            publish_announcement(session, DEMO_LOADER, fields)
    _ensure_requests(session, users, items)
    load_demo_articles(session, users, items)
    clients_summary = load_demo_clients(session)
    session.flush()
    lines = [f"Clientes: {clients_summary}.", "Contas de demonstração (CPF / papel):"]
    lines += [f"  {format_cpf(u.cpf)}  {u.role:<9}  {u.name}" for u in USERS]
    return "\n".join(lines)
