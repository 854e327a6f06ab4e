"""Shared fixtures: a real database (SQLite file, or PostgreSQL when PORTAL_TEST_DATABASE_URL
points to one), a real SMTP server on loopback, callable factories and a sign-in helper."""

from __future__ import annotations

import contextvars
import fcntl
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyotp
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from portal import create_app
from portal.accounts import services as accounts
from portal.accounts import two_factor
from portal.catalog.data import CATALOG
from portal.catalog.services import upsert_item
from portal.clients import services as clients
from portal.core import audit
from portal.core.actors import SystemActor
from portal.core.cpf import make_cpf
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.models import CatalogItem, Organisation, ServiceRequest, User
from portal.requests import services as requests
from tests import log_check

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

PASSWORD = "senha-de-teste-42"
# The fixtures set the scene as the command line would: a system actor, audited as such.
SETUP = SystemActor("testes")
TEST_DATABASE_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")


def _is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One schema per test session, built by the real Alembic migrations."""
    if TEST_DATABASE_URL:
        url = TEST_DATABASE_URL
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal-test.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test", "TESTING": True})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    yield url


def _truncate_all(url: str) -> None:
    engine = sa.create_engine(url)
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with engine.begin() as conn:
        if _is_postgres(url):
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            conn.execute(sa.text("PRAGMA foreign_keys=OFF"))
            audit.drop_append_only(conn)  # the audit table refuses DELETE (TRUNCATE skips it)
            for name in tables:
                conn.execute(sa.text(f"DELETE FROM {name}"))  # noqa: S608
            audit.install_append_only(conn)
            conn.execute(sa.text("DELETE FROM sqlite_sequence")) if conn.execute(
                sa.text("SELECT name FROM sqlite_master WHERE name='sqlite_sequence'")
            ).first() else None
    engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SMTPServer:
    """aiosmtpd on loopback, keeping every message it accepts."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    handler = SMTPServer(host="127.0.0.1", port=free_port())
    controller = Controller(handler, hostname=handler.host, port=handler.port)
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture
def app_config(tmp_path: Path, database_url: str, smtp_server: SMTPServer) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "UPLOAD_DIR": tmp_path / "uploads",
        "MAIL_DIR": tmp_path / "mail",
        "SMTP_HOST": smtp_server.host,
        "SMTP_PORT": smtp_server.port,
        "SMTP_TLS": "none",
        "SMTP_USER": None,
        "BASE_URL": "http://portal.test",
        "RATELIMIT_ENABLED": False,
    }


class IsolatedClient(FlaskClient):
    """Runs each request in its own app context, as a real server does.

    Flask reuses an app context that is already pushed (the test body's), which would share
    `g` and the database session between requests; a fresh contextvars.Context avoids that.
    The test body's own transaction is committed first so it sees what requests write.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            db.session.commit()
        return contextvars.Context().run(super().open, *args, **kwargs)


_extra_apps: list[Flask] = []


def make_app(config: dict[str, Any]) -> Flask:
    """An app on the test database; a second one stands for a second worker process."""
    application = create_app(config)
    application.test_client_class = IsolatedClient
    _extra_apps.append(application)
    return application


def _dispose_apps() -> None:
    while _extra_apps:
        application = _extra_apps.pop()
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(app_config: dict[str, Any], database_url: str) -> Iterator[Flask]:
    _truncate_all(database_url)
    application = make_app(app_config)
    with application.app_context():
        yield application
        db.session.remove()
    _dispose_apps()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _closing(app: WSGIApplication) -> WSGIApplication:
    """Read each response whole and close it before werkzeug writes it.

    When the browser drops a connection (a page left while its fonts load), the development
    server's draining read raises before it closes the response, so a static file stayed open
    until some later test's garbage collection reported it."""

    def serve(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        response = app(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            if hasattr(response, "close"):
                response.close()

    return serve


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The test app (same database) on a free loopback port, in a thread."""
    server = make_server("127.0.0.1", 0, _closing(app), threaded=True)
    # Request threads are joined at the end, so none still holds a database connection when
    # the test's engine is disposed (it would be reported, unclosed, during a later test).
    server.daemon_threads = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


# ------------------------------------------------------------------ factories

_cpf_counter = iter(range(100_000_000, 999_999_999, 7919))


def new_cpf() -> str:
    return make_cpf(str(next(_cpf_counter)))


@pytest.fixture
def make_org(app: Flask) -> Callable[..., Organisation]:
    counter = iter(range(1_000_000, 9_999_999))

    def factory(
        name: str = "Prefeitura de Teste", kind: str = "municipio", uf: str = "BA"
    ) -> Organisation:
        org = clients.create_organisation(
            db.session, SETUP, identifier=str(next(counter)), name=name, kind=kind, uf=uf
        )
        db.session.commit()
        return org

    return factory


@pytest.fixture
def client_refs(app: Flask) -> None:
    """The clients' default reference data: company types, client and occurrence categories."""
    from portal.clients.reference import ensure_reference_data

    ensure_reference_data(db.session)
    db.session.commit()


@pytest.fixture
def org(make_org: Callable[..., Organisation]) -> Organisation:
    return make_org()


@pytest.fixture
def make_user(app: Flask, org: Organisation) -> Callable[..., User]:
    def factory(
        name: str = "Maria da Silva",
        role: str = "requester",
        organisation: Organisation | None = None,
        password: str | None = PASSWORD,
        email: str | None = None,
        groups: list[str] | None = None,
        two_factor: bool | None = None,
        **extra: Any,
    ) -> User:
        """A user through the real service; staff get a second factor (its secret in
        TOTP_SECRETS) unless `two_factor=False`, as their sign-in would otherwise stop at the
        set-up page."""
        cpf = new_cpf()
        user = accounts.create_user(
            db.session,
            SETUP,
            cpf=cpf,
            full_name=name,
            email=email or f"u{cpf}@exemplo.gov.br",
            role=role,
            organisation=organisation or org,
            password=password,
            groups=[accounts.find_or_create_group(db.session, SETUP, g) for g in groups or []],
            **extra,
        )
        db.session.commit()
        enrol = role in ("agent", "admin") if two_factor is None else two_factor
        if enrol:
            enroll_two_factor(user)
        return user

    return factory


# ------------------------------------------------------------------ second factor

# The TOTP secrets of the users the tests enrolled (fixtures or a browser set-up), by CPF.
TOTP_SECRETS: dict[str, str] = {}


def enroll_two_factor(user: User) -> str:
    """Turn on `user`'s second factor through the real service with a secret the tests keep.
    It is confirmed with the previous time step's code, which leaves the current and the next
    step for sign-ins."""
    secret = two_factor.new_secret()
    now = utcnow()
    step = int(now.timestamp()) // two_factor.STEP_SECONDS - 1
    two_factor.enable(db.session, user, secret, pyotp.TOTP(secret).generate_otp(step), now=now)
    db.session.commit()
    TOTP_SECRETS[user.cpf] = secret
    return secret


def next_totp_code(cpf: str) -> str:
    """A code the server accepts now: from the smallest time step above the last one used
    (replay protection), inside the accepted window of one step either side."""
    digits = re.sub(r"\D", "", cpf)
    secret = TOTP_SECRETS.get(digits)
    assert secret, "no known second-factor secret for this CPF (enrolled by a fixture?)"
    if has_app_context():
        db.session.commit()  # a fresh read: the server wrote totp_last_step in another session
    last = db.session.scalar(sa.select(User.totp_last_step).where(User.cpf == digits))
    seconds = time.time()
    current = int(seconds) // two_factor.STEP_SECONDS
    lowest = current - two_factor.VALID_WINDOW
    if seconds % two_factor.STEP_SECONDS > two_factor.STEP_SECONDS - 2:
        lowest += 1  # the step may end before the server checks the code
    step = max(lowest, (last or 0) + 1)
    if step > current + two_factor.VALID_WINDOW:
        pytest.fail(
            "every code of the accepted window was used already (replay protection): this test "
            "signs the same staff user in more than about three times within 30 seconds"
        )
    return pyotp.TOTP(secret).generate_otp(step)


def api_token(user: User, scopes: str = "read write", *, name: str = "Integração") -> str:
    """A personal access token of `user` valid for ten days, made by the service Perfil ›
    Tokens de acesso calls, committed; the raw `pat_...` value."""
    from portal.accounts import tokens

    created = tokens.create(
        db.session,
        user,
        name=name,
        scopes=scopes,
        expires_on=(utcnow() + timedelta(days=10)).strftime("%d/%m/%Y"),
        timezone="America/Sao_Paulo",
    )
    db.session.commit()
    return created.raw


@pytest.fixture
def catalog(app: Flask) -> dict[str, CatalogItem]:
    items = {spec["slug"]: upsert_item(db.session, SETUP, spec) for spec in CATALOG}
    db.session.commit()
    return items


GERID_VALUES = {"motivo": "Problema de acesso", "funcionalidade": "Acesso"}


@pytest.fixture
def make_request(catalog: dict[str, CatalogItem]) -> Callable[..., ServiceRequest]:
    def factory(
        opener: User,
        item: str = "gerid",
        requested_for: User | None = None,
        followers: list[User] | None = None,
        description: str = "Não consigo acessar o sistema.",
        values: dict[str, str] | None = None,
        **extra: Any,
    ) -> ServiceRequest:
        request = requests.create_request(
            db.session,
            actor=opener,
            item=catalog[item],
            requested_for=requested_for or opener,
            description=description,
            values=values if values is not None else GERID_VALUES,
            followers=followers or [],
            **extra,
        )
        db.session.commit()
        return request

    return factory


def sqlite_writer_lock_held() -> bool:
    """Whether a writer holds the SQLite writer lock, as another process would see it (flock
    conflicts across open files, so this process's own lock counts too)."""
    fd = os.open(f"{os.path.abspath(db.engine.url.database)}.writelock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


# ------------------------------------------------------------------ signing in

CSRF_RE = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def csrf_token_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)


class AuthActions:
    """Sign in and out through the real forms (CSRF included)."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def csrf(self, path: str = "/login") -> str:
        return csrf_token_from(self.client.get(path).get_data(as_text=True))

    def login(self, user_or_cpf: User | str, password: str = PASSWORD, **kwargs: Any):
        """Sign in; when the password step asks for the second factor, type a valid code."""
        cpf = user_or_cpf.cpf if isinstance(user_or_cpf, User) else user_or_cpf
        token = self.csrf("/login")
        follow = kwargs.pop("follow_redirects", False)
        data = {"cpf": cpf, "password": password, "csrf_token": token}
        response = self.client.post("/login", data=data, **kwargs)
        location = response.headers.get("Location", "")
        if response.status_code == 302 and "/login/codigo" in location:
            response.close()
            code_token = self.csrf(location)
            code = {"code": next_totp_code(cpf), "csrf_token": code_token}
            return self.client.post(location, data=code, follow_redirects=follow, **kwargs)
        if follow and response.status_code in (301, 302, 303):
            response.close()
            return self.client.get(location, follow_redirects=True, **kwargs)
        return response

    def logout(self):
        token = self.csrf("/perfil")
        return self.client.post("/logout", data={"csrf_token": token})

    def post(
        self, path: str, data: dict[str, Any] | None = None, page: str | None = None, **kw: Any
    ):
        """POST a form with a fresh CSRF token taken from `page` (default: the same path)."""
        token = self.csrf(page or path)
        return self.client.post(path, data={**(data or {}), "csrf_token": token}, **kw)


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], Any]:
    """Context manager counting SQL statements sent to the database."""
    from contextlib import contextmanager

    @contextmanager
    def counter() -> Iterator[list[str]]:
        statements: list[str] = []

        def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", before)

    return counter


# ------------------------------------------------------------------ logs: no CPF, no e-mail

_session_logs: list[Path] = []


@pytest.fixture(scope="session", autouse=True)
def session_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[logging.Handler]:
    """Everything the portal logs during the whole session goes to one file, which
    pytest_sessionfinish reads for CPFs and e-mail addresses (portal.core.log_privacy)."""
    path = tmp_path_factory.mktemp("log") / "session.log"
    handler = log_check.file_handler(path)
    root = logging.getLogger()
    root.addHandler(handler)
    loggers = {name: logging.getLogger(name) for name in ("portal", "werkzeug", "scheduler")}
    levels = {name: logger.level for name, logger in loggers.items()}
    for logger in loggers.values():  # INFO lines are where a CPF would slip in
        logger.setLevel(logging.DEBUG)
    _session_logs.append(path)
    yield handler
    root.removeHandler(handler)
    handler.close()
    for name, logger in loggers.items():
        logger.setLevel(levels[name])


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    problems = [line for path in _session_logs for line in log_check.leaks(path)]
    if not problems:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [
        "The portal's log carried a CPF or an e-mail address (log people by user id; mask",
        "with portal.core.cpf.mask_cpf or portal.core.log_privacy.redact):",
        *problems[:50],
        f"Log file: {_session_logs[0]}",
    ]
    for line in lines:
        if reporter is not None:
            reporter.write_line(line, red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
