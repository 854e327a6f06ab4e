"""Clients through the API, for staff: the list with the HTML list's filters, and one client
with its contacts. The occurrences are in occurrences.py (their routes join this `bp`).

Who may see clients is `clients.policy.can_see_clients`, checked once for the whole blueprint:
anyone else gets 404 on every address here, as the HTML area answers them. The filters are the
HTML list's (`queries.client_conditions`), one client is `queries.get_client` and its page's
data `queries.client_page`. The list pages by cursor in the HTML list's order (name, id): the
cursor is the last client's id, and the next page starts after that client's (name, id), so a
client registered between two pages shifts neither.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import current_app, request
from flask_smorest import Blueprint
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from portal.api import auth
from portal.api.catalog import ListArgs, decode_cursor, encode_cursor
from portal.api.fields import id_field, next_link
from portal.api.problems import documented_errors, problem
from portal.clients import policy, queries
from portal.clients.models import Contact, OrganisationKind
from portal.clients.models import Organisation as Org
from portal.clients.services import UFS
from portal.core.errors import NotFound
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.requests.lifecycle import State

bp = Blueprint("api_clients", __name__, url_prefix="/api/v1/clients", description="Clientes")
auth.protect(bp)

CLIENT_ID = "<int:client_id>"  # bounded by the app's int converter (core/text_input.py)


@bp.before_request
def _staff_only() -> Response | None:
    """Clients are staff-only (policy.can_see_clients): anyone else, 404 everywhere here.
    Runs after auth.protect's check, so there is a user."""
    if not policy.can_see_clients(auth.api_user()):
        return problem(404)
    return None


# ------------------------------------------------------------------ cursors


# ------------------------------------------------------------------ schemas


class ClientListArgs(ListArgs):
    q = ma.fields.String(
        validate=[
            ma.validate.Length(max=100, error="Até 100 caracteres."),
            # No NUL: every view refuses it (core/text_input.py).
            ma.validate.Regexp(r"^[^\x00]*$", error="Caractere não aceito."),
        ],
        metadata={"description": "Parte do nome, ou o início do código IBGE ou do CNPJ"},
    )
    uf = ma.fields.String(
        validate=ma.validate.OneOf(sorted(UFS), error="UF desconhecida."),
        metadata={"description": "Sigla da UF"},
    )
    company_type = id_field(
        "Informe o id de um tipo de empresa.", metadata={"description": "Tipo de empresa: id"}
    )
    category = id_field(
        "Informe o id de uma categoria.", metadata={"description": "Categoria do cliente: id"}
    )


class ClientRefSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class ClientSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": [k.value for k in OrganisationKind]})
    identifier = ma.fields.String(
        required=True, metadata={"description": "Código IBGE, ou CNPJ sem pontuação"}
    )
    identifier_label = ma.fields.String(required=True, metadata={"enum": ["Código IBGE", "CNPJ"]})
    display_identifier = ma.fields.String(required=True, metadata={"description": "Como exibido"})
    uf = ma.fields.String(required=True, allow_none=True)
    city = ma.fields.String(required=True, allow_none=True)
    active = ma.fields.Boolean(required=True)
    client_since = ma.fields.DateTime(required=True)
    company_type = ma.fields.Nested(ClientRefSchema, required=True, allow_none=True)
    category = ma.fields.Nested(ClientRefSchema, required=True, allow_none=True)


class ClientPageSchema(ma.Schema):
    clients = ma.fields.List(ma.fields.Nested(ClientSchema), required=True)
    next_cursor = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "null na última página"}
    )


class ClientFieldSchema(ma.Schema):
    label = ma.fields.String(required=True)
    value = ma.fields.String(required=True)


class ClientContactSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    job_title = ma.fields.String(required=True, metadata={"description": "Cargo (pode ser vazio)"})
    email = ma.fields.String(required=True, metadata={"description": "Pode ser vazio"})
    phone = ma.fields.String(required=True, allow_none=True)
    portal_user = ma.fields.Boolean(required=True, metadata={"description": "Usuário do portal"})


class ClientStateCountSchema(ma.Schema):
    state = ma.fields.String(required=True, metadata={"enum": [s.value for s in State]})
    label = ma.fields.String(required=True)
    total = ma.fields.Integer(required=True)


class ClientDetailSchema(ClientSchema):
    address = ma.fields.String(required=True, allow_none=True)
    details = ma.fields.List(
        ma.fields.Nested(ClientFieldSchema),
        required=True,
        metadata={"description": "Os campos próprios da categoria que têm valor"},
    )
    contacts = ma.fields.List(
        ma.fields.Nested(ClientContactSchema),
        required=True,
        metadata={"description": f"Os primeiros {queries.PEOPLE_SHOWN}, em ordem"},
    )
    contact_total = ma.fields.Integer(required=True)
    request_counts = ma.fields.List(ma.fields.Nested(ClientStateCountSchema), required=True)
    request_total = ma.fields.Integer(required=True)


# ------------------------------------------------------------------ representations


def client_body(client: Org) -> dict[str, Any]:
    return {
        "id": client.id,
        "name": client.name,
        "kind": client.kind.value,
        "identifier": client.identifier,
        "identifier_label": client.kind.identifier_label,
        "display_identifier": client.display_identifier,
        "uf": client.uf,
        "city": client.city,
        "active": client.active,
        "client_since": client.client_since,
        "company_type": _ref(client.company_type),
        "category": _ref(client.category),
    }


def _ref(found: Any) -> dict[str, Any] | None:
    return {"id": found.id, "name": found.name} if found is not None else None


def _contact(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "name": contact.name,
        "job_title": contact.job_title or "",
        "email": contact.email or "",
        "phone": contact.phone,
        "portal_user": contact.user_id is not None,
    }


def client_or_404(client_id: int) -> Org:
    """A registered client; any other organisation (or none) is a 404 problem."""
    found = queries.get_client(db.session, client_id)
    if found is None:
        raise NotFound()
    return found


# ------------------------------------------------------------------ views


@bp.get("")
@bp.arguments(ClientListArgs, location="query")
@bp.response(200, ClientPageSchema)
@documented_errors(bp, 401, 404, 422, 429)
def index(args: dict[str, Any]) -> Any:
    """Clientes

    Os clientes cadastrados, em ordem de nome, com os filtros da lista de Clientes: `q` (parte
    do nome, ou o início do código IBGE ou do CNPJ), `uf`, `company_type` e `category`. Pagine
    com `cursor` (o `next_cursor`, também no cabeçalho `Link: rel="next"`): um cliente
    cadastrado entre duas páginas não desloca nenhuma delas. Só atendentes: os demais, 404.
    """
    filters = queries.ClientFilters(
        text=args.get("q", ""),
        uf=args.get("uf", ""),
        company_type_id=args.get("company_type"),
        category_id=args.get("category"),
    )
    conditions = queries.client_conditions(db.session, filters)
    if args.get("cursor"):
        # After the cursor's client in (name, id) order; its name is read in the same statement.
        after = decode_cursor(args["cursor"])
        name = select(Org.name).where(Org.id == after).scalar_subquery()
        conditions.append(or_(Org.name > name, and_(Org.name == name, Org.id > after)))
    limit = args["limit"]
    rows = list(
        db.session.scalars(
            select(Org)
            .where(*conditions)
            .order_by(Org.name, Org.id)
            .limit(limit + 1)
            .options(joinedload(Org.company_type), joinedload(Org.category))
        )
    )
    page, more = rows[:limit], len(rows) > limit
    next_cursor = encode_cursor(page[-1].id) if more else None
    body = {"clients": [client_body(c) for c in page], "next_cursor": next_cursor}
    return body, 200, next_link(".index", next_cursor, request.args)


@bp.get(f"/{CLIENT_ID}")
@bp.response(200, ClientDetailSchema)
@documented_errors(bp, 401, 404, 429)
def show(client_id: int) -> dict[str, Any]:
    """Um cliente

    Os dados do cliente como a página do cliente mostra: tipo, categoria, identificador, UF,
    endereço, os campos próprios da categoria, os contatos da empresa e as solicitações por
    estado. Uma organização que não é cliente responde 404.
    """
    client = client_or_404(client_id)
    today = utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()
    view = queries.client_page(db.session, client, today)
    return {
        **client_body(client),
        "address": view.address,
        "details": [{"label": label, "value": value} for label, value in view.details],
        "contacts": [_contact(c) for c in view.contacts],
        "contact_total": view.contact_total,
        "request_counts": [
            {"state": state.value, "label": state.label, "total": total}
            for state, total in view.request_counts
        ],
        "request_total": view.request_total,
    }
