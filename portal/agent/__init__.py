"""The agents' side: the queue, assignment and notes."""

from portal.agent.routes import bp

__all__ = ["bp"]
