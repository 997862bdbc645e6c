"""ward-scoped petition indexes; trigram search index on PostgreSQL

Revision ID: 0008_search_trgm
Revises: 0007_api_privacy
Create Date: 2026-11-25 18:10:00

One database serves every ward of a city, so the hot queries (lists, inbox, map,
dashboard) are one ward's petitions: composite indexes lead with ward_id, and replace
the index on ward_id alone. Search is a substring match on the accent-free
``search_key``: on PostgreSQL a GIN index of (ward_id, search_key gin_trgm_ops) serves it
(pg_trgm, and btree_gin for ward_id), so that a common word costs what one ward holds,
not what the city holds; SQLite has no such index (its wards are small) and gets none. The dashboard counts one ward's ratings through
a small partial index on the timeline.
"""
import sqlalchemy as sa
from alembic import op


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
            "ix_petition_ward_status_created", ["ward_id", "status", "created_at"]
        )
        batch_op.create_index("ix_petition_ward_location", ["ward_id", "latitude", "longitude"])
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
    with op.batch_alter_table("petition", schema=None) as batch_op:
        batch_op.drop_index("ix_petition_ward_location")
        batch_op.drop_index("ix_petition_ward_status_created")
        batch_op.drop_index("ix_petition_ward_created")
        batch_op.create_index("ix_petition_ward_id", ["ward_id"], unique=False)
