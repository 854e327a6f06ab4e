"""Who calls the API: `Authorization: Bearer <token>` and nothing else.

The API never reads the session cookie (the user loader ignores API paths), so a browser
signed in to the portal carries no authority here; that is what makes exempting the API from
CSRF safe. Every API blueprint authenticates in `before_request`; a view that changes
something adds `token_required("write")`. The token acts as its user, with exactly that
user's permissions: views pass `g.api_user` to the same services and policies as the pages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from flask import current_app, g, request
from flask_limiter.util import get_remote_address

from portal.accounts import tokens
from portal.accounts.tokens import TokenUse
from portal.api.problems import problem
from portal.core.database import own_transaction
from portal.core.extensions import db

if TYPE_CHECKING:
    from werkzeug.wrappers import Response

    from portal.accounts.models import User

F = TypeVar("F", bound=Callable[..., Any])
security_log = logging.getLogger("portal.security")
_UNSET = object()


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return None
    return raw.strip()


def current_token() -> TokenUse | None:
    """The request's accepted token (looked up once per request, then kept in `g`).

    Called first by the rate limiter's key (which runs before the blueprint's hooks, and may
    run before the request declares how it writes), so the token is read in a transaction of
    its own, committed at once, and its use recorded in another short one when due: the
    view's own transaction then begins as its method and `reads_first` declare (see
    core/database.py), and a reads_first view is not refused for a write it did not make."""
    found = g.get("api_token", _UNSET)
    if found is _UNSET:
        raw = _bearer()
        with own_transaction(writes=False):
            found = tokens.authenticate(db.session, raw) if raw else None
            db.session.commit()
        if found is not None and found.use_due:
            with own_transaction(writes=True):
                tokens.record_use(db.session, found.id)
                db.session.commit()
        g.api_token = found
        g.api_user = found.user if found else None
    return found  # type: ignore[no-any-return]


def api_user() -> User:
    """The token's user: the actor every API view passes to the services."""
    user = g.get("api_user")
    assert user is not None, "api_user() outside an authenticated API request"
    return user  # type: ignore[no-any-return]


def rate_limit_key() -> str:
    """Flask-Limiter's key: one bucket per token, so one client cannot starve the others; a
    request without a valid token counts against its address."""
    use = current_token()
    return f"token:{use.id}" if use else f"address:{get_remote_address()}"


def rate_limit() -> str:
    return str(current_app.config["API_RATE_LIMIT"])


def authenticate() -> Response | None:
    """before_request of every API blueprint: 401 problem without a valid token."""
    if current_token() is None:
        if _bearer():  # a token was offered and refused (never logged itself)
            security_log.info(
                "api token refused %s %s address=%s",
                request.method,
                request.path,
                request.remote_addr,
            )
        return problem(401)
    return None


def no_store(response: Response) -> Response:
    """after_request of every API blueprint: answers about a person are never cached."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def allows(scope: str) -> bool:
    """Whether the request's token carries `scope` (the check `token_required` makes)."""
    use = current_token()
    return use is not None and tokens.has_scope(use, scope)


def token_required(scope: str) -> Callable[[F], F]:
    """A view that needs `scope` ("write" for any change): a read token gets 403
    `escopo_insuficiente`."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not allows(scope):
                return problem(
                    403,
                    code="escopo_insuficiente",
                    detail=f"Este token não tem o escopo “{scope}” exigido por esta operação.",
                )
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def protect(bp: Any) -> None:
    """Set up an API blueprint (at import, before any app registers it): bearer tokens only,
    no caching, errors as problem+json."""
    from portal.api import problems

    bp.before_request(authenticate)
    bp.after_request(no_store)
    problems.register(bp)
