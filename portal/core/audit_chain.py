"""Checking the audit chain: `portal audit verify`.

Each entry stores the hash of the entry before it (by id) and its own hash over its content
and that previous hash (portal.core.audit.record). Walking the entries in id order finds:

- an entry whose content no longer gives its hash: it was altered;
- an entry whose `prev_hash` is not the hash of the entry before it: the one before was
  removed (or altered and re-hashed, which breaks this link instead). Ids come from a
  sequence, and a rolled-back transaction leaves a hole in them, so a gap in the ids alone
  proves nothing; the broken link does.

What the walk cannot see: removing the LAST entries leaves a shorter chain that is still
whole. The report ends with the number of entries and the hash of the newest one (the head);
an operator who notes the head elsewhere (a ticket, a log kept off this server) can later
check with `--head` that it is still in the chain.

The walk reads the table in batches by id, never all of it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from portal.core.audit import entry_digest
from portal.core.database import DbSession
from portal.core.models import AuditEntry

BATCH = 1000
_COLUMNS = [column for column in AuditEntry.__table__.columns]


@dataclass(frozen=True)
class Problem:
    """The first place where the chain does not hold."""

    entry_id: int
    # "altered": the entry's content does not give its hash; "link": its prev_hash is not the
    # hash of the entry before it; "head": the head noted earlier is not in the chain.
    kind: str
    previous_id: int | None = None

    @property
    def message(self) -> str:
        if self.kind == "altered":
            return f"A entrada {self.entry_id} foi alterada: o conteúdo não confere com o hash."
        if self.kind == "head":
            return (
                "O hash anotado não está na cadeia: entradas do fim foram removidas "
                f"(a última agora é a {self.entry_id})."
            )
        if self.previous_id is None:
            return (
                f"A entrada {self.entry_id} não confere com a anterior: a primeira entrada "
                "(ou as primeiras) foi removida ou alterada."
            )
        return (
            f"A entrada {self.entry_id} não confere com a anterior ({self.previous_id}): a "
            "anterior foi removida ou alterada."
        )


@dataclass(frozen=True)
class ChainReport:
    """What the walk found: how many entries held, the newest one's id and hash (the head),
    and the first problem, if any."""

    count: int
    head: str
    head_id: int | None
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def summary(self) -> str:
        if self.problem is not None:
            return self.problem.message
        if not self.count:
            return "Cadeia íntegra: nenhuma entrada."
        return (
            f"Cadeia íntegra: {self.count} entradas, último hash {self.head} "
            f"(entrada {self.head_id})."
        )


def _check(row: Any, previous: str, previous_id: int | None) -> Problem | None:
    if not row.hash or entry_digest(row, row.prev_hash) != row.hash:
        return Problem(row.id, "altered")
    if row.prev_hash != previous:
        return Problem(row.id, "link", previous_id)
    return None


def verify(session: DbSession, expected_head: str | None = None, batch: int = BATCH) -> ChainReport:
    """Walk the chain oldest first and stop at the first entry that was altered or whose
    predecessor was removed. With `expected_head` (a head noted earlier), also report when
    that hash is no longer in the chain: the last entries were removed."""
    previous, previous_id, count, last_id = "", None, 0, 0
    seen_head = not expected_head
    while True:
        rows = session.execute(
            select(*_COLUMNS).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            break
        for row in rows:
            problem = _check(row, previous, previous_id)
            if problem is not None:
                return ChainReport(count, previous, previous_id, problem)
            seen_head = seen_head or row.hash == expected_head
            previous, previous_id, count = row.hash, row.id, count + 1
        last_id = rows[-1].id
    if not seen_head:
        return ChainReport(count, previous, previous_id, Problem(previous_id or 0, "head"))
    return ChainReport(count, previous, previous_id)
