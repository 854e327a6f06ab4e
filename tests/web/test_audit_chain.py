"""The audit chain: every entry holds the hash of the one before, `portal audit verify` walks
them and names the first entry that was altered or removed, on SQLite and PostgreSQL.

- values read back from the database hash as they did when written (accents, nested dicts,
  None, numbers, lists, int keys, dates, decimals, NaN), so a clean chain never raises an alarm;
- two writers at once leave one chain (PostgreSQL's advisory lock; SQLite's one writer);
- a row edited in the database (the append-only trigger lifted, as an intruder with the
  database password would) is named; a row edited and re-hashed breaks the next link; a removed
  row is named by the one after it; removing the last ones needs the head noted earlier;
- the command exits 0 with the count and the head, 1 naming the entry;
- migration 0009 chains the entries written before it, and goes down and up again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy.orm import Session

from portal import create_app
from portal.core import audit
from portal.core.audit_chain import verify
from portal.core.database import write_intent
from portal.core.extensions import db
from portal.core.models import AuditEntry
from tests.conftest import SETUP, TEST_DATABASE_URL
from tests.scratch_db import scratch_database_url

ENTRIES = AuditEntry.__table__


def _write(count: int, start: int = 1) -> list[int]:
    ids = []
    for number in range(start, start + count):
        entry = audit.record(
            db.session,
            SETUP,
            "user.update",
            "user",
            number,
            before={"full_name": f"Pessoa {number}"},
            after={"full_name": f"Pessoa Número {number}", "groups": ["Suporte"]},
        )
        ids.append(entry.id)
    db.session.commit()
    return ids


def _tamper(statement: sa.Executable) -> None:
    """Change audit_entries behind the portal's back: lift the append-only triggers, run the
    statement, put them back (portal.core.audit's own helpers)."""
    db.session.commit()
    with db.engine.begin() as conn:
        audit.drop_append_only(conn)
        conn.execute(statement)
        audit.install_append_only(conn)


def _stored(entry_id: int) -> Any:
    return db.session.execute(sa.select(ENTRIES).where(ENTRIES.c.id == entry_id)).one()


# ------------------------------------------------------------------ a clean chain


def test_a_whole_chain_verifies_and_reports_its_count_and_head(app: Flask, make_user) -> None:
    make_user(role="admin")  # entries written by a real service
    ids = _write(3)
    report = verify(db.session)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    last = _stored(ids[-1])
    assert report.ok and report.problem is None
    assert (report.count, report.head, report.head_id) == (total, last.hash, ids[-1])
    assert report.summary == (
        f"Cadeia íntegra: {total} entradas, último hash {last.hash} (entrada {ids[-1]})."
    )
    assert _stored(ids[1]).prev_hash == _stored(ids[0]).hash
    first = db.session.scalar(sa.select(AuditEntry).order_by(AuditEntry.id).limit(1))
    assert first is not None and first.prev_hash == ""


def test_an_empty_trail_is_whole(app: Flask) -> None:
    report = verify(db.session)
    assert report.ok and report.count == 0 and report.summary == "Cadeia íntegra: nenhuma entrada."


ROUND_TRIPS: dict[str, tuple[dict[Any, Any], dict[str, Any]]] = {
    # name: (what the service passes as `after`, what reads back)
    "accents": (
        {"full_name": "Conceição Araújo Ñandú", "note": "ação 𝄞 日本\u2028\t\n"},
        {"full_name": "Conceição Araújo Ñandú", "note": "ação 𝄞 日本\u2028\t\n"},
    ),
    "nested": (
        {"fields": [{"key": "módulo", "options": {"é": ["a", None]}}], "empty": {}},
        {"fields": [{"key": "módulo", "options": {"é": ["a", None]}}], "empty": {}},
    ),
    "none": ({"phone": None}, {"phone": None}),
    "numbers": (
        {"int": 2**63 + 5, "float": 0.1, "big": 1e16, "tiny": 5e-324, "neg": -0.0, "yes": True},
        {"int": 2**63 + 5, "float": 0.1, "big": 1e16, "tiny": 5e-324, "neg": -0.0, "yes": True},
    ),
    "lists": (
        {"groups": ("Suporte", "CadÚnico"), "set": frozenset({"x"})},
        {"groups": ["Suporte", "CadÚnico"], "set": ["x"]},
    ),
    # Found by this test: int keys sorted as numbers when hashed, as text once stored.
    "int keys": ({2: "a", 10: "b"}, {"2": "a", "10": "b"}),
    # Found by this test: a date or a Decimal could not be written; NaN not on PostgreSQL.
    "dates and decimals": (
        {
            "day": date(2026, 1, 2),
            "when": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
            "amount": Decimal("1.10"),
            "nan": float("nan"),
        },
        {
            "day": "2026-01-02",
            "when": "2026-01-02T03:04:05.000006+00:00",
            "amount": "1.10",
            "nan": "nan",
        },
    ),
}


@pytest.mark.parametrize("name", list(ROUND_TRIPS))
def test_values_read_back_hash_as_they_did_when_written(app: Flask, name: str) -> None:
    given, expected = ROUND_TRIPS[name]
    created = audit.record(db.session, SETUP, "x.create", "thing", 1, after=given)
    removed = audit.record(db.session, SETUP, "x.remove", "thing", 1, before={"k": [given]})
    written = {created.id: created.hash, removed.id: removed.hash}
    db.session.commit()
    db.session.expire_all()
    stored = [db.session.get(AuditEntry, entry_id) for entry_id in written]
    assert stored[0] is not None and stored[1] is not None
    assert stored[0].after == expected and stored[1].before == {"k": [expected]}
    for entry in stored:
        assert audit.entry_digest(entry, entry.prev_hash) == entry.hash == written[entry.id]
    assert verify(db.session).ok


def _write_from_threads(app: Flask, per_thread: int) -> list[str]:
    """Two threads, each with its own connection, writing entries at once; the errors seen."""
    barrier, errors, engine = threading.Barrier(2), [], db.engine

    def writer(name: str) -> None:
        try:
            barrier.wait()
            for number in range(per_thread):
                # write_intent: BEGIN IMMEDIATE on SQLite, as a web POST does.
                with write_intent(), Session(engine) as session:
                    audit.record(session, SETUP, "x.write", name, number, after={"n": number})
                    audit.record(session, SETUP, "x.write", name, number, after={"n": -number})
                    session.commit()
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_two_writers_at_once_leave_one_chain(app: Flask) -> None:
    assert _write_from_threads(app, 25) == []
    report = verify(db.session)
    assert report.ok, report.summary
    assert report.count == 100


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="PostgreSQL's advisory lock")
def test_a_second_writer_waits_for_the_first_to_commit(app: Flask) -> None:
    """Deterministic: the first transaction has written its entry and not committed; the
    second must wait on the chain's lock (seen in pg_locks), and then link to the first."""
    _write(1)
    engine = db.engine
    first = Session(engine)
    done: list[AuditEntry] = []

    def second() -> None:
        with Session(engine, expire_on_commit=False) as session:
            done.append(audit.record(session, SETUP, "x.second", "thing", 2))
            session.commit()

    try:
        mine = audit.record(first, SETUP, "x.first", "thing", 1).hash
        thread = threading.Thread(target=second)
        thread.start()
        waiting = sa.text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        )
        with db.engine.connect() as watcher:
            deadline = datetime.now(UTC) + timedelta(seconds=10)
            while not watcher.execute(waiting).scalar() and datetime.now(UTC) < deadline:
                watcher.rollback()
            assert watcher.execute(waiting).scalar() == 1, "the second writer did not wait"
        assert not done
        first.commit()
        thread.join()
    finally:
        first.close()
    assert done[0].prev_hash == mine
    assert verify(db.session).ok


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="SQLite's single writer")
def test_on_sqlite_a_stale_reader_cannot_link_to_an_old_hash(app: Flask) -> None:
    """A deferred transaction that read before another writer committed an entry: its own
    entry is refused (the chain stays whole), not linked to the hash it would have read."""
    _write(1)
    engine = db.engine
    with Session(engine) as stale, Session(engine) as other:
        stale.scalar(sa.select(sa.func.count()).select_from(AuditEntry))  # its snapshot
        audit.record(other, SETUP, "x.other", "thing", 1)
        other.commit()
        with pytest.raises(sa.exc.OperationalError, match="database is locked"):
            audit.record(stale, SETUP, "x.stale", "thing", 2)
    report = verify(db.session)
    assert report.ok and report.count == 2


# ------------------------------------------------------------------ what verify finds


@pytest.mark.parametrize(
    "change",
    [
        {"actor_label": "Outra Pessoa (usuário 99)"},
        {"after": {"full_name": "Pessoa Número 2", "groups": ["Administradores"]}},
        {"before": None},
        {"action": "user.create"},
        {"object_id": 99},
        {"address": "198.51.100.7"},
        {"at": datetime(2026, 1, 1, tzinfo=UTC)},
    ],
    ids=lambda change: next(iter(change)),
)
def test_a_row_edited_in_the_database_is_named(app: Flask, change: dict[str, Any]) -> None:
    ids = _write(4)
    assert verify(db.session).ok
    _tamper(sa.update(ENTRIES).where(ENTRIES.c.id == ids[1]).values(**change))
    report = verify(db.session)
    assert not report.ok and report.problem is not None
    assert (report.problem.entry_id, report.problem.kind) == (ids[1], "altered")
    assert report.summary == (
        f"A entrada {ids[1]} foi alterada: o conteúdo não confere com o hash."
    )
    assert report.count == 1 and report.head_id == ids[0]  # what held before it


def test_a_row_edited_and_rehashed_breaks_the_link_of_the_next(app: Flask) -> None:
    ids = _write(4)
    row = _stored(ids[1])
    forged = SimpleNamespace(**{**row._mapping, "actor_label": "Ninguém"})
    new_hash = audit.entry_digest(forged, row.prev_hash)
    _tamper(
        sa.update(ENTRIES)
        .where(ENTRIES.c.id == ids[1])
        .values(actor_label="Ninguém", hash=new_hash)
    )
    problem = verify(db.session).problem
    assert problem is not None
    assert (problem.entry_id, problem.kind, problem.previous_id) == (ids[2], "link", ids[1])
    assert problem.message == (
        f"A entrada {ids[2]} não confere com a anterior ({ids[1]}): a anterior foi removida "
        "ou alterada."
    )


@pytest.mark.parametrize("batch", [1000, 2, 3])  # the removed row at and across batch edges
def test_a_removed_row_is_named_by_the_one_after_it(app: Flask, batch: int) -> None:
    ids = _write(6)
    _tamper(sa.delete(ENTRIES).where(ENTRIES.c.id == ids[2]))
    problem = verify(db.session, batch=batch).problem
    assert problem is not None
    assert (problem.entry_id, problem.kind, problem.previous_id) == (ids[3], "link", ids[1])


def test_removing_the_first_entry_is_named(app: Flask) -> None:
    ids = _write(3)
    _tamper(sa.delete(ENTRIES).where(ENTRIES.c.id == ids[0]))
    problem = verify(db.session).problem
    assert problem is not None
    assert (problem.entry_id, problem.kind, problem.previous_id) == (ids[1], "link", None)
    assert "a primeira entrada" in problem.message


def test_removing_the_last_entries_shows_only_against_the_noted_head(app: Flask) -> None:
    ids = _write(4)
    noted = verify(db.session).head
    _tamper(sa.delete(ENTRIES).where(ENTRIES.c.id >= ids[2]))
    shorter = verify(db.session)
    assert shorter.ok and shorter.count == 2 and shorter.head_id == ids[1]  # still whole
    report = verify(db.session, expected_head=noted)
    assert report.problem is not None and report.problem.kind == "head"
    assert report.summary == (
        "O hash anotado não está na cadeia: entradas do fim foram removidas "
        f"(a última agora é a {ids[1]})."
    )
    assert verify(db.session, expected_head=_stored(ids[0]).hash).ok  # an older head: fine


def test_a_gap_in_the_ids_is_not_an_alarm(app: Flask) -> None:
    """A rolled-back transaction spends an id on PostgreSQL: the link, not the id, decides."""
    _write(2)
    audit.record(db.session, SETUP, "x.rolled_back", "thing", 1)
    db.session.rollback()
    _write(2, start=3)
    ids = list(db.session.scalars(sa.select(AuditEntry.id).order_by(AuditEntry.id)))
    if TEST_DATABASE_URL:
        assert ids[-1] - ids[0] == len(ids)  # one id was skipped
    assert verify(db.session).ok


def test_verify_reads_the_table_in_batches(app: Flask, count_queries) -> None:
    _write(7)
    db.session.commit()
    with count_queries() as statements:
        report = verify(db.session, batch=3)
    selects = [s for s in statements if "FROM audit_entries" in s]
    assert report.ok and report.count == 7
    assert len(selects) == 4 and all("LIMIT" in s for s in selects)  # 3 + 3 + 1, then none


# ------------------------------------------------------------------ the command


def _verify_command(app: Flask, *args: str) -> Any:
    db.session.commit()
    return app.test_cli_runner().invoke(args=["portal", "audit", "verify", *args])


def test_the_command_exits_0_with_the_count_and_the_head(app: Flask) -> None:
    ids = _write(3)
    head = _stored(ids[-1]).hash
    result = _verify_command(app)
    assert result.exit_code == 0, result.output
    assert result.output == f"Cadeia íntegra: 3 entradas, último hash {head} (entrada {ids[-1]}).\n"
    assert _verify_command(app, "--head", head).exit_code == 0


def test_the_command_exits_1_naming_the_altered_or_removed_entry(app: Flask) -> None:
    ids = _write(5)
    noted = _stored(ids[-1]).hash
    _tamper(sa.update(ENTRIES).where(ENTRIES.c.id == ids[3]).values(object_id=77))
    result = _verify_command(app)
    assert result.exit_code == 1
    assert result.stderr == f"A entrada {ids[3]} foi alterada: o conteúdo não confere com o hash.\n"
    assert result.stdout == ""
    _tamper(sa.delete(ENTRIES).where(ENTRIES.c.id >= ids[3]))
    assert _verify_command(app).exit_code == 0
    result = _verify_command(app, "--head", noted)
    assert result.exit_code == 1 and "entradas do fim foram removidas" in result.stderr
    _tamper(sa.delete(ENTRIES).where(ENTRIES.c.id == ids[1]))
    result = _verify_command(app)
    assert result.exit_code == 1
    assert f"A entrada {ids[2]} não confere com a anterior ({ids[0]})" in result.stderr


# ------------------------------------------------------------------ migration 0009

SCHEMA = "audit_migration_check"
BEFORE = "0008"
# Entries as 0006-0008 wrote them (no chain): accents, nested values, None, numbers, lists.
OLD_ENTRIES: list[dict[str, Any]] = [
    {"actor_id": None, "actor_label": "sistema (linha de comando)", "address": None,
     "action": "organisation.create", "object_type": "organisation", "object_id": 1,
     "before": None, "after": {"name": "Prefeitura de São Félix", "kind": "municipio"}},
    {"actor_id": 1, "actor_label": "Conceição Araújo (usuário 1)", "address": "203.0.113.9",
     "action": "user.update", "object_type": "user", "object_id": 1,
     "before": {"extra_phone": None, "groups": []},
     "after": {"extra_phone": "(71) 3202-0000", "groups": ["Suporte", "CadÚnico"]}},
    {"actor_id": 1, "actor_label": "Conceição Araújo (usuário 1)", "address": "2001:db8::1",
     "action": "catalog_item.update", "object_type": "catalog_item", "object_id": 7,
     "before": {"fields": [{"key": "módulo", "required": True, "options": ["A", "B"]}]},
     "after": {"fields": [{"key": "módulo", "required": False, "position": 1.5}]}},
]  # fmt: skip


@pytest.fixture
def migration_url(tmp_path: Path) -> Iterator[str]:
    with scratch_database_url(tmp_path, SCHEMA) as url:
        yield url


def _seed_old_entries() -> None:
    old = sa.table(
        "audit_entries",
        *(
            sa.column(c.name, c.type)
            for c in ENTRIES.columns
            if c.name not in ("prev_hash", "hash")
        ),
    )
    at = datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=UTC)
    with db.engine.begin() as conn:
        for number, values in enumerate(OLD_ENTRIES):
            conn.execute(sa.insert(old).values(at=at + timedelta(minutes=number), **values))


def _assert_chained() -> None:
    report = verify(db.session)
    assert report.ok, report.summary
    assert report.count == len(OLD_ENTRIES)
    rows = db.session.execute(sa.select(ENTRIES).order_by(ENTRIES.c.id)).all()
    assert [r.after for r in rows] == [e["after"] for e in OLD_ENTRIES]
    assert rows[0].prev_hash == "" and all(r.hash for r in rows)
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    db.session.rollback()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_entries SET action = 'apagado'"))


def test_0009_chains_the_entries_written_before_it_and_goes_back(migration_url: str) -> None:
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": migration_url, "SECRET_KEY": "test", "TESTING": True}
    )
    try:
        with app.app_context():
            upgrade(revision=BEFORE)
            _seed_old_entries()
            upgrade()
            _assert_chained()
            record = audit.record(db.session, SETUP, "x.after", "thing", 1)
            assert record.prev_hash == db.session.scalar(
                sa.select(AuditEntry.hash)
                .where(AuditEntry.id < record.id)
                .order_by(AuditEntry.id.desc())
                .limit(1)
            )
            db.session.rollback()

            downgrade(revision=BEFORE)
            with db.engine.connect() as conn:
                columns = {c["name"] for c in sa.inspect(conn).get_columns("audit_entries")}
                assert "hash" not in columns and "prev_hash" not in columns
                count = conn.execute(sa.text("SELECT count(*) FROM audit_entries")).scalar()
                assert count == len(OLD_ENTRIES)
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as c:
                c.execute(sa.text("DELETE FROM audit_entries"))

            upgrade()
            _assert_chained()
            db.session.remove()
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
