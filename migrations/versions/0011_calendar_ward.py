"""day swaps per ward, and for every ward

Revision ID: 0011_calendar_ward
Revises: 0010_ward_ownership
Create Date: 2026-11-26 02:30:00

A calendar override was one row per day for the whole database, so in a city deployment
one ward's admin changed every ward's deadlines. Now a row belongs to a ward (set by that
ward's admin) or to none (every ward; set with ``flask portal calendar --all-wards``).
Existing rows: the ward's own when the database holds one ward (its admin made them and
keeps them), otherwise every ward's, as they acted until now.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_calendar_ward"
down_revision = "0010_ward_ownership"
branch_labels = None
depends_on = None

OLD = sa.table(
    "calendar_override",
    sa.column("day", sa.Date),
    sa.column("is_working", sa.Boolean),
    sa.column("note", sa.String),
    sa.column("created_at", sa.DateTime),
)


def upgrade():
    bind = op.get_bind()
    rows = [row._asdict() for row in bind.execute(sa.select(OLD))]
    wards = bind.execute(sa.text("SELECT id FROM ward")).scalars().all()
    owner = wards[0] if len(wards) == 1 else None
    op.drop_table("calendar_override")
    table = op.create_table(
        "calendar_override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ward_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("is_working", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ward_id"], ["ward.id"], name=op.f("fk_calendar_override_ward_id_ward")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_override")),
    )
    op.create_index("uq_calendar_override_ward_day", "calendar_override", ["ward_id", "day"], unique=True)
    op.create_index(
        "uq_calendar_override_day_every_ward",
        "calendar_override",
        ["day"],
        unique=True,
        sqlite_where=sa.text("ward_id IS NULL"),
        postgresql_where=sa.text("ward_id IS NULL"),
    )
    if rows:
        op.bulk_insert(table, [{**row, "ward_id": owner} for row in rows])


def downgrade():
    bind = op.get_bind()
    new = sa.table(
        "calendar_override",
        sa.column("ward_id", sa.Integer),
        *(sa.column(c.name, c.type) for c in OLD.columns),
    )
    # One row per day again: every ward's first, else the lowest ward's.
    kept: dict = {}
    query = sa.select(new).order_by(new.c.ward_id.is_not(None), new.c.ward_id, new.c.day)
    for row in bind.execute(query):
        kept.setdefault(row.day, {c.name: getattr(row, c.name) for c in OLD.columns})
    op.drop_index("uq_calendar_override_day_every_ward", table_name="calendar_override")
    op.drop_index("uq_calendar_override_ward_day", table_name="calendar_override")
    op.drop_table("calendar_override")
    table = op.create_table(
        "calendar_override",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("is_working", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_override")),
    )
    if kept:
        op.bulk_insert(table, list(kept.values()))
