"""Portal de Atendimento: create_app() is the only place that wires the application."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import Flask, flash, g, redirect, request, session, url_for
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from portal.core import log_privacy, upload_limits
from portal.core.config import ROOT_DIR, load_config
from portal.core.database import configure_engine, declare_request_writes
from portal.core.extensions import babel, csrf, db, limiter, login_manager, migrate
from portal.core.text_input import DatabaseIdConverter
from portal.core.timeutil import as_utc, format_age, format_datetime, format_relative, utcnow

if TYPE_CHECKING:
    from portal.accounts.models import User

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application; tests pass overrides such as their own database URL."""
    app = Flask(
        __name__,
        template_folder=str(ROOT_DIR / "templates"),
        static_folder=str(ROOT_DIR / "static"),
        instance_path=str(ROOT_DIR / "instance"),
    )
    app.config.from_mapping(load_config(test_config))
    app.url_map.converters["int"] = DatabaseIdConverter  # before any route is added
    upload_limits.init_app(app)  # capped file parts: a too-big file loses nothing typed
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    log_privacy.install()  # no CPF or e-mail in the server's access log
    register_extensions(app)
    register_request_hooks(app)
    register_template_helpers(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from portal import models  # noqa: F401  (every table registered before Alembic looks)

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=str(ROOT_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Entre com seu CPF e senha para acessar esta página."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    from portal.accounts.sessions import SESSION_KEY, key_hash
    from portal.api import is_api_request
    from portal.requests.queries import signed_in_user

    @login_manager.user_loader
    def _load_user(token: str) -> User | None:
        if is_api_request():
            return None  # the API knows only its bearer tokens (portal/api/auth.py)
        browser_key = session.get(SESSION_KEY)
        if not isinstance(browser_key, str):
            return None
        found = signed_in_user(db.session, token, key_hash(browser_key))
        if found is None:
            return None
        user, badge = found
        if request.method in SAFE_METHODS:
            # A page that changes nothing shows the count read with the user; a POST that
            # renders counts again after its change (open_requests_badge below).
            g.open_requests_badge = badge
        return user


def register_request_hooks(app: Flask) -> None:
    from portal.accounts import sessions as user_sessions
    from portal.accounts.sessions import SESSION_KEY
    from portal.core.text_input import refuse_nul_characters

    app.before_request(refuse_nul_characters)

    @app.before_request
    def _declare_write_intent() -> None:
        # On SQLite, a POST takes the write lock when its transaction begins, or, in a view
        # marked reads_first, when its service calls begin_write (see database.py).
        declare_request_writes(
            app.view_functions.get(request.endpoint or ""), request.method not in SAFE_METHODS
        )

    @app.before_request
    def _enforce_session_timeouts() -> Response | None:
        if not current_user.is_authenticated:
            return None
        now = utcnow()
        started = _session_time("login_at")
        seen = _session_time("seen_at")
        expired = (
            started is None
            or now - started > app.config["SESSION_MAX_AGE"]
            or (seen is not None and now - seen > app.config["SESSION_IDLE"])
        )
        browser_key = str(session.get(SESSION_KEY, ""))
        if expired:
            user_sessions.end_by_key(db.session, browser_key, now)
            db.session.commit()
            logout_user()
            session.clear()
            flash("Sua sessão expirou. Entre novamente.", "warning")
            return redirect(url_for("accounts.login"))
        if seen is None or (now - seen).total_seconds() > 60:
            session["seen_at"] = now.isoformat()
            # Sessões ativas shows when each browser was last used, to the minute.
            user_sessions.touch(db.session, browser_key, now)
            db.session.commit()
        return None

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
            "form-action 'self'",
        )
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure or app.config["BASE_URL"].startswith("https://"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if current_user.is_authenticated:
            headers.setdefault("Cache-Control", "private, no-store")
        return response

    @app.teardown_request
    def _clear_write_intent(_exc: BaseException | None) -> None:
        declare_request_writes(None, method_writes=False)


def _session_time(key: str) -> datetime | None:
    raw = session.get(key)
    if not raw:
        return None
    try:
        return as_utc(datetime.fromisoformat(raw))
    except (TypeError, ValueError):
        return None


def register_template_helpers(app: Flask) -> None:
    from portal.home.banner import banner_context
    from portal.home.routes import high_contrast
    from portal.requests.policy import can_work

    tz = app.config["TIMEZONE"]

    @app.template_filter("datetime")
    def _datetime(value: datetime | None) -> str:
        return format_datetime(value, tz)

    @app.template_filter("relative")
    def _relative(value: datetime | None) -> str:
        return format_relative(value)

    @app.context_processor
    def _navigation() -> dict[str, Any]:
        def open_requests_badge() -> int:
            # Counted once per page, only for the signed-in user's own requests.
            if not current_user.is_authenticated:
                return 0
            if "open_requests_badge" not in g:
                from portal.requests.queries import open_count

                g.open_requests_badge = open_count(db.session, current_user)
            return int(g.open_requests_badge)

        def shows_queue() -> bool:
            return bool(current_user.is_authenticated and can_work(current_user))

        return {
            "open_requests_badge": open_requests_badge,
            "shows_queue": shows_queue,
            "high_contrast": high_contrast,
        }

    # The critical Comunicados' banner on every page (one query, only when a page shows it).
    app.context_processor(banner_context)

    @app.template_filter("age")
    def _age(value: datetime | None) -> str:
        return format_age(value)

    @app.template_filter("filesize")
    def _filesize(size: int | None) -> str:
        if size is None:
            return ""
        if size < 1024:
            return f"{size} B"
        if size < 1024 * 1024:
            return f"{size / 1024:.1f} KB"
        return f"{size / 1024 / 1024:.1f} MB"


def register_blueprints(app: Flask) -> None:
    from portal import admin, api
    from portal.accounts.personal_data_routes import bp as personal_data_bp
    from portal.accounts.routes import bp as accounts_bp
    from portal.accounts.session_routes import bp as account_sessions_bp
    from portal.accounts.token_routes import bp as account_tokens_bp
    from portal.accounts.two_factor_routes import bp as two_factor_bp
    from portal.catalog.routes import bp as catalog_bp
    from portal.clients.occurrence_routes import bp as occurrences_bp
    from portal.clients.routes import bp as clients_bp
    from portal.clients.wizard_routes import bp as client_wizard_bp
    from portal.home.routes import bp as home_bp
    from portal.knowledge.routes import bp as knowledge_bp
    from portal.knowledge.staff_routes import bp as knowledge_staff_bp
    from portal.requests.staff_views import bp as staff_bp
    from portal.requests.views import bp as requests_bp
    from portal.search.routes import bp as search_bp

    app.register_blueprint(accounts_bp)
    app.register_blueprint(personal_data_bp)
    app.register_blueprint(two_factor_bp)
    app.register_blueprint(account_sessions_bp)
    app.register_blueprint(account_tokens_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(knowledge_bp)
    app.register_blueprint(knowledge_staff_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(requests_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(clients_bp)
    app.register_blueprint(client_wizard_bp)
    app.register_blueprint(occurrences_bp)
    admin.register(app)
    api.init_app(app)


def register_errorhandlers(app: Flask) -> None:
    from portal.core.http_errors import register

    register(app)


def register_commands(app: Flask) -> None:
    from portal.cli import register

    register(app)
