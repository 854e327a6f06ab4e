"""The sign-in history: a known user's sign-ins and failures, the newest 20 under Perfil >
Histórico de acessos, and any user's on the admins' page in Auditoria."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.accounts.history import record_sign_in
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.models import SignInEvent, User
from tests.conftest import PASSWORD, AuthActions

PAGE = "/perfil/acessos"
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"


def outcomes(user: User) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(SignInEvent.outcome)
            .where(SignInEvent.user_id == user.id)
            .order_by(SignInEvent.id)
        )
    )


def lines(html: str) -> list[str]:
    """The outcome of each line of the list, top to bottom."""
    return re.findall(r'class="audit-entry sign-in-line" data-outcome="([a-z_]+)"', html)


@pytest.fixture
def user(make_user: Callable[..., User]) -> User:
    return make_user("Felipe Rodrigues")


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user("Carla Administradora", role="admin")


def test_sign_ins_and_failures_are_recorded_with_their_outcome(
    client: FlaskClient, auth: AuthActions, user: User
) -> None:
    client.environ_base.update({"REMOTE_ADDR": "10.3.3.3", "HTTP_USER_AGENT": FIREFOX_LINUX})
    assert auth.login(user, "not-the-password").status_code == 401
    assert auth.login(user).status_code == 302
    assert outcomes(user) == ["wrong_password", "success"]
    event = db.session.scalars(select(SignInEvent).order_by(SignInEvent.id.desc())).first()
    assert event is not None
    assert (event.address, event.user_agent) == ("10.3.3.3", FIREFOX_LINUX)

    html = client.get(PAGE).get_data(as_text=True)
    assert lines(html) == ["success", "wrong_password"]  # newest first
    assert "Acesso realizado" in html and "Senha incorreta" in html
    assert "10.3.3.3" in html and "Firefox no Linux" in html
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d</time>", html)


def test_throttled_and_deactivated_attempts_are_recorded(
    client: FlaskClient, auth: AuthActions, user: User, make_user: Callable[..., User]
) -> None:
    for _ in range(5):
        auth.login(user, "not-the-password")
    assert auth.login(user).status_code == 429  # right password, but too many failures
    assert outcomes(user) == ["wrong_password"] * 5 + ["throttled"]

    gone = make_user("Roberto Matos")
    gone.active = False
    db.session.commit()
    client.environ_base["REMOTE_ADDR"] = "10.4.4.4"  # away from the throttled address
    assert auth.login(gone).status_code == 401
    assert auth.login(gone, "not-the-password").status_code == 401
    assert outcomes(gone) == ["inactive", "wrong_password"]


def test_an_unknown_cpf_records_nothing(auth: AuthActions, user: User) -> None:
    assert auth.login("111.444.777-35", "whatever-password").status_code == 401
    assert db.session.scalar(select(SignInEvent.id)) is None


def test_a_password_change_is_not_a_sign_in(auth: AuthActions, user: User) -> None:
    auth.login(user)
    new = "uma frase nova e longa 2026"
    data = {"current_password": PASSWORD, "password": new, "confirm": new}
    assert auth.post("/perfil/senha", data, page="/perfil").status_code == 302
    assert outcomes(user) == ["success"]


def test_the_user_sees_their_20_newest_only_and_nobody_elses(
    client: FlaskClient,
    auth: AuthActions,
    user: User,
    make_user: Callable[..., User],
    count_queries: Callable[[], Any],
) -> None:
    start = utcnow() - timedelta(days=30)
    other = make_user("Roberto Matos")
    for i in range(25):
        outcome = "wrong_password" if i % 2 else "success"
        record_sign_in(
            db.session,
            user,
            outcome,
            address=f"10.0.0.{i}",
            user_agent="",
            now=start + timedelta(hours=i),
        )
    record_sign_in(db.session, other, "success", address="10.9.9.9", user_agent="", now=start)
    db.session.commit()
    auth.login(user)  # the 26th, and the newest

    with count_queries() as seen:
        html = client.get(PAGE).get_data(as_text=True)
    assert len(lines(html)) == 20
    assert lines(html)[0] == "success"
    shown = re.findall(r"<dt>Endereço</dt><dd>([^<]+)</dd>", html)
    assert shown[1:] == [f"10.0.0.{i}" for i in range(24, 5, -1)]  # 24 .. 6, newest first
    assert "10.9.9.9" not in html
    history = [s for s in seen if "sign_in_events" in s]
    assert len(history) == 1 and "LIMIT" in history[0].upper()


def test_the_admin_sees_a_users_history_linked_from_their_page_and_the_audit(
    client: FlaskClient, auth: AuthActions, user: User, admin: User
) -> None:
    record_sign_in(db.session, user, "wrong_code", address="10.6.6.6", user_agent="")
    record_sign_in(db.session, user, "recovery_code", address="10.6.6.6", user_agent="")
    db.session.commit()
    auth.login(admin)
    page = f"/admin/auditoria/acessos/{user.id}"
    # Linked from the admin's page of the user and from the audit filtered by that person.
    user_page = client.get(f"/admin/usuarios/{user.id}").get_data(as_text=True)
    assert f'href="{page}"' in user_page
    audit = client.get(f"/admin/auditoria?quem={user.id}").get_data(as_text=True)
    assert f'href="{page}"' in audit
    html = client.get(page).get_data(as_text=True)
    assert "Histórico de acessos de Felipe Rodrigues" in html
    assert lines(html) == ["recovery_code", "wrong_code"]
    assert "Código de recuperação usado" in html and "Código incorreto" in html


@pytest.mark.parametrize("role", ["requester", "agent"])
def test_the_admin_page_is_404_for_everyone_else(
    client: FlaskClient, auth: AuthActions, user: User, make_user: Callable[..., User], role: str
) -> None:
    record_sign_in(db.session, user, "success", address="10.6.6.6", user_agent="")
    db.session.commit()
    auth.login(make_user("Ana Outra", role=role, groups=["Suporte"] if role == "agent" else []))
    response = client.get(f"/admin/auditoria/acessos/{user.id}")
    assert response.status_code == 404
    assert "10.6.6.6" not in response.get_data(as_text=True)


def test_a_hostile_user_agent_is_shown_as_text(
    client: FlaskClient, auth: AuthActions, user: User
) -> None:
    client.environ_base["HTTP_USER_AGENT"] = '"><svg onload=alert(1)>'
    auth.login(user)
    html = client.get(PAGE).get_data(as_text=True)
    assert "<svg onload" not in html and "&lt;svg onload=alert(1)&gt;" in html


def test_an_unknown_outcome_is_refused(user: User) -> None:
    with pytest.raises(ValueError, match="unknown sign-in outcome"):
        record_sign_in(db.session, user, "maybe", address="", user_agent="")
