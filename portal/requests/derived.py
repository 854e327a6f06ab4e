"""Tables derived from the requests by database triggers: request_parties, queue_counts and
party_counts (each person's requests per relation, service and state, from request_parties).

Triggers rather than application code because every path that changes a request must keep
them true: the ORM, the bulk UPDATE of a job, a fix typed in psql. Both dialects get the same
rules; `rebuild` recomputes both tables from scratch (bulk loads drop the triggers, load, then
rebuild and reinstall them).

The rules come in two parts, as the migrations brought them: the requests part (0004:
request_parties and queue_counts) and the party-counts part (0005). A migration that changes a
part's rules must carry its own copy of the new DDL: 0004 and 0005 install their part as it is
today.
"""

from __future__ import annotations

from sqlalchemy import Connection

from portal.requests.models import PartyRelation

MINE = PartyRelation.MINE.value
FOLLOWING = PartyRelation.FOLLOWING.value

# Counter rows are touched in (group_key, state) order so two transactions never wait on each
# other in opposite orders (no deadlock on PostgreSQL).
_SQLITE = [
    f"""
    CREATE TRIGGER trg_requests_after_insert AFTER INSERT ON service_requests BEGIN
      INSERT OR IGNORE INTO request_parties
        (request_id, relation, user_id, state, item_id, opened_at)
      VALUES (NEW.id, '{MINE}', NEW.opened_by_id, NEW.state, NEW.item_id, NEW.opened_at),
             (NEW.id, '{MINE}', NEW.requested_for_id, NEW.state, NEW.item_id, NEW.opened_at);
      INSERT INTO queue_counts (group_key, state, total)
      VALUES (COALESCE(NEW.group_id, 0), NEW.state, 1)
      ON CONFLICT (group_key, state) DO UPDATE SET total = total + 1;
    END
    """,
    """
    CREATE TRIGGER trg_requests_after_update AFTER UPDATE OF state, group_id, item_id
    ON service_requests
    WHEN OLD.state IS NOT NEW.state OR OLD.group_id IS NOT NEW.group_id
         OR OLD.item_id IS NOT NEW.item_id
    BEGIN
      UPDATE request_parties SET state = NEW.state, item_id = NEW.item_id
      WHERE request_id = NEW.id;
      INSERT INTO queue_counts (group_key, state, total)
      SELECT g, s, d FROM (
        SELECT COALESCE(OLD.group_id, 0) AS g, OLD.state AS s, -1 AS d
        UNION ALL SELECT COALESCE(NEW.group_id, 0), NEW.state, 1
      ) WHERE true ORDER BY g, s
      ON CONFLICT (group_key, state) DO UPDATE SET total = total + excluded.total;
    END
    """,
    """
    CREATE TRIGGER trg_requests_after_delete AFTER DELETE ON service_requests BEGIN
      DELETE FROM request_parties WHERE request_id = OLD.id;
      UPDATE queue_counts SET total = total - 1
      WHERE group_key = COALESCE(OLD.group_id, 0) AND state = OLD.state;
    END
    """,
    f"""
    CREATE TRIGGER trg_followers_after_insert AFTER INSERT ON followers BEGIN
      INSERT OR IGNORE INTO request_parties
        (request_id, relation, user_id, state, item_id, opened_at)
      SELECT id, '{FOLLOWING}', NEW.user_id, state, item_id, opened_at
      FROM service_requests WHERE id = NEW.request_id;
    END
    """,
    f"""
    CREATE TRIGGER trg_followers_after_delete AFTER DELETE ON followers BEGIN
      DELETE FROM request_parties
      WHERE request_id = OLD.request_id AND relation = '{FOLLOWING}' AND user_id = OLD.user_id;
    END
    """,
]

_POSTGRESQL = [
    f"""
    CREATE FUNCTION portal_requests_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO request_parties (request_id, relation, user_id, state, item_id, opened_at)
      VALUES (NEW.id, '{MINE}', NEW.opened_by_id, NEW.state, NEW.item_id, NEW.opened_at)
      ON CONFLICT DO NOTHING;
      INSERT INTO request_parties (request_id, relation, user_id, state, item_id, opened_at)
      VALUES (NEW.id, '{MINE}', NEW.requested_for_id, NEW.state, NEW.item_id, NEW.opened_at)
      ON CONFLICT DO NOTHING;
      INSERT INTO queue_counts (group_key, state, total)
      VALUES (COALESCE(NEW.group_id, 0), NEW.state, 1)
      ON CONFLICT (group_key, state) DO UPDATE SET total = queue_counts.total + 1;
      RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION portal_requests_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.state IS DISTINCT FROM NEW.state OR OLD.group_id IS DISTINCT FROM NEW.group_id
         OR OLD.item_id IS DISTINCT FROM NEW.item_id THEN
        UPDATE request_parties SET state = NEW.state, item_id = NEW.item_id
        WHERE request_id = NEW.id;
        INSERT INTO queue_counts (group_key, state, total)
        SELECT g, s, SUM(d) FROM (VALUES
          (COALESCE(OLD.group_id, 0), OLD.state::text, -1),
          (COALESCE(NEW.group_id, 0), NEW.state::text, 1)
        ) AS change (g, s, d)
        GROUP BY g, s ORDER BY g, s
        ON CONFLICT (group_key, state) DO UPDATE SET total = queue_counts.total + EXCLUDED.total;
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION portal_requests_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      DELETE FROM request_parties WHERE request_id = OLD.id;
      UPDATE queue_counts SET total = total - 1
      WHERE group_key = COALESCE(OLD.group_id, 0) AND state = OLD.state;
      RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION portal_followers_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO request_parties (request_id, relation, user_id, state, item_id, opened_at)
      SELECT id, '{FOLLOWING}', NEW.user_id, state, item_id, opened_at
      FROM service_requests WHERE id = NEW.request_id
      ON CONFLICT DO NOTHING;
      RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION portal_followers_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      DELETE FROM request_parties
      WHERE request_id = OLD.request_id AND relation = '{FOLLOWING}' AND user_id = OLD.user_id;
      RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER trg_requests_after_insert AFTER INSERT ON service_requests
       FOR EACH ROW EXECUTE FUNCTION portal_requests_after_insert()""",
    """CREATE TRIGGER trg_requests_after_update AFTER UPDATE OF state, group_id, item_id
       ON service_requests FOR EACH ROW EXECUTE FUNCTION portal_requests_after_update()""",
    """CREATE TRIGGER trg_requests_after_delete AFTER DELETE ON service_requests
       FOR EACH ROW EXECUTE FUNCTION portal_requests_after_delete()""",
    """CREATE TRIGGER trg_followers_after_insert AFTER INSERT ON followers
       FOR EACH ROW EXECUTE FUNCTION portal_followers_after_insert()""",
    """CREATE TRIGGER trg_followers_after_delete AFTER DELETE ON followers
       FOR EACH ROW EXECUTE FUNCTION portal_followers_after_delete()""",
]

_TRIGGERS = [
    ("service_requests", "trg_requests_after_insert", "portal_requests_after_insert"),
    ("service_requests", "trg_requests_after_update", "portal_requests_after_update"),
    ("service_requests", "trg_requests_after_delete", "portal_requests_after_delete"),
    ("followers", "trg_followers_after_insert", "portal_followers_after_insert"),
    ("followers", "trg_followers_after_delete", "portal_followers_after_delete"),
]

_REBUILD = [
    "DELETE FROM request_parties",
    "DELETE FROM queue_counts",
    f"""INSERT INTO request_parties (request_id, relation, user_id, state, item_id, opened_at)
        SELECT id, '{MINE}', opened_by_id, state, item_id, opened_at FROM service_requests""",
    f"""INSERT INTO request_parties (request_id, relation, user_id, state, item_id, opened_at)
        SELECT id, '{MINE}', requested_for_id, state, item_id, opened_at FROM service_requests
        WHERE requested_for_id <> opened_by_id""",
    f"""INSERT INTO request_parties (request_id, relation, user_id, state, item_id, opened_at)
        SELECT r.id, '{FOLLOWING}', f.user_id, r.state, r.item_id, r.opened_at
        FROM followers f JOIN service_requests r ON r.id = f.request_id""",
    """INSERT INTO queue_counts (group_key, state, total)
        SELECT COALESCE(group_id, 0), state, COUNT(*) FROM service_requests
        GROUP BY COALESCE(group_id, 0), state""",
]


# Two statements instead of an upsert: the request_parties rows come from INSERT OR IGNORE,
# whose conflict policy SQLite applies to every statement of the triggers it fires.
_COUNT_KEY = "user_id = {row}.user_id AND relation = {row}.relation AND item_id = {row}.item_id"
_COUNT_ADD = """
      INSERT OR IGNORE INTO party_counts (user_id, relation, item_id, state, total)
      VALUES (NEW.user_id, NEW.relation, NEW.item_id, NEW.state, 0);
      UPDATE party_counts SET total = total + 1
      WHERE {key} AND state = NEW.state;""".format(key=_COUNT_KEY.format(row="NEW"))
_COUNT_REMOVE = """
      UPDATE party_counts SET total = total - 1
      WHERE {key} AND state = OLD.state;""".format(key=_COUNT_KEY.format(row="OLD"))
_PARTY_SQLITE = [
    f"""
    CREATE TRIGGER trg_parties_after_insert AFTER INSERT ON request_parties BEGIN
      {_COUNT_ADD}
    END
    """,
    f"""
    CREATE TRIGGER trg_parties_after_update AFTER UPDATE OF state, item_id ON request_parties
    WHEN OLD.state IS NOT NEW.state OR OLD.item_id IS NOT NEW.item_id
    BEGIN
      {_COUNT_REMOVE}
      {_COUNT_ADD}
    END
    """,
    f"""
    CREATE TRIGGER trg_parties_after_delete AFTER DELETE ON request_parties BEGIN
      {_COUNT_REMOVE}
    END
    """,
]
_PG_COUNT_ADD = """
      INSERT INTO party_counts (user_id, relation, item_id, state, total)
      VALUES (NEW.user_id, NEW.relation, NEW.item_id, NEW.state, 1)
      ON CONFLICT (user_id, relation, item_id, state)
      DO UPDATE SET total = party_counts.total + 1;"""
_PARTY_POSTGRESQL = [
    f"""
    CREATE FUNCTION portal_parties_after_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF TG_OP = 'UPDATE' AND OLD.state IS NOT DISTINCT FROM NEW.state
           AND OLD.item_id IS NOT DISTINCT FROM NEW.item_id THEN
          RETURN NULL;
        END IF;
        {_COUNT_REMOVE}
      END IF;
      IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {_PG_COUNT_ADD}
      END IF;
      RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER trg_parties_after_change AFTER INSERT OR UPDATE OF state, item_id OR DELETE
       ON request_parties FOR EACH ROW EXECUTE FUNCTION portal_parties_after_change()""",
]
_PARTY_TRIGGERS = [
    ("request_parties", "trg_parties_after_insert", None),
    ("request_parties", "trg_parties_after_update", None),
    ("request_parties", "trg_parties_after_delete", None),
    ("request_parties", "trg_parties_after_change", "portal_parties_after_change"),
]
_PARTY_REBUILD = [
    "DELETE FROM party_counts",
    """INSERT INTO party_counts (user_id, relation, item_id, state, total)
        SELECT user_id, relation, item_id, state, COUNT(*) FROM request_parties
        GROUP BY user_id, relation, item_id, state""",
]


def install(conn: Connection) -> None:
    """Create every trigger (they must not exist yet)."""
    install_request_triggers(conn)
    install_party_count_triggers(conn)


def install_request_triggers(conn: Connection) -> None:
    """The requests part: request_parties and queue_counts (migration 0004)."""
    _run(conn, _POSTGRESQL if conn.dialect.name == "postgresql" else _SQLITE)


def install_party_count_triggers(conn: Connection) -> None:
    """The party-counts part (migration 0005)."""
    _run(conn, _PARTY_POSTGRESQL if conn.dialect.name == "postgresql" else _PARTY_SQLITE)


def uninstall(conn: Connection) -> None:
    """Drop every trigger there is (either part may be missing)."""
    postgresql = conn.dialect.name == "postgresql"
    for table, trigger, function in _TRIGGERS + _PARTY_TRIGGERS:
        if postgresql:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
            if function:
                conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function}()")
        else:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")


def rebuild(conn: Connection) -> None:
    """Recompute every derived table from the requests and followers (after a bulk load)."""
    rebuild_requests(conn)
    rebuild_party_counts(conn)


def rebuild_requests(conn: Connection) -> None:
    _run(conn, _REBUILD)


def rebuild_party_counts(conn: Connection) -> None:
    _run(conn, _PARTY_REBUILD)


def _run(conn: Connection, statements: list[str]) -> None:
    for statement in statements:
        conn.exec_driver_sql(statement)
