"""Two-factor pages: the code step of signing in (/login/codigo), the set-up and management
under Perfil (/perfil/dois-fatores), and the hook that keeps staff without a second factor
on the set-up page. The services are in portal.accounts.two_factor."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from portal.accounts import two_factor
from portal.accounts.forms import DisableTwoFactorForm, EnableTwoFactorForm, SignInCodeForm
from portal.accounts.models import User
from portal.accounts.routes import PENDING_KEY, start_session
from portal.core.errors import ServiceError, ValidationError, http_status
from portal.core.extensions import db, limiter
from portal.core.secretbox import SecretUnreadable, open_sealed, seal
from portal.core.timeutil import as_utc
from portal.core.web import current_actor, safe_next

bp = Blueprint("two_factor", __name__)

# The secret being set up lives in the Flask session, sealed, until a code confirms it: a
# set-up page that is only looked at writes nothing to the database.
SETUP_KEY = "two_factor_setup"
SETUP_PURPOSE = "totp-setup"
# What a staff account without a second factor may still reach: the set-up, logout, static
# files, and the accessibility statement and high-contrast switch (needed to do the set-up).
OPEN_DURING_SETUP = frozenset(
    {
        "two_factor.setup",
        "two_factor.enable",
        "accounts.logout",
        "static",
        "home.accessibility",
        "home.toggle_contrast",
        "home.healthz",
    }
)


@bp.before_app_request
def _require_setup() -> ResponseReturnValue | None:
    if (
        current_user.is_authenticated
        and request.endpoint not in OPEN_DURING_SETUP
        and two_factor.setup_required(current_user)
    ):
        return redirect(url_for("two_factor.setup"))
    return None


# ---------------------------------------------------------------- signing in


def _pending() -> User | None:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    try:
        started = as_utc(datetime.fromisoformat(str(pending.get("at"))))
    except ValueError:
        return None
    return two_factor.pending_user(db.session, str(pending.get("token")), started)


@bp.route("/login/codigo", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def sign_in_code() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("home.home"))
    user = _pending()
    if user is None:
        if session.pop(PENDING_KEY, None) is not None:
            flash("O tempo para informar o código acabou. Entre novamente.", "warning")
        return redirect(url_for("accounts.login", next=request.args.get("next")))
    form = SignInCodeForm()
    error: ServiceError | None = None
    if form.validate_on_submit():
        try:
            accepted = two_factor.verify_sign_in(
                db.session,
                user,
                form.code.data,
                address=request.remote_addr or "?",
                user_agent=request.headers.get("User-Agent", ""),
            )
        except ServiceError as exc:
            db.session.commit()  # the wrong code counts in the throttle
            if isinstance(exc, ValidationError):
                form.code.errors = [str(exc)]
            else:
                error = exc
        else:
            db.session.commit()
            start_session(user, outcome=accepted.outcome)
            if accepted.recovery:
                flash(
                    "Você entrou com um código de recuperação, que não vale mais. "
                    f"Restam {accepted.recovery_left} códigos; gere novos em Perfil se "
                    "estiverem acabando.",
                    "warning",
                )
            return redirect(safe_next(request.args.get("next")))
    status = http_status(error) if error else (400 if form.errors else 200)
    return render_template(
        "accounts/sign_in_code.html", form=form, error=str(error) if error else None
    ), status


# ---------------------------------------------------------------- Perfil


def _setup_secret() -> str:
    """The secret this browser is setting up (a new one if none, or if unreadable)."""
    sealed = session.get(SETUP_KEY)
    if isinstance(sealed, str):
        try:
            return open_sealed(sealed, SETUP_PURPOSE)
        except SecretUnreadable:
            pass
    secret = two_factor.new_secret()
    session[SETUP_KEY] = seal(secret, SETUP_PURPOSE)
    return secret


def _render_setup(form: EnableTwoFactorForm, status: int = 200) -> ResponseReturnValue:
    user = current_actor()
    secret = _setup_secret()
    return render_template(
        "accounts/two_factor_setup.html",
        form=form,
        secret=two_factor.grouped(secret),
        qr=two_factor.qr_data_uri(two_factor.provisioning_uri(user, secret)),
        required=two_factor.required_for(user),
    ), status


def _render_manage(form: DisableTwoFactorForm, status: int = 200) -> ResponseReturnValue:
    user = current_actor()
    return render_template(
        "accounts/two_factor.html",
        user=user,
        form=form,
        codes_left=two_factor.recovery_codes_left(db.session, user),
        required=two_factor.required_for(user),
    ), status


def _render_codes(codes: list[str]) -> ResponseReturnValue:
    # Shown once, in the answer to the POST that made them: they are stored only hashed.
    return render_template("accounts/recovery_codes.html", codes=codes)


@bp.get("/perfil/dois-fatores")
@login_required
def setup() -> ResponseReturnValue:
    if two_factor.is_enabled(current_user):
        return _render_manage(DisableTwoFactorForm(formdata=None))
    return _render_setup(EnableTwoFactorForm(formdata=None))


@bp.post("/perfil/dois-fatores")
@login_required
def enable() -> ResponseReturnValue:
    if two_factor.is_enabled(current_user):
        return redirect(url_for(".setup"))
    form = EnableTwoFactorForm()
    if not form.validate_on_submit():
        return _render_setup(form, 400)
    try:
        codes = two_factor.enable(db.session, current_actor(), _setup_secret(), form.code.data)
    except ValidationError as exc:
        db.session.rollback()
        form.code.errors = [str(exc)]
        return _render_setup(form, 400)
    db.session.commit()
    session.pop(SETUP_KEY, None)
    flash("Verificação em duas etapas ativada.", "success")
    return _render_codes(codes)


@bp.post("/perfil/dois-fatores/codigos")
@login_required
def regenerate() -> ResponseReturnValue:
    try:
        codes = two_factor.regenerate_recovery_codes(db.session, current_actor())
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for(".setup"))
    db.session.commit()
    flash("Novos códigos de recuperação gerados; os anteriores não valem mais.", "success")
    return _render_codes(codes)


@bp.post("/perfil/dois-fatores/desativar")
@login_required
def disable() -> ResponseReturnValue:
    form = DisableTwoFactorForm()
    if not form.validate_on_submit():
        return _render_manage(form, 400)
    try:
        two_factor.disable(db.session, current_actor(), form.password.data)
    except ValidationError as exc:
        db.session.rollback()
        form.password.errors = [str(exc)]
        return _render_manage(form, 400)
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for(".setup"))
    db.session.commit()
    flash("Verificação em duas etapas desativada.", "success")
    return redirect(url_for("accounts.profile"))
