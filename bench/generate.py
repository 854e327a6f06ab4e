"""Fill a database with a realistic volume through the real schema, fast.

    python bench/generate.py --url sqlite:///instance/bench.db --requests 1000000 --seed 1

The shape: the 5,570 municipalities and 27 states of the IBGE list, each registered as a
client with 1-3 contacts, a few users each, agents in the two support groups, requests over
three years across every catalog item and state (most closed), 0 to 50 timeline entries each,
followers and attachment rows on some. One user ("heavy") has thousands of requests so deep
pages can be measured, and one request has exactly 50 timeline entries. The Base de
Conhecimento gets 10,000 articles and every request its searchable text (bench/knowledge.py).
The clients get 200,000 occurrences at every size, a fortieth of them on the heavy user's
organisation, the busy client (bench/clients.py). Rows go in with executemany in large
batches (no ORM object per row); the output is the same for the same --seed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import clients, knowledge
from portal import create_app
from portal.accounts.services import hash_password
from portal.catalog.data import CATALOG
from portal.catalog.services import upsert_item
from portal.clients import derived as client_derived
from portal.core.actors import SystemActor
from portal.core.cpf import make_cpf
from portal.core.extensions import db
from portal.models import format_number
from portal.requests import derived
from portal.requests.lifecycle import State

ROOT = Path(__file__).resolve().parent.parent
BENCH_PASSWORD = "bench-portal-2026"  # noqa: S105  (documented benchmark password)
HEAVY_CPF = make_cpf("900000001")
USERS_PER_ORG = 3
# Share of requests per state: most are closed, as in a portal that has run for years.
STATE_WEIGHTS = {
    State.CLOSED: 70,
    State.CANCELLED: 8,
    State.AWAITING_USER: 5,
    State.AWAITING_SUPPORT: 4,
    State.IN_PROGRESS: 8,
    State.OPEN: 5,
}
BATCH = 50_000
NOW = datetime(2026, 11, 1, tzinfo=UTC)


class Loader:
    """Bulk rows into one table: COPY on PostgreSQL, executemany of tuples on SQLite.

    Rows are plain tuples in `columns` order; datetimes are given as aware UTC values and
    written the way the UTCDateTime column stores them.
    """

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.postgresql = conn.dialect.name == "postgresql"
        self.raw = conn.connection.dbapi_connection

    def value(self, value: object) -> object:
        if isinstance(value, datetime) and not self.postgresql:
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    def load(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        cursor = self.raw.cursor()
        names = ", ".join(columns)
        if self.postgresql:
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks})",
                [tuple(self.value(v) for v in row) for row in rows]
                if any(isinstance(v, datetime) for v in rows[0])
                else rows,
            )
        cursor.close()


def secondary_indexes(conn: sa.Connection, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, DDL) of the plain indexes on `tables`: dropped for the load, rebuilt after."""
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            sa.text(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "LEFT JOIN pg_constraint c ON c.conname = i.indexname "
                "WHERE i.schemaname = current_schema() AND i.tablename = ANY(:tables) "
                "AND c.conname IS NULL"
            ),
            {"tables": list(tables)},
        )
    else:
        rows = conn.execute(
            sa.text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                "AND tbl_name IN (SELECT value FROM json_each(:tables))"
            ),
            {"tables": json.dumps(list(tables))},
        )
    return [(name, ddl) for name, ddl in rows]


def prepare(url: str, reset: bool) -> None:
    if reset and url.startswith("sqlite:///"):
        # A new file: drop_all cannot drop tables that point at each other (articles and
        # their versions) with foreign keys on, nor knows the FTS5 tables and triggers.
        path = Path(url.removeprefix("sqlite:///"))
        for leftover in (
            path,
            path.with_name(f"{path.name}-wal"),
            path.with_name(f"{path.name}-shm"),
        ):
            leftover.unlink(missing_ok=True)
        reset = False
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        if reset:
            # The schema anew: the migrations also made functions, triggers and a text search
            # configuration that drop_all does not know.
            with db.engine.begin() as conn:
                schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        from flask_migrate import upgrade

        upgrade()
        for spec in CATALOG:
            upsert_item(db.session, SystemActor("bench"), spec)
        db.session.commit()
        db.engine.dispose()


def upgrade_schema(url: str) -> None:
    """Bring a database generated earlier to the newest migration before reusing it."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()


REQUEST_COLUMNS = (
    "id", "number", "item_id", "opened_by_id", "requested_for_id", "organisation_id", "state",
    "field_values", "description", "group_id", "assignee_id", "cancellation_requested",
    "opened_at", "updated_at", "resolved_at", "closed_at", "version",
)  # fmt: skip
ENTRY_COLUMNS = (
    "id", "request_id", "kind", "author_id", "body", "public", "time_spent_minutes",
    "occurred_at", "created_at",
)  # fmt: skip
FOLLOWER_COLUMNS = ("request_id", "user_id", "created_at")
ATTACHMENT_COLUMNS = (
    "owner_type", "owner_id", "original_name", "stored_name", "size", "content_type", "sha256",
    "uploader_id", "created_at",
)  # fmt: skip
BULK_TABLES = (
    "service_requests", "timeline_entries", "followers", "attachments", "request_texts",
    "client_contacts", "occurrences",
)  # fmt: skip


def _people(conn: sa.Connection, t: dict, rng: random.Random) -> tuple[list[dict], list[int]]:
    """Organisations (the IBGE list, as clients), their users and the agents; returns
    (requesters, agent ids)."""
    orgs = clients.organisations(conn, rng, NOW)
    conn.execute(t["organisations"].insert(), orgs)
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
    requesters = list(users)
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
    conn.execute(t["users"].insert(), users)
    group_ids = [row.id for row in conn.execute(sa.select(t["support_groups"].c.id))]
    conn.execute(
        t["group_members"].insert(),
        [
            {"group_id": group_ids[i % len(group_ids)], "user_id": uid}
            for i, uid in enumerate(agents)
        ],
    )
    return requesters, agents


def generate(
    url: str, requests: int, seed: int, articles: int, occurrences: int = clients.OCCURRENCES
) -> dict[str, float]:
    rng = random.Random(seed)
    # Texts, the knowledge base and the clients draw from their own streams: the requests stay
    # as they were.
    text_rng, kb_rng = random.Random(seed + 1), random.Random(seed + 2)
    client_rng = random.Random(seed + 3)
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    meta.reflect(engine)
    t = meta.tables
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with engine.begin() as conn:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            for pragma in ("foreign_keys=OFF", "synchronous=OFF", "cache_size=-1000000"):
                conn.exec_driver_sql(f"PRAGMA {pragma}")
        items = list(
            conn.execute(sa.select(t["catalog_items"].c.id, t["catalog_items"].c.group_id))
        )
        requesters, agents = _people(conn, t, client_rng)
        timings["people"] = time.perf_counter() - started

        # Indexes are built once at the end (sorting is much cheaper than a million random
        # inserts into each b-tree), and the derived tables are recomputed in one pass.
        indexes = secondary_indexes(conn, BULK_TABLES)
        for name, _ in indexes:
            conn.exec_driver_sql(f"DROP INDEX {name}")
        derived.uninstall(conn)
        client_derived.uninstall(conn)
        loader = Loader(conn)
        texts = knowledge.RequestTexts(loader)
        states = list(STATE_WEIGHTS)
        weights = list(STATE_WEIGHTS.values())
        span = int(timedelta(days=3 * 365).total_seconds())
        heavy_share = min(12_000, requests // 10)
        fields = json.dumps({"motivo": "Dúvida"})
        rows, entries, followers, attachments = [], [], [], []
        entry_id = 0
        half_hour = timedelta(minutes=30)
        for rid in range(1, requests + 1):
            user = requesters[0] if rid <= heavy_share else rng.choice(requesters)
            uid = user["id"]
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
            description = knowledge.description(text_rng)
            rows.append(
                (
                    rid, format_number(rid), item_id, uid, uid, user["organisation_id"],
                    state.value, fields, description, group_id,
                    rng.choice(agents) if rng.random() < 0.6 else None, False, opened,
                    closed or resolved or opened, resolved, closed, 1,
                )
            )  # fmt: skip
            # Request 1 (the heavy user's) has exactly 50 entries, for the request-page benchmark.
            count = 50 if rid == 1 else min(50, int(rng.expovariate(1 / 6)))
            at = opened
            messages = []
            for n in range(count):
                entry_id += 1
                at += half_hour
                body = f"Mensagem {n} da solicitação {rid}"
                if n:  # the "created" entry is not text of the request
                    messages.append(body)
                entries.append(
                    (
                        entry_id, rid, "comment" if n else "created",
                        uid if n % 2 == 0 else agents[n % len(agents)],
                        body, n % 5 != 4, 10 if n % 2 else None, at, at,
                    )
                )  # fmt: skip
            texts.add(rid, description, messages)
            if rng.random() < 0.1:
                followers.append((rid, rng.choice(requesters)["id"], opened))
            if rng.random() < 0.05 and count:
                attachments.append(
                    (
                        "timeline_entry",
                        entry_id - count + 1,  # on the "Criado" entry
                        "print.png",
                        f"bench{rid:010d}",
                        49_700,
                        "image/png",
                        "0" * 64,
                        uid,
                        opened,
                    )
                )
            if len(rows) >= BATCH:
                _flush(loader, rows, entries, followers, attachments)
                texts.flush()
        _flush(loader, rows, entries, followers, attachments)
        texts.flush()
        timings["rows"] = time.perf_counter() - started - timings["people"]
        timings["versions"] = knowledge.load_articles(
            conn,
            loader,
            kb_rng,
            count=articles,
            requesters=[u["id"] for u in requesters],
            agents=agents,
            items=items,
            now=NOW,
        )
        timings["knowledge"] = time.perf_counter() - started - timings["people"] - timings["rows"]
        clients.load(
            conn,
            loader,
            client_rng,
            requesters=requesters,
            agents=agents,
            busy=requesters[0]["organisation_id"],
            busy_requests=heavy_share,
            requests=requests,
            occurrences=occurrences,
            now=NOW,
        )
        timings["clients"] = (
            time.perf_counter() - started - sum(timings[k] for k in ("people", "rows", "knowledge"))
        )
        for _, ddl in indexes:
            conn.exec_driver_sql(ddl)
        derived.rebuild(conn)
        derived.install(conn)
        client_derived.rebuild(conn)
        client_derived.install(conn)
        conn.execute(sa.delete(t["counters"]).where(t["counters"].c.name == "request"))
        conn.execute(t["counters"].insert(), [{"name": "request", "value": requests}])
        if not sqlite:
            for table in ("organisations", "users", "service_requests", "timeline_entries"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    timings["indexes"] = (
        time.perf_counter()
        - started
        - sum(timings[k] for k in ("people", "rows", "knowledge", "clients"))
    )
    timings["entries"] = entry_id
    engine.dispose()
    return timings


def _flush(loader: Loader, rows: list, entries: list, followers: list, attachments: list) -> None:
    loader.load("service_requests", REQUEST_COLUMNS, rows)
    loader.load("timeline_entries", ENTRY_COLUMNS, entries)
    loader.load("followers", FOLLOWER_COLUMNS, followers)
    loader.load("attachments", ATTACHMENT_COLUMNS, attachments)
    for batch in (rows, entries, followers, attachments):
        batch.clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=f"sqlite:///{ROOT / 'instance' / 'bench.db'}")
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--articles", type=int, default=knowledge.ARTICLES)
    parser.add_argument("--occurrences", type=int, default=clients.OCCURRENCES)
    parser.add_argument("--keep", action="store_true", help="do not drop existing tables first")
    args = parser.parse_args(argv)
    if args.url.startswith("sqlite:///"):  # a fresh clone has no instance/ yet
        Path(args.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    prepare(args.url, reset=not args.keep)
    timings = generate(args.url, args.requests, args.seed, args.articles, args.occurrences)
    total = time.perf_counter() - started
    print(
        f"{args.requests} requests, {int(timings['entries'])} timeline entries, "
        f"{args.articles} articles ({int(timings['versions'])} versions), "
        f"{args.occurrences} occurrences in {total:.1f} s "
        f"(people {timings['people']:.1f} s, rows and texts {timings['rows']:.1f} s, "
        f"knowledge base {timings['knowledge']:.1f} s, clients {timings['clients']:.1f} s, "
        f"indexes and derived tables {timings['indexes']:.1f} s); "
        f"heavy user CPF {HEAVY_CPF}, password {BENCH_PASSWORD}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
