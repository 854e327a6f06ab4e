"""The whole test session's log must carry no CPF and no e-mail address (see conftest.py):
what the session records, and what it looks for."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from portal.core.cpf import format_cpf
from portal.demo import USERS

# The loggers whose lines are the portal's: its own, Flask's app logger (named "portal"),
# the development server's access log and the scheduler. Third-party debug output (the test
# SMTP server logs every address it sees) is not the portal's log.
OWN_LOGGERS = ("portal", "werkzeug", "scheduler")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


class OwnLoggers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.name.split(".")[0] in OWN_LOGGERS


def file_handler(path: Path) -> logging.FileHandler:
    """Every record of the portal's loggers, from DEBUG up, with tracebacks, into `path`."""
    handler = logging.FileHandler(path, encoding="utf-8", delay=True)
    handler.setLevel(logging.DEBUG)
    handler.addFilter(OwnLoggers())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    return handler


def _needles() -> list[tuple[str, str]]:
    found = []
    for user in USERS:
        found.append((user.cpf, f"CPF of demo user {user.name.split()[0]}"))
        found.append((format_cpf(user.cpf), f"formatted CPF of demo user {user.name.split()[0]}"))
    return found


def leaks(path: Path) -> list[str]:
    """One line per log line that holds a demo user's CPF (bare or formatted) or any e-mail
    address, naming what was found and where, never repeating the value itself."""
    if not path.exists():
        return []
    problems = []
    needles = _needles()
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, 1):
            logger = line.split(": ", 1)[0].rsplit(" ", 1)[-1]
            for value, what in needles:
                if value in line:
                    problems.append(f"{path.name}:{number} ({logger}): {what}")
            if EMAIL.search(line):
                problems.append(f"{path.name}:{number} ({logger}): an e-mail address")
    return problems
