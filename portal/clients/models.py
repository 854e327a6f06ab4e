"""Client organisations: the "entes" (municípios, estados and others) users belong to."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.extensions import Model
from portal.core.timeutil import utcnow
from portal.core.types import UTCDateTime


class OrganisationKind(enum.StrEnum):
    MUNICIPIO = "municipio"
    ESTADO = "estado"
    OUTRO = "outro"

    @property
    def label(self) -> str:
        return {"municipio": "Município", "estado": "Estado", "outro": "Outro"}[self.value]


class Organisation(Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrganisationKind] = mapped_column(
        Enum(
            OrganisationKind,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    # IBGE code for municípios and estados, CNPJ for other bodies.
    identifier: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    uf: Mapped[str | None] = mapped_column(String(2))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<Organisation {self.identifier} {self.name}>"

    @property
    def display_name(self) -> str:
        return f"{self.name} ({self.uf})" if self.uf else self.name
