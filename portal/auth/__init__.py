"""Sign-in, sign-out, forgotten password and profile."""

from portal.auth.routes import bp

__all__ = ["bp"]
