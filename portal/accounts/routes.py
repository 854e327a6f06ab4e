from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from portal.accounts import reset, two_factor
from portal.accounts import services as accounts
from portal.accounts import sessions as user_sessions
from portal.accounts.forms import (
    ChangePasswordForm,
    ExtraPhoneForm,
    ForgotPasswordForm,
    LoginForm,
    ResetPasswordForm,
)
from portal.accounts.history import record_sign_in
from portal.accounts.models import User
from portal.accounts.services import PASSWORD_RULES
from portal.core.errors import ServiceError, ValidationError, http_status
from portal.core.extensions import db, limiter
from portal.core.timeutil import utcnow
from portal.core.web import current_actor, safe_next

bp = Blueprint("accounts", __name__)


def start_session(user: User, *, outcome: str | None = "success") -> None:
    """Sign this browser in: a new Sessões ativas row, committed, and a fresh cookie. Every
    sign-in ends here (password alone, or after the code), so this is where the history
    records it; `outcome=None` when the same user only gets a new cookie (new password)."""
    address = request.remote_addr or "?"
    user_agent = request.headers.get("User-Agent", "")
    key = user_sessions.open_session(db.session, user, address=address, user_agent=user_agent)
    if outcome is not None:
        record_sign_in(db.session, user, outcome, address=address, user_agent=user_agent)
    db.session.commit()
    session.clear()
    now = utcnow().isoformat()
    session["login_at"] = now
    session["seen_at"] = now
    session[user_sessions.SESSION_KEY] = key
    login_user(user)


# The Flask-session entry of a sign-in waiting for its second-factor code.
PENDING_KEY = "two_factor_pending"


def _await_code(user: User) -> None:
    """Password right, code to come: the browser holds only who (the user's session token,
    which a new password or deactivation rotates) and since when; no session starts."""
    session.clear()
    session[PENDING_KEY] = {"token": user.session_token, "at": utcnow().isoformat()}


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("home.home"))
    form = LoginForm()
    error: ServiceError | None = None
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                db.session,
                form.cpf.data,
                form.password.data,
                request.remote_addr or "?",
                user_agent=request.headers.get("User-Agent", ""),
                finish=False,
            )
        except ServiceError as exc:
            db.session.commit()  # the failed attempt is what the throttle counts
            error = exc
        else:
            if two_factor.is_enabled(user):
                # No session yet: the failures are forgotten only once the code passes.
                db.session.commit()
                _await_code(user)
                return redirect(url_for("two_factor.sign_in_code", next=request.args.get("next")))
            accounts.complete_sign_in(db.session, user, request.remote_addr or "?", utcnow())
            db.session.commit()
            start_session(user)
            return redirect(safe_next(request.args.get("next")))
    status = http_status(error) if error else 200
    if request.method == "POST" and form.errors:
        status = 400
    message = str(error) if error else None
    return render_template("accounts/login.html", form=form, error=message), status


@bp.post("/logout")
@login_required
def logout() -> Response:
    user_sessions.end_by_key(db.session, str(session.get(user_sessions.SESSION_KEY, "")))
    db.session.commit()
    logout_user()
    session.clear()
    flash("Você saiu do portal.", "success")
    return redirect(url_for("accounts.login"))


@bp.route("/esqueci-senha", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def forgot_password() -> Response | str:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        reset.request_password_reset(
            db.session, form.corporate_email.data, form.personal_email.data
        )
        db.session.commit()
        return render_template("accounts/forgot_password_sent.html")
    return render_template("accounts/forgot_password.html", form=form, rules=PASSWORD_RULES)


@bp.route("/redefinir-senha/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response | str | tuple[str, int]:
    try:
        reset.find_valid_reset_token(db.session, token)
    except ServiceError as exc:
        return render_template("accounts/reset_invalid.html", message=str(exc)), http_status(exc)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            reset.reset_password(db.session, token, form.password.data)
        except ValidationError as exc:
            form.password.errors = [*form.password.errors, str(exc)]
        except ServiceError as exc:
            db.session.rollback()
            return render_template("accounts/reset_invalid.html", message=str(exc)), http_status(
                exc
            )
        else:
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            flash("Senha redefinida. Entre com seu CPF e a nova senha.", "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form, rules=PASSWORD_RULES)


def _render_profile(
    form: ChangePasswordForm, phone_form: ExtraPhoneForm, status: int = 200
) -> tuple[str, int]:
    return render_template(
        "accounts/profile.html",
        form=form,
        phone_form=phone_form,
        rules=PASSWORD_RULES,
        user=current_user,
    ), status


@bp.get("/perfil")
@login_required
def profile() -> tuple[str, int]:
    phone_form = ExtraPhoneForm(extra_phone=current_user.extra_phone or "")
    return _render_profile(ChangePasswordForm(formdata=None), phone_form)


@bp.post("/perfil/telefone")
@login_required
def update_phone() -> Response | tuple[str, int]:
    phone_form = ExtraPhoneForm()
    if phone_form.validate_on_submit():
        try:
            me = current_actor()
            accounts.update_extra_phone(db.session, me, me, phone_form.extra_phone.data)
        except ValidationError as exc:
            db.session.rollback()
            phone_form.extra_phone.errors = [str(exc)]
            return _render_profile(ChangePasswordForm(formdata=None), phone_form, 400)
        db.session.commit()
        flash("Telefone Adicional atualizado.", "success")
    return redirect(url_for("accounts.profile"))


@bp.post("/perfil/senha")
@login_required
def change_password() -> Response | tuple[str, int]:
    form = ChangePasswordForm()
    phone_form = ExtraPhoneForm(formdata=None, extra_phone=current_user.extra_phone or "")
    if not form.validate_on_submit():
        return _render_profile(form, phone_form, 400)
    user = current_actor()
    try:
        accounts.change_password(db.session, user, form.current_password.data, form.password.data)
    except ValidationError as exc:
        db.session.rollback()
        target = form.current_password if exc.field == "current_password" else form.password
        target.errors = [*target.errors, str(exc)]
        return _render_profile(form, phone_form, 400)
    db.session.commit()
    # The token rotated: sign this browser in again under the new one.
    start_session(user, outcome=None)
    flash("Senha alterada.", "success")
    return redirect(url_for("accounts.profile"))
