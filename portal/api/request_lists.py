"""Requests through the API: the lists (mine, following) and the agents' queue, by cursor.

Who sees what is the requests area's: the personal lists read request_parties
(`queries.party_ids`) in the order of their index, the queue is `queue.queue_ids` with the
page's filters, in its own order. A cursor is the last row's (opened_at, id), so a request
opened between two pages shifts neither, and every value its pattern admits is a position.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint
from sqlalchemy import Integer, literal, select, tuple_
from sqlalchemy.orm import joinedload

from portal.accounts.models import User
from portal.api import auth
from portal.api.catalog import ListArgs
from portal.api.fields import ID_MAX, id_field, next_link
from portal.api.problems import documented_errors, problem
from portal.api.requests import SR, STATES, RequestPageSchema, bp, summary
from portal.catalog.models import CatalogItem
from portal.core.extensions import db
from portal.core.timeutil import as_utc
from portal.requests import policy, queries
from portal.requests import queue as queue_queries
from portal.requests.models import PartyRelation, RequestParty, ServiceRequest

queue_bp = Blueprint(
    "api_queue", __name__, url_prefix="/api/v1/queue", description="Fila de Atendimento"
)
auth.protect(queue_bp)

# The API's names for the queue's "Atribuídas" filter (queue.QueueFilters.assigned).
ASSIGNED = {"me": "eu", "nobody": "ninguem", "any": "qualquer"}
# A position in a newest-first list: when the last request listed was opened (microseconds
# since 1970, UTC) and its id, the order the pages and their indexes keep. Every value the
# pattern admits is a position, so no cursor is "forged".
REQUEST_CURSOR = r"^[0-9]{1,16}-[0-9]{1,10}$"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


SEARCH_TEXT = ma.validate.Length(max=100, error="Use no máximo 100 caracteres.")


class RequestPageArgs(ListArgs):
    cursor = ma.fields.String(
        validate=ma.validate.Regexp(
            REQUEST_CURSOR, error="Cursor inválido: use o next_cursor da página anterior."
        ),
        metadata={"description": "O next_cursor da página anterior"},
    )


class RequestListArgs(RequestPageArgs):
    scope = ma.fields.String(
        load_default="mine",
        validate=ma.validate.OneOf(["mine", "following"], error="Use mine ou following."),
        metadata={"description": "mine (Minhas Solicitações) ou following (acompanhadas)"},
    )
    state = ma.fields.String(
        validate=ma.validate.OneOf([*STATES, "all"], error="Estado desconhecido."),
        metadata={"description": "Um estado; sem ele ou all: todos"},
    )
    number = ma.fields.String(
        validate=ma.validate.Length(max=20, error="Use no máximo 20 caracteres."),
        metadata={"description": "O número, ou parte dele"},
    )


class QueueArgs(RequestPageArgs):
    """The Fila de Atendimento's filters (queue.QueueFilters), in the API's names."""

    state = ma.fields.String(
        validate=ma.validate.OneOf([*STATES, "all"], error="Estado desconhecido."),
        metadata={"description": "Um estado; sem ele: os ativos; all: todos"},
    )
    group = id_field("Informe o id de um grupo.", metadata={"description": "Id do grupo"})
    assigned = ma.fields.String(
        load_default="any",
        validate=ma.validate.OneOf(list(ASSIGNED), error="Use me, nobody ou any."),
        metadata={"description": "me, nobody ou any"},
    )
    item = ma.fields.String(
        validate=ma.validate.Length(max=100, error="Use no máximo 100 caracteres."),
        metadata={"description": "Slug do serviço (um slug que não existe não traz nenhuma)"},
    )
    organisation = ma.fields.String(
        validate=SEARCH_TEXT, metadata={"description": "Nome do ente, ou parte dele"}
    )
    client = id_field("Informe o id de um ente.", metadata={"description": "Id do ente"})
    text = ma.fields.String(
        validate=SEARCH_TEXT,
        metadata={"description": "Número ou palavras da descrição e das mensagens"},
    )


def _queue_filters(args: dict[str, Any]) -> queue_queries.QueueFilters:
    item_id = None
    if args.get("item"):
        found = db.session.scalar(select(CatalogItem.id).where(CatalogItem.slug == args["item"]))
        item_id = found if found is not None else -1  # no such service: no request matches
    state = args.get("state", "")
    return queue_queries.QueueFilters(
        state="todos" if state == "all" else state,
        group_id=args.get("group"),
        assigned=ASSIGNED[args["assigned"]],
        item_id=item_id,
        organisation=args.get("organisation", ""),
        client_id=args.get("client"),
        text=args.get("text", ""),
    )


def request_cursor(req: ServiceRequest) -> str:
    return f"{(as_utc(req.opened_at) - EPOCH) // MICROSECOND}-{req.id}"


def decode_request_cursor(cursor: str) -> tuple[datetime, int]:
    opened, _, last_id = cursor.partition("-")
    return EPOCH + int(opened) * MICROSECOND, min(int(last_id), ID_MAX)


def _before(opened_at: Any, key: Any, cursor: str) -> Any:
    """Rows after the cursor in newest-first order: (opened_at, id) below the cursor's, as
    one row comparison, which both databases read as a range of the list's index."""
    at, last_id = decode_request_cursor(cursor)
    return tuple_(opened_at, key) < tuple_(literal(at, opened_at.type), literal(last_id, Integer))


def _page(ids: Any, args: dict[str, Any], endpoint: str) -> Any:
    """One page of the requests `ids` selects, already filtered after the cursor and ordered."""
    limit = args["limit"]
    page_ids = list(db.session.scalars(ids.limit(limit + 1)))
    more = len(page_ids) > limit
    rows = queries.rows_by_id(
        db.session,
        page_ids[:limit],
        joinedload(SR.item),
        joinedload(SR.requested_for).lazyload(User.organisation),
    )
    next_cursor = request_cursor(rows[-1]) if more and rows else None
    body = {"requests": [summary(r) for r in rows], "next_cursor": next_cursor}
    return body, 200, next_link(endpoint, next_cursor, args)


@bp.get("")
@bp.arguments(RequestListArgs, location="query")
@bp.response(200, RequestPageSchema)
@documented_errors(bp, 401, 422, 429)
def index(args: dict[str, Any]) -> Any:
    """Solicitações

    `scope=mine`: as solicitações abertas por você ou para você (Minhas Solicitações);
    `following`: as que você acompanha. Mais novas primeiro; pagine com `cursor` (o
    `next_cursor`, também no cabeçalho `Link: rel="next"`): uma solicitação aberta entre duas
    páginas não desloca nenhuma delas. A fila dos atendentes está em `/api/v1/queue`.
    """
    state = args.get("state", "")
    ids = queries.party_ids(
        auth.api_user(),
        PartyRelation(args["scope"]),
        number=args.get("number", ""),
        state="" if state == "all" else state,
    )
    P = RequestParty  # noqa: N806
    if args.get("cursor"):
        ids = ids.where(_before(P.opened_at, P.request_id, args["cursor"]))
    # The order of ix_request_parties_list, as Minhas Solicitações reads it.
    return _page(ids.order_by(P.opened_at.desc(), P.request_id.desc()), args, ".index")


@queue_bp.get("")
@queue_bp.arguments(QueueArgs, location="query")
@queue_bp.response(200, RequestPageSchema)
@documented_errors(queue_bp, 401, 403, 422, 429)
def queue(args: dict[str, Any]) -> Any:
    """Fila de Atendimento

    A fila dos seus grupos (de todos, para administradores), com os filtros da página:
    estado (sem ele, os ativos), grupo, atribuição, serviço, ente e texto. Só atendentes
    (403 `apenas_atendentes`). Mais novas primeiro, paginada por `cursor` como as demais.
    """
    me = auth.api_user()
    if not policy.can_work(me):
        return problem(
            403, code="apenas_atendentes", detail="A fila de atendimento é só de atendentes."
        )
    filters = _queue_filters(args)
    # The queue's own ids in its own order (its groups, its filters, its indexes).
    ids = queue_queries.queue_ids(db.session, me, filters)
    if args.get("cursor"):
        if queue_queries.searches_text(filters):  # newest matches first: by id alone
            ids = ids.where(SR.id < decode_request_cursor(args["cursor"])[1])
        else:
            ids = ids.where(_before(SR.opened_at, SR.id, args["cursor"]))
    return _page(ids, args, ".queue")
