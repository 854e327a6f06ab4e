"""Administração > Auditoria: the audit entries as a list filtered by who, what, object and
period (each checked against the same filter done in Python over every entry), newest first,
paged in SQL with a flat number of statements, each filter served by its index (EXPLAIN on
both databases), the values before and after as a per-field table, and the CSV export of the
same filter (BOM, ";", formulas neutralised). Admins only: everyone else gets 404."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.test import TestResponse

from portal.accounts.models import User
from portal.core import audit, audit_queries
from portal.core.audit_labels import action_label, value_changes
from portal.core.extensions import db
from portal.core.models import AuditEntry
from portal.core.timeutil import as_utc
from tests.conftest import SETUP, AuthActions

BASE = "/admin/auditoria"
TZ = "America/Sao_Paulo"
XSS = '"><svg onload=alert(1)>'
# 02:30 UTC on 10/03/2026 is still 09/03/2026 (23:30) in São Paulo.
LATE_EVENING = datetime(2026, 3, 10, 2, 30, tzinfo=UTC)


def _html(response: TestResponse) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _shown(response: TestResponse) -> list[int]:
    return [int(n) for n in re.findall(r'id="entrada-(\d+)"', _html(response))]


@pytest.fixture
def clock(app: Flask, monkeypatch: pytest.MonkeyPatch) -> dict[str, datetime]:
    """The trail's clock, set by the test (before any fixture writes an entry)."""
    now = {"now": datetime(2026, 1, 2, 12, tzinfo=UTC)}
    monkeypatch.setattr(audit, "utcnow", lambda: now["now"])
    return now


@pytest.fixture
def scene(clock: dict[str, datetime], make_user: Callable[..., User]) -> dict[str, Any]:
    """Entries by an admin, an agent and the system, on users, a group and an organisation,
    on four days (one of them late in the evening, São Paulo time), the clock rising as
    entries do."""
    admin = make_user("Carla Administradora", role="admin")
    agent = make_user("Bruno Atendente", role="agent")
    person = make_user("Felipe Andrade")
    ids: dict[str, int] = {}

    def record(when: datetime, name: str, actor: Any, *args: Any, **values: Any) -> None:
        clock["now"] = when
        ids[name] = audit.record(db.session, actor, *args, **values).id

    record(
        datetime(2026, 1, 5, 15, tzinfo=UTC),
        "old",
        admin,
        "user.update",
        "user",
        person.id,
        before={"full_name": "Felipe"},
        after={"full_name": "Felipe Andrade"},
    )
    record(
        LATE_EVENING,
        "evening",
        agent,
        "group.create",
        "group",
        7,
        after={"name": "Suporte CadÚnico NE", "members": ["Bruno", "Ana"]},
    )
    record(
        datetime(2026, 3, 10, 12, tzinfo=UTC),
        "next_day",
        SETUP,
        "organisation.create",
        "organisation",
        3,
        after={"name": "Prefeitura de Juazeiro", "active": True},
    )
    record(
        datetime(2026, 3, 20, 9, tzinfo=UTC), "recent", admin, "user.update", "user", agent.id,
        before={"role": "requester", "extra_phone": None},
        after={"role": "agent", "extra_phone": "(71) 3202-0000"},
    )  # fmt: skip
    db.session.commit()
    return {"admin": admin, "agent": agent, "person": person, "ids": ids}


def _expected(predicate: Callable[[AuditEntry], bool]) -> list[int]:
    """The oracle: the same filter in Python over every entry, newest first."""
    db.session.expire_all()
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.at, AuditEntry.id))
    return [e.id for e in reversed(list(entries)) if predicate(e)]


def _local_day(entry: AuditEntry) -> str:
    return as_utc(entry.at).astimezone(ZoneInfo(TZ)).date().isoformat()


def test_only_admins_see_the_list_and_the_export(
    scene: dict[str, Any], auth: AuthActions, make_user: Callable[..., User]
) -> None:
    for role in ("requester", "agent"):
        auth.login(make_user(role=role))
        assert auth.client.get(BASE).status_code == 404
        assert auth.client.get(f"{BASE}.csv").status_code == 404
        auth.logout()
    auth.login(scene["admin"])
    assert auth.client.get(BASE).status_code == 200
    assert auth.client.get(f"{BASE}.csv").status_code == 200


def test_the_unfiltered_list_shows_every_entry_newest_first(
    scene: dict[str, Any], auth: AuthActions
) -> None:
    auth.login(scene["admin"])
    assert _shown(auth.client.get(BASE)) == _expected(lambda e: True)[:20]


FILTERS: dict[str, tuple[Callable[[dict[str, Any]], dict[str, Any]], Callable[..., bool]]] = {
    "who": (lambda s: {"quem": s["admin"].id}, lambda e, s: e.actor_id == s["admin"].id),
    "the system": (lambda s: {"quem": "sistema"}, lambda e, s: e.actor_id is None),
    "name": (lambda s: {"nome": "bruno aten"}, lambda e, s: e.actor_id == s["agent"].id),
    "nobody by that name": (lambda s: {"nome": "Ninguém Mesmo"}, lambda e, s: False),
    "what": (lambda s: {"acao": "user.update"}, lambda e, s: e.action == "user.update"),
    "object type": (lambda s: {"objeto": "group"}, lambda e, s: e.object_type == "group"),
    "object": (
        lambda s: {"objeto": "user", "objeto_id": s["agent"].id},
        lambda e, s: (e.object_type, e.object_id) == ("user", s["agent"].id),
    ),
    "from a day": (lambda s: {"de": "10/03/2026"}, lambda e, s: _local_day(e) >= "2026-03-10"),
    "one day, São Paulo time": (
        lambda s: {"de": "09/03/2026", "ate": "09/03/2026"},
        lambda e, s: _local_day(e) == "2026-03-09",
    ),
    "who and what and when": (
        lambda s: {"quem": s["admin"].id, "acao": "user.update", "ate": "31/01/2026"},
        lambda e, s: (
            e.actor_id == s["admin"].id
            and e.action == "user.update"
            and e.at < datetime(2026, 2, 1, 3, tzinfo=UTC)
        ),
    ),
}


@pytest.mark.parametrize("name", list(FILTERS))
def test_each_filter_narrows_the_list(scene: dict[str, Any], auth: AuthActions, name: str) -> None:
    args, predicate = FILTERS[name]
    expected = _expected(lambda e: predicate(e, scene))
    assert len(expected) < len(_expected(lambda e: True))  # the filter does narrow
    auth.login(scene["admin"])
    assert _shown(auth.client.get(BASE, query_string=args(scene))) == expected
    if name == "one day, São Paulo time":
        assert expected == [scene["ids"]["evening"]]  # 02:30 UTC the next day


def test_a_date_that_is_not_one_is_shown_and_ignored(
    scene: dict[str, Any], auth: AuthActions
) -> None:
    auth.login(scene["admin"])
    html = _html(auth.client.get(BASE, query_string={"de": "31/02/2026", "ate": "x"}))
    assert html.count("Data inválida: use DD/MM/AAAA.") == 2
    assert 'aria-invalid="true" aria-describedby="de-error"' in html
    assert 'value="31/02/2026"' in html
    assert _shown(auth.client.get(BASE, query_string={"de": "31/02/2026"})) == _expected(
        lambda e: True
    )
    reversed_period = {"de": "10/03/2026", "ate": "01/03/2026"}
    assert "A data final é anterior à inicial." in _html(
        auth.client.get(BASE, query_string=reversed_period)
    )


@pytest.mark.parametrize(
    "junk",
    [{"quem": "²"}, {"quem": "9" * 30}, {"objeto": "user", "objeto_id": "9" * 30}, {"pagina": "x"}],
)
def test_junk_in_the_query_string_is_ignored(
    scene: dict[str, Any], auth: AuthActions, junk: dict[str, str]
) -> None:
    auth.login(scene["admin"])
    shown = _shown(auth.client.get(BASE, query_string=junk))
    if "objeto" in junk:
        assert shown == _expected(lambda e: e.object_type == "user")
    else:
        assert shown == _expected(lambda e: True)


def test_an_entry_shows_when_who_where_what_and_the_values(
    scene: dict[str, Any], auth: AuthActions
) -> None:
    auth.login(scene["admin"])
    html = _html(auth.client.get(BASE, query_string={"objeto": "user"}))
    agent, admin = scene["agent"], scene["admin"]
    recent = html[html.index(f'id="entrada-{scene["ids"]["recent"]}"') :]
    recent = recent[: recent.index("</li>")]
    assert '<h2 class="audit-action">Usuário: alteração</h2>' in recent
    assert f"Carla Administradora (usuário {admin.id})" in recent
    assert f'<a href="/admin/usuarios/{agent.id}">Usuário {agent.id}</a>' in recent
    assert re.search(r"<time datetime=\"[^\"]+\">\d\d/\d\d/\d{4} \d\d:\d\d:\d\d</time>", recent)
    rows = re.findall(
        r'<tr><th scope="row">([^<]+)</th><td>([^<]*)</td><td>([^<]*)</td></tr>', recent
    )
    assert rows == [
        ("Papel", "requester", "agent"),
        ("Outro telefone", "(vazio)", "(71) 3202-0000"),
    ]
    organisation = _html(auth.client.get(BASE, query_string={"quem": "sistema"}))
    assert "Ente 3" in organisation and "/clientes/3" not in organisation  # no admin page


def test_the_selects_offer_what_is_in_use_with_portuguese_labels(
    scene: dict[str, Any], auth: AuthActions
) -> None:
    auth.login(scene["admin"])
    html = _html(auth.client.get(BASE))
    assert '<option value="group.create">Grupo: criação</option>' in html
    assert '<option value="user.update">Usuário: alteração</option>' in html
    assert 'value="catalog_item.update"' not in html  # never written here
    assert '<option value="organisation">Ente</option>' in html
    staff = re.findall(
        r'<option value="(\d+)"', html[html.index('id="quem"') :].split("</select>")[0]
    )
    assert [int(i) for i in staff] == [scene["agent"].id, scene["admin"].id]  # by name
    assert scene["person"].full_name not in html.split('id="quem"')[1].split("</select>")[0]


def test_values_are_escaped(app: Flask, auth: AuthActions, make_user: Callable[..., User]) -> None:
    admin = make_user(XSS, role="admin")
    audit.record(db.session, admin, XSS, XSS, 1, before={XSS: XSS}, after={XSS: [XSS]})
    db.session.commit()
    auth.login(admin)
    html = _html(auth.client.get(BASE))
    assert XSS not in html and "&#34;&gt;&lt;svg onload=alert(1)&gt;" in html


def test_value_changes_read_as_a_table() -> None:
    changes = value_changes(
        {"active": True, "groups": ["A"], "gone": 1},
        {"active": False, "groups": [], "fields": [{"key": "x"}], "new": None},
    )
    assert [(c.label, c.before, c.after) for c in changes] == [
        ("Ativo", "Sim", "Não"),
        ("Grupos", "A", "(nenhum)"),
        ("Campos", None, '[{"key": "x"}]'),
        ("new", None, "(vazio)"),
        ("gone", "1", None),
    ]
    assert action_label("group.rename") == "Grupo: renomeação"
    assert action_label("something.new") == "something.new"


# ------------------------------------------------------------------ paging


def _many(count: int, actor: Any = SETUP) -> None:
    for number in range(count):
        audit.record(db.session, actor, "x.bulk", "thing", number, after={"n": number})
    db.session.commit()


def test_pages_in_sql_and_counts_only_a_few_pages_ahead(app: Flask) -> None:
    _many(25)
    filters = audit_queries.AuditFilters.parse({"acao": "x.bulk"})
    everything = _expected(lambda e: e.action == "x.bulk")
    first = audit_queries.audit_page(db.session, filters, TZ, page=1, per_page=2)
    assert [e.id for e in first.rows] == everything[:2]
    assert (first.total, first.more) == (22, True)  # (1 + 10 pages) * 2, and more
    last = audit_queries.audit_page(db.session, filters, TZ, page=13, per_page=2)
    assert [e.id for e in last.rows] == everything[24:] and (last.total, last.more) == (25, False)
    assert audit_queries.audit_page(db.session, filters, TZ, page=99, per_page=2).page == 13


def test_the_page_sends_as_many_statements_for_3_entries_as_for_20(
    app: Flask, auth: AuthActions, make_user: Callable[..., User], count_queries
) -> None:
    admin = make_user(role="admin")
    auth.login(admin)
    counts = []
    for total in (3, 20):
        _many(total - len(counts) * 3, actor=admin)
        with count_queries() as statements:
            assert len(_shown(auth.client.get(BASE, query_string={"acao": "x.bulk"}))) == total
        counts.append(len(statements))
    assert counts[0] == counts[1]


# ------------------------------------------------------------------ CSV


def _csv(response: TestResponse) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="auditoria.csv"'
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeffEntrada;Data;Quem;")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


def test_the_csv_has_the_filtered_entries_for_brazilian_excel(
    scene: dict[str, Any], auth: AuthActions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_queries, "CSV_BATCH", 1)  # every row its own batch
    auth.login(scene["admin"])
    rows = _csv(auth.client.get(f"{BASE}.csv", query_string={"acao": "user.update"}))
    assert rows[0] == audit_queries.CSV_HEADER
    assert [int(r[0]) for r in rows[1:]] == _expected(lambda e: e.action == "user.update")
    recent = next(r for r in rows[1:] if int(r[0]) == scene["ids"]["recent"])
    admin = scene["admin"]
    assert recent[2:8] == [
        f"Carla Administradora (usuário {admin.id})",
        "",
        "Usuário: alteração",
        "user.update",
        "Usuário",
        str(scene["agent"].id),
    ]
    assert recent[8] == '{"extra_phone": null, "role": "requester"}'
    assert recent[9] == '{"extra_phone": "(71) 3202-0000", "role": "agent"}'
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", recent[1])
    assert len(recent[10]) == 64
    dated = _csv(
        auth.client.get(f"{BASE}.csv", query_string={"de": "09/03/2026", "ate": "09/03/2026"})
    )
    assert [int(r[0]) for r in dated[1:]] == [scene["ids"]["evening"]]


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(
    app: Flask, auth: AuthActions, make_user: Callable[..., User]
) -> None:
    admin = make_user('=HYPERLINK("http://x")', role="admin")
    audit.record(db.session, admin, "@SUM(1)", "-thing", 1, after={"a": 1})
    db.session.commit()
    auth.login(admin)
    rows = _csv(auth.client.get(f"{BASE}.csv", query_string={"objeto": "-thing"}))
    [row] = rows[1:]
    assert row[2].startswith("'=HYPERLINK(") and row[4] == "'@SUM(1)" and row[6] == "'-thing"


# ------------------------------------------------------------------ indexes

# filter -> the index whose name the plan must show
PLANS = {
    "none": ({}, "pk_audit_entries"),
    "who": ({"quem": "999"}, "ix_audit_entries_actor"),
    "the system": ({"quem": "sistema"}, "ix_audit_entries_actor"),
    "what": ({"acao": "rare.action"}, "ix_audit_entries_action"),
    "object": ({"objeto": "rare", "objeto_id": "5"}, "ix_audit_entries_object"),
    "period": ({"de": "01/01/2025", "ate": "03/01/2025"}, "ix_audit_entries_at"),
}


def _plan(statement: sa.Select[Any]) -> str:
    sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    if db.engine.dialect.name == "sqlite":
        rows = db.session.execute(sa.text(f"EXPLAIN QUERY PLAN {sql}")).all()
        return "\n".join(str(r[-1]) for r in rows)
    return "\n".join(r[0] for r in db.session.execute(sa.text(f"EXPLAIN {sql}")))


def test_each_filter_reads_its_index(app: Flask) -> None:
    """5,000 entries where what is looked for is old: rare (who, what, object), or a tenth of
    the table (the system, a period), where PostgreSQL would otherwise walk the whole table
    backwards by id, expecting to meet the first twenty soon."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    common = {"actor_label": "x", "address": None, "before": None, "prev_hash": "", "hash": ""}
    rows = [
        {
            **common,
            "at": start + timedelta(minutes=10 * n),
            "actor_id": 999 if n < 3 else (None if n < 500 else n % 50 + 1),
            "action": "rare.action" if n < 3 else "common.update",
            "object_type": "rare" if n < 3 else "common",
            "object_id": n % 500,
            "after": {"n": n},
        }
        for n in range(5000)
    ]
    db.session.execute(sa.insert(AuditEntry), rows)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE audit_entries"))
    for name, (args, index) in PLANS.items():
        filters = audit_queries.AuditFilters.parse(args)
        page = audit_queries.ordered_ids(filters, TZ).limit(20)
        plan = _plan(page)
        assert index in plan or (index == "pk_audit_entries" and "SCAN audit_entries" in plan), (
            name,
            plan,
        )
        assert "Seq Scan" not in plan, (name, plan)
    db.session.rollback()
