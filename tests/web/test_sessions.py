"""Perfil > Sessões ativas: each signed-in browser is a row; ending one signs that browser out
at its next request on every worker, and every path that must end sessions ends the rows."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.accounts import admin as admin_services
from portal.accounts import reset
from portal.accounts import services as accounts
from portal.accounts.devices import describe
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.models import User, UserSession
from tests.conftest import PASSWORD, SETUP, AuthActions, make_app

PAGE = "/perfil/sessoes"
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
NEW_PASSWORD = "uma frase nova e longa 2026"


def browser(
    app_config: dict[str, Any], address: str = "127.0.0.1", agent: str = CHROME_WINDOWS
) -> AuthActions:
    """Another browser: its own cookie jar, address and User-Agent (on a worker of its own)."""
    client = make_app(app_config).test_client()
    client.environ_base.update({"REMOTE_ADDR": address, "HTTP_USER_AGENT": agent})
    return AuthActions(client)


def signed_in(client: FlaskClient) -> bool:
    """Whether a signed-in page answers this browser (instead of sending it to /login)."""
    response = client.get("/perfil")
    return response.status_code == 200


def open_rows(user: User) -> list[UserSession]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(UserSession).where(
                UserSession.user_id == user.id, UserSession.ended_at.is_(None)
            )
        )
    )


def session_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'id="sessao-(\d+)"', html)]


def current_id(html: str) -> int:
    match = re.search(r'id="sessao-(\d+)">\s*<h2[^>]*>.*?Esta sessão', html, re.S)
    assert match, "no session marked Esta sessão"
    return int(match.group(1))


@pytest.fixture
def user(make_user: Callable[..., User]) -> User:
    return make_user("Felipe Rodrigues")


def test_the_list_shows_my_open_sessions_with_device_and_address(
    app_config: dict[str, Any], user: User, make_user: Callable[..., User]
) -> None:
    office = browser(app_config, "10.1.1.1", CHROME_WINDOWS)
    home = browser(app_config, "10.2.2.2", FIREFOX_LINUX)
    stranger = browser(app_config, "10.9.9.9", SAFARI_IPHONE)
    assert office.login(user).status_code == 302
    assert home.login(user).status_code == 302
    assert stranger.login(make_user("Roberto Matos")).status_code == 302

    html = office.client.get(PAGE).get_data(as_text=True)
    assert len(session_ids(html)) == 2
    assert "Chrome no Windows" in html and "10.1.1.1" in html
    assert "Firefox no Linux" in html and "10.2.2.2" in html
    assert FIREFOX_LINUX in html  # the full header, for the curious
    assert "Safari no iOS" not in html and "10.9.9.9" not in html  # nobody else's
    assert html.count("Esta sessão") == 1
    mine = {row.id: row for row in open_rows(user)}
    assert mine[current_id(html)].address == "10.1.1.1"
    # Start and last use, as dd/mm/aaaa hh:mm:ss, with the relative time.
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d</time> \(agora mesmo\)", html)
    assert html.count("Encerrar</button>") == 1  # the other one; this one signs out instead
    assert "Encerrar todas as outras" in html


def test_ending_another_persons_session_is_404_and_ends_nothing(
    app_config: dict[str, Any], user: User, make_user: Callable[..., User]
) -> None:
    mine = browser(app_config)
    theirs = browser(app_config, "10.9.9.9")
    other = make_user("Roberto Matos")
    mine.login(user)
    theirs.login(other)
    (their_row,) = open_rows(other)
    response = mine.post(f"{PAGE}/{their_row.id}/encerrar", page=PAGE)
    assert response.status_code == 404
    assert [row.id for row in open_rows(other)] == [their_row.id]
    assert signed_in(theirs.client)
    # An id that never existed answers the same.
    assert mine.post(f"{PAGE}/{their_row.id + 1000}/encerrar", page=PAGE).status_code == 404


def test_one_browser_ends_another_which_is_refused_at_once_on_every_worker(
    app: Flask, app_config: dict[str, Any], user: User
) -> None:
    """Two browsers of the same user (A and B) and a second app instance over the same
    database and SECRET_KEY, standing for another gunicorn worker."""
    a = browser(app_config, "10.1.1.1", FIREFOX_LINUX)
    b = browser(app_config, "10.2.2.2", CHROME_WINDOWS)
    a.login(user)
    b.login(user)
    other_worker = make_app(app_config).test_client()
    cookie = a.client.get_cookie("portal_session")
    assert cookie is not None
    other_worker.set_cookie("portal_session", cookie.value)
    assert signed_in(other_worker)  # A's cookie is good on the other worker too

    html = b.client.get(PAGE).get_data(as_text=True)
    (a_id,) = [i for i in session_ids(html) if i != current_id(html)]
    response = b.post(f"{PAGE}/{a_id}/encerrar", page=PAGE, follow_redirects=True)
    assert "Sessão encerrada" in response.get_data(as_text=True)

    refused = a.client.get("/perfil")
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/login")
    refused = other_worker.get("/perfil")
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/login")
    assert signed_in(b.client)
    assert session_ids(b.client.get(PAGE).get_data(as_text=True)) == [current_id(html)]


def test_ending_this_browsers_own_session_signs_it_out(
    app_config: dict[str, Any], user: User
) -> None:
    me = browser(app_config)
    me.login(user)
    (row,) = open_rows(user)
    response = me.post(f"{PAGE}/{row.id}/encerrar", page=PAGE)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert open_rows(user) == []
    assert not signed_in(me.client)


def test_end_all_others_keeps_this_one_and_says_how_many(
    app_config: dict[str, Any], user: User
) -> None:
    here, *others = [browser(app_config, f"10.0.0.{i}") for i in range(3)]
    for each in (here, *others):
        each.login(user)
    response = here.post(f"{PAGE}/encerrar-outras", page=PAGE, follow_redirects=True)
    assert "2 outras sessões foram encerradas." in response.get_data(as_text=True)
    assert [row.address for row in open_rows(user)] == ["10.0.0.0"]
    assert signed_in(here.client)
    assert not any(signed_in(each.client) for each in others)
    again = here.post(f"{PAGE}/encerrar-outras", page=PAGE, follow_redirects=True)
    assert "Não havia outras sessões ativas." in again.get_data(as_text=True)


def test_logout_ends_the_row_and_the_list_no_longer_shows_it(
    app_config: dict[str, Any], user: User
) -> None:
    staying, leaving = browser(app_config, "10.1.1.1"), browser(app_config, "10.2.2.2")
    staying.login(user)
    leaving.login(user)
    assert len(open_rows(user)) == 2
    leaving.logout()
    assert [row.address for row in open_rows(user)] == ["10.1.1.1"]
    html = staying.client.get(PAGE).get_data(as_text=True)
    assert "10.2.2.2" not in html and len(session_ids(html)) == 1


def test_a_password_change_ends_the_others_and_keeps_this_browser(
    app_config: dict[str, Any], user: User
) -> None:
    here, elsewhere = browser(app_config, "10.1.1.1"), browser(app_config, "10.2.2.2")
    here.login(user)
    elsewhere.login(user)
    data = {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    response = here.post("/perfil/senha", data, page="/perfil")
    assert response.status_code == 302
    assert signed_in(here.client)
    assert not signed_in(elsewhere.client)
    (row,) = open_rows(user)  # this browser's new row only
    assert row.address == "10.1.1.1"
    html = here.client.get(PAGE).get_data(as_text=True)
    assert session_ids(html) == [row.id] and current_id(html) == row.id


def test_deactivation_ends_every_row(app_config: dict[str, Any], user: User) -> None:
    browsers = [browser(app_config, f"10.0.0.{i}") for i in range(2)]
    for each in browsers:
        each.login(user)
    # The admin page's Desativar calls this service (its page is tested in test_admin_users).
    admin_services.deactivate(db.session, SETUP, db.session.get(User, user.id))
    db.session.commit()
    assert open_rows(user) == []
    assert not any(signed_in(each.client) for each in browsers)


def test_a_password_reset_ends_every_row(app_config: dict[str, Any], user: User) -> None:
    me = browser(app_config)
    me.login(user)
    link = reset._issue_reset_link(db.session, user, timedelta(hours=1), utcnow())
    db.session.commit()
    token = link.rsplit("/", 1)[1]
    stranger = browser(app_config, "10.7.7.7")
    data = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    response = stranger.post(f"/redefinir-senha/{token}", data)
    assert response.status_code == 302
    assert open_rows(user) == []
    assert not signed_in(me.client)


def test_an_admin_setting_a_password_ends_every_row(
    app: Flask, app_config: dict[str, Any], user: User
) -> None:
    me = browser(app_config)
    me.login(user)
    accounts.set_password(db.session, SETUP, db.session.get(User, user.id), NEW_PASSWORD)
    db.session.commit()
    assert open_rows(user) == []
    assert not signed_in(me.client)


def test_ending_sessions_is_not_possible_for_the_system_or_someone_else(
    app: Flask, user: User, make_user: Callable[..., User], app_config: dict[str, Any]
) -> None:
    """The service, not only the view, refuses: another person's id is NotFound."""
    from portal.accounts import sessions as user_sessions
    from portal.core.errors import NotFound

    browser(app_config).login(user)
    (row,) = open_rows(user)
    intruder = make_user("Roberto Matos")
    for actor in (intruder, SETUP):
        with pytest.raises(NotFound):
            user_sessions.end_one(db.session, actor, row.id, "")
    db.session.rollback()
    assert len(open_rows(user)) == 1


def test_the_list_costs_the_same_for_one_session_or_six(
    app_config: dict[str, Any], user: User, count_queries: Callable[[], Any]
) -> None:
    me = browser(app_config)
    me.login(user)

    def statements() -> int:
        with count_queries() as seen:
            assert me.client.get(PAGE).status_code == 200
        return len(seen)

    alone = statements()
    for i in range(5):
        browser(app_config, f"10.0.1.{i}").login(user)
    assert statements() == alone


@pytest.mark.parametrize(
    ("agent", "summary"),
    [
        (CHROME_WINDOWS, "Chrome no Windows"),
        (FIREFOX_LINUX, "Firefox no Linux"),
        (SAFARI_IPHONE, "Safari no iOS"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.4 Safari/605.1.15",
            "Safari no macOS",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87",
            "Edge no Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
            "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
            "Samsung Internet no Android",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Mobile Safari/537.36 OPR/82.0.0.0",
            "Opera no Android",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "HeadlessChrome/126.0.0.0 Safari/537.36",
            "Chrome no Linux",
        ),
        ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) Chrome/126.0.0.0", "Chrome no ChromeOS"),
        ("curl/8.5.0", "curl"),
        ("Mozilla/5.0 (Windows NT 10.0)", "Navegador no Windows"),
        ("", "Dispositivo desconhecido"),
        ("Werkzeug/3.1", "Dispositivo desconhecido"),
    ],
)
def test_the_device_summary(agent: str, summary: str) -> None:
    assert describe(agent) == summary


def test_a_hostile_user_agent_is_shown_as_text(app_config: dict[str, Any], user: User) -> None:
    hostile = '"><svg onload=alert(1)> Firefox/1'
    browser(app_config, agent=hostile).login(user)
    me = browser(app_config)
    me.login(user)
    html = me.client.get(PAGE).get_data(as_text=True)
    assert "<svg onload" not in html
    assert "&lt;svg onload=alert(1)&gt;" in html
