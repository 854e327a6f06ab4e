"""Anonimizar (LGPD, Lei 13.709/2018 art. 18, IV and VI): an admin removes a deactivated
person from the portal for good, while the requests, timelines and audit trail they took part
in stay, naming "Usuário anonimizado".

One service, one transaction: the account's personal fields become placeholders, secrets and
sign-in history go, the files the person sent to requests go (their bytes after the commit:
the service returns their storage keys), client contacts that are this person lose their
data, and the texts that named them (requests, search index, outbox) are redacted
(portal.accounts.redaction). The audit trail is append-only and hash-chained, so its old
entries are masked when shown instead (portal.accounts.anonymised_audit).
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, func, or_, select

from portal.accounts import redaction
from portal.accounts.models import (
    ApiToken,
    LoginAttempt,
    PasswordResetToken,
    RecoveryCode,
    SignInEvent,
    User,
)
from portal.accounts.policy import can_manage_accounts
from portal.accounts.sessions import sign_out_everywhere
from portal.clients.models import ClientWizard, Contact
from portal.core import audit
from portal.core.actors import Actor
from portal.core.database import DbSession
from portal.core.errors import Conflict, ValidationError, require
from portal.core.models import Attachment, PendingUpload
from portal.core.timeutil import utcnow
from portal.requests.models import ENTRY_OWNER

log = logging.getLogger("portal.accounts")

ANONYMISED_NAME = "Usuário anonimizado"
CONFIRMATION_WORD = "ANONIMIZAR"


def placeholder_cpf(user_id: int) -> str:
    """Unique (the id is), 11 characters like the column, and never a CPF: it has a letter."""
    return f"X{user_id:010d}"


def placeholder_email(user_id: int) -> str:
    """.invalid is reserved (RFC 2606): nothing is ever delivered there."""
    return f"anonimizado-{user_id}@invalid"


def _anonymise_contacts(session: DbSession, user: User, who: redaction.Identifiers) -> int:
    """Client contacts that are this person: linked to the account, or with its CPF or one of
    its e-mails."""
    same_person = [Contact.user_id == user.id, Contact.cpf == who.cpf]
    if who.emails:
        same_person.append(func.lower(Contact.email).in_(who.emails))
    contacts = list(session.scalars(select(Contact).where(or_(*same_person))))
    for contact in contacts:
        contact.name = ANONYMISED_NAME
        contact.job_title = ""
        contact.email = ""
        contact.phone = None
        contact.cpf = None
    return len(contacts)


def _remove_files(session: DbSession, user: User) -> list[str]:
    """The files the person sent on requests, and any they staged and never sent. Files they
    put on articles or occurrences as staff are the organisation's and stay."""
    keys: list[str] = []
    attachments: list[Attachment | PendingUpload] = list(
        session.scalars(
            select(Attachment).where(
                Attachment.uploader_id == user.id, Attachment.owner_type == ENTRY_OWNER
            )
        )
    )
    staged = list(session.scalars(select(PendingUpload).where(PendingUpload.owner_id == user.id)))
    for row in [*attachments, *staged]:
        keys.append(row.stored_name)
        session.delete(row)
    return keys


def anonymise_user(session: DbSession, actor: Actor, user: User, *, confirmation: str) -> list[str]:
    """Anonymise a deactivated user; `confirmation` is the word the admin typed (it cannot be
    undone). Returns the storage keys of the removed files, which the caller deletes from the
    file store once the transaction is committed."""
    require(can_manage_accounts(actor))
    if user.anonymised_at is not None:
        raise Conflict("Este usuário já foi anonimizado.")
    if user.active:
        raise Conflict("Só é possível anonimizar um usuário desativado. Desative-o antes.")
    if confirmation.strip().upper() != CONFIRMATION_WORD:
        raise ValidationError(
            f"Digite {CONFIRMATION_WORD} para confirmar: a anonimização não pode ser desfeita.",
            "confirmacao",
        )
    who = redaction.Identifiers.of(user)
    now = utcnow()

    contacts = _anonymise_contacts(session, user, who)
    requests = redaction.affected_requests(session, user.id, who)
    redaction.redact_requests(session, requests, who, user_id=user.id)
    redaction.redact_outbox(session, who)
    keys = _remove_files(session, user)
    # API tokens too: their names are the person's words (authenticate refuses them anyway).
    for table in (SignInEvent, RecoveryCode, PasswordResetToken, ApiToken):
        session.execute(delete(table).where(table.user_id == user.id))
    session.execute(delete(LoginAttempt).where(LoginAttempt.cpf == who.cpf))
    session.execute(delete(ClientWizard).where(ClientWizard.user_id == user.id))
    sign_out_everywhere(session, user, now)

    user.full_name = ANONYMISED_NAME
    user.cpf = placeholder_cpf(user.id)
    user.email = placeholder_email(user.id)
    user.personal_email = None
    user.phone = None
    user.extra_phone = None
    user.password_hash = None
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.anonymised_at = now
    session.flush()
    # Only that it happened: the old values are exactly what must not be kept.
    audit.record(session, actor, "user.anonymise", "user", user.id)
    log.info(
        "user anonymised user=%s requests=%s contacts=%s files=%s by=%s",
        user.id,
        len(requests),
        contacts,
        len(keys),
        actor.id,
    )
    return keys
