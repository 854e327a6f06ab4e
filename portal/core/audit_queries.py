"""Reading the audit trail: the Auditoria list (filters, paging in SQL, CSV export) and the
values its selects offer.

Each filter is served by an index of audit_entries, newest first: who by (actor_id, id),
what by (action, id), an object by (object_type, object_id, at), a period by (at); with none,
the primary key read backwards. The order follows the index the filter uses (`order`), or
PostgreSQL, which cannot tell that id follows at, reads the whole table backwards for a
period long ago. The total counts at most ten pages past the current one (`count_to_horizon`),
so a deep list never counts the whole table.

Who is given as ids: a name search over the users is the accounts area's business, and the
admin view passes its answer (`AuditFilters.people`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, false, select, text

from portal.core.audit_labels import action_label, object_label
from portal.core.csv_export import csv_stream, row_batches
from portal.core.database import DbSession
from portal.core.models import AuditEntry
from portal.core.paging import Page, clamp_page, count_to_horizon
from portal.core.timeutil import format_datetime

PAGE_SIZE = 20
PAGES_AHEAD = 10
CSV_BATCH = 500
SYSTEM = "sistema"  # the "who" value of the command line and the jobs (no actor_id)
DATE_FORMAT = "%d/%m/%Y"
A = AuditEntry
# What the CSV shows of a batch of rows (an admin view's masking; as stored by default).
Shown = Callable[[Sequence[Any]], Sequence[Any]]


def _id_or_none(typed: str | None) -> int | None:
    """An id as typed: up to nine digits (an INTEGER column), anything else none."""
    typed = (typed or "").strip()
    return int(typed) if re.fullmatch(r"[0-9]{1,9}", typed) else None


def parse_day(typed: str) -> date:
    """DD/MM/AAAA as people type it; ValueError otherwise."""
    return datetime.strptime(typed, DATE_FORMAT).date()


@dataclass
class AuditFilters:
    """The list's filters as typed in the query string (also the CSV export's)."""

    actor: str = ""  # "" (anyone), SYSTEM, or a user's id
    name: str = ""  # a name, CPF or e-mail typed in "Quem"
    action: str = ""
    object_type: str = ""
    object_id: int | None = None
    start: date | None = None
    end: date | None = None
    typed: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    # The users `name` matched (set by the caller); None when no name was typed.
    people: tuple[int, ...] | None = None

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> AuditFilters:
        actor = (args.get("quem") or "").strip()
        found = cls(
            actor=actor if actor == SYSTEM or _id_or_none(actor) else "",
            name=" ".join((args.get("nome") or "").split())[:100],
            action=(args.get("acao") or "").strip()[:60],
            object_type=(args.get("objeto") or "").strip()[:40],
            object_id=_id_or_none(args.get("objeto_id")),
        )
        for key in ("de", "ate"):
            typed = (args.get(key) or "").strip()[:20]
            found.typed[key] = typed
            if not typed:
                continue
            try:
                day = parse_day(typed)
            except ValueError:
                found.errors[key] = "Data inválida: use DD/MM/AAAA."
                continue
            setattr(found, "start" if key == "de" else "end", day)
        if found.start and found.end and found.end < found.start:
            found.errors["ate"] = "A data final é anterior à inicial."
            found.end = None
        return found

    def query_args(self) -> dict[str, Any]:
        """The filters as query-string values (for the pager and the CSV link)."""
        values = {
            "quem": self.actor,
            "nome": self.name,
            "acao": self.action,
            "objeto": self.object_type,
            "objeto_id": self.object_id,
            "de": self.typed.get("de") if "de" not in self.errors else "",
            "ate": self.typed.get("ate") if "ate" not in self.errors else "",
        }
        return {k: v for k, v in values.items() if v}

    def conditions(self, tz: str) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.actor == SYSTEM:
            conditions.append(A.actor_id.is_(None))
        elif self.actor:
            conditions.append(A.actor_id == int(self.actor))
        if self.people is not None:
            conditions.append(A.actor_id.in_(self.people) if self.people else false())
        if self.action:
            conditions.append(A.action == self.action)
        if self.object_type:
            conditions.append(A.object_type == self.object_type)
            if self.object_id is not None:
                conditions.append(A.object_id == self.object_id)
        if self.start:
            conditions.append(A.at >= _local_midnight(self.start, tz))
        if self.end:
            conditions.append(A.at < _local_midnight(self.end + timedelta(days=1), tz))
        return conditions

    def order(self) -> list[ColumnElement[Any]]:
        """Newest first, in the order of the index that serves the filter: a period by (at);
        the system (actor_id IS NULL, which PostgreSQL does not take as one value) by
        (actor_id, id) spelled out; anything else by id."""
        if self.start or self.end:
            return [A.at.desc(), A.id.desc()]
        if self.actor == SYSTEM:
            return [A.actor_id.desc().nulls_first(), A.id.desc()]
        return [A.id.desc()]


def _local_midnight(day: date, tz: str) -> datetime:
    """The start of `day` in the portal's time zone (an aware datetime; stored times are UTC)."""
    return datetime.combine(day, time(), tzinfo=ZoneInfo(tz))


def ordered_ids(filters: AuditFilters, tz: str) -> Select[Any]:
    """The filtered entries' ids, newest first (what each page and EXPLAIN read)."""
    return select(A.id).where(*filters.conditions(tz)).order_by(*filters.order())


def audit_page(
    session: DbSession, filters: AuditFilters, tz: str, page: int = 1, per_page: int = PAGE_SIZE
) -> Page[AuditEntry]:
    """One page of entries, newest first: the page's ids by index, then their rows."""
    ids = ordered_ids(filters, tz)
    total, more = count_to_horizon(session, ids.order_by(None), page, per_page, PAGES_AHEAD)
    page = clamp_page(page, total, per_page)
    page_ids = list(session.scalars(ids.limit(per_page).offset((page - 1) * per_page)))
    found = {}
    if page_ids:
        found = {e.id: e for e in session.scalars(select(A).where(A.id.in_(page_ids)))}
    rows = [found[i] for i in page_ids if i in found]
    return Page(rows=rows, total=total, page=page, per_page=per_page, more=more)


# ------------------------------------------------------------------ what the selects offer

# The distinct values of an indexed column, one index probe per value (a "loose index scan"):
# there are a few dozen actions and object types however long the table grows.
_DISTINCT = """
WITH RECURSIVE found(value) AS (
    SELECT min({column}) FROM audit_entries
    UNION ALL
    SELECT (SELECT min({column}) FROM audit_entries WHERE {column} > found.value)
    FROM found WHERE found.value IS NOT NULL
)
SELECT value FROM found WHERE value IS NOT NULL
"""


def _distinct(session: DbSession, column: str) -> list[str]:
    return [str(v) for v in session.scalars(text(_DISTINCT.format(column=column)))]


def actions_in_use(session: DbSession) -> list[tuple[str, str]]:
    """(action, label) of every action written so far, by label."""
    return sorted(((a, action_label(a)) for a in _distinct(session, "action")), key=_by_label)


def object_types_in_use(session: DbSession) -> list[tuple[str, str]]:
    """(object_type, label) of every kind of object with entries, by label."""
    found = _distinct(session, "object_type")
    return sorted(((t, object_label(t)) for t in found), key=_by_label)


def _by_label(pair: tuple[str, str]) -> str:
    return pair[1].casefold()


# ------------------------------------------------------------------ CSV

CSV_HEADER = [
    "Entrada",
    "Data",
    "Quem",
    "Endereço",
    "Ação",
    "Código da ação",
    "Objeto",
    "Id do objeto",
    "Antes",
    "Depois",
    "Hash",
]


def as_json(values: Mapping[str, Any] | None) -> str:
    return "" if values is None else json.dumps(values, ensure_ascii=False, sort_keys=True)


def _csv_cells(entry: Any, tz: str) -> list[Any]:
    return [
        entry.id,
        format_datetime(entry.at, tz),
        entry.actor_label,
        entry.address,
        action_label(entry.action),
        entry.action,
        object_label(entry.object_type),
        entry.object_id,
        as_json(entry.before),
        as_json(entry.after),
        entry.hash,
    ]


def _batches(
    session: DbSession, filters: AuditFilters, tz: str, shown: Shown
) -> Iterator[list[list[Any]]]:
    """The filtered entries in the list's order, CSV_BATCH rows at a time (a server-side
    cursor on PostgreSQL: the whole export never sits in memory)."""
    columns = [A.id, A.at, A.actor_id, A.actor_label, A.address, A.action, A.object_type]
    columns.append(A.object_id)
    query = (
        select(*columns, A.before, A.after, A.hash)
        .where(*filters.conditions(tz))
        .order_by(*filters.order())
        .execution_options(yield_per=CSV_BATCH)
    )
    with closing(row_batches(session, query)) as batches:
        for batch in batches:
            yield [_csv_cells(row, tz) for row in shown(batch)]


def _as_stored(rows: Sequence[Any]) -> Sequence[Any]:
    return rows


def csv_lines(
    session: DbSession, filters: AuditFilters, tz: str, shown: Shown = _as_stored
) -> Iterator[str]:
    """The filtered list as CSV for Brazilian Excel (UTF-8 with BOM, ";"), in batches.
    `shown` turns each batch into what may be shown (the admin view masks anonymised
    people: portal.accounts.anonymised_audit)."""
    yield from csv_stream(CSV_HEADER, _batches(session, filters, tz, shown))
