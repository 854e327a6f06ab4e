"""The API against its own OpenAPI document, with Schemathesis, on SQLite and PostgreSQL.

Schemathesis reads /api/v1/openapi.json from the test app served on loopback, generates
requests from it (valid ones, invalid ones, unsupported methods, and the links between
operations) and checks every answer: no server error, a status code and a content type the
document lists, a body that matches its schema, valid input accepted and invalid input refused.
It runs as its command line does in CI, once with a requester's token and once with an
agent's, on a scene with requests, a catalog and people, so most paths reach real objects.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.accounts.models import SupportGroup
from portal.clients import occurrences
from portal.clients.models import OccurrenceCategory
from portal.core import files
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.knowledge import services as kb
from portal.models import Organisation, User
from portal.requests import services as request_service
from tests.conftest import SETUP, api_token
from tests.files import pdf_bytes, png_bytes

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CONFIG = Path(__file__).parents[1] / "schemathesis.toml"
# Enough examples per operation to cross every validator, few enough for a 2-core CI run.
MAX_EXAMPLES = "25"
SEED = "20261205"


def _token(user: User) -> str:
    return api_token(user, name="Schemathesis")


def _run(live_server: str, token: str, report: Path) -> subprocess.CompletedProcess[str]:
    """The command line as CI would type it; run in the test's folder, which keeps its cache."""
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG),
        "run",
        f"{live_server}/api/v1/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        "all",
        "--max-examples",
        MAX_EXAMPLES,
        "--seed",
        SEED,
        "--generation-database",
        "none",
        # NUL is refused before any view (400, core/text_input.py, tested on its own); letting
        # it into the valid inputs would only report that 400 everywhere.
        "--generation-allow-x00",
        "false",
        "--workers",
        "1",
        "--no-color",
        "--output-sanitize",
        "true",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
    ]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=900, check=False, cwd=report.parent
    )


def _tested_operations(report: Path) -> set[str]:
    """The operations Schemathesis actually called, read from its event log."""
    seen: set[str] = set()
    for line in report.read_text().splitlines():
        event = json.loads(line)
        for name, body in event.items():
            if name == "ScenarioFinished" and body.get("recorder"):
                label = body["recorder"].get("label")
                if label:
                    seen.add(label)
    return seen


def _scene(org: Organisation, make_user, make_request) -> dict[str, User]:
    """Objects behind the document's path examples (CS0000001, gerid, KB0000001, id 1), so
    the examples phase reaches real ones: a request with a file, a published article with a
    file, client 1 with an occurrence, and the users."""
    maria = make_user("Maria Solicitante")
    agent = make_user("Bruno Atendente", role="agent", groups=["Suporte GERID"])
    requests = [make_request(maria, followers=[agent]) for _ in range(3)]
    png = FileStorage(io.BytesIO(png_bytes()), filename="tela.png")
    staged, refused = files.stage_files(db.session, maria, [png])
    assert not refused
    request_service.add_message(db.session, requests[0], maria, "A tela do erro.", staged)
    group = db.session.scalars(select(SupportGroup)).first()
    category = kb.ensure_category_path(db.session, SETUP, ["Acesso e senhas"])
    article = kb.create_article(
        db.session,
        SETUP,
        kb.ArticleInput(
            title="Como acessar o GERID",
            summary="Primeiro acesso com CPF e senha.",
            body="## Passo a passo\n\nInforme o **CPF** e a senha.",
            category_id=category.id,
            visibility="public",
            owner_group_id=group.id if group else None,
        ),
    )
    kb.submit_for_review(db.session, SETUP, article.id)
    kb.publish(db.session, SETUP, article.id)
    pdf = FileStorage(io.BytesIO(pdf_bytes()), filename="manual.pdf")
    staged, refused = files.stage_files(db.session, agent, [pdf])
    assert not refused
    files.attach(db.session, "article", article.id, staged)
    org.client_since = utcnow()
    db.session.flush()
    occurrences.record_occurrence(
        db.session,
        agent,
        organisation_id=org.id,
        category_id=db.session.scalars(select(OccurrenceCategory.id)).first(),
        impact="negativo",
        occurred_on=date(2026, 3, 5),
        description="Cliente relatou demora no atendimento.",
    )
    db.session.commit()
    return {"requester": maria, "agent": agent}


@pytest.mark.parametrize("who", ["requester", "agent"])
def test_the_api_keeps_its_published_contract(
    live_server: str,
    org: Organisation,
    client_refs: None,
    make_user,
    make_request,
    tmp_path: Path,
    who: str,
) -> None:
    people = _scene(org, make_user, make_request)
    token = _token(people[who])
    report = tmp_path / "events.ndjson"

    result = _run(live_server, token, report)

    assert result.returncode == 0, result.stdout[-20_000:] + result.stderr[-5_000:]
    print(result.stdout[-2_000:])  # shown with -s, or on a failure below
    generated = re.search(r"(\d+) generated", result.stdout)
    assert generated and int(generated.group(1)) >= 500, result.stdout[-2_000:]
    # Not a vacuous pass: the run reached the request operations, reads and writes.
    operations = _tested_operations(report)
    for expected in (
        "GET /api/v1/requests",
        "POST /api/v1/requests",
        "GET /api/v1/requests/{number}",
        "POST /api/v1/requests/{number}/actions",
        "GET /api/v1/catalog/items/{slug}",
    ):
        assert expected in operations, sorted(operations)
