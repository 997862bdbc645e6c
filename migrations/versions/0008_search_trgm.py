"""ward-scoped petition indexes; trigram search index on PostgreSQL

Revision ID: 0008_search_trgm
Revises: 0007_api_privacy
Create Date: 2026-11-25 18:10:00

One database serves every ward of a city, so the hot queries (lists, inbox, map,
dashboard) are one ward's petitions: composite indexes lead with ward_id, and replace
the index on ward_id alone. Search is a substring match on the accent-free
``search_key``: on PostgreSQL a GIN index of (ward_id, search_key gin_trgm_ops) serves it
(pg_trgm, and btree_gin for ward_id), so that a common word costs what one ward holds,
not what the city holds; SQLite has no such index (its wards are small) and gets none.
On PostgreSQL the (ward_id, status, created_at) index also carries the columns the
dashboard counts, and a partial index carries each petition's active lead unit, so the
dashboard of a ward reads indexes only. The dashboard counts one ward's ratings through
a small partial index on the timeline.
"""
import sqlalchemy as sa
from alembic import op


# What the dashboard reads of each petition in scope, carried by an index on PostgreSQL
# (a copy of portal.petitions.models.DASHBOARD_COLUMNS: migrations do not import models).
DASHBOARD_COLUMNS = [
    "id",
    "area_id",
    "category_id",
    "outcome",
    "resolved_at",
    "expected_on",
    "resolve_due_on",
    "reply_due_on",
    "satisfied",
]

# revision identifiers, used by Alembic.
revision = "0008_search_trgm"
down_revision = "0007_api_privacy"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("petition", schema=None) as batch_op:
        batch_op.drop_index("ix_petition_ward_id")
        batch_op.create_index("ix_petition_ward_created", ["ward_id", "created_at", "id"])
        batch_op.create_index(
            "ix_petition_ward_status_created",
            ["ward_id", "status", "created_at"],
            postgresql_include=DASHBOARD_COLUMNS,
        )
        batch_op.create_index("ix_petition_ward_location", ["ward_id", "latitude", "longitude"])
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assignment_active_lead",
            ["petition_id"],
            postgresql_include=["unit_id"],
            postgresql_where=sa.text("ended_at IS NULL AND role = 'LEAD'"),
            sqlite_where=sa.text("ended_at IS NULL AND role = 'LEAD'"),
        )
    with op.batch_alter_table("petition_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_petition_event_rated",
            ["petition_id"],
            postgresql_where=sa.text("kind = 'RATED'"),
            sqlite_where=sa.text("kind = 'RATED'"),
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
        op.create_index(
            "ix_petition_search_key_trgm",
            "petition",
            ["ward_id", "search_key"],
            postgresql_using="gin",
            postgresql_ops={"search_key": "gin_trgm_ops"},
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_petition_search_key_trgm", table_name="petition")
        # The extensions stay: other objects may use them.
    with op.batch_alter_table("petition_event", schema=None) as batch_op:
        batch_op.drop_index("ix_petition_event_rated")
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_index("ix_assignment_active_lead")
    with op.batch_alter_table("petition", schema=None) as batch_op:
        batch_op.drop_index("ix_petition_ward_location")
        batch_op.drop_index("ix_petition_ward_status_created")
        batch_op.drop_index("ix_petition_ward_created")
        batch_op.create_index("ix_petition_ward_id", ["ward_id"], unique=False)
