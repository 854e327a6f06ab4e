"""Helpers every area's views share: who is acting, role gates, and the try/commit/flash step.

A view parses its input, calls one service through `attempt` (or `attempt_and_flash`), then
renders or redirects. The service flushes; the commit happens here, once, so an operation is
one transaction, and a failure rolls back everything it wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from flask import abort, flash, url_for
from flask_login import current_user, login_required

from portal.core.errors import ServiceError, http_status
from portal.core.extensions import db
from portal.core.text_input import ID_MAX

if TYPE_CHECKING:
    from portal.accounts.models import User

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def current_actor() -> User:
    """The signed-in user as a plain User (services take it as their actor)."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def only(allowed: Callable[[Any], bool]) -> Callable[[F], F]:
    """A view for signed-in users for whom `allowed(user)` holds (an area's policy); anyone
    else gets 404, as for objects they cannot see."""

    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not allowed(current_user):
                abort(404)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def staff_required(view: F) -> F:
    """Agents and admins only."""
    return only(lambda user: user.is_staff)(view)


def admin_required(view: F) -> F:
    """Admins only."""
    return only(lambda user: user.is_admin)(view)


def safe_next(target: str | None) -> str:
    """A local path to go back to, or the home page: an absolute or scheme-relative URL would
    be an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("home.home")


def int_or_none(raw: str | None) -> int | None:
    """A typed id or number, or None. One past what an integer column holds is none either:
    PostgreSQL refuses to compare its columns with it (a server error), SQLite does not."""
    try:
        value = int(raw) if raw else None
    except ValueError:
        return None
    return value if value is None or abs(value) <= ID_MAX else None


def attempt(
    operation: Callable[[], T], *, before_commit: Callable[[T], Any] | None = None
) -> tuple[T | None, ServiceError | None]:
    """Run one service call and commit it; on a domain error roll back and return the error.

    `before_commit` reads what the caller needs of the result while it is still loaded (the
    commit expires it, and reading it afterwards would open a second transaction). An error
    that means 404 (the object is not the actor's to see) is raised again, so the error
    handler answers 404 exactly as for an object that does not exist.
    """
    try:
        result = operation()
        if before_commit is not None:
            before_commit(result)
    except ServiceError as exc:
        db.session.rollback()
        if http_status(exc) == 404:
            raise
        return None, exc
    db.session.commit()
    return result, None


def attempt_and_flash(operation: Callable[[], T], done: str | Callable[[T], str]) -> bool:
    """attempt(), then flash what happened: `done` on success, the error's text otherwise."""
    messages: list[str] = []

    def read(result: T) -> None:
        messages.append(done(result) if callable(done) else done)

    _, error = attempt(operation, before_commit=read)
    if error is not None:
        flash(str(error), "danger")
        return False
    flash(messages[0], "success")
    return True
