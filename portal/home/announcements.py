"""Comunicados: what admins write, publish, take back and remove, and a user's "Fechar".

Each change is one service call with the acting user: it checks `can_publish`, flushes and
writes its audit entry; the caller commits. Who sees a Comunicado, and when, is decided by
portal.home.queries (the same SQL for the home, the banner and a dismissal).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.clients.models import Organisation, OrganisationKind
from portal.clients.services import UFS
from portal.core import audit
from portal.core.actors import Actor, administers
from portal.core.database import DbSession
from portal.core.errors import Conflict, FormErrors, NotFound, ValidationError, require
from portal.core.timeutil import as_utc, utcnow
from portal.home import queries
from portal.home.models import (
    Announcement,
    AnnouncementDismissal,
    AnnouncementState,
    Audience,
    Severity,
)

if TYPE_CHECKING:
    from portal.accounts.models import User

TITLE_MAX = 200
BODY_MAX = 20_000
DATETIME_HINT = "Formato DD/MM/AAAA HH:MM, horário de Brasília, por exemplo 05/03/2026 08:00."
_BR_DATETIME = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+|\s*,\s*)(\d{1,2}):(\d{2})")
AUDITED = (
    "title",
    "body",
    "severity",
    "state",
    "audience",
    "audience_value",
    "audience_organisation_id",
    "starts_at",
    "ends_at",
)


def can_publish(actor: Actor) -> bool:
    """Who keeps the Comunicados: admins (and the system, as the demo loader)."""
    return administers(actor)


@dataclass(frozen=True)
class AnnouncementFields:
    """A Comunicado as the form sends it, typed (dates already in UTC)."""

    title: str = ""
    body: str = ""
    severity: str = Severity.INFO.value
    audience: str = Audience.ALL.value
    uf: str | None = None
    kind: str | None = None
    organisation_id: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None


# ------------------------------------------------------------------ dates as people type them


def parse_local_datetime(typed: str, field: str, tz_name: str) -> datetime | None:
    """`DD/MM/AAAA HH:MM` in the portal's time zone, as UTC; None for an empty field."""
    text = " ".join((typed or "").split())
    if not text:
        return None
    found = _BR_DATETIME.fullmatch(text)
    if found is None:
        raise ValidationError(f"Data e hora inválidas: “{text}”. Use DD/MM/AAAA HH:MM.", field)
    day, month, year, hour, minute = (int(part) for part in found.groups())
    try:
        local = datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz_name))
    except ValueError as exc:
        raise ValidationError(
            f"Data ou hora inexistente: “{text}”. Use DD/MM/AAAA HH:MM.", field
        ) from exc
    return as_utc(local)


def local_text(value: datetime | None, tz_name: str) -> str:
    """A stored time as the form shows it again (DD/MM/AAAA HH:MM, local)."""
    if value is None:
        return ""
    return as_utc(value).astimezone(ZoneInfo(tz_name)).strftime("%d/%m/%Y %H:%M")


# ------------------------------------------------------------------ checks


def check_fields(session: DbSession, fields: AnnouncementFields) -> list[ValidationError]:
    """Every problem of the typed Comunicado, so the form shows them all at once."""
    problems: list[ValidationError] = []
    title = fields.title.strip()
    if not title:
        problems.append(ValidationError("Informe o título do comunicado.", "title"))
    elif len(title) > TITLE_MAX:
        problems.append(ValidationError(f"Use até {TITLE_MAX} caracteres no título.", "title"))
    if len(fields.body) > BODY_MAX:
        problems.append(ValidationError(f"Use até {BODY_MAX} caracteres no texto.", "body"))
    if fields.severity not in {s.value for s in Severity}:
        problems.append(ValidationError("Escolha a gravidade do comunicado.", "severity"))
    if fields.starts_at and fields.ends_at and fields.ends_at <= fields.starts_at:
        problems.append(ValidationError("O término deve ser depois do início.", "ends_at"))
    problems += _audience_problems(session, fields)
    return problems


def _audience_problems(session: DbSession, fields: AnnouncementFields) -> list[ValidationError]:
    audience = fields.audience
    if audience not in {a.value for a in Audience}:
        return [ValidationError("Escolha o público do comunicado.", "audience")]
    if audience == Audience.UF and fields.uf not in UFS:
        return [ValidationError("Escolha a UF do público.", "uf")]
    if audience == Audience.KIND and fields.kind not in {k.value for k in OrganisationKind}:
        return [ValidationError("Escolha o tipo de ente do público.", "kind")]
    if audience == Audience.ORGANISATION and (
        fields.organisation_id is None or session.get(Organisation, fields.organisation_id) is None
    ):
        return [ValidationError("Escolha o ente do público.", "organisation_id")]
    return []


def _apply(announcement: Announcement, fields: AnnouncementFields) -> None:
    audience = Audience(fields.audience)
    announcement.title = fields.title.strip()
    announcement.body = fields.body.strip()
    announcement.severity = fields.severity
    announcement.audience = audience.value
    announcement.audience_value = {Audience.UF: fields.uf, Audience.KIND: fields.kind}.get(audience)
    announcement.audience_organisation_id = (
        fields.organisation_id if audience is Audience.ORGANISATION else None
    )
    announcement.starts_at = fields.starts_at
    announcement.ends_at = fields.ends_at
    announcement.updated_at = utcnow()


def _get(session: DbSession, announcement_id: int) -> Announcement:
    found = session.get(Announcement, announcement_id)
    if found is None:
        raise NotFound()
    return found


def _snapshot(announcement: Announcement) -> dict[str, object]:
    return audit.snapshot(announcement, AUDITED)


# ------------------------------------------------------------------ admins' changes


def create_announcement(
    session: DbSession, actor: Actor, fields: AnnouncementFields
) -> Announcement:
    """A new Comunicado, as a rascunho: nobody sees it until it is published."""
    require(can_publish(actor))
    if problems := check_fields(session, fields):
        raise FormErrors(problems)
    announcement = Announcement(state=AnnouncementState.DRAFT.value, created_by_id=actor.id)
    _apply(announcement, fields)
    session.add(announcement)
    session.flush()
    audit.record(
        session,
        actor,
        "announcement.create",
        "announcement",
        announcement.id,
        after=_snapshot(announcement),
    )
    return announcement


def update_announcement(
    session: DbSession, actor: Actor, announcement_id: int, fields: AnnouncementFields
) -> Announcement:
    """Change a Comunicado, draft or published (a published one changes where it shows)."""
    require(can_publish(actor))
    announcement = _get(session, announcement_id)
    if problems := check_fields(session, fields):
        raise FormErrors(problems)
    before = _snapshot(announcement)
    _apply(announcement, fields)
    session.flush()
    audit.record(
        session,
        actor,
        "announcement.update",
        "announcement",
        announcement.id,
        before=before,
        after=_snapshot(announcement),
    )
    return announcement


def _set_state(
    session: DbSession, actor: Actor, announcement: Announcement, state: AnnouncementState
) -> None:
    before = {"state": announcement.state, "published_at": announcement.published_at}
    announcement.state = state.value
    announcement.updated_at = utcnow()
    if state is AnnouncementState.PUBLISHED:
        announcement.published_at = announcement.updated_at
    session.flush()
    action = "publish" if state is AnnouncementState.PUBLISHED else "unpublish"
    audit.record(
        session,
        actor,
        f"announcement.{action}",
        "announcement",
        announcement.id,
        before=before,
        after={"state": announcement.state, "published_at": announcement.published_at},
    )


def publish(
    session: DbSession, actor: Actor, announcement_id: int, *, now: datetime | None = None
) -> Announcement:
    """Publish a draft: from now on it shows to its audience inside its window."""
    require(can_publish(actor))
    announcement = _get(session, announcement_id)
    if announcement.state == AnnouncementState.PUBLISHED:
        raise Conflict("Este comunicado já está publicado.")
    if announcement.ends_at is not None and as_utc(announcement.ends_at) <= (now or utcnow()):
        raise ValidationError(
            "O término já passou: altere a data de término antes de publicar.", "ends_at"
        )
    _set_state(session, actor, announcement, AnnouncementState.PUBLISHED)
    return announcement


def return_to_draft(session: DbSession, actor: Actor, announcement_id: int) -> Announcement:
    """Take a published Comunicado back: it stops showing at once, and can be edited and
    published again (users who closed its banner do not see the banner again)."""
    require(can_publish(actor))
    announcement = _get(session, announcement_id)
    if announcement.state != AnnouncementState.PUBLISHED:
        raise Conflict("Este comunicado já é um rascunho.")
    _set_state(session, actor, announcement, AnnouncementState.DRAFT)
    return announcement


def remove_announcement(session: DbSession, actor: Actor, announcement_id: int) -> None:
    """Remove a rascunho. A published Comunicado goes back to draft first, so one that people
    may be reading never disappears by a slip; the audit entry keeps what it said."""
    require(can_publish(actor))
    announcement = _get(session, announcement_id)
    if announcement.state != AnnouncementState.DRAFT:
        raise Conflict("Só rascunhos podem ser removidos. Volte o comunicado para rascunho antes.")
    before = _snapshot(announcement)
    session.delete(announcement)
    session.flush()
    audit.record(
        session, actor, "announcement.remove", "announcement", announcement_id, before=before
    )


def publish_announcement(
    session: DbSession, actor: Actor, fields: AnnouncementFields
) -> Announcement:
    """Create and publish in one step (the demo loader and the command line)."""
    announcement = create_announcement(session, actor, fields)
    return publish(session, actor, announcement.id)


# ------------------------------------------------------------------ a user's "Fechar"


def dismiss(
    session: DbSession, user: User, announcement_id: int, *, now: datetime | None = None
) -> None:
    """Close a critical Comunicado's banner for this user (it stays on the home). Closing it
    twice changes nothing; one the user does not see now is 404, as any hidden object.

    A reader's preference, not an administrative change: it is not audited."""
    visible = queries.visible_announcements(session, user, now=now, ids=[announcement_id])
    if not visible or visible[0].severity != Severity.CRITICAL:
        raise NotFound()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(AnnouncementDismissal)
        .values(user_id=user.id, announcement_id=announcement_id, dismissed_at=utcnow())
        .on_conflict_do_nothing(index_elements=["user_id", "announcement_id"])
    )
