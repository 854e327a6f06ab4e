"""Everything the request page shows, for one viewer, decided here and not in the template.

The template receives answers (which actions, which forms, who may be removed, when the request
closes by itself) computed from the policy and the state machine; it never compares a state
or a role itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app

from portal.accounts import queries as people
from portal.accounts.models import User
from portal.catalog import versions
from portal.clients import occurrence_queries
from portal.clients import policy as clients_policy
from portal.core import files
from portal.core.database import DbSession
from portal.core.models import PendingUpload
from portal.core.timeutil import format_datetime, utcnow
from portal.knowledge import policy as knowledge_policy
from portal.requests import lifecycle, policy, timeline
from portal.requests.lifecycle import Action, State
from portal.requests.models import ServiceRequest

# A request resolved (awaiting the requester) or closed after it: it has a solution to reuse.
HAS_SOLUTION = frozenset({State.AWAITING_USER, State.CLOSED})


@dataclass(frozen=True)
class ActionButton:
    """One state-machine action the viewer may fire now, as the Ações card offers it."""

    value: str
    label: str
    reason_label: str | None
    reason_required: bool
    primary: bool


def action_buttons(viewer: User, req: ServiceRequest) -> list[ActionButton]:
    allowed = lifecycle.allowed_actions(req.snapshot(), policy.roles_on(viewer, req))
    return [
        ActionButton(
            value=action.value,
            label=action.label,
            reason_label=lifecycle.reason_label(action),
            reason_required=lifecycle.requires_reason(action),
            primary=action is Action.ACCEPT,
        )
        for action in allowed
    ]


def answers(req: ServiceRequest) -> list[tuple[str, str]]:
    """Every answer with its label as the form read when the request was opened (its
    FormVersion), so renaming or removing a field later changes nothing here. An answer the
    version does not name (or a request without a version) still shows, under its key."""
    return [(label, value) for _, label, value in keyed_answers(req)]


def keyed_answers(req: ServiceRequest) -> list[tuple[str, str, str]]:
    """`answers` with each field's key first (key, label, value), for the API."""
    values = req.field_values or {}
    specs = versions.version_specs(req.form_version)
    named = {s.key for s in specs}
    shown = [
        (s.key, s.label, str(values[s.key])) for s in specs if values.get(s.key) not in (None, "")
    ]
    shown += [(k, k, str(v)) for k, v in values.items() if k not in named and v not in (None, "")]
    return shown


def closes_at(req: ServiceRequest) -> datetime | None:
    return lifecycle.closes_at(req.snapshot(), current_app.config["AUTO_CLOSE_DAYS"])


def request_page(
    session: DbSession,
    viewer: User,
    req: ServiceRequest,
    *,
    people_query: str = "",
    message_error: str | None = None,
    message_body: str = "",
    message_files_error: str | None = None,
    message_pending: Sequence[PendingUpload] = (),
    note: dict[str, str] | None = None,
    note_error: str | None = None,
) -> dict[str, Any]:
    """The template context of the request page (requests/show.html)."""
    staff = policy.sees_internal(viewer)
    works = policy.can_work(viewer)
    open_ = not req.is_final
    follower_ids = {f.user_id for f in req.followers}
    people_query = people_query if staff else ""
    pool = (
        people.find_people(session, people_query) if staff else people.colleagues(session, viewer)
    )
    candidates = [p for p in pool if p.id not in follower_ids and not policy.is_requester(p, req)]
    attachments = timeline.attachments_of(session, req, include_internal=staff)
    entries = timeline.timeline(session, req, include_internal=staff, attachments=attachments)
    return {
        "req": req,
        "answers": answers(req),
        "entries": entries,
        "staff": staff,
        "attachments": attachments,
        "actions": action_buttons(viewer, req),
        "closes_at": closes_at(req),
        # The notice speaks to the requester side, or about them to staff.
        "closes_notice_for_requester": policy.is_requester(viewer, req) or not staff,
        "accepts_messages": open_,
        "message_error": message_error,
        "message_body": message_body,
        # Files refused (named) and files already accepted, kept by token for the next try.
        "message_files_error": message_files_error,
        "message_pending": message_pending,
        "accept": files.ACCEPT_ATTRIBUTE,
        # Staff panels: notes, assignment, Histórico.
        "shows_work_forms": works and open_,
        # "Criar artigo a partir desta solicitação": once it has a solution (resolved, closed).
        "offers_article": knowledge_policy.can_write(viewer) and req.state_enum in HAS_SOLUTION,
        # "Inserir artigo": staff find an article and put its link in a message or solution.
        "inserts_articles": works and open_,
        "can_take": works and open_ and req.assignee_id != viewer.id,
        "agents": people.staff_members(session) if staff else [],
        "groups": people.support_groups(session) if staff else [],
        "time_spent": sum(e.time_spent_minutes or 0 for e in entries) if staff else 0,
        "note": note or {},
        "note_error": note_error,
        "now_local": format_datetime(utcnow(), current_app.config["TIMEZONE"]),
        # Followers.
        "removable_followers": {
            uid for uid in follower_ids if policy.can_remove_follower(viewer, req, uid)
        },
        "searches_people": staff and open_,
        "people_query": people_query,
        "candidates": candidates if open_ else [],
        # Occurrences that cite this request: staff only, never the requester side.
        "citing_occurrences": (
            occurrence_queries.citing(session, req.id)
            if clients_policy.can_see_clients(viewer)
            else []
        ),
    }
