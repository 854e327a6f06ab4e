"""The service catalog and the search box."""

from portal.catalog.routes import bp

__all__ = ["bp"]
