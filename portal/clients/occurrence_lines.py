"""Occurrences as the lists show them (the Ocorrências list, the client page): plain values
read in one statement. Building ORM objects with four relations each was most of those pages'
cost; the macro in templates/occurrences/_macros.html reads the same flat names on an
`Occurrence` (see its properties)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from sqlalchemy import Select, select

from portal.accounts.models import User
from portal.clients.models import Impact, Occurrence, OccurrenceCategory, Organisation
from portal.core.database import DbSession
from portal.requests.models import ServiceRequest

S = TypeVar("S", bound=Select)  # any row shape


@dataclass(frozen=True)
class OccurrenceLine:
    """One occurrence as a list line."""

    id: int
    impact: str
    category_name: str
    occurred_on: date
    organisation_id: int
    client_name: str
    description: str
    author_id: int
    author_name: str
    request_number: str | None

    @property
    def impact_enum(self) -> Impact:
        return Impact(self.impact)


def with_relations(query: S) -> S:
    """An occurrence query joined to what a line or a CSV row names: the category, the
    client, the author and (when cited) the request."""
    o = Occurrence
    return (
        query.join(OccurrenceCategory, OccurrenceCategory.id == o.category_id)
        .join(Organisation, Organisation.id == o.organisation_id)
        .join(User, User.id == o.author_id)
        .outerjoin(ServiceRequest, ServiceRequest.id == o.request_id)
    )


def occurrence_lines(session: DbSession, ids: list[int]) -> list[OccurrenceLine]:
    """These occurrences as list lines, in the order of `ids`."""
    if not ids:
        return []
    o = Occurrence
    query = with_relations(
        select(
            o.id,
            o.impact,
            OccurrenceCategory.name,
            o.occurred_on,
            o.organisation_id,
            Organisation.name,
            Organisation.uf,
            o.description,
            o.author_id,
            User.full_name,
            ServiceRequest.number,
        )
    ).where(o.id.in_(ids))
    found = {}
    for found_row in session.execute(query):
        row = tuple(found_row)  # eleven columns: past what the typed Row spells out
        client = f"{row[5]} ({row[6]})" if row[6] else row[5]
        found[row[0]] = OccurrenceLine(
            id=row[0],
            impact=row[1],
            category_name=row[2],
            occurred_on=row[3],
            organisation_id=row[4],
            client_name=client,
            description=row[7],
            author_id=row[8],
            author_name=row[9],
            request_number=row[10],
        )
    return [found[i] for i in ids if i in found]
