"""Input the database cannot hold is refused before any view: NUL characters, huge ids.

NUL characters never reach the database.

PostgreSQL refuses them in any text value, so a `%00` in an address, a form field or a JSON
string would end as a server error there (and pass on SQLite). One check before every view
refuses them as a bad request instead: no field anywhere can legitimately hold one. Uploaded
files are bytes and are not looked at.
"""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, Map

ID_MAX = 2**31 - 1  # PostgreSQL's integer, the type of every id column

NUL_MESSAGE = "A requisição contém um caractere nulo (NUL), que não é aceito."


def _json_has_nul() -> bool:
    if not request.is_json:
        return False
    # JSON can only carry NUL escaped; the raw body is bytes already read for the view.
    return b"\\u0000" in request.get_data(cache=True)


def refuse_nul_characters() -> None:
    """before_request: 400 when the path, the query string, a form field or a JSON body
    carries a NUL character."""
    if "\x00" in request.path or b"%00" in request.query_string or b"\x00" in request.query_string:
        raise BadRequest(NUL_MESSAGE)
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    if any("\x00" in value for value in request.form.values()) or _json_has_nul():
        raise BadRequest(NUL_MESSAGE)


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in every address, bounded as an `integer` column is (PostgreSQL's 4 bytes):
    a larger number is a 404 like any unknown id, never a database error."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)
