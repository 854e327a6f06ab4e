"""Size limits on uploads that lose nothing typed.

Werkzeug's `MAX_CONTENT_LENGTH` refuses a body before reading a byte of it, so a form carrying
a file that was too big came back as a bare 413 page and everything typed was lost. Instead the
body is read whole up to a high ceiling (`MAX_CONTENT_LENGTH`, 20 times the per-file limit, see
config.py) and each file part goes into a `CappedFile`, which keeps at most
`MAX_UPLOAD_BYTES + 1` bytes and only counts the rest. The extra byte is what lets
`files.inspect` refuse the file by name; the count is what lets the view answer 413. Text fields
stay bounded by Flask's `MAX_FORM_MEMORY_SIZE` and the number of parts by `MAX_FORM_PARTS`, so
one request never keeps more than about parts × (per-file limit) bytes, on disk past 500 KB.

Only a body above the ceiling still gets the plain 413 page (`too_large_message`): reading it
to find the typed fields would mean reading without end, which is what the ceiling prevents.
"""

from __future__ import annotations

from tempfile import SpooledTemporaryFile
from typing import IO, Any

from flask import Flask, Request, current_app, has_request_context, request

# A file part stays in memory up to this size, then goes to a temporary file (Werkzeug's own).
SPOOL_BYTES = 500 * 1024
MB = 1024 * 1024


class CappedFile(SpooledTemporaryFile[bytes]):
    """A file part that keeps its first `keep` bytes and counts the rest without storing it."""

    def __init__(self, keep: int) -> None:
        super().__init__(max_size=SPOOL_BYTES, mode="w+b")
        self.keep = keep
        self.received = 0

    def write(self, s: Any) -> int:
        room = self.keep - self.received
        self.received += len(s)
        if room > 0:
            super().write(bytes(s[:room]))
        return len(s)  # the parser must go on as if everything was stored


class PortalRequest(Request):
    """Flask's request whose uploaded files are capped (CappedFile) instead of refused whole."""

    upload_parts: list[tuple[str, CappedFile]] | None = None

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        sink = CappedFile(current_app.config["MAX_UPLOAD_BYTES"] + 1)
        if self.upload_parts is None:
            self.upload_parts = []
        self.upload_parts.append((filename or "", sink))
        return sink


def oversize_files() -> list[str]:
    """Names of the files of the current request that were bigger than MAX_UPLOAD_BYTES."""
    parts = getattr(request, "upload_parts", None) if has_request_context() else None
    limit: int = current_app.config["MAX_UPLOAD_BYTES"]
    return [name for name, sink in parts or [] if sink.received > limit]


def refusal_status() -> int:
    """The status of a form shown again with its refusals: 413 when a file was too large."""
    return 413 if oversize_files() else 400


def describe_size(size: int) -> str:
    """A limit as people read it: "10 MB", "512 KB"."""
    if size >= MB:
        return f"{size // MB} MB"
    if size >= 1024:
        return f"{size // 1024} KB"
    return f"{size} bytes"


def too_large_message() -> str:
    """The 413 page's text when the whole body passes the ceiling (nothing of it was read)."""
    total = current_app.config.get("MAX_CONTENT_LENGTH")
    per_file = describe_size(current_app.config["MAX_UPLOAD_BYTES"])
    whole = f" de {describe_size(total)}" if total else ""
    return (
        f"O envio é maior que o limite permitido{whole} por formulário e não foi recebido. "
        f"Cada arquivo pode ter até {per_file}. Volte, escolha arquivos menores ou divida o "
        "envio em partes, e tente de novo."
    )


def init_app(app: Flask) -> None:
    """Parse every request with capped file parts."""
    app.request_class = PortalRequest
