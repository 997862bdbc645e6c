"""a revision number per ward, for the public pages' cache

Revision ID: 0009_ward_revision
Revises: 0008_search_trgm
Create Date: 2026-11-25 22:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0009_ward_revision"
down_revision = "0008_search_trgm"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ward_revision",
        sa.Column("ward_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ward_id"],
            ["ward.id"],
            name=op.f("fk_ward_revision_ward_id_ward"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ward_id", name=op.f("pk_ward_revision")),
    )


def downgrade():
    op.drop_table("ward_revision")
