"""business hours: a team's time zone, weekly hours and holiday calendar; a conversation held until
its team opens

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 12:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column("hours", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("holiday_country", sqlmodel.sql.sqltypes.AutoString(length=8),
                                      nullable=True))
        batch_op.add_column(sa.Column("holiday_subdivision", sqlmodel.sql.sqltypes.AutoString(length=16),
                                      nullable=True))
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.drop_column("held_until")
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.drop_column("holiday_subdivision")
        batch_op.drop_column("holiday_country")
        batch_op.drop_column("hours")
        batch_op.drop_column("timezone")
