"""party counts: each person's requests per relation, service and state (kept by triggers)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 14:20:00

"""

import sqlalchemy as sa
from alembic import op

from portal.requests import derived

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "party_counts",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("relation", sa.String(length=10), nullable=False),
        sa.Column("item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "user_id", "relation", "item_id", "state", name=op.f("pk_party_counts")
        ),
    )
    conn = op.get_bind()
    derived.rebuild_party_counts(conn)
    derived.install_party_count_triggers(conn)


def downgrade():
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS trg_parties_after_change ON request_parties")
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS portal_parties_after_change()")
    else:
        for trigger in ("insert", "update", "delete"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS trg_parties_after_{trigger}")
    op.drop_table("party_counts")
