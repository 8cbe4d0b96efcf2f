"""operator avatar: an optional picture URL the widget shows beside the operator's name

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:15:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('operator', schema=None) as batch_op:
        batch_op.add_column(sa.Column('avatar_url', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('operator', schema=None) as batch_op:
        batch_op.drop_column('avatar_url')
