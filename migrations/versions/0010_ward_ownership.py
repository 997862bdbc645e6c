"""the ward of notices, supervision remarks, API clients and outgoing mail

Revision ID: 0010_ward_ownership
Revises: 0009_ward_revision
Create Date: 2026-11-25 23:30:00

One database may hold a city's wards, each deployment serving one. Conclusion notices
(those filed without a meeting had no ward), supervision remarks (a unit of no ward may
be remarked on by every ward), Open311 clients and the outbox now say whose they are.
Existing rows take the ward of what they point to (the meeting, the petition, the item's
notice, the unit, the author or the creator); where nothing tells and the database holds
one ward, that ward. Rows still without a ward: notices, remarks and messages are shown
by no deployment (set ``ward_id`` by hand), API clients count as every deployment's, like
accounts made before accounts had a ward.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_ward_ownership"
down_revision = "0009_ward_revision"
branch_labels = None
depends_on = None

TABLES = ("conclusion_notice", "supervision_remark", "api_client", "notification")

# What each table's rows point to, in order of trust: the first that knows the ward wins.
BACKFILL = {
    "conclusion_notice": [
        "SELECT m.ward_id FROM meeting m WHERE m.id = conclusion_notice.meeting_id",
    ],
    "supervision_remark": [
        "SELECT p.ward_id FROM petition p WHERE p.id = supervision_remark.petition_id",
        "SELECT n.ward_id FROM notice_item i JOIN conclusion_notice n ON n.id = i.notice_id"
        " WHERE i.id = supervision_remark.item_id",
        "SELECT u.ward_id FROM unit u WHERE u.id = supervision_remark.unit_id",
        "SELECT a.ward_id FROM user_account a WHERE a.id = supervision_remark.author_id",
    ],
    "api_client": [
        "SELECT a.ward_id FROM user_account a WHERE a.id = api_client.created_by_id",
    ],
    "notification": [
        "SELECT p.ward_id FROM petition p WHERE p.id = notification.petition_id",
        "SELECT min(a.ward_id) FROM user_account a"
        " WHERE lower(a.email) = lower(notification.recipient)",
    ],
}


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("ward_id", sa.Integer(), nullable=True))
            batch_op.create_index(batch_op.f(f"ix_{table}_ward_id"), ["ward_id"], unique=False)
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_ward_id_ward"), "ward", ["ward_id"], ["id"]
            )
    bind = op.get_bind()
    for table, sources in BACKFILL.items():
        for source in sources:
            bind.execute(
                sa.text(f"UPDATE {table} SET ward_id = ({source}) WHERE ward_id IS NULL")
            )
    wards = bind.execute(sa.text("SELECT id FROM ward")).scalars().all()
    if len(wards) == 1:
        for table in TABLES:
            bind.execute(
                sa.text(f"UPDATE {table} SET ward_id = :ward WHERE ward_id IS NULL"),
                {"ward": wards[0]},
            )


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_ward_id_ward"), type_="foreignkey")
            batch_op.drop_index(batch_op.f(f"ix_{table}_ward_id"))
            batch_op.drop_column("ward_id")
