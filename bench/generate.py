"""Fill a database with a realistic volume through the real schema, fast.

    python bench/generate.py --url sqlite:///instance/bench.db --requests 1000000 --seed 1

The shape: 5,570 municipalities and 27 states, a few users each, agents in the two support
groups, requests over three years across every catalog item and state (most closed), 0 to 50
timeline entries each, followers and attachment rows on some. One user ("heavy") has thousands
of requests so deep pages can be measured, and one request has exactly 50 timeline entries.
Rows go in with executemany in large batches (no ORM object per row); the output is the same
for the same --seed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import create_app
from portal.catalog_data import CATALOG
from portal.cpf import make_cpf
from portal.extensions import db
from portal.lifecycle import State
from portal.models import format_number
from portal.services.accounts import hash_password
from portal.services.catalog import upsert_item

BENCH_PASSWORD = "bench-portal-2026"  # noqa: S105  (documented benchmark password)
HEAVY_CPF = make_cpf("900000001")
MUNICIPALITIES, STATES, USERS_PER_ORG = 5570, 27, 3
UFS = "AC AL AP AM BA CE DF ES GO MA MT MS MG PA PB PR PE PI RJ RN RS RO RR SC SP SE TO".split()  # noqa: SIM905
# Share of requests per state: most are closed, as in a portal that has run for years.
STATE_WEIGHTS = {
    State.CLOSED: 70,
    State.CANCELLED: 8,
    State.AWAITING_USER: 5,
    State.AWAITING_SUPPORT: 4,
    State.IN_PROGRESS: 8,
    State.OPEN: 5,
}
BATCH = 20_000
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _batches(rows: list[dict], size: int = BATCH):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _insert(conn: sa.Connection, table: sa.Table, rows: list[dict]) -> None:
    for chunk in _batches(rows):
        conn.execute(table.insert(), chunk)


def prepare(url: str, reset: bool) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        if reset:
            db.drop_all()
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        from flask_migrate import upgrade

        upgrade()
        for spec in CATALOG:
            upsert_item(db.session, spec)
        db.session.commit()
        db.engine.dispose()


def generate(url: str, requests: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    meta.reflect(engine)
    t = meta.tables
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        items = list(
            conn.execute(sa.select(t["catalog_items"].c.id, t["catalog_items"].c.group_id))
        )
        groups = {row.name: row.id for row in conn.execute(sa.select(t["support_groups"]))}

        orgs = [
            {
                "id": i + 1,
                "kind": "municipio",
                "identifier": f"{1000000 + i}",
                "name": f"Prefeitura Municipal {i + 1:04d}",
                "uf": UFS[i % 27],
                "active": True,
                "created_at": NOW,
            }
            for i in range(MUNICIPALITIES)
        ] + [
            {
                "id": MUNICIPALITIES + i + 1,
                "kind": "estado",
                "identifier": f"{11 + i}",
                "name": f"Governo do Estado {UFS[i]}",
                "uf": UFS[i],
                "active": True,
                "created_at": NOW,
            }
            for i in range(STATES)
        ]
        _insert(conn, t["organisations"], orgs)
        password_hash = hash_password(BENCH_PASSWORD)
        users = []
        for org in orgs:
            for k in range(USERS_PER_ORG):
                uid = len(users) + 1
                users.append(
                    {
                        "id": uid,
                        "cpf": make_cpf(f"{100000000 + uid:09d}"),
                        "full_name": f"Usuária {uid} da Silva",
                        "email": f"u{uid}@ente{org['id']}.gov.br",
                        "role": "requester",
                        "organisation_id": org["id"],
                        "active": True,
                        "password_hash": password_hash,
                        "session_token": f"bench-{uid}-{k}",
                        "created_at": NOW,
                    }
                )
        users[0]["cpf"] = HEAVY_CPF
        agents = []
        for a in range(40):
            uid = len(users) + 1
            users.append(
                {
                    "id": uid,
                    "cpf": make_cpf(f"{800000000 + a:09d}"),
                    "full_name": f"Atendente {a + 1}",
                    "email": f"atendente{a + 1}@dataprev.gov.br",
                    "role": "agent",
                    "organisation_id": orgs[-1]["id"],
                    "active": True,
                    "password_hash": password_hash,
                    "session_token": f"bench-agent-{a}",
                    "created_at": NOW,
                }
            )
            agents.append(uid)
        _insert(conn, t["users"], users)
        group_ids = list(groups.values())
        _insert(
            conn,
            t["group_members"],
            [
                {"group_id": group_ids[i % len(group_ids)], "user_id": uid}
                for i, uid in enumerate(agents)
            ],
        )
        timings["people"] = time.perf_counter() - started

        requesters = [u for u in users if u["role"] == "requester"]
        states = list(STATE_WEIGHTS)
        weights = list(STATE_WEIGHTS.values())
        span = int(timedelta(days=3 * 365).total_seconds())
        heavy_share = min(12_000, requests // 10)
        rows, entries, followers, attachments = [], [], [], []
        entry_id = 0
        for rid in range(1, requests + 1):
            user = requesters[0] if rid <= heavy_share else rng.choice(requesters)
            item_id, group_id = rng.choice(items)
            state = rng.choices(states, weights)[0]
            opened = NOW - timedelta(seconds=rng.randrange(span))
            resolved = closed = None
            if state in (State.AWAITING_USER, State.CLOSED):
                resolved = opened + timedelta(hours=rng.randrange(1, 240))
            if state is State.CLOSED:
                closed = resolved + timedelta(days=rng.choice((1, 2, 7)))
            if state is State.CANCELLED:
                closed = opened + timedelta(hours=rng.randrange(1, 100))
            updated = closed or resolved or opened
            rows.append(
                {
                    "id": rid,
                    "number": format_number(rid),
                    "item_id": item_id,
                    "opened_by_id": user["id"],
                    "requested_for_id": user["id"],
                    "organisation_id": user["organisation_id"],
                    "state": state.value,
                    "field_values": {"motivo": "Dúvida"},
                    "description": f"Solicitação de teste {rid}",
                    "group_id": group_id,
                    "assignee_id": rng.choice(agents) if rng.random() < 0.6 else None,
                    "cancellation_requested": False,
                    "opened_at": opened,
                    "updated_at": updated,
                    "resolved_at": resolved,
                    "closed_at": closed,
                    "version": 1,
                }
            )
            # Request 1 (the heavy user's) has exactly 50 entries, for the request-page benchmark.
            count = 50 if rid == 1 else min(50, int(rng.expovariate(1 / 6)))
            for n in range(count):
                entry_id += 1
                at = opened + timedelta(minutes=30 * (n + 1))
                entries.append(
                    {
                        "id": entry_id,
                        "request_id": rid,
                        "kind": "comment" if n else "created",
                        "author_id": user["id"] if n % 2 == 0 else agents[n % len(agents)],
                        "body": f"Mensagem {n} da solicitação {rid}",
                        "public": n % 5 != 4,
                        "time_spent_minutes": 10 if n % 2 else None,
                        "occurred_at": at,
                        "created_at": at,
                    }
                )
            if rng.random() < 0.1:
                followers.append(
                    {
                        "request_id": rid,
                        "user_id": rng.choice(requesters)["id"],
                        "created_at": opened,
                    }
                )
            if rng.random() < 0.05:
                attachments.append(
                    {
                        "request_id": rid,
                        "original_name": "print.png",
                        "stored_name": f"bench{rid:010d}",
                        "size": 49_700,
                        "content_type": "image/png",
                        "sha256": "0" * 64,
                        "uploader_id": user["id"],
                        "created_at": opened,
                    }
                )
            if len(rows) >= BATCH:
                _flush(conn, t, rows, entries, followers, attachments)
        _flush(conn, t, rows, entries, followers, attachments)
        conn.execute(sa.delete(t["counters"]))
        conn.execute(t["counters"].insert(), [{"name": "request", "value": requests}])
        if engine.dialect.name == "postgresql":
            for table in (
                "organisations",
                "users",
                "service_requests",
                "timeline_entries",
                "attachments",
            ):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )
    timings["requests"] = time.perf_counter() - started - timings["people"]
    timings["entries"] = entry_id
    engine.dispose()
    return timings


def _flush(
    conn: sa.Connection, t: dict, rows: list, entries: list, followers: list, attachments: list
) -> None:
    if rows:
        conn.execute(t["service_requests"].insert(), rows)
    for name, batch in (
        ("timeline_entries", entries),
        ("followers", followers),
        ("attachments", attachments),
    ):
        if batch:
            _insert(conn, t[name], batch)
    for batch in (rows, entries, followers, attachments):
        batch.clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="sqlite:///instance/bench.db")
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="do not drop existing tables first")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    prepare(args.url, reset=not args.keep)
    timings = generate(args.url, args.requests, args.seed)
    total = time.perf_counter() - started
    print(
        f"{args.requests} requests, {int(timings['entries'])} timeline entries in {total:.1f} s "
        f"(people {timings['people']:.1f} s, requests {timings['requests']:.1f} s); "
        f"heavy user CPF {HEAVY_CPF}, password {BENCH_PASSWORD}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
