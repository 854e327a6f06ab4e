"""Requests through the API, read side: one request with its `version` and ETag, and its
timeline, plus the representations the other request modules share. The lists are in
request_lists.py, the writes in request_actions.py and request_files.py.

One request is `queries.get_visible_request` (404 for anyone else), its timeline
`timeline.timeline`, with internal notes for staff only, as on the page.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint

from portal.accounts.models import User
from portal.api import auth
from portal.api.problems import ERROR_CODES, documented_errors
from portal.core.errors import NotFound
from portal.core.extensions import db
from portal.requests import policy, presenter, queries, timeline
from portal.requests.lifecycle import ActionNotAllowed, State
from portal.requests.models import ServiceRequest, TimelineEntry
from portal.requests.timeline import KIND_LABELS, TimelineItem

bp = Blueprint("api_requests", __name__, url_prefix="/api/v1/requests", description="Solicitações")
auth.protect(bp)
ERROR_CODES[ActionNotAllowed] = "acao_nao_permitida"

SR = ServiceRequest
STATES = [s.value for s in State]

# ------------------------------------------------------------------ schemas


class UserRefSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class ItemRefSchema(ma.Schema):
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class GroupRefSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class RequestSummarySchema(ma.Schema):
    number = ma.fields.String(required=True, metadata={"description": "CS seguido de 7 dígitos"})
    state = ma.fields.String(required=True, metadata={"enum": STATES})
    state_label = ma.fields.String(required=True)
    item = ma.fields.Nested(ItemRefSchema, required=True)
    requested_for = ma.fields.Nested(UserRefSchema, required=True)
    opened_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)
    version = ma.fields.Integer(
        required=True, metadata={"description": "Muda a cada mudança da solicitação (ETag)"}
    )


class RequestPageSchema(ma.Schema):
    requests = ma.fields.List(ma.fields.Nested(RequestSummarySchema), required=True)
    next_cursor = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "null na última página"}
    )


class AnswerSchema(ma.Schema):
    key = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    value = ma.fields.String(required=True)


class AllowedActionSchema(ma.Schema):
    action = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    reason_label = ma.fields.String(required=True, allow_none=True)
    reason_required = ma.fields.Boolean(required=True)


class RequestSchema(RequestSummarySchema):
    description = ma.fields.String(required=True)
    answers = ma.fields.List(ma.fields.Nested(AnswerSchema), required=True)
    opened_by = ma.fields.Nested(UserRefSchema, required=True)
    followers = ma.fields.List(ma.fields.Nested(UserRefSchema), required=True)
    allowed_actions = ma.fields.List(
        ma.fields.Nested(AllowedActionSchema),
        required=True,
        metadata={"description": "As ações que este usuário pode executar agora"},
    )
    cancellation_requested = ma.fields.Boolean(required=True)
    resolved_at = ma.fields.DateTime(required=True, allow_none=True)
    closed_at = ma.fields.DateTime(required=True, allow_none=True)
    closes_at = ma.fields.DateTime(
        required=True,
        allow_none=True,
        metadata={"description": "Quando fecha sozinha se o solicitante não responder"},
    )
    group = ma.fields.Nested(
        GroupRefSchema, required=True, allow_none=True, metadata={"description": "Atendentes"}
    )
    assignee = ma.fields.Nested(
        UserRefSchema, required=True, allow_none=True, metadata={"description": "Atendentes"}
    )


class AttachmentRefSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    size = ma.fields.Integer(required=True)
    content_type = ma.fields.String(required=True)


class EntrySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True)
    kind_label = ma.fields.String(required=True)
    public = ma.fields.Boolean(required=True, metadata={"description": "false: nota interna"})
    body = ma.fields.String(required=True)
    author = ma.fields.String(required=True, allow_none=True, metadata={"description": "Nome"})
    action = ma.fields.String(required=True, allow_none=True)
    from_state = ma.fields.String(required=True, allow_none=True)
    to_state = ma.fields.String(required=True, allow_none=True)
    state_change = ma.fields.String(
        required=True, metadata={"description": "Como na página: “Aberto → Em andamento”, ou vazio"}
    )
    time_spent_minutes = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "Tempo gasto (notas)"}
    )
    occurred_at = ma.fields.DateTime(required=True)
    created_at = ma.fields.DateTime(required=True)
    attachments = ma.fields.List(ma.fields.Nested(AttachmentRefSchema), required=True)


class TimelineSchema(ma.Schema):
    entries = ma.fields.List(ma.fields.Nested(EntrySchema), required=True)


# ------------------------------------------------------------------ representations


def user_ref(user: User) -> dict[str, Any]:
    return {"id": user.id, "name": user.full_name}


def summary(req: ServiceRequest) -> dict[str, Any]:
    return {
        "number": req.number,
        "state": req.state,
        "state_label": req.state_label,
        "item": {"slug": req.item.slug, "name": req.item.name},
        "requested_for": user_ref(req.requested_for),
        "opened_at": req.opened_at,
        "updated_at": req.updated_at,
        "version": req.version,
    }


def detail(viewer: User, req: ServiceRequest) -> dict[str, Any]:
    """The request as `viewer` may see it (the page's answers, for the same viewer)."""
    staff = policy.sees_internal(viewer)
    return {
        **summary(req),
        "description": req.description,
        "answers": [
            {"key": key, "label": label, "value": value}
            for key, label, value in presenter.keyed_answers(req)
        ],
        "opened_by": user_ref(req.opened_by),
        "followers": [user_ref(f.user) for f in req.followers],
        "allowed_actions": [
            {
                "action": button.value,
                "label": button.label,
                "reason_label": button.reason_label,
                "reason_required": button.reason_required,
            }
            for button in presenter.action_buttons(viewer, req)
        ],
        "cancellation_requested": req.cancellation_requested,
        "resolved_at": req.resolved_at,
        "closed_at": req.closed_at,
        "closes_at": presenter.closes_at(req),
        # The assignment is for staff only, as on the page.
        "group": {"id": req.group.id, "name": req.group.name} if staff and req.group else None,
        "assignee": user_ref(req.assignee) if staff and req.assignee else None,
    }


def etag(req: ServiceRequest) -> str:
    return f'"{req.version}"'


def entry(item: TimelineItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "kind": item.kind.value,
        "kind_label": item.kind_label,
        "public": item.public,
        "body": item.body,
        "author": item.author.full_name if item.author else None,
        "action": item.action,
        "from_state": item.from_state,
        "to_state": item.to_state,
        "state_change": item.state_change,
        "time_spent_minutes": item.time_spent_minutes,
        "occurred_at": item.occurred_at,
        "created_at": item.created_at,
        "attachments": [
            {"id": a.id, "name": a.original_name, "size": a.size, "content_type": a.content_type}
            for a in item.attachments
        ],
    }


def message_entry(
    written: TimelineEntry, author: User, attachments: list[dict[str, Any]]
) -> dict[str, Any]:
    """A message just written, in `entry`'s shape (it is not a timeline row yet)."""
    return {
        "id": written.id,
        "kind": written.kind.value,
        "kind_label": KIND_LABELS.get(written.kind, ""),
        "public": written.public,
        "body": written.body,
        "author": author.full_name,
        "action": None,
        "from_state": None,
        "to_state": None,
        "state_change": "",
        "time_spent_minutes": None,
        "occurred_at": written.occurred_at,
        "created_at": written.created_at,
        "attachments": attachments,
    }


def visible(number: str) -> ServiceRequest:
    """The request as the token's user may see it; anyone else's is a 404 problem."""
    found = queries.get_visible_request(db.session, auth.api_user(), number)
    if found is None:
        raise NotFound()
    return found


# ------------------------------------------------------------------ views


@bp.get("/<number>")
@bp.response(200, RequestSchema, headers={"ETag": {"schema": {"type": "string"}}})
@documented_errors(bp, 401, 404, 429)
def show(number: str) -> Any:
    """Uma solicitação

    Com as respostas do formulário, quem abriu, para quem, os acompanhantes e as ações que
    você pode executar agora. `version` (também no cabeçalho `ETag`) muda a cada mudança: envie
    a ETag em `If-Match` ao executar uma ação. A solicitação de outra pessoa responde 404.
    """
    req = visible(number)
    return detail(auth.api_user(), req), 200, {"ETag": etag(req)}


@bp.get("/<number>/timeline")
@bp.response(200, TimelineSchema)
@documented_errors(bp, 401, 404, 429)
def request_timeline(number: str) -> dict[str, Any]:
    """A linha do tempo

    Mais novas primeiro, com os anexos de cada entrada; notas internas só para atendentes.
    """
    me = auth.api_user()
    req = visible(number)
    staff = policy.sees_internal(me)
    files = timeline.attachments_of(db.session, req, include_internal=staff)
    items = timeline.timeline(db.session, req, include_internal=staff, attachments=files)
    return {"entries": [entry(item) for item in items]}
