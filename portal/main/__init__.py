"""Home page and the pages every signed-in user shares."""

from portal.main.routes import bp

__all__ = ["bp"]
