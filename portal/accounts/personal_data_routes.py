"""Perfil > Meus dados: the page that says what the export holds, and the POST that sends it
(portal.accounts.personal_data builds it). Only for the signed-in person, about themselves."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, send_file
from flask.typing import ResponseReturnValue
from flask_login import login_required
from werkzeug.wrappers import Response

from portal.accounts import personal_data
from portal.core.database import reads_first
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.core.web import current_actor

bp = Blueprint("personal_data", __name__)
log = logging.getLogger("portal.accounts")


@bp.get("/perfil/meus-dados")
@login_required
def index() -> ResponseReturnValue:
    return render_template("accounts/personal_data.html")


@bp.post("/perfil/meus-dados")
@login_required
@reads_first  # it only reads: building the archive must not hold SQLite's write lock
def download() -> Response:
    me = current_actor()
    tz = current_app.config["TIMEZONE"]
    archive = personal_data.build_export(db.session, me, me, tz=tz)
    db.session.rollback()  # end the read transaction before the file is sent
    today = utcnow().astimezone(ZoneInfo(tz)).date()
    log.info("personal data exported user=%s", me.id)
    response = send_file(
        archive,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"meus-dados-{today.isoformat()}.zip",
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
