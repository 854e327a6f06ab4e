"""The Auditoria as shown once people have been anonymised.

Audit entries are append-only and hash-chained (portal.core.audit): rewriting the old values of
an anonymised person would break `portal audit verify` and the trail's worth as evidence. So
the stored entries stay as written, and every way the admin reads them (the list, the CSV)
goes through `shown_entries`, which masks what identifies an anonymised person:

- the actor's label ("Nome (usuário 12)") of an entry they made;
- the personal fields (CPF, name, e-mails, phones...) of an entry about their account;
- any "Nome (usuário 12)" value naming them (a group's members), and the client contacts
  that were them.

The search by "Quem" asks the users table, which no longer holds the old name or CPF, so it
cannot find them either. See docs/lgpd.md for the trade-off.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from portal.accounts.anonymise import ANONYMISED_NAME
from portal.accounts.models import User
from portal.clients.models import Contact
from portal.core.database import DbSession

MASK = "(anonimizado)"
PERSONAL_KEYS = frozenset(
    {
        "cpf",
        "full_name",
        "name",
        "email",
        "personal_email",
        "phone",
        "extra_phone",
        "job_title",
    }
)
# How the trail names a person in a label or a list: audit.record's actor_label, groups.
_NAMED = re.compile(r"^(?P<name>.*) \(usuário (?P<id>\d+)\)$", re.DOTALL)


@dataclass(frozen=True)
class ShownEntry:
    """An audit entry as the admin reads it: a copy, so nothing shown is ever written back
    (the table refuses UPDATE anyway)."""

    id: int
    at: datetime
    actor_id: int | None
    actor_label: str
    address: str | None
    action: str
    object_type: str
    object_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    hash: str

    @classmethod
    def of(cls, entry: Any) -> ShownEntry:
        return cls(
            entry.id,
            entry.at,
            entry.actor_id,
            entry.actor_label,
            entry.address,
            entry.action,
            entry.object_type,
            entry.object_id,
            entry.before,
            entry.after,
            entry.hash,
        )


def _walk(value: Any) -> Iterable[Any]:
    yield value
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _mentioned(entry: Any) -> tuple[set[int], set[int]]:
    """The user ids and contact ids an entry names."""
    users: set[int] = set()
    contacts: set[int] = set()
    if entry.actor_id is not None:
        users.add(entry.actor_id)
    if entry.object_type == "user" and entry.object_id is not None:
        users.add(entry.object_id)
    for side in (entry.before, entry.after):
        for value in _walk(side):
            if isinstance(value, str):
                named = _NAMED.match(value)
                if named:
                    users.add(int(named.group("id")))
            elif isinstance(value, Mapping):
                if isinstance(value.get("user_id"), int):
                    users.add(value["user_id"])
                if isinstance(value.get("id"), int) and "cpf" in value:
                    contacts.add(value["id"])
    return users, contacts


@dataclass(frozen=True)
class _Gone:
    users: frozenset[int]
    contacts: frozenset[int]

    def names(self, text: str) -> bool:
        named = _NAMED.match(text)
        return named is not None and int(named.group("id")) in self.users

    def is_contact(self, value: Mapping[str, Any]) -> bool:
        return value.get("user_id") in self.users or (
            "cpf" in value and value.get("id") in self.contacts
        )


def _masked_label(text: str) -> str:
    named = _NAMED.match(text)
    return f"{ANONYMISED_NAME} (usuário {named.group('id')})" if named else MASK


def _mask(value: Any, gone: _Gone, *, personal: bool) -> Any:
    """`personal`: this mapping is about an anonymised person, so its personal keys go."""
    if isinstance(value, str):
        return _masked_label(value) if gone.names(value) else value
    if isinstance(value, list):
        return [_mask(v, gone, personal=False) for v in value]
    if isinstance(value, Mapping):
        about = personal or gone.is_contact(value)
        return {
            k: (
                MASK
                if about and k in PERSONAL_KEYS and v not in (None, "")
                else _mask(v, gone, personal=False)
            )
            for k, v in value.items()
        }
    return value


def _anonymised(session: DbSession, users: set[int], contacts: set[int]) -> _Gone:
    gone_users: set[int] = set()
    if users:
        gone_users = set(
            session.scalars(
                select(User.id).where(User.id.in_(users), User.anonymised_at.is_not(None))
            )
        )
    gone_contacts: set[int] = set()
    if contacts:
        gone_contacts = set(
            session.scalars(
                select(Contact.id).where(
                    Contact.id.in_(contacts),
                    Contact.name == ANONYMISED_NAME,
                    Contact.cpf.is_(None),
                )
            )
        )
    return _Gone(frozenset(gone_users), frozenset(gone_contacts))


def shown_entries(session: DbSession, entries: Iterable[Any]) -> list[ShownEntry]:
    """The entries (AuditEntry rows, or rows with the same columns) as copies, with what
    identifies an anonymised person masked: two queries for the whole batch."""
    copies = [ShownEntry.of(e) for e in entries]
    users: set[int] = set()
    contacts: set[int] = set()
    for entry in copies:
        found_users, found_contacts = _mentioned(entry)
        users |= found_users
        contacts |= found_contacts
    gone = _anonymised(session, users, contacts)
    if not gone.users and not gone.contacts:
        return copies
    shown = []
    for entry in copies:
        about = entry.object_type == "user" and entry.object_id in gone.users
        label = entry.actor_label
        if entry.actor_id in gone.users:
            label = f"{ANONYMISED_NAME} (usuário {entry.actor_id})"
        shown.append(
            ShownEntry(
                entry.id,
                entry.at,
                entry.actor_id,
                label,
                entry.address,
                entry.action,
                entry.object_type,
                entry.object_id,
                _mask(entry.before, gone, personal=about),
                _mask(entry.after, gone, personal=about),
                entry.hash,
            )
        )
    return shown
