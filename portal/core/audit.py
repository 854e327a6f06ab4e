"""The audit trail: who changed what, when, from which address, before and after.

Services that change users, organisations, groups, the catalog or permissions call `record`
in the caller's transaction, so a rolled-back operation leaves no entry and a committed one
always has its entry. Secrets never reach the table: `record` masks them.

Entries are chained: each stores the SHA-256 of the entry before it (by id) and its own, over
its content and that previous hash. Writers take one lock while they read the last hash and
add theirs (SQLite's single writer already is one; PostgreSQL takes an advisory lock held to
the end of the transaction), so the chain never forks. `portal audit verify` walks it
(portal.core.audit_chain).

On SQLite a deferred transaction that has only read when it records cannot fork the chain
either: if another writer committed meanwhile, its INSERT fails ("database is locked") instead
of linking to a stale hash. Web POSTs and the jobs begin with BEGIN IMMEDIATE anyway.
On PostgreSQL the lock is held from a transaction's first entry to its commit: a service that
records and then goes on to lock rows another auditing transaction holds can deadlock with it
(PostgreSQL detects it and aborts one), so services record last.
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol

from flask import has_request_context, request
from sqlalchemy import select, text

from portal.core.actors import Actor, SystemActor
from portal.core.database import DbSession
from portal.core.models import AuditEntry
from portal.core.timeutil import utcnow

MASK = "***"
# pg_advisory_xact_lock key of the chain ("audit" in ASCII).
CHAIN_LOCK = 0x6175646974
SECRET_KEYS = frozenset({"password", "password_hash", "session_token", "token", "token_hash"})


def _jsonable(value: Any) -> Any:
    """The value as it will read back from the JSON column, so the hash taken before storing
    matches the one `portal audit verify` takes after: keys become strings (an int key would
    sort differently once stored), dates and decimals text, NaN and infinity text (PostgreSQL's
    JSON refuses them)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date):  # datetime included
        return value.isoformat()
    if isinstance(value, Decimal) or (isinstance(value, float) and not math.isfinite(value)):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return value


def mask(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The values as JSON, every secret replaced by *** (None stays None: there was none)."""
    if values is None:
        return None
    return {
        str(key): (MASK if key in SECRET_KEYS and value is not None else _jsonable(value))
        for key, value in values.items()
    }


def snapshot(obj: object, fields: Iterable[str]) -> dict[str, Any]:
    """The named attributes of `obj`, for `before` and `after`."""
    return {name: getattr(obj, name) for name in fields}


def _address() -> str | None:
    if not has_request_context():
        return None
    return (request.remote_addr or "")[:64] or None  # the column's size, on every database


def record(
    session: DbSession,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: int | None,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Write one entry in the caller's transaction; only the keys that changed are kept when
    both sides are given."""
    if before is not None and after is not None:
        changed = [k for k in after if before.get(k) != after.get(k)]
        before = {k: before.get(k) for k in changed}
        after = {k: after[k] for k in changed}
    if isinstance(actor, SystemActor):
        actor_id, label = None, actor.label
    else:
        actor_id, label = actor.id, f"{actor.full_name} (usuário {actor.id})"
    entry = AuditEntry(
        actor_id=actor_id,
        actor_label=label[:200],
        address=_address(),
        action=action,
        object_type=object_type,
        object_id=object_id,
        before=mask(before),
        after=mask(after),
    )
    entry.prev_hash = _last_hash(session)
    # Timed under the chain's lock, so times rise with ids (the Auditoria's period filter
    # reads by time, the others by id: both are newest first).
    entry.at = utcnow()
    entry.hash = entry_digest(entry, entry.prev_hash)
    session.add(entry)
    session.flush()
    return entry


def _last_hash(session: DbSession) -> str:
    """The newest entry's hash, under the chain's lock (this transaction's own entries too)."""
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
    last = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    return last or ""


class ChainedContent(Protocol):
    """What the hash covers: an AuditEntry, or a row of its columns (verify, the migration)."""

    at: datetime
    actor_id: int | None
    actor_label: str
    address: str | None
    action: str
    object_type: str
    object_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def entry_digest(entry: ChainedContent, prev_hash: str) -> str:
    """SHA-256 over the entry's content and the hash before it, as canonical JSON."""
    at = entry.at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
    content = {
        "prev": prev_hash,
        "at": at,
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "address": entry.address,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "before": entry.before,
        "after": entry.after,
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# ---------------------------------------------------------------- append-only, in the database
# Installed by migration 0006. Written out per dialect: a trigger that refuses the statement.
_REFUSAL = "audit_entries is append-only"


def install_append_only(conn: Any) -> None:
    """Make the database itself refuse UPDATE and DELETE on audit_entries."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION portal_audit_append_only() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{_REFUSAL}'; END; $$ LANGUAGE plpgsql"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER trg_audit_append_only BEFORE UPDATE OR DELETE ON audit_entries "
            "FOR EACH ROW EXECUTE FUNCTION portal_audit_append_only()"
        )
        return
    for statement in ("UPDATE", "DELETE"):
        conn.exec_driver_sql(
            f"CREATE TRIGGER trg_audit_no_{statement.lower()} BEFORE {statement} "
            f"ON audit_entries BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END"
        )


def drop_append_only(conn: Any) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS trg_audit_append_only ON audit_entries")
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS portal_audit_append_only()")
        return
    for statement in ("update", "delete"):
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS trg_audit_no_{statement}")
