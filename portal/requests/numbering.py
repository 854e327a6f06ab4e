"""Request numbers: CS followed by seven digits (CS0000123), from the "request" counter."""

from __future__ import annotations

from portal.core.database import DbSession
from portal.core.numbering import next_value
from portal.requests.models import format_number

REQUEST_COUNTER = "request"


def next_request_number(session: DbSession) -> str:
    return format_number(next_value(session, REQUEST_COUNTER))
