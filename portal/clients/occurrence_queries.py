"""Reading occurrences: the Ocorrências list (filters, paging in SQL, CSV export), the client
search of "Relacione o Cliente", one occurrence with its images, and the occurrences that cite
a request.

Each list filter is served by one of the indexes on `occurrences` (organisation, impact, uf,
category or author, each followed by occurred_on and id), read newest first until the page is
full. The total counts at most ten pages past the current one (`count_to_horizon`, as the
queue does): a deep list shows "mais de N" instead of counting 200,000 rows on every view.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, select
from sqlalchemy.orm import joinedload

from portal.accounts.models import User
from portal.clients.models import (
    OCCURRENCE_OWNER,
    Impact,
    Occurrence,
    OccurrenceCategory,
    Organisation,
)
from portal.clients.occurrence_lines import OccurrenceLine, occurrence_lines, with_relations
from portal.clients.occurrences import parse_date
from portal.clients.queries import identifier_prefix, name_matches
from portal.clients.services import UFS
from portal.core.csv_export import csv_stream, row_batches
from portal.core.database import DbSession
from portal.core.errors import ValidationError
from portal.core.models import Attachment
from portal.core.paging import Page
from portal.core.timeutil import format_datetime
from portal.core.web import int_or_none
from portal.requests.models import ServiceRequest
from portal.requests.queries import clamp_page, count_to_horizon

PAGE_SIZE = 20
PAGES_AHEAD = 10
SEARCH_LIMIT = 20
CSV_BATCH = 500


@dataclass
class OccurrenceFilters:
    """The list's filters as typed in the query string (also the CSV export's)."""

    client_id: int | None = None
    uf: str = ""
    category_id: int | None = None
    impact: str = ""
    start: date | None = None
    end: date | None = None
    author_id: int | None = None
    typed: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> OccurrenceFilters:
        found = cls(
            client_id=int_or_none(args.get("cliente")),
            category_id=int_or_none(args.get("categoria")),
            author_id=int_or_none(args.get("autor")),
        )
        uf = (args.get("uf") or "").strip().upper()
        found.uf = uf if uf in UFS else ""
        impact = (args.get("impacto") or "").strip().lower()
        found.impact = impact if impact in {i.value for i in Impact} else ""
        for key in ("de", "ate"):
            text = (args.get(key) or "").strip()[:20]
            found.typed[key] = text
            if not text:
                continue
            try:
                value = parse_date(text, key)
            except ValidationError as exc:
                found.errors[key] = str(exc)
                continue
            if key == "de":
                found.start = value
            else:
                found.end = value
        return found

    def query_args(self) -> dict[str, Any]:
        """The filters as query-string values (for the pager and the CSV link)."""
        values = {
            "cliente": self.client_id,
            "uf": self.uf,
            "categoria": self.category_id,
            "impacto": self.impact,
            "de": self.typed.get("de") if "de" not in self.errors else "",
            "ate": self.typed.get("ate") if "ate" not in self.errors else "",
            "autor": self.author_id,
        }
        return {k: v for k, v in values.items() if v}

    def conditions(self) -> list[ColumnElement[bool]]:
        o = Occurrence
        conditions: list[ColumnElement[bool]] = []
        if self.client_id:
            conditions.append(o.organisation_id == self.client_id)
        if self.uf:
            conditions.append(o.uf == self.uf)
        if self.category_id:
            conditions.append(o.category_id == self.category_id)
        if self.impact:
            conditions.append(o.impact == self.impact)
        if self.author_id:
            conditions.append(o.author_id == self.author_id)
        if self.start:
            conditions.append(o.occurred_on >= self.start)
        if self.end:
            conditions.append(o.occurred_on <= self.end)
        return conditions


def _ordered_ids(filters: OccurrenceFilters) -> Select[Any]:
    return (
        select(Occurrence.id)
        .where(*filters.conditions())
        .order_by(Occurrence.occurred_on.desc(), Occurrence.id.desc())
    )


LIST_OPTIONS = (
    joinedload(Occurrence.category),
    joinedload(Occurrence.organisation),
    joinedload(Occurrence.author),
    joinedload(Occurrence.request),
)


def occurrence_page(
    session: DbSession, filters: OccurrenceFilters, page: int = 1, per_page: int = PAGE_SIZE
) -> Page[OccurrenceLine]:
    """One page of the list, newest first: the page's ids by index, then their lines in one
    statement."""
    ids = _ordered_ids(filters)
    total, more = count_to_horizon(session, ids.order_by(None), page, per_page, PAGES_AHEAD)
    page = clamp_page(page, total, per_page)
    page_ids = list(session.scalars(ids.limit(per_page).offset((page - 1) * per_page)))
    rows = occurrence_lines(session, page_ids)
    return Page(rows=rows, total=total, page=page, per_page=per_page, more=more)


def images_by_occurrence(session: DbSession, ids: list[int]) -> dict[int, list[Attachment]]:
    """The images of many occurrences in one statement."""
    found: dict[int, list[Attachment]] = defaultdict(list)
    if not ids:
        return found
    query = (
        select(Attachment)
        .where(Attachment.owner_type == OCCURRENCE_OWNER, Attachment.owner_id.in_(ids))
        .order_by(Attachment.id)
    )
    for attachment in session.scalars(query):
        found[attachment.owner_id].append(attachment)
    return found


def get_occurrence(session: DbSession, occurrence_id: int) -> Occurrence | None:
    query = select(Occurrence).where(Occurrence.id == occurrence_id).options(*LIST_OPTIONS)
    return session.scalars(query).unique().first()


def image_of(session: DbSession, occurrence_id: int, attachment_id: int) -> Attachment | None:
    """One image, only if it belongs to this occurrence."""
    return session.scalar(
        select(Attachment).where(
            Attachment.id == attachment_id,
            Attachment.owner_type == OCCURRENCE_OWNER,
            Attachment.owner_id == occurrence_id,
        )
    )


def citing(session: DbSession, request_id: int) -> list[Occurrence]:
    """The occurrences that cite a request (its staff page), newest first."""
    query = (
        select(Occurrence)
        .where(Occurrence.request_id == request_id)
        .options(*LIST_OPTIONS)
        .order_by(Occurrence.occurred_on.desc(), Occurrence.id.desc())
    )
    return list(session.scalars(query).unique())


def categories(session: DbSession) -> list[OccurrenceCategory]:
    return list(session.scalars(select(OccurrenceCategory).order_by(OccurrenceCategory.name)))


# ------------------------------------------------------------------ the client search


@dataclass(frozen=True)
class ClientOption:
    id: int
    name: str
    identifier: str
    uf: str | None

    @property
    def label(self) -> str:
        place = f" ({self.uf})" if self.uf else ""
        return f"{self.name}{place} – {self.identifier}"

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "identifier": self.identifier,
                "uf": self.uf, "label": self.label}  # fmt: skip


def _clients() -> Select[int, str, str, str | None]:
    o = Organisation
    return select(o.id, o.name, o.identifier, o.uf).where(o.client_since.is_not(None))


def _option(row: Row[int, str, str, str | None]) -> ClientOption:
    return ClientOption(row[0], row[1], row[2], row[3])


def search_clients(session: DbSession, typed: str, limit: int = SEARCH_LIMIT) -> list[ClientOption]:
    """Clients (organisations with client_since) by identifier prefix or by name, accents and
    case ignored, names starting with the text first. Each statement walks the clients in name
    order (ix_organisations_client_name) and stops at its limit."""
    words = " ".join(typed.split())[:100]
    base = _clients().order_by(Organisation.name, Organisation.id)
    if not words:
        return [_option(row) for row in session.execute(base.limit(limit))]
    found: dict[int, ClientOption] = {}
    conditions = [name_matches(session, words, prefix=True), name_matches(session, words)]
    code = identifier_prefix(words)
    if code:
        conditions.insert(0, Organisation.identifier.startswith(code, autoescape=True))
    for condition in conditions:
        if len(found) >= limit:
            break
        for row in session.execute(base.where(condition).limit(limit)):
            found.setdefault(row.id, _option(row))
    return list(found.values())[:limit]


def client_option(session: DbSession, org_id: int | None) -> ClientOption | None:
    """One client as the picker shows it (None if it is not a client)."""
    if not org_id:
        return None
    row = session.execute(_clients().where(Organisation.id == org_id)).first()
    return _option(row) if row else None


# ------------------------------------------------------------------ CSV


CSV_HEADER = [
    "Data da ocorrência",
    "Cliente",
    "Identificador",
    "UF",
    "Categoria",
    "Impacto",
    "Ocorrência",
    "Registrada por",
    "Solicitação",
    "Registrada em",
]


def csv_lines(session: DbSession, filters: OccurrenceFilters, tz: str) -> Iterator[str]:
    """The filtered list as CSV for Brazilian Excel (UTF-8 with BOM, ";"), in batches."""
    o = Occurrence
    query = (
        with_relations(
            select(
                o.occurred_on,
                Organisation.name,
                Organisation.identifier,
                o.uf,
                OccurrenceCategory.name,
                o.impact,
                o.description,
                User.full_name,
                ServiceRequest.number,
                o.created_at,
            )
        )
        .where(*filters.conditions())
        .order_by(o.occurred_on.desc(), o.id.desc())
        .execution_options(yield_per=CSV_BATCH)
    )
    with closing(row_batches(session, query)) as batches:
        rows = ([_csv_cells(row, tz) for row in batch] for batch in batches)
        yield from csv_stream(CSV_HEADER, rows)


def _csv_cells(row: Sequence[Any], tz: str) -> list[Any]:
    return [
        row[0].strftime("%d/%m/%Y"),
        row[1],
        row[2],
        row[3],
        row[4],
        Impact(row[5]).label,
        row[6],
        row[7],
        row[8],
        format_datetime(row[9], tz),
    ]
