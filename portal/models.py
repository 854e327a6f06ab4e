"""Every area's models in one place, so Alembic (and create_app) see every table.

Code inside an area imports its models from the area itself (portal.requests.models, ...);
this module only gathers them.
"""

from portal.accounts.models import (
    STAFF_ROLES,
    LoginAttempt,
    PasswordResetToken,
    Role,
    SupportGroup,
    User,
    group_members,
)
from portal.catalog.models import CatalogItem, Category, FieldType, ItemField
from portal.clients.models import Organisation, OrganisationKind
from portal.core.models import (
    Attachment,
    AuditEntry,
    Counter,
    Heartbeat,
    MailStatus,
    OutboxEmail,
    PendingUpload,
    SearchDocument,
)
from portal.home.models import Announcement
from portal.knowledge.models import (
    Article,
    ArticleFeedback,
    ArticleVersion,
    ArticleVote,
    KbCategory,
    Tally,
    article_items,
)
from portal.requests.models import (
    NUMBER_DIGITS,
    NUMBER_PREFIX,
    EntryKind,
    Follower,
    PartyCount,
    PartyRelation,
    QueueCount,
    RequestParty,
    RequestText,
    ServiceRequest,
    TimelineEntry,
    format_number,
)

__all__ = [
    "NUMBER_DIGITS",
    "NUMBER_PREFIX",
    "STAFF_ROLES",
    "Announcement",
    "Article",
    "ArticleFeedback",
    "ArticleVersion",
    "ArticleVote",
    "Attachment",
    "AuditEntry",
    "CatalogItem",
    "Category",
    "Counter",
    "EntryKind",
    "FieldType",
    "Follower",
    "Heartbeat",
    "ItemField",
    "KbCategory",
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
    "RequestText",
    "Role",
    "SearchDocument",
    "ServiceRequest",
    "SupportGroup",
    "Tally",
    "TimelineEntry",
    "User",
    "article_items",
    "format_number",
    "group_members",
]
