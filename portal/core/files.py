"""Files for any owner: checked by content (never by name), staged, stored, attached, served.

One path for every area: a form stages what was chosen (PendingUpload, so a form that fails
keeps its files), the service attaches them to its owner (a request's timeline entry, later an
article or an occurrence), and the area's view serves one after its own permission check.

Allowed, as the Pronto Cliente tutorial lists: images, spreadsheets, PDF and office documents,
and zip/rar/7z archives (stored, never extracted), plus plain text and CSV. SVG, HTML, XML and
scripts are refused whatever their name or content, because a same-origin file must never
become a page. What passes the type check is then looked inside (`portal.core.file_checks`):
images are stored rebuilt from their pixels, PDFs must open, office documents carry no macros,
text holds no markup anywhere.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import filetype
from flask import abort, current_app, send_file
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from portal.core import file_checks
from portal.core.database import DbSession, begin_write
from portal.core.errors import ValidationError
from portal.core.models import Attachment, PendingUpload
from portal.core.storage import file_store

if TYPE_CHECKING:
    from portal.accounts.models import User

IMAGES = {"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff"}
OLD_OFFICE = {
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/rtf",
}
OOXML = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "word/",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xl/",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "ppt/",
}
ODF = {
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
}
ARCHIVES = {"application/zip", "application/x-rar-compressed", "application/x-7z-compressed"}
ALLOWED = IMAGES | OLD_OFFICE | set(OOXML) | ODF | ARCHIVES | {"application/pdf"}
TEXT_EXTENSIONS = {".txt": "text/plain", ".csv": "text/csv"}
# A file that starts like markup (a tag, a comment, a processing instruction, a doctype) after
# any BOM and whitespace is markup, whatever comes next: `<!-- x --><svg>` included.
MARKUP = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<[a-z!?/]", re.I)
# Refused by name even with harmless content: a browser or a desktop may act on the name alone.
ACTIVE_EXTENSIONS = {".svg", ".svgz", ".html", ".htm", ".xhtml", ".xht", ".xml", ".js", ".mjs"}
ACCEPT_ATTRIBUTE = (
    "image/*,.pdf,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.odt,.ods,.odp,.rtf,.zip,.rar,.7z,.txt,.csv"
)
ALLOWED_DESCRIPTION = (
    "imagens, planilhas, PDF, documentos (Word, LibreOffice), texto/CSV e arquivos "
    "compactados (zip, rar, 7z)"
)


class UploadRefused(ValidationError):
    def __init__(self, message: str) -> None:
        super().__init__(message, field="attachments")


@dataclass(frozen=True)
class Inspected:
    """An accepted file: the bytes to store (an image rebuilt, anything else as sent), their
    size and sha256, and the type found by content."""

    name: str
    content_type: str
    size: int
    sha256: str
    data: bytes = field(repr=False)


def safe_filename(raw: str) -> str:
    """The name to show and offer on download: no path, no control characters, bounded."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c)[0] != "C"
    )
    name = name.strip().strip(".") or "arquivo"
    if len(name) > 180:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:170] + dot + ext[:9]) if dot and len(ext) < 10 else name[:180]
    return name


def _zip_entries(data: bytes) -> zipfile.ZipFile | None:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        return None


def _office_zip_ok(mime: str, data: bytes) -> bool:
    """Confirm an OOXML/ODF document by its entry list, without extracting anything."""
    archive = _zip_entries(data)
    if archive is None:
        return False
    with archive:
        names = archive.namelist()
        if mime in OOXML:
            return "[Content_Types].xml" in names and any(n.startswith(OOXML[mime]) for n in names)
        info = archive.getinfo("mimetype") if "mimetype" in names else None
        return (
            info is not None
            and info.file_size < 200
            and archive.read(info).decode("ascii", "replace").strip() == mime
        )


def _text_type(name: str, data: bytes) -> str | None:
    ext = Path(name).suffix.lower()
    if ext not in TEXT_EXTENSIONS or b"\x00" in data:
        return None
    for encoding in ("utf-8", "cp1252"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return TEXT_EXTENSIONS[ext]
    return None


def inspect(name: str, data: bytes, max_bytes: int) -> Inspected:
    """Accept or refuse one file; the message names the file and says why."""
    shown = safe_filename(name)
    if not data:
        raise UploadRefused(f"O arquivo “{shown}” está vazio.")
    if len(data) > max_bytes:
        limit = max_bytes // (1024 * 1024)
        raise UploadRefused(f"O arquivo “{shown}” é maior que o limite de {limit} MB.")
    markup = Path(shown).suffix.lower() in ACTIVE_EXTENSIONS or MARKUP.match(data[:1024])
    kind = None if markup else filetype.guess(data[:8192])
    mime = kind.mime if kind else None
    if mime in OOXML or mime in ODF:
        if not _office_zip_ok(mime, data):
            mime = None
    elif mime is None and not markup:
        mime = _text_type(shown, data)
    if mime is None or (mime not in ALLOWED and mime not in TEXT_EXTENSIONS.values()):
        raise UploadRefused(
            f"O arquivo “{shown}” não é de um tipo permitido. Envie {ALLOWED_DESCRIPTION}."
        )
    try:
        data = _look_inside(mime, data)
    except file_checks.Refused as exc:
        raise UploadRefused(f"O arquivo “{shown}” {exc}") from exc
    if len(data) > max_bytes:  # an image can grow when rebuilt (a compressed BMP, a TIFF)
        limit = max_bytes // (1024 * 1024)
        raise UploadRefused(
            f"O arquivo “{shown}” passa do limite de {limit} MB depois de preparado para o "
            "envio. Envie-o em PNG ou JPEG."
        )
    return Inspected(
        name=shown,
        content_type=mime,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
    )


def _look_inside(mime: str, data: bytes) -> bytes:
    """The bytes to store for a file of this type, or `file_checks.Refused`."""
    if mime in IMAGES:
        return file_checks.rebuild_image(mime, data)
    if mime == "application/pdf":
        file_checks.check_pdf(data)
    elif mime in OOXML or mime in ODF:
        file_checks.check_office(data, odf=mime in ODF)
    elif mime in TEXT_EXTENSIONS.values():
        file_checks.check_text(data)
    return data


def _read_bounded(file: FileStorage, max_bytes: int) -> bytes:
    return file.stream.read(max_bytes + 1)


def stage_files(
    session: DbSession, owner: User, files: list[FileStorage]
) -> tuple[list[PendingUpload], list[str]]:
    """Check and keep every chosen file; refused ones come back as messages naming them."""
    max_bytes: int = current_app.config["MAX_UPLOAD_BYTES"]
    found: list[Inspected] = []
    refused: list[str] = []
    for file in files:
        if file is None or not file.filename:
            continue
        data = _read_bounded(file, max_bytes)
        try:
            found.append(inspect(file.filename, data, max_bytes))
        except UploadRefused as exc:
            refused.append(str(exc))
    return stage_inspected(session, owner, found), refused


def stage_inspected(
    session: DbSession, owner: User, found: Sequence[Inspected]
) -> list[PendingUpload]:
    """Keep files already accepted by `inspect`, storing the bytes it settled on. The write
    lock is taken only now: decoding and rebuilding images must not hold it."""
    if found:
        begin_write(session)
    accepted: list[PendingUpload] = []
    for item in found:
        pending = PendingUpload(
            token=secrets.token_hex(16),
            owner_id=owner.id,
            original_name=item.name,
            stored_name=file_store().save(item.data),
            size=item.size,
            content_type=item.content_type,
            sha256=item.sha256,
        )
        session.add(pending)
        accepted.append(pending)
    session.flush()
    return accepted


def pending_for(session: DbSession, owner: User, tokens: list[str]) -> list[PendingUpload]:
    """The owner's staged files among these tokens; anyone else's tokens find nothing."""
    wanted = [t for t in tokens if t and re.fullmatch(r"[0-9a-f]{32}", t)]
    if not wanted:
        return []
    begin_write(session)  # they become attachments: read them under the lock that attaches them
    return list(
        session.scalars(
            select(PendingUpload)
            .where(PendingUpload.owner_id == owner.id, PendingUpload.token.in_(wanted))
            .order_by(PendingUpload.id)
        )
    )


def attach(
    session: DbSession, owner_type: str, owner_id: int, pending: Sequence[PendingUpload]
) -> list[Attachment]:
    """Turn staged files into attachments of one owner; the staged rows go."""
    attachments = []
    for item in pending:
        attachment = Attachment(
            owner_type=owner_type,
            owner_id=owner_id,
            original_name=item.original_name,
            stored_name=item.stored_name,
            size=item.size,
            content_type=item.content_type,
            sha256=item.sha256,
            uploader_id=item.owner_id,
        )
        session.add(attachment)
        session.delete(item)
        attachments.append(attachment)
    session.flush()
    return attachments


def send_attachment(attachment: Attachment) -> Response:
    """Serve one file as a download that can never become a page of ours. The caller has
    checked that the viewer may see the attachment's owner."""
    try:
        contents = file_store().open(attachment.stored_name)
    except (FileNotFoundError, ValueError):
        abort(404)
    response = send_file(
        contents,
        mimetype=attachment.content_type or "application/octet-stream",
        as_attachment=True,
        download_name=attachment.original_name,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
