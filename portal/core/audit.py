"""The audit trail: who changed what, when, from which address, before and after.

Services that change users, organisations, groups, the catalog or permissions call `record`
in the caller's transaction, so a rolled-back operation leaves no entry and a committed one
always has its entry. Secrets never reach the table: `record` masks them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from flask import has_request_context, request

from portal.core.actors import Actor, SystemActor
from portal.core.database import DbSession
from portal.core.models import AuditEntry
from portal.core.timeutil import utcnow

MASK = "***"
SECRET_KEYS = frozenset({"password", "password_hash", "session_token", "token", "token_hash"})


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
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
        key: (MASK if key in SECRET_KEYS and value is not None else _jsonable(value))
        for key, value in values.items()
    }


def snapshot(obj: object, fields: Iterable[str]) -> dict[str, Any]:
    """The named attributes of `obj`, for `before` and `after`."""
    return {name: getattr(obj, name) for name in fields}


def _address() -> str | None:
    return (request.remote_addr or None) if has_request_context() else None


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
        at=utcnow(),
        actor_id=actor_id,
        actor_label=label[:200],
        address=_address(),
        action=action,
        object_type=object_type,
        object_id=object_id,
        before=mask(before),
        after=mask(after),
    )
    session.add(entry)
    return entry


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
