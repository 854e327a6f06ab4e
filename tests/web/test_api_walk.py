"""The README's API walk (docs/api_walk.sh) runs as written, with curl, against the portal.

A requester makes a token through the login form and Perfil › Tokens de acesso, opens a GERID
request, attaches a PNG with a message, reads the timeline; an agent's token starts and
resolves it; the requester accepts: Fechado. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from portal.core.extensions import db
from portal.models import Attachment, ServiceRequest
from portal.requests.models import ENTRY_OWNER, TimelineEntry
from tests.conftest import PASSWORD, api_token

WALK = Path(__file__).parents[2] / "docs" / "api_walk.sh"


def test_the_readme_api_walk_runs_end_to_end(live_server: str, make_user, catalog) -> None:
    assert shutil.which("curl"), "curl is needed for the README's walk"
    felipe = make_user("Felipe Rodrigues")
    ana = make_user("Ana Atendente", role="agent", groups=["Suporte GERID"])
    agent_token = api_token(ana, name="Walk")
    cpf = felipe.cpf
    db.session.commit()
    env = {
        **os.environ,
        "BASE": live_server,
        "CPF": cpf,
        "PASSWORD": PASSWORD,
        "AGENT_TOKEN": agent_token,
    }
    walk = subprocess.run(
        ["bash", str(WALK)], env=env, capture_output=True, text=True, timeout=120, check=False
    )

    assert walk.returncode == 0, walk.stdout + walk.stderr
    lines = walk.stdout.splitlines()
    assert lines[0].startswith("token: pat_")
    assert lines[-3:] == ["Em andamento", "Aguardando posição do usuário final", "Fechado"], lines
    db.session.commit()  # end the test's read snapshot: see what the server wrote
    req = db.session.scalars(db.select(ServiceRequest)).one()
    assert req.state == "closed" and req.opened_by.cpf == cpf
    message = db.session.scalars(
        db.select(TimelineEntry).where(
            TimelineEntry.request_id == req.id, TimelineEntry.body == "A tela do erro."
        )
    ).one()
    sent = db.session.scalars(
        db.select(Attachment).filter_by(owner_type=ENTRY_OWNER, owner_id=message.id)
    )
    assert [a.original_name for a in sent] == ["tela.png"]
