"""Migration 0007 indexes what existed before it, and goes down and up again cleanly.

On a database of its own (a fresh SQLite file, or a schema of its own on PostgreSQL), the test
builds the schema up to 0006, writes a catalog (one active item, one inactive) and two requests
with comment, note and transition entries using raw SQL, then proves that:

- upgrading to 0007 puts the active item in search_documents (title, description and category
  as its text) and leaves the inactive one out;
- request_texts holds each request's description followed by its messages, notes and
  transition reasons in the order they were written (not the "created" entry);
- the portal's search and the queue's text filter find them through the real engines (FTS5
  through its triggers, or the generated tsvector columns);
- downgrading to 0006 removes the tables (and the FTS5 tables, or the text search
  configuration), and upgrading again gives the same index.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import downgrade, upgrade

from portal import create_app
from portal.core import fulltext, request_texts
from portal.core.extensions import db
from tests.scratch_db import scratch_database_url

SCHEMA = "kb_migration_check"
BEFORE, AFTER = "0006", "0007"
ACTIVE, INACTIVE = 1, 2
REQ1, REQ2 = 1, 2
DESCRIPTIONS = {
    REQ1: "A tela de login do Portal demora mais de dois minutos.",
    REQ2: "Não consigo atribuir o perfil de entrevistador.",
}
# (entry id, request, kind, body): ids out of request order, so the order is checked.
ENTRIES = [
    (10, REQ1, "created", "CS0000001 Criado"),
    (11, REQ2, "created", "CS0000002 Criado"),
    (12, REQ1, "comment", "Segue a planilha com os horários."),
    (13, REQ2, "note", "Perfil vencido no console do GERID."),
    (14, REQ1, "note", "Picos no balanceador às 9h."),
    (15, REQ2, "transition", "Motivo do Cancelamento:\nAberta em duplicidade."),
    (16, REQ1, "comment", ""),  # a message with only a file: no text
    (17, REQ1, "transition", "Iniciar atendimento"),  # a bare label: not the request's text
]
EXPECTED_TEXTS = {
    REQ1: "\n".join(
        [DESCRIPTIONS[REQ1], "Segue a planilha com os horários.", "Picos no balanceador às 9h."]
    ),
    REQ2: "\n".join(
        [
            DESCRIPTIONS[REQ2],
            "Perfil vencido no console do GERID.",
            "Aberta em duplicidade.",  # only the reason, as transitions.fire indexes it
        ]
    ),
}
# What a person types in the queue -> the requests it must find.
QUEUE_SEARCHES = {
    "planilha": {REQ1},
    "balanceador": {REQ1},
    "lentidão": set(),
    "demora": {REQ1},
    "perfil": {REQ2},
    "entrevistadores": {REQ2},
    "duplicidade": {REQ2},
    "criado": set(),  # the "created" entry is not text of the request
    "atendimento": set(),  # nor a transition's label
    "cancelamento": set(),
    "minutos perfil": set(),
}
KB_TABLES = [
    "kb_categories",
    "articles",
    "article_versions",
    "article_votes",
    "article_feedback",
    "article_items",
    "tallies",
    "search_documents",
    "request_texts",
]


@pytest.fixture
def migration_url(tmp_path: Path) -> Iterator[str]:
    with scratch_database_url(tmp_path, SCHEMA) as url:
        yield url


def _when(dialect: str) -> Any:
    moment = datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=UTC)
    return moment.replace(tzinfo=None).isoformat(sep=" ") if dialect == "sqlite" else moment


def _seed(conn: sa.Connection) -> None:
    t, yes, no = _when(conn.dialect.name), True, False
    conn.execute(
        sa.text(
            "INSERT INTO organisations (id, kind, identifier, name, uf, active, created_at) "
            "VALUES (1, 'municipio', '2927408', 'Prefeitura de Salvador', 'BA', :yes, :t)"
        ),
        {"yes": yes, "t": t},
    )
    conn.execute(
        sa.text(
            "INSERT INTO users (id, cpf, full_name, email, role, organisation_id, active, "
            "session_token, created_at) VALUES (1, '52998224725', 'Felipe Andrade', "
            "'felipe@example.test', 'requester', 1, :yes, 'token-felipe', :t)"
        ),
        {"yes": yes, "t": t},
    )
    conn.execute(sa.text("INSERT INTO support_groups (id, name) VALUES (1, 'Suporte GERID')"))
    conn.execute(
        sa.text(
            "INSERT INTO categories (id, name, parent_id, position) "
            "VALUES (1, 'ACESSO MULTICLIENTE', NULL, 0)"
        )
    )
    for item_id, slug, name, short, active in (
        (ACTIVE, "gerid", "GERID", "Gerenciamento de Identidade", yes),
        (INACTIVE, "antigo", "Sistema Antigo", "Formulário desativado", no),
    ):
        conn.execute(
            sa.text(
                "INSERT INTO catalog_items (id, slug, name, short_description, description, "
                "icon, category_id, group_id, active, position, search_text) VALUES (:id, "
                ":slug, :name, :short, :description, 'fa-id-card', 1, 1, :active, 0, :search)"
            ),
            {
                "id": item_id,
                "slug": slug,
                "name": name,
                "short": short,
                "description": f"{name}: cadastramento de usuários e perfis",
                "active": active,
                "search": slug,
            },
        )
    for request_id, description in DESCRIPTIONS.items():
        conn.execute(
            sa.text(
                "INSERT INTO service_requests (id, number, item_id, opened_by_id, "
                "requested_for_id, organisation_id, state, field_values, description, "
                "group_id, cancellation_requested, opened_at, updated_at, closed_at, version) "
                "VALUES (:id, :number, 1, 1, 1, 1, 'open', '{}', :description, 1, :no, "
                ":t, :t, NULL, 1)"
            ),
            {
                "id": request_id,
                "number": f"CS{request_id:07d}",
                "description": description,
                "no": no,
                "t": t,
            },
        )
    for entry_id, request_id, kind, body in ENTRIES:
        conn.execute(
            sa.text(
                "INSERT INTO timeline_entries (id, request_id, kind, author_id, body, public, "
                "occurred_at, created_at) VALUES (:id, :request_id, :kind, 1, :body, :yes, "
                ":t, :t)"
            ),
            {
                "id": entry_id,
                "request_id": request_id,
                "kind": kind,
                "body": body,
                "yes": yes,
                "t": t,
            },
        )


def _version(conn: sa.Connection) -> str:
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()


def _queue_search(typed: str) -> set[int]:
    matching = request_texts.request_ids_matching(db.session, typed)
    assert matching is not None
    return set(db.session.scalars(sa.select(matching.subquery().c[0])))


def _assert_indexed(app: Flask) -> None:
    with app.app_context():
        with db.engine.begin() as conn:
            assert _version(conn) == AFTER
            docs = conn.execute(
                sa.text("SELECT kind, ref_id, title, body, slug, restricted FROM search_documents")
            ).all()
            assert [tuple(d) for d in docs] == [
                (
                    "item",
                    ACTIVE,
                    "GERID",
                    "Gerenciamento de Identidade\nGERID: cadastramento de usuários e perfis\n"
                    "ACESSO MULTICLIENTE",
                    "gerid",
                    False,
                )
            ]
            texts = conn.execute(
                sa.text("SELECT request_id, body FROM request_texts ORDER BY request_id")
            ).all()
            assert dict(texts) == EXPECTED_TEXTS
        for typed in ("gerid", "identidade", "cadastramento usuario", "multicliente"):
            page = fulltext.search_documents(db.session, typed, staff=False)
            assert [(h.kind, h.ref_id, h.slug) for h in page.hits] == [("item", ACTIVE, "gerid")], (
                typed
            )
        assert fulltext.search_documents(db.session, "antigo", staff=True).total == 0
        for typed, expected in QUEUE_SEARCHES.items():
            assert _queue_search(typed) == expected, typed
        db.session.remove()


def _assert_at_0006(app: Flask) -> None:
    with app.app_context(), db.engine.begin() as conn:
        assert _version(conn) == BEFORE
        inspector = sa.inspect(conn)
        for table in [*KB_TABLES, "search_documents_fts", "request_texts_fts"]:
            assert not inspector.has_table(table), table
        if conn.dialect.name == "postgresql":
            configs = conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_ts_config WHERE cfgname = :name "
                    "AND cfgnamespace = CAST(:schema AS regnamespace)"
                ),
                {"name": fulltext.CONFIG, "schema": SCHEMA},
            ).scalar_one()
            assert configs == 0
        else:
            triggers = conn.execute(
                sa.text(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND "
                    "(name LIKE 'search_documents_%' OR name LIKE 'request_texts_%')"
                )
            ).scalar_one()
            assert triggers == 0
        assert conn.execute(sa.text("SELECT count(*) FROM service_requests")).scalar_one() == 2


def test_0007_indexes_the_catalog_and_the_requests_and_goes_back(migration_url: str) -> None:
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": migration_url, "SECRET_KEY": "test", "TESTING": True}
    )
    try:
        with app.app_context():
            upgrade(revision=BEFORE)
            with db.engine.begin() as conn:
                _seed(conn)

        with app.app_context():
            upgrade(revision=AFTER)
        _assert_indexed(app)

        with app.app_context():
            downgrade(revision=BEFORE)
        _assert_at_0006(app)

        with app.app_context():
            upgrade(revision=AFTER)
        _assert_indexed(app)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
