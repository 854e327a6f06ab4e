from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import login_required
from werkzeug.wrappers import Response

from portal.core import health
from portal.core.extensions import csrf, db, limiter
from portal.core.web import attempt, current_actor, safe_next
from portal.home import announcements, queries
from portal.home.banner import notice
from portal.requests import policy
from portal.requests.queries import counts_by_service_and_state

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def home() -> ResponseReturnValue:
    me = current_actor()
    if policy.can_work(me):
        return redirect(url_for("staff.queue"))  # the queue is the agents' home
    return render_template(
        "home/home.html",
        user=me,
        notices=[notice(a) for a in queries.visible_announcements(db.session, me)],
        counts=counts_by_service_and_state(db.session, me),
        popular=queries.popular_items(db.session, me),
    )


@bp.post("/comunicados/<int:announcement_id>/fechar")
@login_required
def dismiss_announcement(announcement_id: int) -> Response:
    """ "Fechar" on a critical Comunicado's banner: gone from every page for this user, still on
    the home; back to the page it was closed on (a local path only)."""
    me = current_actor()
    attempt(lambda: announcements.dismiss(db.session, me, announcement_id))  # hidden: 404
    flash("Comunicado fechado. Ele continua disponível na Página Inicial.", "info")
    return redirect(safe_next(request.form.get("next")))


CONTRAST_COOKIE = "portal_contraste"
CONTRAST_MAX_AGE = 365 * 24 * 3600


def high_contrast() -> bool:
    """Whether this browser asked for Alto contraste (kept in a cookie, signed in or not)."""
    return request.cookies.get(CONTRAST_COOKIE) == "alto"


@bp.get("/acessibilidade")
def accessibility() -> str:
    return render_template("home/accessibility.html")


@bp.post("/alto-contraste")
def toggle_contrast() -> Response:
    """Turn Alto contraste on or off and go back to the page it was asked from."""
    response = redirect(safe_next(request.form.get("next")))
    if high_contrast():
        response.delete_cookie(CONTRAST_COOKIE)
    else:
        response.set_cookie(
            CONTRAST_COOKIE,
            "alto",
            max_age=CONTRAST_MAX_AGE,
            samesite="Lax",
            httponly=True,
            secure=request.is_secure,
        )
    return response


@bp.get("/healthz")
@limiter.exempt
@csrf.exempt
def healthz() -> tuple[Response, int]:
    """For load balancers and monitoring: 200 when the database answers and the scheduler is
    alive, 503 otherwise; the body says which part is wrong."""
    report = health.check(
        db.session, max_heartbeat_age=current_app.config["HEARTBEAT_MAX_AGE_SECONDS"]
    )
    return jsonify(report.as_dict()), 200 if report.ok else 503
