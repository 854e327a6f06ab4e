"""Argument fields the API's schemas share, bounded as the database stores them.

Ids are PostgreSQL `integer` columns: a larger number in a query is an error there (and not on
SQLite), so every id the API reads is refused above 2³¹−1 by its schema, which the published
document then states too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from flask import url_for

from portal.core.text_input import ID_MAX

__all__ = ["ID_MAX", "file_download", "id_field", "next_link"]


def id_field(error: str, **kwargs: Any) -> ma.fields.Integer:
    """An id argument: 1 to ID_MAX, with the page's message for anything else."""
    return ma.fields.Integer(validate=ma.validate.Range(min=1, max=ID_MAX, error=error), **kwargs)


def file_download(bp: Any) -> Any:
    """A view that answers a stored file: documented as any type, since each file keeps the
    type it was stored with (an image, a PDF, a spreadsheet...)."""
    return bp.response(
        200,
        {"type": "string", "format": "binary"},
        content_type="*/*",
        description="O arquivo, como download (Content-Disposition: attachment)",
    )


def next_link(
    endpoint: str, next_cursor: str | None, query: Mapping[str, Any], **values: Any
) -> dict[str, str]:
    """The `Link: rel="next"` header of a page (none on the last): `query` with the next
    cursor in place of this page's, and `values` for the address's own arguments."""
    if not next_cursor:
        return {}
    kept = {k: v for k, v in query.items() if k != "cursor"}
    link = url_for(endpoint, **values, **kept, cursor=next_cursor)
    return {"Link": f'<{link}>; rel="next"'}
