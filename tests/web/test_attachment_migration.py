"""Migration 0006 moves every attachment to a timeline-entry owner and back, losing none.

On a database of its own (a fresh SQLite file, or a schema of its own on PostgreSQL), the test
builds the schema up to 0005, writes attachments the old way (one on a comment entry, one with
no entry, one on another request), then proves that:

- upgrading to head gives every row owner_type "timeline_entry" and the entry it belonged to;
  the row without an entry lands on its own request's "created" entry (the ids are chosen so
  that picking a comment, or another request's "created" entry, would be caught);
- request_id and entry_id are gone, ix_attachments_owner exists, and audit_entries accepts
  INSERT but the database itself refuses UPDATE and DELETE;
- downgrading to 0005 gives back request_id and entry_id with the right values (the row that
  had no entry now points at the "created" entry) and removes audit_entries;
- upgrading again gives the same owners as the first time.
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
from portal.core.extensions import db
from tests.scratch_db import scratch_database_url

SCHEMA = "migration_check"
OWNER = "timeline_entry"
HEAD = "0006"

# Entry ids chosen so that a wrong pick is visible: request 1's comment has a lower id than its
# "created" entry, and request 2's "created" entry has the lowest id of all.
REQ1, REQ2 = 1, 2
REQ1_CREATED, REQ1_COMMENT = 12, 11
REQ2_CREATED, REQ2_COMMENT = 5, 6
# attachment id -> (request_id, entry_id before 0006, entry it must belong to after 0006)
ATTACHMENTS: dict[int, tuple[int, int | None, int]] = {
    101: (REQ1, REQ1_COMMENT, REQ1_COMMENT),
    102: (REQ1, None, REQ1_CREATED),
    103: (REQ2, REQ2_COMMENT, REQ2_COMMENT),
}


@pytest.fixture
def migration_url(tmp_path: Path) -> Iterator[str]:
    with scratch_database_url(tmp_path, SCHEMA) as url:
        yield url


def _when(dialect: str, minute: int) -> Any:
    """A timestamp as the UTCDateTime type stores it on this backend."""
    moment = datetime(2026, 11, 30, 12, minute, 0, 123456, tzinfo=UTC)
    if dialect == "sqlite":
        return moment.replace(tzinfo=None).isoformat(sep=" ")
    return moment


def _seed(conn: sa.Connection) -> None:
    """Two open requests with a "created" and a "comment" entry each, and the attachments."""
    t = _when(conn.dialect.name, 0)
    conn.execute(
        sa.text(
            "INSERT INTO organisations (id, kind, identifier, name, uf, active, created_at) "
            "VALUES (1, 'municipio', '1234567', 'Prefeitura de Teste', 'SP', :yes, :t)"
        ),
        {"yes": True, "t": t},
    )
    conn.execute(
        sa.text(
            "INSERT INTO users (id, cpf, full_name, email, role, organisation_id, active, "
            "session_token, created_at) VALUES (1, '52998224725', 'Maria Teste', "
            "'maria@example.test', 'requester', 1, :yes, 'token-maria', :t)"
        ),
        {"yes": True, "t": t},
    )
    conn.execute(sa.text("INSERT INTO support_groups (id, name) VALUES (1, 'Suporte')"))
    conn.execute(
        sa.text(
            "INSERT INTO categories (id, name, parent_id, position) VALUES (1, 'Geral', NULL, 0)"
        )
    )
    conn.execute(
        sa.text(
            "INSERT INTO catalog_items (id, slug, name, short_description, description, icon, "
            "category_id, group_id, active, position, search_text) VALUES (1, 'acesso', "
            "'Acesso', 'Pedir acesso', 'Pedir acesso a um sistema', 'key', 1, 1, :yes, 0, "
            "'acesso')"
        ),
        {"yes": True},
    )
    for request_id in (REQ1, REQ2):
        conn.execute(
            sa.text(
                "INSERT INTO service_requests (id, number, item_id, opened_by_id, "
                "requested_for_id, organisation_id, state, field_values, description, "
                "group_id, cancellation_requested, opened_at, updated_at, closed_at, version) "
                "VALUES (:id, :number, 1, 1, 1, 1, 'open', '{}', 'Preciso de acesso', 1, :no, "
                ":t, :t, NULL, 1)"
            ),
            {"id": request_id, "number": f"REQ{request_id:07d}", "no": False, "t": t},
        )
    entries = [
        (REQ2_CREATED, REQ2, "created", "Criado"),
        (REQ2_COMMENT, REQ2, "comment", "Segue o print"),
        (REQ1_COMMENT, REQ1, "comment", "Segue a planilha"),
        (REQ1_CREATED, REQ1, "created", "Criado"),
    ]
    for entry_id, request_id, kind, body in entries:
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
                "yes": True,
                "t": t,
            },
        )
    for attachment_id, (request_id, entry_id, _owner) in ATTACHMENTS.items():
        conn.execute(
            sa.text(
                "INSERT INTO attachments (id, request_id, entry_id, original_name, stored_name, "
                "size, content_type, sha256, uploader_id, created_at) VALUES (:id, :request_id, "
                ":entry_id, :name, :stored, 10, 'text/plain', :sha, 1, :t)"
            ),
            {
                "id": attachment_id,
                "request_id": request_id,
                "entry_id": entry_id,
                "name": f"arquivo-{attachment_id}.txt",
                "stored": f"stored-{attachment_id}",
                "sha": f"{attachment_id:064d}",
                "t": t,
            },
        )


def _version(conn: sa.Connection) -> str:
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()


def _columns(conn: sa.Connection, table: str) -> dict[str, bool]:
    """Column name -> nullable."""
    return {c["name"]: c["nullable"] for c in sa.inspect(conn).get_columns(table)}


def _indexes(conn: sa.Connection, table: str) -> dict[str, list[str]]:
    return {i["name"]: list(i["column_names"]) for i in sa.inspect(conn).get_indexes(table)}


def _assert_at_head(app: Flask) -> None:
    with app.app_context(), db.engine.begin() as conn:
        assert _version(conn) == HEAD
        rows = conn.execute(
            sa.text("SELECT id, owner_type, owner_id, original_name FROM attachments ORDER BY id")
        ).all()
        assert [tuple(r) for r in rows] == [
            (attachment_id, OWNER, owner, f"arquivo-{attachment_id}.txt")
            for attachment_id, (_request, _entry, owner) in ATTACHMENTS.items()
        ]
        columns = _columns(conn, "attachments")
        assert "request_id" not in columns
        assert "entry_id" not in columns
        assert columns["owner_type"] is False
        assert columns["owner_id"] is False
        indexes = _indexes(conn, "attachments")
        assert indexes["ix_attachments_owner"] == ["owner_type", "owner_id"]
        assert "ix_attachments_entry_id" not in indexes
        assert "ix_attachments_request_id" not in indexes
        assert sa.inspect(conn).has_table("audit_entries")
        audit_id = conn.execute(
            sa.text(
                "INSERT INTO audit_entries (at, actor_label, action, object_type, object_id) "
                "VALUES (:at, 'testes', 'migration.check', 'attachment', 101) RETURNING id"
            ),
            {"at": _when(conn.dialect.name, 30)},
        ).scalar_one()

    # Each refused statement in a transaction of its own (PostgreSQL aborts the whole one).
    with app.app_context():
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE audit_entries SET action = 'forged' WHERE id = :id"),
                {"id": audit_id},
            )
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM audit_entries WHERE id = :id"), {"id": audit_id})
        with db.engine.begin() as conn:
            action = conn.execute(
                sa.text("SELECT action FROM audit_entries WHERE id = :id"), {"id": audit_id}
            ).scalar_one()
            assert action == "migration.check"


def _assert_at_0005(app: Flask) -> None:
    with app.app_context(), db.engine.begin() as conn:
        assert _version(conn) == "0005"
        rows = conn.execute(
            sa.text("SELECT id, request_id, entry_id, original_name FROM attachments ORDER BY id")
        ).all()
        assert [tuple(r) for r in rows] == [
            (attachment_id, request, owner, f"arquivo-{attachment_id}.txt")
            for attachment_id, (request, _entry, owner) in ATTACHMENTS.items()
        ]
        columns = _columns(conn, "attachments")
        assert "owner_type" not in columns
        assert "owner_id" not in columns
        assert columns["request_id"] is False
        assert columns["entry_id"] is True
        indexes = _indexes(conn, "attachments")
        assert "ix_attachments_owner" not in indexes
        assert indexes["ix_attachments_entry_id"] == ["entry_id"]
        assert indexes["ix_attachments_request_id"] == ["request_id"]
        assert not sa.inspect(conn).has_table("audit_entries")
        if conn.dialect.name == "postgresql":
            functions = conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_proc WHERE proname = 'portal_audit_append_only' "
                    "AND pronamespace = CAST(:schema AS regnamespace)"
                ),
                {"schema": SCHEMA},
            ).scalar_one()
            assert functions == 0


def test_0006_moves_attachments_to_entry_owners_and_back(migration_url: str) -> None:
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": migration_url, "SECRET_KEY": "test", "TESTING": True}
    )
    try:
        with app.app_context():
            upgrade(revision="0005")
            with db.engine.begin() as conn:
                assert _version(conn) == "0005"
                _seed(conn)

        with app.app_context():
            upgrade(revision=HEAD)
        _assert_at_head(app)

        with app.app_context():
            downgrade(revision="0005")
        _assert_at_0005(app)

        with app.app_context():
            upgrade(revision=HEAD)
        _assert_at_head(app)
    finally:
        with app.app_context():
            db.engine.dispose()
