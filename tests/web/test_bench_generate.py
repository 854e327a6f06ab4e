"""The benchmark tools: the generator makes valid, deterministic data through the real schema;
the auto-close bench works on a copy; bench/run.py drives every page it lists to a table."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench import clients as client_words
from bench import generate
from bench import knowledge as knowledge_words

QUERIES = (
    "SELECT count(*) FROM organisations",
    "SELECT state, count(*) FROM service_requests GROUP BY state ORDER BY state",
    "SELECT max(c) FROM (SELECT count(*) c FROM timeline_entries GROUP BY request_id) x",
    "SELECT value FROM counters WHERE name = 'request'",
    "SELECT count(*) FROM service_requests s JOIN users u ON u.id = s.opened_by_id"
    " WHERE u.cpf = :cpf",
)
KB_QUERIES = (
    "SELECT count(*), sum(is_live), sum(archived), sum(visibility = 'internal'),"
    " sum(working_version_id IS NOT NULL), sum(helpful_yes + helpful_no) FROM articles",
    "SELECT state, count(*) FROM article_versions GROUP BY state ORDER BY state",
    "SELECT count(*) FROM articles a JOIN article_versions v ON v.id = a.live_version_id"
    " WHERE v.state = 'published' AND v.number = a.version_count AND a.is_live",
    "SELECT kind, label, count(*) FROM search_documents GROUP BY kind, label ORDER BY kind, label",
    "SELECT count(*) FROM article_votes",
    "SELECT value FROM counters WHERE name = 'kb_article'",
    "SELECT count(*) FROM request_texts t JOIN service_requests r ON r.id = t.request_id"
    " WHERE t.body LIKE r.description || '%'",
)

CLIENT_QUERIES = (
    "SELECT count(*), count(client_since), count(DISTINCT identifier) FROM organisations",
    "SELECT o.kind, t.name, c.name, count(*) FROM organisations o"
    " JOIN company_types t ON t.id = o.company_type_id"
    " JOIN client_categories c ON c.id = o.category_id GROUP BY 1, 2, 3 ORDER BY 1",
    "SELECT identifier, name, uf FROM organisations WHERE identifier IN ('2927408', '29')"
    " ORDER BY identifier",
    "SELECT min(n), max(n), count(*) FROM"
    " (SELECT count(*) n FROM client_contacts GROUP BY organisation_id) x",
    "SELECT count(c.user_id), count(DISTINCT c.user_id), sum(u.organisation_id = c.organisation_id)"
    " FROM client_contacts c LEFT JOIN users u ON u.id = c.user_id",
    "SELECT impact, count(*) FROM occurrences GROUP BY impact ORDER BY impact",
    "SELECT o.organisation_id, count(*) FROM occurrences o GROUP BY o.organisation_id"
    " ORDER BY count(*) DESC, o.organisation_id LIMIT 2",
    "SELECT organisation_id FROM users WHERE cpf = :cpf",
    "SELECT count(*) FROM occurrences o JOIN organisations g ON g.id = o.organisation_id"
    " WHERE o.uf = g.uf",
    "SELECT count(o.request_id), sum(r.organisation_id = o.organisation_id) FROM occurrences o"
    " LEFT JOIN service_requests r ON r.id = o.request_id",
    "SELECT min(o.occurred_on), max(o.occurred_on), count(DISTINCT o.category_id),"
    " count(DISTINCT o.author_id), sum(u.role = 'agent') = count(*) FROM occurrences o"
    " JOIN users u ON u.id = o.author_id",
    "SELECT extra FROM organisations WHERE identifier IN ('2927408', '29') ORDER BY identifier",
)


def _clients(url: str) -> list[list[tuple]]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        results = [
            [tuple(r) for r in conn.execute(sa.text(q), {"cpf": generate.HEAVY_CPF})]
            for q in CLIENT_QUERIES
        ]
    engine.dispose()
    return results


def _summary(url: str) -> tuple:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        results = [conn.execute(sa.text(q), {"cpf": generate.HEAVY_CPF}).all() for q in QUERIES]
    engine.dispose()
    orgs, states, entries, counter, heavy = results
    return orgs[0][0], [tuple(r) for r in states], entries[0][0], counter[0][0], heavy[0][0]


def _knowledge(url: str) -> list[list[tuple]]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        results = [[tuple(r) for r in conn.execute(sa.text(q))] for q in KB_QUERIES]
    engine.dispose()
    return results


def _found(url: str, typed: str) -> tuple[int, int, list[str]]:
    """(documents, requests) the portal's searches find on a generated database, and the kinds
    of the first page of documents."""
    from portal import create_app
    from portal.core import fulltext, request_texts
    from portal.core.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test"})
    with app.app_context():
        page = fulltext.search_documents(db.session, typed, staff=False)
        matching = request_texts.request_ids_matching(db.session, typed)
        assert matching is not None
        requests = db.session.execute(
            sa.select(sa.func.count()).select_from(matching.subquery())
        ).scalar_one()
        db.session.remove()
        db.engine.dispose()
    return page.total, requests, [hit.kind for hit in page.hits]


def test_generator_is_valid_and_deterministic(tmp_path: Path) -> None:
    # In folders that do not exist yet, as instance/ in a fresh clone.
    first, second = (f"sqlite:///{tmp_path / 'new' / name}" for name in ("a.db", "b.db"))
    for url in (first, second):
        argv = ["--url", url, "--requests", "400", "--seed", "7", "--articles", "300"]
        argv += ["--occurrences", "4000"]
        assert generate.main(argv) == 0
    summary = _summary(first)
    assert summary == _summary(second)
    orgs, states, max_entries, counter, heavy = summary
    assert orgs == 5570 + 27
    assert {state for state, _ in states} == {
        "open",
        "in_progress",
        "awaiting_support",
        "awaiting_user",
        "closed",
        "cancelled",
    }
    assert dict(states)["closed"] > 400 * 0.5
    assert max_entries == 50 and counter == 400 and heavy == 40

    knowledge = _knowledge(first)
    assert knowledge == _knowledge(second)
    articles, versions, live_pointers, documents, votes, kb_counter, texts = knowledge
    total, live, archived, internal, pending, voted = articles[0]
    assert total == 300 and kb_counter == [(300,)]
    assert archived > 0 and 0 < internal < total * 0.2 and pending > 0 and voted > 0
    assert live_pointers == [(live,)]  # every live article points at its newest version
    assert {state for state, _ in versions} == {"archived", "draft", "published"}
    labels = {(kind, label): n for kind, label, n in documents}
    assert labels[("article", "")] + labels[("article", "Interno")] == live
    assert labels[("item", "")] == 3 and ("article", "Rascunho") in labels
    assert votes[0][0] == voted
    assert texts == [(400,)]  # every request: its description, then its messages
    documents_found, requests_found, kinds = _found(first, knowledge_words.SEARCH_WORD)
    assert documents_found > total * 0.3 and kinds[0] == "item" and "article" in kinds
    assert 400 * 0.05 < _found(first, knowledge_words.QUEUE_WORD)[1] < 400 * 0.4
    assert requests_found == 0  # the search word is not in the requests' texts

    found = _clients(first)
    assert found == _clients(second)
    orgs, kinds, places, contacts, users, impacts, busiest, heavy_org, same_uf, cites = found[:10]
    span, extras = found[10:]
    # Every município and UF of the IBGE list, registered as a client.
    assert orgs == [(5597, 5597, 5597)]
    assert kinds == [
        ("estado", "Estado", client_words.STATE_CATEGORY, 27),
        ("municipio", "Município", client_words.MUNICIPAL_CATEGORY, 5570),
    ]
    assert places == [("29", "Bahia", "BA"), ("2927408", "Salvador", "BA")]
    low, high, with_contacts = contacts[0]
    assert (low, high, with_contacts) == (1, 3, 5597)
    linked, distinct, own = users[0]
    assert linked > 1000 and linked == distinct == own  # each user once, of its own client
    shares = {impact: n / 4000 for impact, n in impacts}
    assert 0.25 < shares["positivo"] < 0.35 and 0.40 < shares["neutro"] < 0.50
    assert 0.20 < shares["negativo"] < 0.30
    # The busy client is the heavy user's organisation, with a fortieth of the occurrences.
    assert busiest[0] == (heavy_org[0][0], 4000 // 40) and busiest[1][1] < 4000 // 40
    assert same_uf == [(4000,)]  # the client's UF, copied
    cited, of_their_client = cites[0]
    assert cited > 40 and of_their_client == cited
    first_day, last_day, categories, authors, all_agents = span[0]
    assert "2023-11-02" <= first_day < "2024-01-01" and "2026-09-01" < last_day <= "2026-11-01"
    assert categories == 5 and authors > 30 and all_agents
    # The category's own fields.
    state_extra, city_extra = (json.loads(extra) for (extra,) in extras)
    assert set(state_extra) == {"coordenacao_estadual"}
    assert set(city_extra) == {"gestor_municipal", "familias_cadastradas"}


def test_autoclose_bench_closes_every_due_request_on_a_copy(tmp_path: Path) -> None:
    from bench import autoclose

    url = f"sqlite:///{tmp_path / 'bench.db'}"
    assert generate.main(["--url", url, "--requests", "400"]) == 0
    argv = ["--requests", "400", "--url", url, "--due", "150", "--results", str(tmp_path)]
    assert autoclose.main(argv) == 0
    result = json.loads((tmp_path / "autoclose-latest.json").read_text())
    assert (result["due"], result["closed"]) == (150, 150)
    assert not (tmp_path / "bench-autoclose.db").exists()  # the copy is gone
    engine = sa.create_engine(url)
    with engine.connect() as conn:  # the original is untouched
        auto_closed = conn.execute(
            sa.text("SELECT count(*) FROM timeline_entries WHERE action = 'auto_close'")
        ).scalar()
    engine.dispose()
    assert auto_closed == 0


@pytest.mark.skipif(
    bool(os.environ.get("PORTAL_TEST_DATABASE_URL")),
    reason="uses its own SQLite file, so the SQLite pass of the suite covers it",
)
@pytest.mark.timeout(300)
def test_page_bench_runs_every_endpoint_and_undoes_its_writes(tmp_path: Path) -> None:
    from bench import run

    if not shutil.which("wrk") and os.geteuid() != 0:
        pytest.skip("wrk is missing and cannot be installed without root")
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    argv = ["--requests", "2000", "--url", url, "--duration", "1", "--warmup", "0"]
    assert run.main([*argv, "--results", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "latest.json").read_text())
    names = [row["endpoint"] for row in rows]
    assert names[:4] == [
        "ceiling: bare route",
        "ceiling: 25-row table",
        "login page",
        "signed-in static page",
    ]
    assert {
        "home",
        "Meus Acompanhamentos",
        "request page (50 entries)",
        "agent queue p1",
        "knowledge base",
        "article page",
        "search forms+articles",
        "queue text search",
        "POST new request",
        "POST message",
        "clientes",
        "cliente",
        "ocorrencias-negativo",
    } <= set(names)
    assert any(name.startswith("agent queue p") and name != "agent queue p1" for name in names)
    for row in rows:
        assert row["non_200"] == 0 and row["req_s"] > 0, row
        assert (row["database"], row["requests_in_db"]) == ("sqlite", 2000)
    assert rows[1]["ratio_to_ceiling"] == 1.0
    assert list(tmp_path.glob("*.md"))  # the Markdown table beside the JSON

    def counts() -> tuple[int, int, int, int]:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            found = conn.execute(
                sa.text(
                    "SELECT (SELECT value FROM counters WHERE name = 'request'),"
                    " (SELECT count(*) FROM timeline_entries WHERE body = :body),"
                    " (SELECT count(*) FROM request_texts),"
                    " (SELECT count(*) FROM request_texts WHERE body LIKE '%' || :body"
                    "  OR terms LIKE '%' || :terms)"
                ),
                {"body": run.MESSAGE_BODY, "terms": run.terms(run.MESSAGE_BODY)},
            ).one()
        engine.dispose()
        return tuple(found)

    opened, messages, texts, with_message = counts()
    assert opened > 2000 and messages > 0  # the POSTs wrote
    assert texts == opened and with_message == 1  # and the search index followed
    run.undo_earlier_runs(url, 2000)
    assert counts() == (2000, 0, 2000, 0)
