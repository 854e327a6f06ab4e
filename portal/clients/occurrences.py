"""Occurrences: what support staff record about a client (seed 000, G Client's "Ocorrência").

Services take (session, actor), check `portal.clients.policy`, flush and write the audit entry
in the caller's transaction; they never commit. An occurrence has at most two images, attached
through the shared path (`portal.core.files`) with owner type `OCCURRENCE_OWNER`.

Removing an occurrence (admins) deletes its row and its images' attachment rows in the same
transaction; `remove_occurrence` returns the stored file names so the caller deletes the bytes
only after the commit (a rolled-back removal never loses a file).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import delete, select
from werkzeug.datastructures import FileStorage

from portal.clients import policy
from portal.clients.models import (
    OCCURRENCE_OWNER,
    Impact,
    Occurrence,
    OccurrenceCategory,
    Organisation,
)
from portal.core import audit, files
from portal.core.actors import Actor, SystemActor
from portal.core.database import DbSession, begin_write
from portal.core.errors import FormErrors, NotFound, ValidationError, require
from portal.core.models import Attachment, PendingUpload
from portal.core.timeutil import utcnow
from portal.requests.models import ServiceRequest

if TYPE_CHECKING:
    from portal.accounts.models import User

MAX_IMAGES = 2
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
IMAGE_ACCEPT = "image/png,image/jpeg,image/gif,image/webp"
TOO_MANY_IMAGES = "Anexe no máximo 2 imagens."
DEFAULT_TIMEZONE = "America/Sao_Paulo"
DATE_HINT = "Formato DD/MM/AAAA, por exemplo 05/03/2026."
_BR_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
AUDITED = ("description", "category_id", "impact", "occurred_on", "request_id")


# ------------------------------------------------------------------ input helpers


def local_today() -> date:
    """Today in the portal's time zone (America/Sao_Paulo): what "not in the future" means."""
    name = current_app.config.get("TIMEZONE", DEFAULT_TIMEZONE) if has_app_context() else None
    return datetime.now(ZoneInfo(name or DEFAULT_TIMEZONE)).date()


def parse_date(typed: str, field: str = "occurred_on") -> date:
    """DD/MM/AAAA as people in Brazil write it, or the ISO yyyy-mm-dd a date input sends."""
    text = (typed or "").strip()
    if not text:
        raise ValidationError("Informe a data da ocorrência (DD/MM/AAAA).", field)
    if found := _BR_DATE.fullmatch(text):
        day, month, year = (int(part) for part in found.groups())
    elif found := _ISO_DATE.fullmatch(text):
        year, month, day = (int(part) for part in found.groups())
    else:
        raise ValidationError(f"Data inválida: “{text}”. Use o formato DD/MM/AAAA.", field)
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ValidationError(
            f"Data inexistente: “{text}”. Use o formato DD/MM/AAAA.", field
        ) from exc


def stage_images(
    session: DbSession, owner: User, chosen: list[FileStorage], already: int
) -> tuple[list[PendingUpload], list[str]]:
    """Stage the chosen images through the shared path, refusing (by name) what is not an image
    by its content and whatever would pass the limit of two with the `already` staged ones."""
    max_bytes: int = current_app.config["MAX_UPLOAD_BYTES"]
    keep: list[files.Inspected] = []
    refused: list[str] = []
    for item in chosen:
        if item is None or not item.filename:
            continue
        shown = files.safe_filename(item.filename)
        if already + len(keep) >= MAX_IMAGES:
            refused.append(f"A imagem “{shown}” não foi anexada. {TOO_MANY_IMAGES}")
            continue
        data = item.stream.read(max_bytes + 1)
        try:
            found = files.inspect(item.filename, data, max_bytes)
        except files.UploadRefused as exc:
            refused.append(str(exc))
            continue
        if found.content_type not in IMAGE_TYPES:
            refused.append(
                f"O arquivo “{shown}” não é uma imagem. Anexe imagens PNG, JPEG, GIF ou WebP."
            )
            continue
        keep.append(found)  # staged as inspected: the image is decoded and rebuilt only once
    return files.stage_inspected(session, owner, keep), refused


# ------------------------------------------------------------------ checks


@dataclass(frozen=True)
class Checked:
    organisation: Organisation
    category: OccurrenceCategory
    impact: Impact
    request: ServiceRequest | None


def _find_request(session: DbSession, typed: str, organisation_id: int) -> ServiceRequest:
    number = "".join(typed.split()).upper()
    found = session.scalar(select(ServiceRequest).where(ServiceRequest.number == number))
    if found is None:
        raise ValidationError(f"Solicitação {number} não encontrada.", "request_number")
    if found.organisation_id != organisation_id:
        raise ValidationError(
            f"A solicitação {number} não é deste cliente. Informe uma solicitação do cliente "
            "relacionado.",
            "request_number",
        )
    return found


def _check(
    session: DbSession,
    *,
    organisation_id: int | None,
    category_id: int | None,
    impact: str,
    occurred_on: date | None,
    description: str,
    request_number: str,
    images: Sequence[PendingUpload],
    today: date,
) -> Checked:
    """Every problem at once (FormErrors), before anything is written."""
    errors: list[ValidationError] = []
    if not description.strip():
        errors.append(ValidationError("Descreva a ocorrência.", "description"))
    category = session.get(OccurrenceCategory, category_id) if category_id else None
    if category is None or not category.active:
        errors.append(ValidationError("Escolha a categoria.", "category"))
    try:
        impact_value = Impact(impact)
    except ValueError:
        errors.append(ValidationError("Escolha o impacto da ocorrência.", "impact"))
    if occurred_on is None:
        errors.append(ValidationError("Informe a data da ocorrência (DD/MM/AAAA).", "occurred_on"))
    elif occurred_on > today:
        errors.append(
            ValidationError(
                f"A data da ocorrência não pode estar no futuro (hoje é "
                f"{today.strftime('%d/%m/%Y')}).",
                "occurred_on",
            )
        )
    org = session.get(Organisation, organisation_id) if organisation_id else None
    if org is None or not org.is_client:
        errors.append(ValidationError("Relacione o cliente.", "client"))
    found_request = None
    if request_number.strip() and org is not None and org.is_client:
        try:
            found_request = _find_request(session, request_number, org.id)
        except ValidationError as exc:
            errors.append(exc)
    if len(images) > MAX_IMAGES:
        errors.append(ValidationError(TOO_MANY_IMAGES, "attachments"))
    for image in images:
        if image.content_type not in IMAGE_TYPES:
            errors.append(
                ValidationError(
                    f"O arquivo “{image.original_name}” não é uma imagem.", "attachments"
                )
            )
    if errors:
        raise FormErrors(errors)
    assert org is not None and category is not None
    return Checked(org, category, impact_value, found_request)


def check_input(session: DbSession, **fields: Any) -> list[ValidationError]:
    """The problems `record_occurrence` would refuse, without writing anything (a form that
    already has an error of its own shows all of them at once)."""
    fields.setdefault("today", local_today())
    try:
        _check(session, **fields)
    except FormErrors as exc:
        return exc.errors
    return []


def _snapshot(occurrence: Occurrence) -> dict[str, Any]:
    values = audit.snapshot(occurrence, AUDITED)
    values["occurred_on"] = occurrence.occurred_on.isoformat()
    return values


# ------------------------------------------------------------------ services


def record_occurrence(
    session: DbSession,
    actor: Actor,
    *,
    organisation_id: int | None,
    category_id: int | None,
    impact: str,
    occurred_on: date | None,
    description: str,
    request_number: str = "",
    images: Sequence[PendingUpload] = (),
    author: User | None = None,
    today: date | None = None,
) -> Occurrence:
    """Record an occurrence about a client ("Cadastrar"). The author is the actor; a system
    actor (demo data, command line) names a staff `author`. The UF is the client's."""
    require(policy.can_record_occurrence(actor))
    writer = author if isinstance(actor, SystemActor) else actor
    if writer is None:
        raise ValidationError("Informe quem registra a ocorrência.", "author")
    begin_write(session)
    checked = _check(
        session,
        organisation_id=organisation_id,
        category_id=category_id,
        impact=impact,
        occurred_on=occurred_on,
        description=description,
        request_number=request_number,
        images=images,
        today=today or local_today(),
    )
    assert occurred_on is not None
    occurrence = Occurrence(
        organisation_id=checked.organisation.id,
        uf=checked.organisation.uf,
        category_id=checked.category.id,
        impact=checked.impact.value,
        occurred_on=occurred_on,
        description=description.strip(),
        author_id=writer.id,
        request_id=checked.request.id if checked.request else None,
    )
    session.add(occurrence)
    session.flush()
    attached = files.attach(session, OCCURRENCE_OWNER, occurrence.id, list(images))
    after = {
        **_snapshot(occurrence),
        "organisation_id": occurrence.organisation_id,
        "author_id": occurrence.author_id,
        "images": [a.original_name for a in attached],
    }
    audit.record(session, actor, "occurrence.create", "occurrence", occurrence.id, after=after)
    return occurrence


def _load(session: DbSession, occurrence_id: int) -> Occurrence:
    found = session.get(Occurrence, occurrence_id)
    if found is None:
        raise NotFound()
    return found


def edit_occurrence(
    session: DbSession,
    actor: Actor,
    occurrence_id: int,
    *,
    category_id: int | None,
    impact: str,
    occurred_on: date | None,
    description: str,
    request_number: str = "",
    today: date | None = None,
) -> Occurrence:
    """Change an occurrence's text, category, impact, date or cited request: its author only.
    The client and the images stay as recorded."""
    begin_write(session)
    occurrence = _load(session, occurrence_id)
    require(policy.can_edit_occurrence(actor, occurrence))
    checked = _check(
        session,
        organisation_id=occurrence.organisation_id,
        category_id=category_id,
        impact=impact,
        occurred_on=occurred_on,
        description=description,
        request_number=request_number,
        images=(),
        today=today or local_today(),
    )
    assert occurred_on is not None
    before = _snapshot(occurrence)
    occurrence.category_id = checked.category.id
    occurrence.impact = checked.impact.value
    occurrence.occurred_on = occurred_on
    occurrence.description = description.strip()
    occurrence.request_id = checked.request.id if checked.request else None
    occurrence.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "occurrence.update",
        "occurrence",
        occurrence.id,
        before=before,
        after=_snapshot(occurrence),
    )
    return occurrence


def remove_occurrence(session: DbSession, actor: Actor, occurrence_id: int) -> list[str]:
    """Remove an occurrence and its images' attachment rows (admins). Returns the stored names
    of the image files, for the caller to delete once the removal is committed."""
    require(policy.can_remove_occurrence(actor))
    begin_write(session)
    occurrence = _load(session, occurrence_id)
    images = list(
        session.scalars(
            select(Attachment).where(
                Attachment.owner_type == OCCURRENCE_OWNER, Attachment.owner_id == occurrence.id
            )
        )
    )
    before = {
        **_snapshot(occurrence),
        "organisation_id": occurrence.organisation_id,
        "author_id": occurrence.author_id,
        "images": [a.original_name for a in images],
    }
    stored = [a.stored_name for a in images]
    session.execute(
        delete(Attachment).where(
            Attachment.owner_type == OCCURRENCE_OWNER, Attachment.owner_id == occurrence.id
        )
    )
    session.delete(occurrence)
    session.flush()
    audit.record(session, actor, "occurrence.remove", "occurrence", occurrence_id, before=before)
    return stored
