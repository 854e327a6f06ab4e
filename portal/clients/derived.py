"""The per-client request tallies the client page and its health summary read, kept by
database triggers: client_request_counts (a client's requests per state) and
client_request_days (a client's request outcomes per UTC day: resolved, accepted, rejected,
closed automatically).

Triggers, as in portal.requests.derived, because every path that changes a request must keep
them true: the ORM, the auto-close job's bulk statements, a fix typed in psql. The outcomes
come from the timeline: each transition writes one entry whose `action` names it
(portal.requests.transitions), so the day is the entry's `occurred_at` (its UTC date) and the
client is the request's organisation. `rebuild` recomputes both tables from scratch (bulk
loads drop the triggers, load, then rebuild and reinstall them).

Migration 0008 installs these rules as they are today; a migration that changes them must
carry its own copy of the new DDL.
"""

# ruff: noqa: S608  (fixed DDL built from constants, no input)

from __future__ import annotations

from sqlalchemy import Connection

from portal.requests.lifecycle import Action

# Which transitions the health summary counts, and under which measure.
MEASURES: dict[str, str] = {
    Action.RESOLVE.value: "resolved",
    Action.ACCEPT.value: "accepted",
    Action.REJECT.value: "rejected",
    Action.AUTO_CLOSE.value: "auto_closed",
}
_ACTIONS_SQL = ", ".join(f"'{action}'" for action in MEASURES)


def _measure(action: str) -> str:
    """The measure of an outcome entry's action, as SQL."""
    cases = " ".join(f"WHEN '{action_}' THEN '{m}'" for action_, m in MEASURES.items())
    return f"CASE {action} {cases} END"


_SQLITE_DAY = "date({})"
_PG_DAY = "(({}) AT TIME ZONE 'UTC')::date"


def _sqlite() -> list[str]:
    day = _SQLITE_DAY
    entry_rows = f"""
        SELECT {{org}} AS o, {day.format("occurred_at")} AS d, {_measure("action")} AS m,
               {{delta}} AS n
        FROM timeline_entries WHERE request_id = NEW.id AND action IN ({_ACTIONS_SQL})"""
    return [
        """
    CREATE TRIGGER trg_client_requests_after_insert AFTER INSERT ON service_requests BEGIN
      INSERT INTO client_request_counts (organisation_id, state, total)
      VALUES (NEW.organisation_id, NEW.state, 1)
      ON CONFLICT (organisation_id, state) DO UPDATE SET total = total + 1;
    END
    """,
        """
    CREATE TRIGGER trg_client_requests_after_update AFTER UPDATE OF state, organisation_id
    ON service_requests
    WHEN OLD.state IS NOT NEW.state OR OLD.organisation_id IS NOT NEW.organisation_id
    BEGIN
      INSERT INTO client_request_counts (organisation_id, state, total)
      SELECT o, s, d FROM (
        SELECT OLD.organisation_id AS o, OLD.state AS s, -1 AS d
        UNION ALL SELECT NEW.organisation_id, NEW.state, 1
      ) WHERE true ORDER BY o, s
      ON CONFLICT (organisation_id, state) DO UPDATE SET total = total + excluded.total;
    END
    """,
        """
    CREATE TRIGGER trg_client_requests_after_delete AFTER DELETE ON service_requests BEGIN
      UPDATE client_request_counts SET total = total - 1
      WHERE organisation_id = OLD.organisation_id AND state = OLD.state;
    END
    """,
        # A request moved to another client takes its outcomes along.
        f"""
    CREATE TRIGGER trg_client_days_after_request_move AFTER UPDATE OF organisation_id
    ON service_requests
    WHEN OLD.organisation_id IS NOT NEW.organisation_id
    BEGIN
      INSERT INTO client_request_days (organisation_id, day, measure, total)
      SELECT o, d, m, SUM(n) FROM (
        {entry_rows.format(org="OLD.organisation_id", delta=-1)}
        UNION ALL
        {entry_rows.format(org="NEW.organisation_id", delta=1)}
      ) GROUP BY o, d, m ORDER BY o, d, m
      ON CONFLICT (organisation_id, day, measure) DO UPDATE SET total = total + excluded.total;
    END
    """,
        # Its entries go first, while the request still names the client (their own trigger
        # takes the outcomes off); the cascade then finds nothing left to delete.
        """
    CREATE TRIGGER trg_client_requests_before_delete BEFORE DELETE ON service_requests BEGIN
      DELETE FROM timeline_entries WHERE request_id = OLD.id;
    END
    """,
        f"""
    CREATE TRIGGER trg_client_days_after_insert AFTER INSERT ON timeline_entries
    WHEN NEW.action IN ({_ACTIONS_SQL})
    BEGIN
      INSERT INTO client_request_days (organisation_id, day, measure, total)
      SELECT organisation_id, {day.format("NEW.occurred_at")}, {_measure("NEW.action")}, 1
      FROM service_requests WHERE id = NEW.request_id
      ON CONFLICT (organisation_id, day, measure) DO UPDATE SET total = total + 1;
    END
    """,
        f"""
    CREATE TRIGGER trg_client_days_after_update AFTER UPDATE OF action, occurred_at, request_id
    ON timeline_entries
    WHEN (OLD.action IN ({_ACTIONS_SQL}) OR NEW.action IN ({_ACTIONS_SQL}))
         AND (OLD.action IS NOT NEW.action OR OLD.occurred_at IS NOT NEW.occurred_at
              OR OLD.request_id IS NOT NEW.request_id)
    BEGIN
      UPDATE client_request_days SET total = total - 1
      WHERE OLD.action IN ({_ACTIONS_SQL})
        AND organisation_id = (SELECT organisation_id FROM service_requests
                               WHERE id = OLD.request_id)
        AND day = {day.format("OLD.occurred_at")} AND measure = {_measure("OLD.action")};
      INSERT INTO client_request_days (organisation_id, day, measure, total)
      SELECT organisation_id, {day.format("NEW.occurred_at")}, {_measure("NEW.action")}, 1
      FROM service_requests WHERE id = NEW.request_id AND NEW.action IN ({_ACTIONS_SQL})
      ON CONFLICT (organisation_id, day, measure) DO UPDATE SET total = total + 1;
    END
    """,
        f"""
    CREATE TRIGGER trg_client_days_after_delete AFTER DELETE ON timeline_entries
    WHEN OLD.action IN ({_ACTIONS_SQL})
    BEGIN
      UPDATE client_request_days SET total = total - 1
      WHERE organisation_id = (SELECT organisation_id FROM service_requests
                               WHERE id = OLD.request_id)
        AND day = {day.format("OLD.occurred_at")} AND measure = {_measure("OLD.action")};
    END
    """,
    ]


def _postgresql() -> list[str]:
    day = _PG_DAY
    entry_rows = f"""
          SELECT {{org}}, {day.format("occurred_at")}, {_measure("action")}, {{delta}}
          FROM timeline_entries WHERE request_id = NEW.id AND action IN ({_ACTIONS_SQL})"""
    remove_old_day = f"""
          UPDATE client_request_days d SET total = d.total - 1
          FROM service_requests r
          WHERE r.id = OLD.request_id AND d.organisation_id = r.organisation_id
            AND d.day = {day.format("OLD.occurred_at")}
            AND d.measure = {_measure("OLD.action")};"""
    add_new_day = f"""
          INSERT INTO client_request_days (organisation_id, day, measure, total)
          SELECT organisation_id, {day.format("NEW.occurred_at")}, {_measure("NEW.action")}, 1
          FROM service_requests WHERE id = NEW.request_id
          ON CONFLICT (organisation_id, day, measure)
          DO UPDATE SET total = client_request_days.total + 1;"""
    return [
        """
    CREATE FUNCTION portal_client_requests_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO client_request_counts (organisation_id, state, total)
      VALUES (NEW.organisation_id, NEW.state, 1)
      ON CONFLICT (organisation_id, state) DO UPDATE SET total = client_request_counts.total + 1;
      RETURN NULL;
    END $$
    """,
        f"""
    CREATE FUNCTION portal_client_requests_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.state IS DISTINCT FROM NEW.state
         OR OLD.organisation_id IS DISTINCT FROM NEW.organisation_id THEN
        INSERT INTO client_request_counts (organisation_id, state, total)
        SELECT o, s, SUM(d) FROM (VALUES
          (OLD.organisation_id, OLD.state::text, -1),
          (NEW.organisation_id, NEW.state::text, 1)
        ) AS change (o, s, d)
        GROUP BY o, s ORDER BY o, s
        ON CONFLICT (organisation_id, state)
        DO UPDATE SET total = client_request_counts.total + EXCLUDED.total;
      END IF;
      IF OLD.organisation_id IS DISTINCT FROM NEW.organisation_id THEN
        INSERT INTO client_request_days (organisation_id, day, measure, total)
        SELECT o, d, m, SUM(n) FROM (
          {entry_rows.format(org="OLD.organisation_id", delta=-1)}
          UNION ALL
          {entry_rows.format(org="NEW.organisation_id", delta=1)}
        ) AS change (o, d, m, n)
        GROUP BY o, d, m ORDER BY o, d, m
        ON CONFLICT (organisation_id, day, measure)
        DO UPDATE SET total = client_request_days.total + EXCLUDED.total;
      END IF;
      RETURN NULL;
    END $$
    """,
        """
    CREATE FUNCTION portal_client_requests_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE client_request_counts SET total = total - 1
      WHERE organisation_id = OLD.organisation_id AND state = OLD.state;
      RETURN NULL;
    END $$
    """,
        """
    CREATE FUNCTION portal_client_requests_before_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      DELETE FROM timeline_entries WHERE request_id = OLD.id;
      RETURN OLD;
    END $$
    """,
        f"""
    CREATE FUNCTION portal_client_days_after_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        IF OLD.action IS NOT DISTINCT FROM NEW.action
           AND OLD.occurred_at IS NOT DISTINCT FROM NEW.occurred_at
           AND OLD.request_id IS NOT DISTINCT FROM NEW.request_id THEN
          RETURN NULL;
        END IF;
      END IF;
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF OLD.action IN ({_ACTIONS_SQL}) THEN
          {remove_old_day}
        END IF;
      END IF;
      IF TG_OP IN ('INSERT', 'UPDATE') THEN
        IF NEW.action IN ({_ACTIONS_SQL}) THEN
          {add_new_day}
        END IF;
      END IF;
      RETURN NULL;
    END $$
    """,
        """CREATE TRIGGER trg_client_requests_after_insert AFTER INSERT ON service_requests
       FOR EACH ROW EXECUTE FUNCTION portal_client_requests_after_insert()""",
        """CREATE TRIGGER trg_client_requests_after_update AFTER UPDATE OF state, organisation_id
       ON service_requests FOR EACH ROW EXECUTE FUNCTION portal_client_requests_after_update()""",
        """CREATE TRIGGER trg_client_requests_after_delete AFTER DELETE ON service_requests
       FOR EACH ROW EXECUTE FUNCTION portal_client_requests_after_delete()""",
        """CREATE TRIGGER trg_client_requests_before_delete BEFORE DELETE ON service_requests
       FOR EACH ROW EXECUTE FUNCTION portal_client_requests_before_delete()""",
        """CREATE TRIGGER trg_client_days_after_change
       AFTER INSERT OR UPDATE OF action, occurred_at, request_id OR DELETE ON timeline_entries
       FOR EACH ROW EXECUTE FUNCTION portal_client_days_after_change()""",
    ]


# (table, trigger, PostgreSQL function or None)
TRIGGERS: list[tuple[str, str, str | None]] = [
    ("service_requests", "trg_client_requests_after_insert", "portal_client_requests_after_insert"),
    ("service_requests", "trg_client_requests_after_update", "portal_client_requests_after_update"),
    ("service_requests", "trg_client_requests_after_delete", "portal_client_requests_after_delete"),
    (
        "service_requests",
        "trg_client_requests_before_delete",
        "portal_client_requests_before_delete",
    ),
    ("service_requests", "trg_client_days_after_request_move", None),
    ("timeline_entries", "trg_client_days_after_insert", None),
    ("timeline_entries", "trg_client_days_after_update", None),
    ("timeline_entries", "trg_client_days_after_delete", None),
    ("timeline_entries", "trg_client_days_after_change", "portal_client_days_after_change"),
]


def _rebuild(day: str) -> list[str]:
    return [
        "DELETE FROM client_request_counts",
        "DELETE FROM client_request_days",
        """INSERT INTO client_request_counts (organisation_id, state, total)
           SELECT organisation_id, state, COUNT(*) FROM service_requests
           GROUP BY organisation_id, state""",
        f"""INSERT INTO client_request_days (organisation_id, day, measure, total)
           SELECT r.organisation_id, {day.format("e.occurred_at")}, {_measure("e.action")},
                  COUNT(*)
           FROM timeline_entries e JOIN service_requests r ON r.id = e.request_id
           WHERE e.action IN ({_ACTIONS_SQL})
           GROUP BY r.organisation_id, {day.format("e.occurred_at")}, {_measure("e.action")}""",
    ]


def _postgresql_dialect(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def install(conn: Connection) -> None:
    """Create every trigger (they must not exist yet)."""
    _run(conn, _postgresql() if _postgresql_dialect(conn) else _sqlite())


def uninstall(conn: Connection) -> None:
    """Drop every trigger there is."""
    postgresql = _postgresql_dialect(conn)
    for table, trigger, function in TRIGGERS:
        if postgresql:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
            if function:
                conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function}()")
        else:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")


def rebuild(conn: Connection) -> None:
    """Recompute both tables from the requests and their timelines (after a bulk load)."""
    _run(conn, _rebuild(_PG_DAY if _postgresql_dialect(conn) else _SQLITE_DAY))


def _run(conn: Connection, statements: list[str]) -> None:
    for statement in statements:
        conn.exec_driver_sql(statement)
