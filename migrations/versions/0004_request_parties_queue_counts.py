"""request parties, queue counts and partial indexes for the queue (kept by triggers)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 09:30:00

"""

import sqlalchemy as sa
from alembic import op

from portal.requests import derived

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ACTIVE_SQL = "state IN ('awaiting_support', 'awaiting_user', 'in_progress', 'open')"


def upgrade():
    op.create_table(
        "request_parties",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=10), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_requests.id"],
            name=op.f("fk_request_parties_request_id_service_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_request_parties_user_id_users")
        ),
        sa.PrimaryKeyConstraint(
            "request_id", "relation", "user_id", name=op.f("pk_request_parties")
        ),
    )
    op.create_index(
        "ix_request_parties_list",
        "request_parties",
        ["user_id", "relation", "opened_at", "request_id"],
    )
    op.create_index(
        "ix_request_parties_state",
        "request_parties",
        ["user_id", "relation", "state", "opened_at", "request_id"],
    )
    op.create_index(
        "ix_request_parties_item", "request_parties", ["user_id", "relation", "item_id", "state"]
    )
    op.create_table(
        "queue_counts",
        sa.Column("group_key", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("group_key", "state", name=op.f("pk_queue_counts")),
    )
    where = sa.text(ACTIVE_SQL)
    op.create_index(
        "ix_service_requests_active_group_opened",
        "service_requests",
        ["group_id", "opened_at", "id"],
        sqlite_where=where,
        postgresql_where=where,
    )
    op.create_index(
        "ix_service_requests_active_opened",
        "service_requests",
        ["opened_at", "id"],
        sqlite_where=where,
        postgresql_where=where,
    )
    conn = op.get_bind()
    derived.rebuild_requests(conn)
    derived.install_request_triggers(conn)


def downgrade():
    derived.uninstall(op.get_bind())
    op.drop_index("ix_service_requests_active_opened", table_name="service_requests")
    op.drop_index("ix_service_requests_active_group_opened", table_name="service_requests")
    op.drop_table("queue_counts")
    op.drop_table("request_parties")
