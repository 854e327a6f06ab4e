"""Two uses of one reset link at the same moment: only one may set a password (issue 20).

The guard is the compare-and-set in `reset.reset_password` (UPDATE ... WHERE used_at IS NULL,
one row or refuse). On PostgreSQL both transactions can read the token as unused; the test
makes that happen deterministically: the first use has burned the token and not committed,
the second has read it as valid and waits on the row lock (seen in pg_locks); when the first
commits, the second must find nothing to burn. A plain `token.used_at = now` lets both win.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from portal.accounts import reset
from portal.accounts.models import User
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from tests.conftest import TEST_DATABASE_URL

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="PostgreSQL row locks")


def test_only_one_of_two_concurrent_uses_of_a_reset_link_wins(app: Flask, make_user) -> None:
    user = make_user(email="maria@exemplo.gov.br")
    raw = reset._issue_reset_link(db.session, user, timedelta(hours=1), utcnow())
    db.session.commit()
    token = raw.rsplit("/", 1)[1]
    engine = db.engine
    outcome: list[str] = []

    def second_use() -> None:
        with app.app_context(), Session(engine) as other:
            try:
                reset.reset_password(other, token, "a segunda frase longa")
                other.commit()
                outcome.append("won")
            except Exception as exc:
                other.rollback()
                outcome.append(type(exc).__name__)

    first = Session(engine)
    try:
        reset.reset_password(first, token, "a primeira frase longa")
        thread = threading.Thread(target=second_use)
        thread.start()
        waiting = sa.text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted"
        )
        with engine.connect() as watcher:
            deadline = datetime.now(UTC) + timedelta(seconds=10)
            while not watcher.execute(waiting).scalar() and datetime.now(UTC) < deadline:
                watcher.rollback()
            assert watcher.execute(waiting).scalar() == 1, "the second use did not wait"
        first.commit()
        thread.join()
    finally:
        first.close()
    assert outcome == ["InvalidResetToken"]
    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert stored is not None and stored.password_hash is not None
    assert check_password_hash(stored.password_hash, "a primeira frase longa")
