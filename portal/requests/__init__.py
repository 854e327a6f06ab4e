"""Requests: the form, Minhas Solicitações / Meus Acompanhamentos, and the request page."""

from portal.requests.routes import bp

__all__ = ["bp"]
