"""Client organisations ("entes": municípios, estados and other bodies), their contacts, and
the occurrences staff record about them.

Every organisation users belong to is an `Organisation`. The IBGE list makes all 5,570
municípios and 27 UFs known organisations; one becomes a client when staff register it
(`client_since` is set), with a company type, a category, its contacts and, for some types,
an address.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, Date, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.extensions import Model
from portal.core.timeutil import utcnow
from portal.core.types import UTCDateTime

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.requests.models import ServiceRequest

# The owner_type of an occurrence's images (portal.core.files).
OCCURRENCE_OWNER = "occurrence"


class OrganisationKind(enum.StrEnum):
    """Which identifier an organisation has: the IBGE code (município, estado) or a CNPJ."""

    MUNICIPIO = "municipio"
    ESTADO = "estado"
    OUTRO = "outro"

    @property
    def label(self) -> str:
        return {"municipio": "Município", "estado": "Estado", "outro": "Outro"}[self.value]

    @property
    def identifier_label(self) -> str:
        return "CNPJ" if self is OrganisationKind.OUTRO else "Código IBGE"


def _kind_column() -> Any:
    return Enum(
        OrganisationKind,
        native_enum=False,
        length=20,
        values_callable=lambda e: [m.value for m in e],
    )


class CompanyType(Model):
    """ "Tipo de empresa": kept by staff; decides the identifier and whether there is an address."""

    __tablename__ = "company_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(_kind_column())
    has_address: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)


class ClientCategory(Model):
    """ "Categoria do cliente": kept by staff; may add fields of its own, as data.

    `fields` is a list of {"name", "label", "type" (text | textarea | select | number | date),
    "required", "options"}, the same shape as the catalog's form fields.
    """

    __tablename__ = "client_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(String(300), default="")
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)


class Organisation(Model):
    __tablename__ = "organisations"
    __table_args__ = (
        Index("ix_organisations_client_name", "client_since", "name"),
        Index("ix_organisations_uf_name", "uf", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrganisationKind] = mapped_column(_kind_column())
    # IBGE code for municípios and estados, CNPJ (14 characters, maybe alphanumeric) otherwise.
    identifier: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    uf: Mapped[str | None] = mapped_column(String(2))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when staff register the organisation as a client (the wizard's "Finalizar").
    client_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    company_type_id: Mapped[int | None] = mapped_column(ForeignKey("company_types.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("client_categories.id"))
    cep: Mapped[str | None] = mapped_column(String(8))
    street: Mapped[str | None] = mapped_column(String(200))
    street_number: Mapped[str | None] = mapped_column(String(20))
    complement: Mapped[str | None] = mapped_column(String(100))
    district: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(120))
    # The category's own fields, by field name.
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    company_type: Mapped[CompanyType | None] = relationship()
    category: Mapped[ClientCategory | None] = relationship()
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="organisation",
        cascade="all, delete-orphan",
        order_by="Contact.position",
        lazy="raise_on_sql",
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.identifier} {self.name}>"

    @property
    def display_name(self) -> str:
        return f"{self.name} ({self.uf})" if self.uf else self.name

    @property
    def is_client(self) -> bool:
        return self.client_since is not None

    @property
    def display_identifier(self) -> str:
        from portal.core.cnpj import format_cnpj

        return (
            format_cnpj(self.identifier) if self.kind is OrganisationKind.OUTRO else self.identifier
        )


class Contact(Model):
    """ "Contatos da empresa": a person at a client; with `user_id`, also a portal user of it."""

    __tablename__ = "client_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    job_title: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str | None] = mapped_column(String(20))
    cpf: Mapped[str | None] = mapped_column(String(11))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="contacts")
    user: Mapped[User | None] = relationship("User")


class Impact(enum.StrEnum):
    """ "Impacto da Ocorrência", shown as word and colour, never colour alone."""

    POSITIVO = "positivo"
    NEUTRO = "neutro"
    NEGATIVO = "negativo"

    @property
    def label(self) -> str:
        return self.value.upper()


class OccurrenceCategory(Model):
    """Reclamação, Elogio, Incidente, Reunião, Treinamento...: kept by staff."""

    __tablename__ = "occurrence_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    active: Mapped[bool] = mapped_column(default=True)


_IMPACTS_SQL = ", ".join(f"'{i.value}'" for i in Impact)


class Occurrence(Model):
    """What support staff record about a client (seed 000: G Client's "Ocorrência")."""

    __tablename__ = "occurrences"
    __table_args__ = (
        CheckConstraint(f"impact IN ({_IMPACTS_SQL})", name="impact_known"),
        # Each list filter reads one of these in date order, newest first, and stops at a page.
        Index("ix_occurrences_org_date", "organisation_id", "occurred_on", "id"),
        Index("ix_occurrences_impact_date", "impact", "occurred_on", "id"),
        Index("ix_occurrences_uf_date", "uf", "occurred_on", "id"),
        Index("ix_occurrences_category_date", "category_id", "occurred_on", "id"),
        Index("ix_occurrences_author_date", "author_id", "occurred_on", "id"),
        Index("ix_occurrences_date", "occurred_on", "id"),
        Index("ix_occurrences_request", "request_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    # The client's UF, copied so the list filters by UF through an index of its own.
    uf: Mapped[str | None] = mapped_column(String(2))
    category_id: Mapped[int] = mapped_column(ForeignKey("occurrence_categories.id"))
    impact: Mapped[str] = mapped_column(String(10))
    occurred_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("service_requests.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation] = relationship()
    category: Mapped[OccurrenceCategory] = relationship()
    author: Mapped[User] = relationship("User")
    request: Mapped[ServiceRequest | None] = relationship("ServiceRequest")

    @property
    def impact_enum(self) -> Impact:
        return Impact(self.impact)

    # The flat names the list templates read (OccurrenceLine has the same ones).
    @property
    def category_name(self) -> str:
        return self.category.name

    @property
    def client_name(self) -> str:
        return self.organisation.display_name

    @property
    def author_name(self) -> str:
        return self.author.full_name

    @property
    def request_number(self) -> str | None:
        return self.request.number if self.request else None


class ClientWizard(Model):
    """The client-registration wizard's state between steps, kept on the server so the wizard
    works without JavaScript and nothing typed is lost going back and forth."""

    __tablename__ = "client_wizards"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # None while registering; the client's id while editing it ("Dados do cliente").
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ClientRequestCount(Model):
    """A client's requests per state, kept by triggers (portal.clients.derived)."""

    __tablename__ = "client_request_counts"

    organisation_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(30), primary_key=True)
    total: Mapped[int] = mapped_column(default=0)


class ClientRequestDay(Model):
    """A client's request outcomes per day (resolved, accepted, rejected, auto_closed), kept by
    triggers on the timeline, so the 90-day health summary sums at most 90 rows per measure
    instead of reading the client's whole history."""

    __tablename__ = "client_request_days"

    organisation_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    measure: Mapped[str] = mapped_column(String(20), primary_key=True)
    total: Mapped[int] = mapped_column(default=0)
