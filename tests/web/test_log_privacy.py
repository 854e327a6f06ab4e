"""Logs never carry a CPF or an e-mail address: the session-wide check (conftest.py) really
catches one, and the places that log outside text mask it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from portal.core.cpf import format_cpf
from portal.core.extensions import db
from portal.core.log_privacy import RedactingFilter, redact
from portal.core.outbox import deliver_pending, queue_email
from portal.demo import USERS
from tests import log_check

CPF = USERS[0].cpf


@pytest.fixture
def own_log(tmp_path: Path, session_log: logging.Handler) -> Iterator[Path]:
    """A log file of this test alone; the session's file is detached meanwhile, so the CPF
    logged here on purpose does not fail the whole session."""
    root = logging.getLogger()
    root.removeHandler(session_log)
    path = tmp_path / "probe.log"
    handler = log_check.file_handler(path)
    root.addHandler(handler)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        handler.close()
        root.addHandler(session_log)


def test_the_session_check_catches_a_cpf_and_an_email(own_log: Path) -> None:
    probe = logging.getLogger("portal.probe")
    probe.info("nothing personal here user=%s", 12)
    assert log_check.leaks(own_log) == []
    probe.info("login cpf=%s", CPF)
    probe.warning("login cpf=%s", format_cpf(CPF))
    probe.info("sent to %s", "fulana@exemplo.gov.br")
    logging.getLogger("mail.log").warning("third party %s", CPF)  # not the portal's log
    found = log_check.leaks(own_log)
    assert len(found) == 3, found
    assert "CPF of demo user Felipe" in found[0] and "formatted CPF" in found[1]
    assert "e-mail address" in found[2] and "fulana" not in "".join(found)


def test_redact_masks_addresses_and_cpfs() -> None:
    said = f"550 <fulana@exemplo.gov.br> unknown; cpf {format_cpf(CPF)} or {CPF}; CS0000012"
    cleaned = redact(said)
    assert "fulana" not in cleaned and CPF not in cleaned and format_cpf(CPF) not in cleaned
    assert "CS0000012" in cleaned and cleaned.count("[cpf]") == 2


def test_access_log_lines_are_redacted() -> None:
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '"%s" %s',
        (f"GET /admin/usuarios/?q={CPF}", 200),
        None,
    )
    assert RedactingFilter().filter(record)
    assert CPF not in record.getMessage() and "[cpf]" in record.getMessage()


def test_an_email_written_to_a_file_is_logged_without_its_address(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["SMTP_HOST"] = None  # no SMTP: the message becomes a .eml file (make demo)
    queue_email(
        db.session,
        to=["fulana@exemplo.gov.br"],
        subject="Teste",
        template="accounts/email/password_reset",
        context={"user": {"first_name": "Fulana"}, "link": "http://portal.test/x", "hours": 1},
    )
    db.session.commit()
    with caplog.at_level(logging.DEBUG, logger="portal"):
        assert deliver_pending(db.session).sent == 1
    assert "written to" in caplog.text
    assert "fulana" not in caplog.text and "@" not in caplog.text
