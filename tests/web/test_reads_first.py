"""POSTs that read first and write late: the write lock covers only the writing part.

A new request and a message are the busiest writes. Their views run the session, user and
form checks in a plain read transaction; the service takes SQLite's write lock with
begin_write and reads again what its checks depend on.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, func, select, update
from werkzeug.test import TestResponse

from portal.accounts.models import ApiToken
from portal.core.database import (
    WriteBeforeBeginWrite,
    begin_write,
    declare_request_writes,
    reads_first,
)
from portal.core.extensions import db
from portal.models import CatalogItem, ServiceRequest, TimelineEntry, User
from tests.conftest import AuthActions, api_token, sqlite_writer_lock_held
from tests.files import png_bytes

NEW_REQUEST = {
    "motivo": "Problema de acesso",
    "funcionalidade": "Acesso",
    "description": "Usuário não consegue entrar.",
}


@contextmanager
def _on_statement(matches: Callable[[str], bool], action: Callable[[], None]) -> Iterator[None]:
    """Run `action` once, right after the first statement that matches."""
    done = []

    def listener(_conn, _cursor, statement: str, *_args) -> None:
        if not done and matches(statement):
            done.append(True)
            action()

    event.listen(db.engine, "after_cursor_execute", listener)
    try:
        yield
    finally:
        event.remove(db.engine, "after_cursor_execute", listener)
    assert done, "the statement never ran"


def _outside_write(statement) -> None:
    """A write from another connection (another worker), committed at once."""
    engine = create_engine(db.engine.url, connect_args=_quick_timeout())
    try:
        with engine.begin() as connection:
            connection.execute(statement)
    finally:
        engine.dispose()


def _quick_timeout() -> dict[str, object]:
    # Fails at once (instead of waiting) if the POST held SQLite's write lock while reading.
    return {"timeout": 0.2} if db.engine.dialect.name == "sqlite" else {}


def _requests_of(user: User) -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count()).select_from(ServiceRequest).where(ServiceRequest.opened_by == user)
    )


@pytest.fixture
def sqlite_only(app: Flask) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the write lock is SQLite's")


def _post_watching_the_lock(
    auth: AuthActions,
    path: str,
    data: dict[str, str],
    *,
    page: str,
    read: str,
    write: str,
    outside_user_id: int,
) -> tuple[TestResponse, dict[str, bool]]:
    """POST `data` to `path` with a CSRF token from `page` (read before watching, so only the
    POST's statements count); at its first statement starting with `read`, note whether the
    writer lock is held and write from another connection; at the first starting with
    `write`, note it again."""
    token = auth.csrf(page)
    seen: dict[str, bool] = {}

    def while_reading() -> None:
        seen["reading"] = sqlite_writer_lock_held()
        _outside_write(update(User).where(User.id == outside_user_id).values(phone="61999990000"))

    def while_writing() -> None:
        seen["writing"] = sqlite_writer_lock_held()

    with (
        _on_statement(lambda s: s.startswith(read), while_reading),
        _on_statement(lambda s: s.startswith(write), while_writing),
    ):
        response = auth.client.post(path, data={**data, "csrf_token": token})
    return response, seen


def test_new_request_reads_without_the_write_lock_and_writes_with_it(
    auth: AuthActions, make_user, catalog, sqlite_only
) -> None:
    user = make_user()
    other = make_user(organisation=user.organisation)
    auth.login(user)
    response, seen = _post_watching_the_lock(
        auth,
        "/catalogo/gerid",
        NEW_REQUEST,
        page="/catalogo/gerid",
        read="SELECT catalog_items",
        write="INSERT INTO service_requests",
        outside_user_id=other.id,
    )
    assert response.status_code == 302
    assert seen == {"reading": False, "writing": True}
    assert _requests_of(user) == 1
    assert not sqlite_writer_lock_held()


def test_message_reads_without_the_write_lock(
    auth: AuthActions, make_user, make_request, sqlite_only
) -> None:
    user = make_user()
    number = make_request(user).number
    auth.login(user)
    response, seen = _post_watching_the_lock(
        auth,
        f"/solicitacoes/{number}/mensagem",
        {"body": "Alguma novidade?"},
        page=f"/solicitacoes/{number}",
        read="SELECT service_requests",
        write="INSERT INTO timeline_entries",
        outside_user_id=user.id,
    )
    assert response.status_code == 302
    assert seen == {"reading": False, "writing": True}
    db.session.rollback()
    assert db.session.scalar(
        select(TimelineEntry.body).where(TimelineEntry.body == "Alguma novidade?")
    )


def test_item_withdrawn_while_the_form_was_checked_opens_nothing(
    auth: AuthActions, make_user, catalog
) -> None:
    """The checks the view made are made again under the lock, on fresh rows."""
    user = make_user()
    auth.login(user)
    token = auth.csrf("/catalogo/gerid")

    def withdraw() -> None:
        _outside_write(update(CatalogItem).where(CatalogItem.slug == "gerid").values(active=False))

    with _on_statement(lambda s: s.startswith("SELECT item_fields"), withdraw):
        response = auth.client.post("/catalogo/gerid", data={**NEW_REQUEST, "csrf_token": token})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Este serviço não está mais disponível no catálogo." in html
    assert "Usuário não consegue entrar." in html  # what was typed is kept
    assert _requests_of(user) == 0


def test_a_write_before_begin_write_is_refused(app: Flask, make_user, sqlite_only) -> None:
    user = make_user()
    user_id = user.id
    db.session.commit()
    declare_request_writes(reads_first(lambda: None), method_writes=True)
    try:
        with pytest.raises(WriteBeforeBeginWrite):
            db.session.execute(update(User).where(User.id == user_id).values(phone="1"))
        db.session.rollback()
        db.session.get(User, user_id)  # reading is fine
        assert not sqlite_writer_lock_held()
        begin_write(db.session)
        db.session.execute(update(User).where(User.id == user_id).values(phone="2"))
        assert sqlite_writer_lock_held()
        db.session.commit()
    finally:
        declare_request_writes(None, method_writes=False)
    assert not sqlite_writer_lock_held()
    assert db.session.get(User, user_id).phone == "2"


def test_begin_write_outside_a_reads_first_view_changes_nothing(app: Flask, make_user) -> None:
    """Jobs, the CLI and tests call the same services: their transaction is left alone."""
    user = make_user()
    user.phone = "61988887777"  # pending, not flushed
    begin_write(db.session)
    assert user in db.session.dirty
    db.session.commit()
    assert db.session.get(User, user.id).phone == "61988887777"


def test_the_api_upload_reads_and_decodes_without_the_write_lock(
    client, make_user, make_request, sqlite_only
) -> None:
    """As the page's message form: an image is rebuilt from its pixels (up to seconds for a
    large one) before SQLite's one write lock is taken, so other writers do not queue behind
    it; the lock is taken for the writes only."""
    user = make_user()
    number = make_request(user).number
    raw = api_token(user)
    token_id = db.session.scalar(select(ApiToken.id))
    headers = {"Authorization": f"Bearer {raw}"}
    # The token's first use is recorded during this POST too, in a write of its own.
    seen: dict[str, bool] = {}

    def while_reading() -> None:
        seen["reading"] = sqlite_writer_lock_held()
        _outside_write(update(User).where(User.id == user.id).values(phone="61999990000"))

    def while_writing() -> None:
        seen["writing"] = sqlite_writer_lock_held()

    with (
        _on_statement(lambda s: s.startswith("SELECT service_requests"), while_reading),
        _on_statement(lambda s: s.startswith("INSERT INTO timeline_entries"), while_writing),
    ):
        response = client.post(
            f"/api/v1/requests/{number}/attachments",
            data={"file": (io.BytesIO(png_bytes()), "tela.png"), "body": "A tela"},
            content_type="multipart/form-data",
            headers=headers,
        )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert seen == {"reading": False, "writing": True}
    assert not sqlite_writer_lock_held()
    assert db.session.scalar(select(ApiToken.last_used_at).where(ApiToken.id == token_id))
