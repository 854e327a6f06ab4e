"""Counts that must not cost a page a write: article views, suggestions shown, articles opened
from a suggestion.

Each web worker adds them up in memory and writes them in one short transaction at most every
TALLY_FLUSH_SECONDS, after the response that found them due has been sent. A worker that dies
loses at most that window of counts, which is acceptable for popularity figures. A deliberate
act ("Isto resolveu meu problema") is counted at once in its own transaction (`add_now`).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import Counter

from flask import Flask, current_app
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from werkzeug.wrappers import Response

from portal.core.database import DbSession, write_intent
from portal.core.extensions import db
from portal.knowledge.models import Article, Tally

log = logging.getLogger(__name__)
ARTICLE_VIEWS = ("article", "views")
_pending: Counter[tuple[str, int, str]] = Counter()
_lock = threading.Lock()
_last_flush = time.monotonic()


def count(subject_type: str, subject_id: int, metric: str, n: int = 1) -> None:
    """Add to this worker's pending counts (no database work)."""
    with _lock:
        _pending[(subject_type, subject_id, metric)] += n


def due(app: Flask) -> bool:
    return bool(_pending) and time.monotonic() - _last_flush >= app.config["TALLY_FLUSH_SECONDS"]


def _take() -> Counter[tuple[str, int, str]]:
    global _last_flush
    with _lock:
        taken = _pending.copy()
        _pending.clear()
        _last_flush = time.monotonic()
    return taken


def _upsert(session: DbSession, rows: list[dict[str, object]]) -> None:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(Tally)
    statement = statement.on_conflict_do_update(
        index_elements=["subject_type", "subject_id", "metric"],
        set_={"total": Tally.total + statement.excluded.total},
    )
    for row in rows:
        session.execute(statement.values(**row))


def add_now(session: DbSession, subject_type: str, subject_id: int, metric: str) -> None:
    """Count one deliberate act in the caller's transaction."""
    _upsert(
        session,
        [{"subject_type": subject_type, "subject_id": subject_id, "metric": metric, "total": 1}],
    )


def flush(session: DbSession) -> int:
    """Write what this worker counted; returns how many counters changed."""
    taken = _take()
    if not taken:
        return 0
    views = [
        {"article_id": key[1], "n": n}
        for key, n in taken.items()
        if (key[0], key[2]) == ARTICLE_VIEWS
    ]
    others = [
        {"subject_type": k[0], "subject_id": k[1], "metric": k[2], "total": n}
        for k, n in taken.items()
        if (k[0], k[2]) != ARTICLE_VIEWS
    ]
    try:
        with write_intent():
            for row in views:
                session.execute(
                    update(Article)
                    .where(Article.id == row["article_id"])
                    .values(view_count=Article.view_count + row["n"])
                )
            _upsert(session, others)
            session.commit()
    except Exception:
        session.rollback()
        with _lock:  # keep them for the next flush rather than lose them
            _pending.update(taken)
        raise
    return len(taken)


def flush_when_due(response: Response) -> None:
    """Write this worker's counts after `response` has been sent, when they are due, so no
    reader waits on that write. The server closes the response once Flask's context is gone,
    so the flush pushes an app context of its own."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if due(app):
        response.call_on_close(functools.partial(_flush_in_context, app))


def _flush_in_context(app: Flask) -> None:
    try:
        with app.app_context():
            if due(app):  # another response may have flushed meanwhile
                flush(db.session)
            db.session.remove()
    except Exception:  # flush() kept the counts for the next time
        log.exception("could not write the buffered tallies")
