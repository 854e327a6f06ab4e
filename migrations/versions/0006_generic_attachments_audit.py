"""attachments for any owner (owner_type, owner_id) and the append-only audit trail

A request's files now belong to the timeline entry they were sent with (owner_type
"timeline_entry"); the few rows without an entry move to their request's "Criado" entry, which
every request has. Downgrade moves them back (files of other owners cannot exist before this
revision, so none are lost).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:40:00

"""

import sqlalchemy as sa
from alembic import op

from portal.core import audit

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ENTRY_OWNER = "timeline_entry"


def upgrade():
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    with op.batch_alter_table("audit_entries") as batch_op:
        batch_op.create_index("ix_audit_entries_at", ["at"], unique=False)
        batch_op.create_index(
            "ix_audit_entries_object", ["object_type", "object_id", "at"], unique=False
        )
    audit.install_append_only(op.get_bind())

    with op.batch_alter_table("attachments") as batch_op:
        batch_op.add_column(sa.Column("owner_type", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
    op.execute(
        sa.text(
            "UPDATE attachments SET owner_type = :owner, owner_id = COALESCE(entry_id, "
            "(SELECT min(e.id) FROM timeline_entries e "
            "WHERE e.request_id = attachments.request_id AND e.kind = 'created'))"
        ).bindparams(owner=ENTRY_OWNER)
    )
    with op.batch_alter_table("attachments") as batch_op:
        batch_op.drop_index("ix_attachments_entry_id")
        batch_op.drop_index("ix_attachments_request_id")
        batch_op.drop_constraint("fk_attachments_entry_id_timeline_entries", type_="foreignkey")
        batch_op.drop_constraint(
            "fk_attachments_request_id_service_requests", type_="foreignkey"
        )
        batch_op.drop_column("entry_id")
        batch_op.drop_column("request_id")
        batch_op.alter_column("owner_type", existing_type=sa.String(length=30), nullable=False)
        batch_op.alter_column("owner_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index("ix_attachments_owner", ["owner_type", "owner_id"], unique=False)


def downgrade():
    with op.batch_alter_table("attachments") as batch_op:
        batch_op.add_column(sa.Column("request_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("entry_id", sa.Integer(), nullable=True))
    op.execute(
        sa.text(
            "UPDATE attachments SET entry_id = owner_id, request_id = "
            "(SELECT e.request_id FROM timeline_entries e WHERE e.id = attachments.owner_id) "
            "WHERE owner_type = :owner"
        ).bindparams(owner=ENTRY_OWNER)
    )
    op.execute(sa.text("DELETE FROM attachments WHERE request_id IS NULL"))
    with op.batch_alter_table("attachments") as batch_op:
        batch_op.drop_index("ix_attachments_owner")
        batch_op.drop_column("owner_id")
        batch_op.drop_column("owner_type")
        batch_op.alter_column("request_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            "fk_attachments_request_id_service_requests",
            "service_requests",
            ["request_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            "fk_attachments_entry_id_timeline_entries", "timeline_entries", ["entry_id"], ["id"]
        )
        batch_op.create_index("ix_attachments_entry_id", ["entry_id"], unique=False)
        batch_op.create_index("ix_attachments_request_id", ["request_id"], unique=False)

    audit.drop_append_only(op.get_bind())
    with op.batch_alter_table("audit_entries") as batch_op:
        batch_op.drop_index("ix_audit_entries_object")
        batch_op.drop_index("ix_audit_entries_at")
    op.drop_table("audit_entries")
