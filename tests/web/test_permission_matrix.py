"""Every role × relation to a request × state × operation, against a table written here.

The table is independent of portal.requests.policy: it says, in the product's words, what each
person may do, and the test runs each operation through the same code the views call (the
services, get_visible_request, policy.can_download) on real requests in three states.
A = allowed, N = refused as 404 (the request is not theirs to see), R = refused with a message.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from werkzeug.datastructures import FileStorage

from portal.core import files
from portal.core.errors import ServiceError, http_status
from portal.core.extensions import db
from portal.models import ServiceRequest, User
from portal.requests import policy, queries, timeline
from portal.requests import services as request_service
from portal.requests.lifecycle import Action
from portal.requests.models import ENTRY_OWNER
from tests.files import pdf_bytes

STATES = ("open", "awaiting_user", "closed")
# Who, as (role, relation to the request).
ACTORS = {
    "opener": ("requester", "opened it"),
    "requested_for": ("requester", "it was opened for them"),
    "follower": ("requester", "follows it"),
    "same_org": ("requester", "same ente, no relation"),
    "other_org": ("requester", "another ente"),
    "agent": ("agent", "member of the request's group"),
    "other_agent": ("agent", "member of another group"),
    "admin": ("admin", "no group"),
}
STAFF = "AAA"
# operation -> actor -> outcome in (open, awaiting_user, closed)
EXPECTED: dict[str, dict[str, str]] = {
    "view": {
        "opener": "AAA", "requested_for": "AAA", "follower": "AAA",
        "same_org": "NNN", "other_org": "NNN",
        "agent": STAFF, "other_agent": STAFF, "admin": STAFF,
    },
    "message": {
        "opener": "AAR", "requested_for": "AAR", "follower": "AAR",
        "same_org": "NNN", "other_org": "NNN",
        "agent": "AAR", "other_agent": "AAR", "admin": "AAR",
    },
    "name_follower": {
        "opener": "AAA", "requested_for": "AAA", "follower": "AAA",
        "same_org": "NNN", "other_org": "NNN",
        "agent": STAFF, "other_agent": STAFF, "admin": STAFF,
    },
    "remove_other_follower": {
        "opener": "AAA", "requested_for": "RRR", "follower": "RRR",
        "same_org": "NNN", "other_org": "NNN",
        "agent": STAFF, "other_agent": STAFF, "admin": STAFF,
    },
    "leave": {
        "opener": "AAA", "requested_for": "AAA", "follower": "AAA",
        "same_org": "NNN", "other_org": "NNN",
        "agent": STAFF, "other_agent": STAFF, "admin": STAFF,
    },
    "download_public_file": {
        "opener": "AAA", "requested_for": "AAA", "follower": "AAA",
        "same_org": "NNN", "other_org": "NNN",
        "agent": STAFF, "other_agent": STAFF, "admin": STAFF,
    },
    "download_internal_file": {
        "opener": "NNN", "requested_for": "NNN", "follower": "NNN",
        "same_org": "NNN", "other_org": "NNN",
        "agent": STAFF, "other_agent": STAFF, "admin": STAFF,
    },
    "note": {
        "opener": "NNN", "requested_for": "NNN", "follower": "NNN",
        "same_org": "NNN", "other_org": "NNN",
        "agent": STAFF, "other_agent": STAFF, "admin": STAFF,
    },
    "assign_to_self": {
        "opener": "NNN", "requested_for": "NNN", "follower": "NNN",
        "same_org": "NNN", "other_org": "NNN",
        "agent": "AAR", "other_agent": "AAR", "admin": "AAR",
    },
    "accept_solution": {
        "opener": "RAR", "requested_for": "RAR", "follower": "RRR",
        "same_org": "NNN", "other_org": "NNN",
        "agent": "RRR", "other_agent": "RRR", "admin": "RRR",
    },
    "start_work": {
        "opener": "RRR", "requested_for": "RRR", "follower": "RRR",
        "same_org": "NNN", "other_org": "NNN",
        "agent": "ARR", "other_agent": "ARR", "admin": "ARR",
    },
}  # fmt: skip


class _NotVisible(ServiceError):
    """What the views answer with 404 (abort) when the request or file is not the viewer's."""

    status = 404


@dataclass
class World:
    people: dict[str, User]
    second_follower: User
    colleague: User
    requests: dict[str, ServiceRequest]
    public_file: dict[str, int]
    internal_file: dict[str, int]


def _attach(author: User, entry_id: int) -> int:
    staged, _ = files.stage_files(
        db.session, author, [FileStorage(io.BytesIO(pdf_bytes()), "a.pdf")]
    )
    [attachment] = files.attach(db.session, ENTRY_OWNER, entry_id, staged)
    return attachment.id


@pytest.fixture
def world(make_org, make_user, make_request) -> World:
    home, elsewhere = make_org(name="Salvador"), make_org(name="Recife")
    people = {
        "opener": make_user("Otávio Abre", organisation=home),
        "requested_for": make_user("Rita Para", organisation=home),
        "follower": make_user("Fábio Segue", organisation=home),
        "same_org": make_user("Sara Mesmo Ente", organisation=home),
        "other_org": make_user("Xavier Fora", organisation=elsewhere),
        "agent": make_user("Ana Atende", role="agent", groups=["Suporte GERID"]),
        "other_agent": make_user("Hugo Outro", role="agent", groups=["Suporte CadÚnico"]),
        "admin": make_user("Dora Admin", role="admin"),
    }
    second = make_user("Gina Segue Também", organisation=home)
    colleague = make_user("Caio Colega", organisation=home)
    agent = people["agent"]
    made: dict[str, ServiceRequest] = {}
    public: dict[str, int] = {}
    internal: dict[str, int] = {}
    for state in STATES:
        req = make_request(
            people["opener"],
            requested_for=people["requested_for"],
            followers=[people["follower"], second],
        )
        created = timeline.timeline(db.session, req, include_internal=True, attachments=[])[-1]
        public[state] = _attach(people["opener"], created.id)
        note = request_service.add_note(db.session, req, agent, "interna", public=False)
        internal[state] = _attach(agent, note.id)
        if state != "open":
            request_service.fire(db.session, req, Action.START, actor=agent)
            request_service.fire(db.session, req, Action.RESOLVE, actor=agent, reason="Feito")
        if state == "closed":
            request_service.fire(db.session, req, Action.ACCEPT, actor=people["opener"])
        db.session.commit()
        made[state] = req
    return World(people, second, colleague, made, public, internal)


def _operations(w: World, state: str) -> dict[str, Callable[[User], object]]:
    number = w.requests[state].number

    def req(actor: User) -> ServiceRequest:
        # As the views do: the request loaded for the actor, its followers with it.
        found = queries.get_visible_request(db.session, actor, number)
        return found if found is not None else db.session.get(ServiceRequest, w.requests[state].id)

    def view(actor: User) -> object:
        if queries.get_visible_request(db.session, actor, number) is None:
            raise _NotVisible("não encontrada")
        return True

    def download(file_id: int) -> Callable[[User], object]:
        def run(actor: User) -> object:
            found = queries.get_visible_request(db.session, actor, number)
            row = None if found is None else timeline.file_of(db.session, found, file_id)
            if row is None or not policy.can_download(actor, found, entry_public=row[1]):
                raise _NotVisible("não encontrada")
            return row[0]

        return run

    return {
        "view": view,
        "message": lambda a: request_service.add_message(db.session, req(a), a, "Olá", []),
        "name_follower": lambda a: request_service.add_follower(db.session, req(a), a, w.colleague),
        "remove_other_follower": lambda a: request_service.remove_follower(
            db.session, req(a), a, w.second_follower.id
        ),
        "leave": lambda a: request_service.remove_follower(db.session, req(a), a, a.id),
        "download_public_file": download(w.public_file[state]),
        "download_internal_file": download(w.internal_file[state]),
        "note": lambda a: request_service.add_note(db.session, req(a), a, "Nota", public=True),
        "assign_to_self": lambda a: request_service.assign(
            db.session, req(a), a, assignee=a, group=None
        ),
        "accept_solution": lambda a: request_service.fire(
            db.session, req(a), Action.ACCEPT, actor=a
        ),
        "start_work": lambda a: request_service.fire(db.session, req(a), Action.START, actor=a),
    }


def _outcome(operation: Callable[[User], object], actor: User) -> str:
    try:
        operation(actor)
    except ServiceError as exc:
        return "N" if http_status(exc) == 404 else "R"
    finally:
        db.session.rollback()  # every case starts from the same committed world
    return "A"


def test_the_table_names_every_actor_for_every_operation() -> None:
    for operation, row in EXPECTED.items():
        assert set(row) == set(ACTORS), operation
        assert all(len(cells) == len(STATES) for cells in row.values()), operation


def test_every_role_relation_state_and_operation(world: World) -> None:
    differences = []
    for state_index, state in enumerate(STATES):
        operations = _operations(world, state)
        assert set(operations) == set(EXPECTED)
        for name, operation in operations.items():
            for who in ACTORS:
                actor = db.session.get(User, world.people[who].id)
                assert actor is not None
                got = _outcome(operation, actor)
                wanted = EXPECTED[name][who][state_index]
                if got != wanted:
                    differences.append(f"{name} by {who} on {state}: {got}, expected {wanted}")
    assert differences == []
