"""What a log line may carry: never a CPF or an e-mail address (ASVS V16.2.5, LGPD).

Log people by user id. Text from outside (an SMTP server's error, an exception message) can
hold an address or a CPF, so it goes through `redact` before it is logged."""

from __future__ import annotations

import logging
import re

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Eleven digits, bare or as 999.999.999-99, not inside a longer number.
CPF = re.compile(r"(?<!\d)\d{3}\.?\d{3}\.?\d{3}-?\d{2}(?!\d)")


def redact(text: str) -> str:
    """`text` with every e-mail address and CPF-shaped number replaced."""
    return CPF.sub("[cpf]", EMAIL.sub("[e-mail]", text))


class RedactingFilter(logging.Filter):
    """Rewrites a record's message through `redact`: for loggers that print what came from
    outside, such as the development server's access log (a search by CPF is in its URL)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install() -> None:
    """Once per process: the access log of werkzeug's server goes through RedactingFilter."""
    access = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactingFilter) for f in access.filters):
        access.addFilter(RedactingFilter())
