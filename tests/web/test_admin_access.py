"""Every Administração URL, walked from the app's own URL map: requesters and agents get 404
(the pages do not exist for them), anonymous visitors are sent to sign in, and an admin's
POST without a CSRF token is refused and changes nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.routing import Rule

from portal.core.extensions import db
from portal.models import AuditEntry, User
from tests.conftest import AuthActions

# Every section the issue names; the walk fails if one of them has no URL at all.
SECTIONS = {
    "admin",
    "admin_catalog",
    "admin_forms",
    "admin_groups",
    "admin_users",
    "admin_announcements",
    "admin_audit",
}


def _admin_rules(app: Flask) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin")]


def _url(rule: Rule, object_id: int = 1) -> str:
    """The rule with every argument filled: numbers get an id, anything else a word."""
    return re.sub(
        r"<(?:(\w+):)?(\w+)>",
        lambda m: str(object_id) if m.group(1) == "int" else "x",
        rule.rule,
    )


def _calls(app: Flask) -> Iterator[tuple[str, str]]:
    for rule in _admin_rules(app):
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            yield method, _url(rule)


def test_every_section_has_pages(app: Flask) -> None:
    blueprints = {r.endpoint.split(".")[0] for r in _admin_rules(app)}
    assert blueprints >= SECTIONS
    # and every admin page lives under /admin (no section escaped the prefix)
    outside = [
        r.rule
        for r in app.url_map.iter_rules()
        if r.endpoint.split(".")[0] in SECTIONS and not r.rule.startswith("/admin")
    ]
    assert outside == []


@pytest.mark.parametrize("role", ["requester", "agent"])
def test_non_admins_get_404_everywhere(app: Flask, auth: AuthActions, make_user, role: str) -> None:
    user = make_user(role=role)
    db.session.commit()
    auth.login(user)
    token = auth.csrf("/perfil")
    calls = list(_calls(app))
    assert len(calls) > 20
    for method, url in calls:
        if method == "GET":
            response = auth.client.get(url)
        else:
            response = auth.client.post(url, data={"csrf_token": token})
        assert response.status_code == 404, (method, url, response.status_code)


def test_anonymous_visitors_are_sent_to_sign_in(app: Flask, client) -> None:
    for method, url in _calls(app):
        response = client.get(url) if method == "GET" else client.post(url)
        if method == "POST" and response.status_code == 400:
            continue  # refused by CSRF before anything else: nothing to see either
        assert response.status_code == 302, (method, url, response.status_code)
        assert "/login" in response.headers["Location"], (method, url)


def test_admin_posts_without_csrf_are_refused(app: Flask, auth: AuthActions, make_user) -> None:
    admin = make_user(role="admin")
    db.session.commit()
    auth.login(admin)
    entries_before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    posts = [url for method, url in _calls(app) if method == "POST"]
    assert len(posts) > 10
    for url in posts:
        response = auth.client.post(url, data={"name": "Sem CSRF"})
        assert response.status_code == 400, (url, response.status_code)
        assert "Sua sessão de formulário expirou" in response.get_data(as_text=True), url
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == entries_before
    assert db.session.get(User, admin.id) is not None
