"""All models, imported here so Alembic and the app see every table."""

from portal.models.announcement import Announcement
from portal.models.catalog import CatalogItem, Category, FieldType, ItemField
from portal.models.mail import MailStatus, OutboxEmail
from portal.models.organisation import Organisation, OrganisationKind
from portal.models.request import (
    NUMBER_DIGITS,
    NUMBER_PREFIX,
    Attachment,
    Counter,
    EntryKind,
    Follower,
    PartyCount,
    PartyRelation,
    PendingUpload,
    QueueCount,
    RequestParty,
    ServiceRequest,
    TimelineEntry,
    format_number,
)
from portal.models.system import Heartbeat
from portal.models.user import (
    STAFF_ROLES,
    LoginAttempt,
    PasswordResetToken,
    Role,
    SupportGroup,
    User,
    group_members,
)

__all__ = [
    "NUMBER_DIGITS",
    "NUMBER_PREFIX",
    "STAFF_ROLES",
    "Announcement",
    "Attachment",
    "CatalogItem",
    "Category",
    "Counter",
    "EntryKind",
    "FieldType",
    "Follower",
    "Heartbeat",
    "ItemField",
    "LoginAttempt",
    "MailStatus",
    "Organisation",
    "OrganisationKind",
    "OutboxEmail",
    "PartyCount",
    "PartyRelation",
    "PasswordResetToken",
    "PendingUpload",
    "QueueCount",
    "RequestParty",
    "Role",
    "ServiceRequest",
    "SupportGroup",
    "TimelineEntry",
    "User",
    "format_number",
    "group_members",
]
