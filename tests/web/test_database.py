"""SQLite writers of every process queue on a file lock held exactly as long as their write."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select, text

from portal.core.database import write_intent
from portal.core.extensions import db
from portal.models import Organisation
from tests.conftest import sqlite_writer_lock_held


@pytest.fixture
def lock_probe(app: Flask):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the writer lock is for SQLite only")
    return sqlite_writer_lock_held


def test_a_write_transaction_holds_the_lock_until_it_commits(app: Flask, lock_probe) -> None:
    db.session.rollback()
    with write_intent():
        db.session.add(Organisation(kind="municipio", identifier="9999999", name="Teste", uf="SP"))
        db.session.flush()
        assert lock_probe()
        db.session.commit()
    assert not lock_probe()
    db.session.rollback()
    assert db.session.scalar(select(Organisation.name).where(Organisation.identifier == "9999999"))


def test_a_rolled_back_write_releases_the_lock(app: Flask, lock_probe) -> None:
    db.session.rollback()
    with write_intent():
        db.session.execute(text("SELECT 1"))
        assert lock_probe()
        db.session.rollback()
    assert not lock_probe()


def test_readers_never_take_the_lock(app: Flask, lock_probe) -> None:
    db.session.rollback()
    db.session.execute(text("SELECT 1"))
    assert not lock_probe()
    db.session.rollback()


def test_a_returned_connection_never_keeps_the_lock(app: Flask, lock_probe) -> None:
    with write_intent():
        connection = db.engine.connect()
        connection.execute(text("SELECT 1"))
        assert lock_probe()
        connection.close()  # no commit or rollback by the caller: the pool resets it
    assert not lock_probe()
