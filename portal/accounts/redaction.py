"""Taking one person's identifiers out of the texts other tables keep (LGPD anonymisation).

A request's description, its form answers, the messages and notes of its timeline, the search
index of those texts and the e-mails in the outbox can all name the person: their full name,
CPF (with or without punctuation), e-mail addresses and phone numbers. `Identifiers` turns the
values the person had into patterns, and the functions below rewrite every match to
"(anonimizado)" in bounded batches. Free text that names the person another way (a nickname, a
first name alone) cannot be told apart from anyone else's words and stays: see docs/lgpd.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, false, or_, select

from portal.core import fulltext, request_texts
from portal.core.database import DbSession
from portal.core.models import OutboxEmail
from portal.requests.models import RequestText, ServiceRequest, TimelineEntry

MASKED = "(anonimizado)"
BATCH = 200


def _digits_pattern(digits: str) -> str:
    """The digits, each group optionally separated by punctuation or a space, never inside a
    longer number: 529.982.247-25, 529982247-25 and 52998224725 all match."""
    separated = r"[\s.\-/()]?".join(re.escape(d) for d in digits)
    return rf"(?<!\d){separated}(?!\d)"


@dataclass(frozen=True)
class Identifiers:
    """What identified the person before anonymisation, as search patterns."""

    full_name: str
    cpf: str
    emails: tuple[str, ...]
    phones: tuple[str, ...]  # digits only

    @classmethod
    def of(cls, user: Any) -> Identifiers:
        emails = tuple(
            sorted(
                {e.strip().lower() for e in (user.email, user.personal_email) if e and e.strip()}
            )
        )
        phones = tuple(
            sorted(
                {
                    re.sub(r"\D", "", p)
                    for p in (user.phone, user.extra_phone)
                    if p and len(re.sub(r"\D", "", p)) >= 8
                }
            )
        )
        return cls(" ".join(user.full_name.split()), user.cpf, emails, phones)

    def pattern(self) -> re.Pattern[str]:
        parts = []
        words = self.full_name.split()
        if len(words) >= 2:  # a one-word name is anybody's word; only a full name is the person
            parts.append(r"\b" + r"\s+".join(re.escape(w) for w in words) + r"\b")
            folded = fulltext.fold(self.full_name).split()
            if folded != [w.lower() for w in words]:
                parts.append(r"\b" + r"\s+".join(re.escape(w) for w in folded) + r"\b")
        if self.cpf.isdigit():
            parts.append(_digits_pattern(self.cpf))
        parts += [re.escape(e) for e in self.emails]
        parts += [_phone_pattern(p) for p in self.phones]
        return re.compile("|".join(parts) or r"(?!)", re.IGNORECASE)

    def sql_candidates(self, column: Any) -> ColumnElement[bool]:
        """A cheap SQL pre-filter: the column holds the name, the CPF digits or an e-mail as
        typed (case ignored). Python's pattern then does the exact work."""
        needles = [self.cpf, *self.emails]
        if len(self.full_name.split()) >= 2:
            needles.append(self.full_name)
        conditions = [column.ilike(f"%{n}%", escape="\\") for n in (_like(n) for n in needles)]
        return or_(*conditions) if conditions else false()


def _phone_pattern(digits: str) -> str:
    """A phone as typed in any format: the last eight or nine digits, with the area code
    (and +55) optional, separators anywhere."""
    return _digits_pattern(digits[2:]) if len(digits) >= 10 else _digits_pattern(digits)


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def redact_text(text: str | None, pattern: re.Pattern[str]) -> str | None:
    return text if not text else pattern.sub(MASKED, text)


def redact_value(value: Any, pattern: re.Pattern[str]) -> Any:
    """Strings anywhere in a JSON value (form answers) redacted."""
    if isinstance(value, str):
        return pattern.sub(MASKED, value)
    if isinstance(value, dict):
        return {k: redact_value(v, pattern) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(v, pattern) for v in value]
    return value


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def affected_requests(session: DbSession, user_id: int, who: Identifiers) -> list[int]:
    """Requests whose texts may name the person: theirs (opened, requested for, written on)
    and any other whose search index finds the full name or the CPF."""
    SR = ServiceRequest  # noqa: N806
    ids: set[int] = set(
        session.scalars(
            select(SR.id).where(or_(SR.opened_by_id == user_id, SR.requested_for_id == user_id))
        )
    )
    ids.update(
        session.scalars(
            select(TimelineEntry.request_id).where(TimelineEntry.author_id == user_id).distinct()
        )
    )
    for typed in (who.full_name if len(who.full_name.split()) >= 2 else "", who.cpf):
        matching = request_texts.request_ids_matching(session, typed) if typed else None
        if matching is not None:
            ids.update(session.scalars(select(SR.id).where(SR.id.in_(matching))))
    ids.update(
        session.scalars(select(RequestText.request_id).where(who.sql_candidates(RequestText.body)))
    )
    return sorted(ids)


def redact_requests(
    session: DbSession, request_ids: list[int], who: Identifiers, *, user_id: int
) -> int:
    """Rewrite the person's identifiers in these requests' description, answers, timeline and
    search text (the index row is rebuilt from the redacted text); the contact phone of the
    requests they opened goes. Returns rows changed."""
    pattern = who.pattern()
    postgres = fulltext.is_postgres(session)
    changed = 0
    for chunk in _chunks(request_ids):
        for request in session.scalars(select(ServiceRequest).where(ServiceRequest.id.in_(chunk))):
            description = redact_text(request.description, pattern) or ""
            values = redact_value(request.field_values or {}, pattern)
            if request.opened_by_id == user_id and request.extra_phone:
                request.extra_phone = None
                changed += 1
            if description != request.description or values != request.field_values:
                request.description = description
                request.field_values = values
                changed += 1
        for entry in session.scalars(
            select(TimelineEntry).where(TimelineEntry.request_id.in_(chunk))
        ):
            body = redact_text(entry.body, pattern) or ""
            if body != entry.body:
                entry.body = body
                changed += 1
        for row in session.scalars(select(RequestText).where(RequestText.request_id.in_(chunk))):
            body = redact_text(row.body, pattern) or ""
            if body != row.body:
                row.body = body  # PostgreSQL's generated tsvector follows the column
                if not postgres:
                    row.terms = fulltext.terms(body)
                changed += 1
        session.flush()
    return changed


def redact_outbox(session: DbSession, who: Identifiers) -> int:
    """E-mails to the person go (queued or kept); e-mails about them to others keep their
    recipient and lose the person's identifiers. Returns rows deleted or changed."""
    if who.emails:
        gone = session.execute(delete(OutboxEmail).where(OutboxEmail.recipient.in_(who.emails)))
        removed = int(getattr(gone, "rowcount", 0) or 0)
    else:
        removed = 0
    pattern = who.pattern()
    about = or_(
        who.sql_candidates(OutboxEmail.subject),
        who.sql_candidates(OutboxEmail.body_text),
        who.sql_candidates(OutboxEmail.body_html),
    )
    ids = list(session.scalars(select(OutboxEmail.id).where(about).order_by(OutboxEmail.id)))
    changed = 0
    for chunk in _chunks(ids):
        for row in session.scalars(select(OutboxEmail).where(OutboxEmail.id.in_(chunk))):
            row.subject = (redact_text(row.subject, pattern) or "")[:255]
            row.body_text = redact_text(row.body_text, pattern) or ""
            row.body_html = redact_text(row.body_html, pattern)
            row.last_error = redact_text(row.last_error, pattern)
            changed += 1
        session.flush()
    return removed + changed
