"""Who acts through the services: a signed-in User, or a named system actor.

The command line, the demo loader and the jobs are not people, but they change things all the
same; they act as a SystemActor, which the areas' policies know and the audit trail names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from portal.accounts.models import User


@dataclass(frozen=True)
class SystemActor:
    """A non-person acting through the services (never a signed-in session)."""

    name: str
    id: None = None

    @property
    def label(self) -> str:
        return f"sistema ({self.name})"

    @property
    def is_staff(self) -> bool:
        return False

    @property
    def is_admin(self) -> bool:
        return False


COMMAND_LINE = SystemActor("linha de comando")
DEMO_LOADER = SystemActor("dados de demonstração")
SCHEDULER = SystemActor("agendador")

Actor: TypeAlias = "User | SystemActor"


def is_system(actor: object) -> bool:
    return isinstance(actor, SystemActor)


def administers(actor: Actor) -> bool:
    """An administrator, or the system (command line, demo loader): who keeps the portal's
    data (accounts, organisations, the catalog, Comunicados) until an area says otherwise."""
    return is_system(actor) or actor.is_admin
