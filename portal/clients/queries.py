"""Read queries of the client area: the client list and the client page ("Client 360").

Every list is paged or bounded in SQL and loads what its template shows up front (no lazy
loads while rendering)."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, joinedload, lazyload

from portal.accounts.models import User
from portal.catalog.models import CatalogItem
from portal.clients.health import HealthSummary, health_summary
from portal.clients.models import ClientRequestCount, Contact, Occurrence, Organisation
from portal.clients.occurrence_lines import OccurrenceLine, occurrence_lines
from portal.core.database import DbSession
from portal.core.fulltext import fold
from portal.core.paging import Page
from portal.requests.lifecycle import State
from portal.requests.models import ServiceRequest

PER_PAGE = 25
PEOPLE_SHOWN = 50
LATEST_REQUESTS = 10
LATEST_OCCURRENCES = 10


def _variants() -> dict[str, str]:
    """Each folded letter and every letter that folds to it, both cases, as a GLOB class:
    "a" → "[AaÀÁÂÃÄÅàáâãäå...]"."""
    found: dict[str, set[str]] = {}
    for code in range(0x41, 0x250):
        letter = chr(code)
        folded = fold(letter)
        if len(folded) == 1 and folded.isalpha():
            found.setdefault(folded, {folded, folded.upper()}).add(letter)
    return {plain: f"[{''.join(sorted(letters))}]" for plain, letters in found.items()}


# SQLite has no unaccent (and its lower() folds ASCII only): the name is matched with a GLOB
# whose classes hold every case and accent of each letter typed.
_GLOB_CLASSES = {**_variants(), "*": "[*]", "?": "[?]", "[": "[[]"}


@dataclass(frozen=True)
class ClientFilters:
    """The client list's filters, as typed in the query string."""

    text: str = ""  # name (contains) or identifier (prefix)
    uf: str = ""
    company_type_id: int | None = None
    category_id: int | None = None


def name_matches(session: DbSession, typed: str, *, prefix: bool = False) -> ColumnElement[bool]:
    """The organisation's name contains (or, with `prefix`, starts with) what was typed,
    ignoring case and accents (as fulltext.fold). The one name search of the area: the client
    list, the wizard's known organisations and the occurrence form's client picker."""
    return folded_match(session, Organisation.name, typed, prefix=prefix)


def folded_match(
    session: DbSession, column: InstrumentedAttribute[str], typed: str, *, prefix: bool = False
) -> ColumnElement[bool]:
    """`column` contains (or starts with) what was typed, ignoring case and accents: PostgreSQL
    unaccent, SQLite a GLOB of every accented letter. Organisation names and people's names."""
    folded = fold(" ".join(typed.split()))
    if session.get_bind().dialect.name == "postgresql":
        text = func.lower(func.unaccent(column))
        if prefix:
            return text.startswith(folded, autoescape=True)
        return text.contains(folded, autoescape=True)
    pattern = "".join(_GLOB_CLASSES.get(char, char) for char in folded)
    return column.op("GLOB")(f"{pattern}*" if prefix else f"*{pattern}*")


def identifier_prefix(typed: str) -> str | None:
    """What was typed as the start of an IBGE code or CNPJ (punctuation dropped), if it holds
    a digit; None when it reads as a name only."""
    identifier = re.sub(r"[^0-9A-Za-z]", "", typed).upper()
    return identifier if identifier and any(c.isdigit() for c in identifier) else None


def name_or_identifier(session: DbSession, typed: str) -> ColumnElement[bool] | None:
    """The name contains the text, or the identifier starts with it; None for no text."""
    typed = " ".join(typed.split())
    if not typed:
        return None
    conditions = [name_matches(session, typed)]
    identifier = identifier_prefix(typed)
    if identifier:
        conditions.append(Organisation.identifier.startswith(identifier, autoescape=True))
    return or_(*conditions)


def client_conditions(session: DbSession, filters: ClientFilters) -> list[ColumnElement[bool]]:
    """The registered clients that match the list's filters (the HTML list and the API's)."""
    conditions: list[ColumnElement[bool]] = [Organisation.client_since.is_not(None)]
    if filters.uf:
        conditions.append(Organisation.uf == filters.uf)
    if filters.company_type_id:
        conditions.append(Organisation.company_type_id == filters.company_type_id)
    if filters.category_id:
        conditions.append(Organisation.category_id == filters.category_id)
    text = name_or_identifier(session, filters.text)
    if text is not None:
        conditions.append(text)
    return conditions


def client_list(
    session: DbSession, filters: ClientFilters, *, page: int = 1, per_page: int = PER_PAGE
) -> Page[Organisation]:
    """One page of the registered clients in name order. The count is exact: clients are
    organisations, a few thousand rows at most (5,597 with every município and UF)."""
    conditions = client_conditions(session, filters)
    total = session.scalar(select(func.count()).select_from(Organisation).where(*conditions)) or 0
    pages = max(1, -(-total // per_page))
    page = max(1, min(page, pages))
    rows = session.scalars(
        select(Organisation)
        .where(*conditions)
        .order_by(Organisation.name, Organisation.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
        .options(joinedload(Organisation.company_type), joinedload(Organisation.category))
    )
    return Page(rows=list(rows), total=total, page=page, per_page=per_page)


def get_client(session: DbSession, org_id: int) -> Organisation | None:
    """A registered client with its type and category; None for any other organisation."""
    return session.scalar(
        select(Organisation)
        .where(Organisation.id == org_id, Organisation.client_since.is_not(None))
        .options(joinedload(Organisation.company_type), joinedload(Organisation.category))
    )


@dataclass(frozen=True)
class ClientPage:
    """Everything the client page shows, loaded up front."""

    client: Organisation
    details: list[tuple[str, str]]  # the category's own fields: (label, value)
    address: str | None
    contacts: list[Contact]
    contact_total: int
    users: list[User]
    user_total: int
    request_counts: list[tuple[State, int]]
    request_total: int
    latest_requests: list[LatestRequest]
    occurrences: list[OccurrenceLine]
    health: HealthSummary


def client_page(session: DbSession, client: Organisation, today: date) -> ClientPage:
    """The client page's data in a fixed number of queries, however much history it has."""
    contacts, contact_total = _with_total(
        session,
        select(Contact, func.count().over())
        .where(Contact.organisation_id == client.id)
        .order_by(Contact.position, Contact.id)
        .limit(PEOPLE_SHOWN),
    )
    users, user_total = _with_total(
        session,
        select(User, func.count().over())
        .where(User.organisation_id == client.id)
        .order_by(User.active.desc(), User.full_name, User.id)
        .limit(PEOPLE_SHOWN)
        .options(lazyload(User.organisation)),
    )
    counts = dict(
        session.execute(
            select(ClientRequestCount.state, ClientRequestCount.total).where(
                ClientRequestCount.organisation_id == client.id
            )
        ).all()
    )
    request_counts = [(state, int(counts.get(state.value) or 0)) for state in State]
    return ClientPage(
        client=client,
        details=_details(client),
        address=_address(client),
        contacts=contacts,
        contact_total=contact_total,
        users=users,
        user_total=user_total,
        request_counts=request_counts,
        request_total=sum(total for _, total in request_counts),
        latest_requests=_latest_requests(session, client.id),
        occurrences=_latest_occurrences(session, client.id),
        health=health_summary(session, client.id, today),
    )


def _with_total(session: DbSession, query: Any) -> tuple[list[Any], int]:
    """Rows of (entity, count over the whole match): the first rows and the total in one go."""
    rows = session.execute(query).all()
    return [row[0] for row in rows], int(rows[0][1]) if rows else 0


@dataclass(frozen=True)
class LatestRequest:
    """One line of the client page's "Últimas solicitações", as plain values."""

    number: str
    item_name: str
    requested_for_name: str
    state: State
    opened_at: datetime


def _latest_requests(session: DbSession, org_id: int) -> list[LatestRequest]:
    """Plain columns, not ORM objects with their relations: this table is a third of the
    busy client's page otherwise."""
    SR = ServiceRequest  # noqa: N806
    query = (
        select(SR.number, CatalogItem.name, User.full_name, SR.state, SR.opened_at)
        .join(CatalogItem, CatalogItem.id == SR.item_id)
        .join(User, User.id == SR.requested_for_id)
        .where(SR.organisation_id == org_id)
        .order_by(SR.opened_at.desc())  # the index's order: (organisation_id, opened_at)
        .limit(LATEST_REQUESTS)
    )
    return [
        LatestRequest(number, item, person, State(state), opened)
        for number, item, person, state, opened in session.execute(query)
    ]


def _latest_occurrences(session: DbSession, org_id: int) -> list[OccurrenceLine]:
    ids = session.scalars(
        select(Occurrence.id)
        .where(Occurrence.organisation_id == org_id)
        .order_by(Occurrence.occurred_on.desc(), Occurrence.id.desc())
        .limit(LATEST_OCCURRENCES)
    )
    return occurrence_lines(session, list(ids))


def _details(client: Organisation) -> list[tuple[str, str]]:
    """The category's own fields that have a value, with their labels, in the category's order."""
    if client.category is None:
        return []
    extra = client.extra or {}
    shown = []
    for spec in client.category.fields or []:
        value = extra.get(spec.get("name", ""))
        if value is None or str(value).strip() == "":
            continue
        if spec.get("type") == "date":
            with contextlib.suppress(ValueError):
                value = date.fromisoformat(str(value)).strftime("%d/%m/%Y")
        shown.append((str(spec.get("label") or spec.get("name")), str(value)))
    return shown


def _address(client: Organisation) -> str | None:
    """One line: street, number, complement, district, city, UF, CEP (the parts given)."""
    street = ", ".join(p for p in (client.street, client.street_number) if p)
    city = " - ".join(p for p in (client.city, client.uf) if p) if client.city else ""
    cep = client.cep or ""
    cep = f"CEP {cep[:5]}-{cep[5:]}" if len(cep) == 8 else (f"CEP {cep}" if cep else "")
    parts = [p for p in (street, client.complement, client.district, city, cep) if p]
    return ", ".join(parts) if street or client.cep else None
