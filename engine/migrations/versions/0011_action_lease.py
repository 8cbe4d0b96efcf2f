"""account actions: accountaction.lease_until (an action interrupted mid-call is performed again)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 11:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accountaction", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accountaction", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
