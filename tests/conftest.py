"""Shared fixtures: a real database (SQLite file, or PostgreSQL when PORTAL_TEST_DATABASE_URL
points to one), a real SMTP server on loopback, callable factories and a sign-in helper."""

from __future__ import annotations

import contextvars
import fcntl
import os
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import Flask, has_app_context
from flask.testing import FlaskClient

from portal import create_app
from portal.accounts import services as accounts
from portal.catalog.data import CATALOG
from portal.catalog.services import upsert_item
from portal.clients import services as clients
from portal.core import audit
from portal.core.actors import SystemActor
from portal.core.cpf import make_cpf
from portal.core.extensions import db
from portal.models import CatalogItem, Organisation, ServiceRequest, User
from portal.requests import services as requests

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
        **extra: Any,
    ) -> User:
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
        return user

    return factory


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
        cpf = user_or_cpf.cpf if isinstance(user_or_cpf, User) else user_or_cpf
        token = self.csrf("/login")
        return self.client.post(
            "/login", data={"cpf": cpf, "password": password, "csrf_token": token}, **kwargs
        )

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
