"""The client list (/clientes) and the client page ("Client 360"): search and paging, who may
see them, what the page shows, the 90-day health summary, and that neither page's cost grows
with the client's history."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import url_for
from sqlalchemy import select

from portal import jobs
from portal.clients import health, queries
from portal.clients.models import (
    ClientCategory,
    CompanyType,
    Contact,
    Impact,
    Occurrence,
    OccurrenceCategory,
    Organisation,
)
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.requests import services as request_service
from portal.requests.lifecycle import Action
from tests.conftest import AuthActions

DAY = timedelta(days=1)
XSS = '"><svg onload=alert(1)>'


def _local_today() -> date:
    return utcnow().astimezone(ZoneInfo("America/Sao_Paulo")).date()


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


@pytest.fixture
def register(client_refs):
    """Make an organisation a registered client of a type and category (as the wizard ends)."""

    def factory(
        org: Organisation,
        company_type: str = "Município",
        category: str = "Gestão municipal do Cadastro Único",
        **columns,
    ) -> Organisation:
        org.client_since = utcnow()
        org.company_type_id = db.session.scalar(
            select(CompanyType.id).where(CompanyType.name == company_type)
        )
        org.category_id = db.session.scalar(
            select(ClientCategory.id).where(ClientCategory.name == category)
        )
        for name, value in columns.items():
            setattr(org, name, value)
        db.session.commit()
        return org

    return factory


@pytest.fixture
def people(make_user, make_org):
    dataprev = make_org(name="DATAPREV", kind="outro", uf="DF")
    return {
        "agent": make_user(
            name="Ana Atendente", role="agent", organisation=dataprev, groups=["Suporte GERID"]
        ),
        "admin": make_user(name="Carla Administradora", role="admin", organisation=dataprev),
    }


def _occurrence(org: Organisation, author, impact: Impact, day: date, text: str = "") -> None:
    category = db.session.scalar(select(OccurrenceCategory).order_by(OccurrenceCategory.id))
    db.session.add(
        Occurrence(
            organisation_id=org.id,
            uf=org.uf,
            category_id=category.id,
            impact=impact.value,
            occurred_on=day,
            description=text or f"Ocorrência {impact.label} de {day:%d/%m/%Y}",
            author_id=author.id,
        )
    )
    db.session.commit()


# ------------------------------------------------------------------ the list


def test_list_searches_name_without_accents_identifier_prefix_and_filters(
    auth: AuthActions, make_org, register, people
) -> None:
    goncalo = register(make_org(name="Prefeitura Municipal de São Gonçalo", uf="RJ"))
    goncalo.identifier = "3304904"
    salvador = register(make_org(name="Prefeitura Municipal de Salvador", uf="BA"))
    salvador.identifier = "2927408"
    bahia = register(
        make_org(name="Governo do Estado da Bahia", kind="estado", uf="BA"),
        company_type="Estado",
        category="Gestão estadual",
    )
    make_org(name="Prefeitura de Feira de Santana", uf="BA")  # known, not registered
    db.session.commit()
    auth.login(people["agent"])

    def names(query: str) -> list[str]:
        html = auth.client.get(f"/clientes?{query}").get_data(as_text=True)
        return re.findall(r'<td><a href="/clientes/\d+">([^<]+)</a></td>', html)

    assert names("") == [bahia.name, salvador.name, goncalo.name]
    assert names("q=sao+goncalo") == [goncalo.name]
    assert names("q=S%C3%83O+GON%C3%87") == [goncalo.name]  # "SÃO GONÇ"
    assert names("q=29274") == [salvador.name]  # the start of the IBGE code
    assert names("q=27408") == []  # identifiers match by their start only
    assert names("uf=BA") == [bahia.name, salvador.name]
    estado = db.session.scalar(select(CompanyType.id).where(CompanyType.name == "Estado"))
    assert names(f"tipo={estado}") == [bahia.name]
    estadual = db.session.scalar(
        select(ClientCategory.id).where(ClientCategory.name == "Gestão estadual")
    )
    assert names(f"categoria={estadual}&uf=BA") == [bahia.name]
    assert names("q=feira") == []  # known organisations that are not clients are not listed
    assert names("q=%25") == []  # LIKE wildcards are text


def test_list_pages_in_sql_25_at_a_time(auth: AuthActions, make_org, register, people) -> None:
    for n in range(27):
        register(make_org(name=f"Prefeitura {n:02d}", uf="SE"))
    auth.login(people["agent"])
    first = auth.client.get("/clientes?uf=SE").get_data(as_text=True)
    assert first.count('<td><a href="/clientes/') == 25
    assert "1 - 25 de 27" in first
    assert 'href="/clientes?pagina=2&amp;uf=SE"' in first
    second = auth.client.get("/clientes?uf=SE&pagina=2").get_data(as_text=True)
    assert re.findall(r'<td><a href="/clientes/\d+">([^<]+)</a>', second) == [
        "Prefeitura 25",
        "Prefeitura 26",
    ]
    page = queries.client_list(db.session, queries.ClientFilters(uf="SE"), page=99)
    assert (page.page, page.total, len(page.rows)) == (2, 27, 2)


# ------------------------------------------------------------------ who may see them


def test_requesters_get_404_and_only_managers_see_the_register_buttons(
    app, auth: AuthActions, make_org, make_user, register, people
) -> None:
    client = register(make_org(name="Prefeitura de Salvador"))
    with app.test_request_context():
        start, edit = (
            url_for("client_wizard.start"),
            url_for("client_wizard.edit", org_id=client.id),
        )
    known = make_org(name="Prefeitura de Feira de Santana")
    requester = make_user(name="Felipe", organisation=client)
    auth.login(requester)
    for path in ("/clientes", f"/clientes/{client.id}", f"/clientes/{known.id}"):
        assert auth.client.get(path).status_code == 404, path
    auth.logout()

    auth.login(people["agent"])
    assert auth.client.get(f"/clientes/{known.id}").status_code == 404  # not a client
    listing = auth.client.get("/clientes").get_data(as_text=True)
    page = auth.client.get(f"/clientes/{client.id}").get_data(as_text=True)
    assert start not in listing and "Cadastrar cliente" not in listing
    assert edit not in page and "Dados do cliente" not in page
    assert 'href="/ocorrencias/nova?cliente=' in page  # every agent records occurrences
    auth.logout()

    registrar = make_user(
        name="Bruno Cadastro", role="agent", organisation=people["agent"].organisation
    )
    registrar.may_register_clients = True  # the "cadastro" permission
    db.session.commit()
    for manager in (people["admin"], registrar):
        auth.login(manager)
        listing = auth.client.get("/clientes").get_data(as_text=True)
        page = auth.client.get(f"/clientes/{client.id}").get_data(as_text=True)
        assert f'href="{start}"' in listing and "Cadastrar cliente" in listing
        assert f'href="{edit}"' in page and "Dados do cliente" in page
        auth.logout()


# ------------------------------------------------------------------ the health summary


@pytest.fixture
def history(make_org, make_user, make_request, register, people):
    """A client with known occurrences and requests around a 90-day window ending today."""
    today = _local_today()
    start = today - timedelta(days=89)
    salvador = register(
        make_org(name=f"Prefeitura de Salvador {XSS}", uf="BA"),
        extra={"gestor_municipal": "Marta Gestora", "familias_cadastradas": ""},
        street="Avenida Sete de Setembro",
        street_number="100",
        district="Centro",
        city="Salvador",
        cep="40060001",
    )
    recife = register(make_org(name="Prefeitura do Recife", uf="PE"))
    agent = people["agent"]
    felipe = make_user(name="Felipe Rodrigues Andrade", organisation=salvador)
    felipe.last_login_at = utcnow() - 2 * DAY
    make_user(name="Ellem Saraiva Reis", organisation=salvador)
    make_user(name="Zuleide Inativa", organisation=salvador).active = False
    roberto = make_user(name="Roberto", organisation=recife)
    db.session.add_all(
        [
            Contact(
                organisation_id=salvador.id,
                name="Felipe Rodrigues Andrade",
                job_title="Gestor do Cadastro Único",
                email="felipe@salvador.ba.gov.br",
                phone="71999990000",
                user_id=felipe.id,
                position=0,
            ),
            Contact(
                organisation_id=salvador.id,
                name=f"Secretaria {XSS}",
                email="secretaria@salvador.ba.gov.br",
                position=1,
            ),
        ]
    )
    db.session.commit()

    for impact, day in [
        (Impact.POSITIVO, today),
        (Impact.POSITIVO, start),  # the window's first day counts
        (Impact.NEUTRO, today - 10 * DAY),
        (Impact.NEGATIVO, today - 5 * DAY),
        (Impact.NEGATIVO, start - DAY),  # one day too old
    ]:
        _occurrence(salvador, agent, impact, day)
    _occurrence(recife, agent, Impact.NEGATIVO, today)  # another client's

    def opened(day: date, hour: int = 0, who=felipe):
        return make_request(who, now=at(day, hour))

    def resolve(request, when: datetime) -> None:
        request_service.fire(db.session, request, Action.START, actor=agent, now=when)
        request_service.fire(
            db.session, request, Action.RESOLVE, actor=agent, reason="Feito", now=when
        )
        db.session.commit()

    accepted = opened(today - 20 * DAY, 8)
    resolve(accepted, at(today - 20 * DAY, 10))  # 2 hours
    request_service.fire(
        db.session, accepted, Action.ACCEPT, actor=felipe, now=at(today - 19 * DAY)
    )
    rejected = opened(today - 15 * DAY, 8)
    resolve(rejected, at(today - 14 * DAY, 8))
    request_service.fire(
        db.session, rejected, Action.REJECT, actor=felipe, reason="Não", now=at(today - 13 * DAY)
    )
    closed_by_job = opened(today - 40 * DAY, 0)
    resolve(closed_by_job, at(today - 39 * DAY, 12))  # 36 hours
    waiting = opened(today - 10 * DAY, 0)
    resolve(waiting, at(today - 10 * DAY, 10))  # 10 hours
    old = opened(today - 120 * DAY)
    resolve(old, at(today - 100 * DAY))  # outside the window: neither median nor counts
    request_service.fire(db.session, old, Action.ACCEPT, actor=felipe, now=at(today - 99 * DAY))
    fresh = opened(today - 11 * DAY)
    elsewhere = opened(today - 12 * DAY, who=roberto)
    db.session.commit()
    assert jobs.auto_close(db.session, now=at(today - 30 * DAY)) == 1
    return {
        "today": today,
        "client": salvador,
        "other": recife,
        "requests": [accepted, rejected, closed_by_job, waiting, old, fresh],
        "elsewhere": elsewhere,
        "felipe": felipe,
    }


def test_health_summary_counts_the_window_only(history) -> None:
    summary = health.health_summary(db.session, history["client"].id, history["today"])
    assert summary.start == history["today"] - timedelta(days=89)
    assert summary.occurrences == {Impact.POSITIVO: 2, Impact.NEUTRO: 1, Impact.NEGATIVO: 1}
    assert summary.open_requests == 3  # rejected (in progress), waiting, fresh
    assert (summary.resolved, summary.accepted, summary.rejected, summary.auto_closed) == (
        4,
        1,
        1,
        1,
    )
    # 2 h, 10 h and 36 h (the rejected one has no resolution any more; the old one is out).
    assert summary.median_resolution == timedelta(hours=10)
    assert (summary.median_sample, summary.median_capped) == (3, False)
    assert summary.median_label == "10 horas"


def test_the_median_is_over_the_latest_resolutions_when_capped(history, monkeypatch) -> None:
    monkeypatch.setattr(health, "MEDIAN_SAMPLE", 2)
    summary = health.health_summary(db.session, history["client"].id, history["today"])
    # The latest two: 10 h and 2 h; an even sample takes the middle two's mean.
    assert summary.median_resolution == timedelta(hours=6)
    assert (summary.median_sample, summary.median_capped) == (2, True)


def test_client_page_shows_data_people_requests_occurrences_and_health(
    auth: AuthActions, history, people
) -> None:
    client = history["client"]
    auth.login(people["agent"])
    response = auth.client.get(f"/clientes/{client.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert XSS not in html and "&lt;svg onload=alert(1)&gt;" in html

    def tile(measure: str) -> str:
        found = re.search(
            rf'data-measure="{measure}"><span class="count-number">([^<]+)</span>', html
        )
        assert found, measure
        return found.group(1)

    assert [tile(m) for m in ("positivo", "neutro", "negativo", "open")] == ["2", "1", "1", "3"]
    assert tile("median") == "10 horas" and "sobre 3 soluções" in html
    assert tile("answers") == "1 × 1" and tile("auto_closed") == "1"
    # The client's data: type, category, its own fields with their labels, the address.
    assert "Gestão municipal do Cadastro Único" in html
    assert "<dt>Gestor(a) municipal do Cadastro Único</dt><dd>Marta Gestora</dd>" in html
    assert "Famílias cadastradas" not in html  # empty fields are left out
    assert "Avenida Sete de Setembro, 100, Centro, Salvador - BA, CEP 40060-001" in html
    # Contacts and users, with active or inactive and the last sign-in.
    assert "Gestor do Cadastro Único" in html and "felipe@salvador.ba.gov.br" in html
    felipe = history["felipe"]
    last = felipe.last_login_at.astimezone(ZoneInfo("America/Sao_Paulo"))
    assert last.strftime("%d/%m/%Y %H:%M:%S") in html
    assert html.count("nunca entrou") == 2
    assert "Zuleide Inativa" in html and ">Inativo<" in html
    # Requests: counts per state, the latest ones (another client's is not there).
    counts = dict(
        re.findall(r'<li data-state="(\w+)"><span class="count-number">(\d+)</span>', html)
    )
    assert counts == {
        "open": "1",
        "in_progress": "1",
        "awaiting_support": "0",
        "awaiting_user": "1",
        "closed": "3",
        "cancelled": "0",
    }
    numbers = re.findall(r'<td><a href="/solicitacoes/(CS\d+)">', html)
    mine = sorted(history["requests"], key=lambda r: r.opened_at, reverse=True)
    assert numbers == [r.number for r in mine]
    assert history["elsewhere"].number not in html
    assert f'href="/atendimento?cliente={client.id}"' in html
    # Occurrences newest first, with their impact as a word; "Cadastrar +" and "Ver todas".
    impacts = re.findall(r'class="occurrence-item impact-(\w+)"', html)
    assert impacts == ["positivo", "negativo", "neutro", "positivo", "negativo"]
    assert f'href="/ocorrencias/nova?cliente={client.id}"' in html
    assert f'href="/ocorrencias?cliente={client.id}"' in html


def test_the_queue_link_filters_by_the_client(auth: AuthActions, history, people) -> None:
    client = history["client"]
    auth.login(people["admin"])
    html = auth.client.get(f"/atendimento?cliente={client.id}&estado=todos").get_data(as_text=True)
    shown = set(re.findall(r'<td><a href="/solicitacoes/(CS\d+)">', html))
    assert shown == {r.number for r in history["requests"]}
    assert f'name="cliente" value="{client.id}"' in html  # kept by the filters form
    active = auth.client.get(f"/atendimento?cliente={client.id}").get_data(as_text=True)
    assert set(re.findall(r'<td><a href="/solicitacoes/(CS\d+)">', active)) == {
        r.number for r in history["requests"] if not r.is_final
    }
    other = auth.client.get(f"/atendimento?cliente={history['other'].id}").get_data(as_text=True)
    assert re.findall(r'<td><a href="/solicitacoes/(CS\d+)">', other) == [
        history["elsewhere"].number
    ]


# ------------------------------------------------------------------ cost


def _grow(client: Organisation, author, make_user, make_request, n: int) -> None:
    """n more of everything the client page lists."""
    categories = list(db.session.scalars(select(OccurrenceCategory)))
    for k in range(n):
        user = make_user(name=f"Usuária {k} {client.id}", organisation=client)
        user.last_login_at = utcnow() - k * DAY
        db.session.add(
            Contact(organisation_id=client.id, name=f"Contato {k}", position=k, user_id=user.id)
        )
        db.session.commit()
        make_request(
            user,
            item="portal-rede-atendimento" if k % 2 else "gerid",
            **(
                {"values": {"motivo": "Dúvida", "funcionalidade": "Consulta Pessoa"}}
                if k % 2
                else {}
            ),
        )
        writer = make_user(name=f"Atendente {k} {client.id}", role="agent")
        db.session.add(
            Occurrence(
                organisation_id=client.id,
                uf=client.uf,
                category_id=categories[k % len(categories)].id,
                impact=list(Impact)[k % 3].value,
                occurred_on=_local_today() - k * DAY,
                description=f"Ocorrência {k}",
                author_id=(writer if k % 2 else author).id,
            )
        )
        db.session.commit()


def test_pages_cost_the_same_number_of_queries_however_many_rows(
    auth: AuthActions, make_org, make_user, make_request, register, people, count_queries
) -> None:
    client = register(make_org(name="Prefeitura de Salvador"))
    _grow(client, people["agent"], make_user, make_request, 1)
    auth.login(people["agent"])
    path = f"/clientes/{client.id}"

    def statements(url: str) -> int:
        assert auth.client.get(url).status_code == 200  # warm
        with count_queries() as seen:
            assert auth.client.get(url).status_code == 200
        return len(seen)

    few, few_list = statements(path), statements("/clientes")
    _grow(client, people["agent"], make_user, make_request, 6)
    for n in range(6):
        register(make_org(name=f"Prefeitura {n}", uf="SE"), company_type="Empresa")
    html = auth.client.get(path).get_data(as_text=True)
    assert html.count('class="occurrence-item') == 7 and html.count("/solicitacoes/CS") == 7
    assert (statements(path), statements("/clientes")) == (few, few_list)


def _explained(run) -> list[tuple[str, str]]:
    """Run `run`, then EXPLAIN every SELECT it sent; PostgreSQL without sequential scans when
    an index can serve (so a plan naming a Seq Scan means no index fits, whatever the size)."""
    sent: list[tuple[str, object]] = []

    def keep(_conn, _cursor, statement, parameters, *_args) -> None:
        sent.append((statement, parameters))

    from sqlalchemy import event

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    conn = db.session.connection()
    postgresql = conn.dialect.name == "postgresql"
    if postgresql:
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    plans = []
    for statement, parameters in sent:
        if not statement.lstrip().upper().startswith("SELECT"):
            continue
        prefix = "EXPLAIN " if postgresql else "EXPLAIN QUERY PLAN "
        rows = conn.exec_driver_sql(prefix + statement, parameters).all()  # type: ignore[arg-type]
        plans.append((statement, "\n".join(str(row[-1]) for row in rows)))
    db.session.rollback()
    return plans


HISTORY_TABLES = (
    "occurrences",
    "service_requests",
    "client_request_days",
    "client_request_counts",
    "users",
    "client_contacts",
    "organisations",
)


def test_the_client_page_reads_indexes_never_a_whole_history(history) -> None:
    client_id, today = history["client"].id, history["today"]

    def page() -> None:
        client = queries.get_client(db.session, client_id)
        assert client is not None
        queries.client_page(db.session, client, today)

    plans = _explained(page)
    assert len(plans) >= 8
    for statement, plan in plans:
        for table in HISTORY_TABLES:
            assert not re.search(rf"\bSCAN {table}\b(?! USING)", plan), (statement, plan)
            assert f"Seq Scan on {table}" not in plan, (statement, plan)

    def uses(index: str, fragment: str) -> None:
        found = [p for s, p in plans if fragment in s]
        assert found and all(re.search(index, p) for p in found), (index, found)

    uses("ix_occurrences_org_date", "WHERE occurrences.organisation_id =")
    uses("ix_service_requests_org_resolved", "service_requests.resolved_at >=")
    uses("ix_service_requests_org_opened", "ORDER BY service_requests.opened_at DESC")
    uses("pk_client_request_days|sqlite_autoindex_client_request_days", "FROM client_request_days")
