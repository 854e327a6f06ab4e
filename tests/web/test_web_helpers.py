"""The role gates every area's views use: staff_required and admin_required answer 404 to
anyone else (and send the signed-out to the login page)."""

from __future__ import annotations

from typing import Any

from portal.core.web import admin_required, staff_required
from tests.conftest import AuthActions, make_app


def test_role_gates_answer_404_to_everyone_else(app_config: dict[str, Any], make_user) -> None:
    gated = make_app(app_config)
    gated.add_url_rule("/so-atendimento", "staff_only", staff_required(lambda: "atendimento"))
    gated.add_url_rule("/so-admin", "admin_only", admin_required(lambda: "administração"))
    people = {
        role: make_user(f"Pessoa {role}", role=role) for role in ("requester", "agent", "admin")
    }
    expected = {
        "requester": {"/so-atendimento": 404, "/so-admin": 404},
        "agent": {"/so-atendimento": 200, "/so-admin": 404},
        "admin": {"/so-atendimento": 200, "/so-admin": 200},
    }
    anonymous = gated.test_client()
    assert anonymous.get("/so-admin").status_code == 302
    for role, user in people.items():
        auth = AuthActions(gated.test_client())
        auth.login(user)
        got = {path: auth.client.get(path).status_code for path in expected[role]}
        assert got == expected[role], role
