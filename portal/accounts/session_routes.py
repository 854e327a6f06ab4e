"""Perfil > Sessões ativas (each signed-in browser, Encerrar, Encerrar todas as outras) and
Perfil > Histórico de acessos (the newest sign-ins and failures).

A person sees and ends only their own sessions: the services scope every id to the actor and
answer 404 for anyone else's. Ending a row signs that browser out at its next request on every
worker, because the user loader reads the row (portal.accounts.sessions).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required, logout_user

from portal.accounts import history
from portal.accounts import sessions as user_sessions
from portal.core.extensions import db
from portal.core.web import current_actor

bp = Blueprint("account_sessions", __name__, url_prefix="/perfil")


def _browser_key() -> str:
    return str(session.get(user_sessions.SESSION_KEY, ""))


@bp.get("/sessoes")
@login_required
def index() -> ResponseReturnValue:
    lines = user_sessions.open_sessions(db.session, current_actor(), _browser_key())
    return render_template("accounts/sessions.html", lines=lines)


@bp.post("/sessoes/<int:session_id>/encerrar")
@login_required
def end(session_id: int) -> ResponseReturnValue:
    # Another person's id raises NotFound, which the error handler answers with 404.
    was_this_browser = user_sessions.end_one(
        db.session, current_actor(), session_id, _browser_key()
    )
    db.session.commit()
    if was_this_browser:
        logout_user()
        session.clear()
        flash("Esta sessão foi encerrada. Entre novamente.", "success")
        return redirect(url_for("accounts.login"))
    flash("Sessão encerrada. Aquele navegador precisará entrar novamente.", "success")
    return redirect(url_for(".index"))


@bp.post("/sessoes/encerrar-outras")
@login_required
def end_others() -> ResponseReturnValue:
    count = user_sessions.end_others(db.session, current_actor(), _browser_key())
    db.session.commit()
    if count == 0:
        flash("Não havia outras sessões ativas.", "info")
    elif count == 1:
        flash("1 outra sessão foi encerrada.", "success")
    else:
        flash(f"{count} outras sessões foram encerradas.", "success")
    return redirect(url_for(".index"))


@bp.get("/acessos")
@login_required
def sign_ins() -> ResponseReturnValue:
    me = current_actor()
    lines = history.recent_sign_ins(db.session, me, me)
    return render_template(
        "accounts/sign_ins.html", lines=lines, size=history.HISTORY_SIZE, subject=None
    )
