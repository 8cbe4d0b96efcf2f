"""pending turns: a visitor message the bot has still to answer, stored with the message

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 08:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pendingturn',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('claim', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('lease_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], ),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id')
    )
    op.create_index(op.f('ix_pendingturn_conversation_id'), 'pendingturn', ['conversation_id'], unique=False)
    op.create_index(op.f('ix_pendingturn_lease_until'), 'pendingturn', ['lease_until'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_pendingturn_lease_until'), table_name='pendingturn')
    op.drop_index(op.f('ix_pendingturn_conversation_id'), table_name='pendingturn')
    op.drop_table('pendingturn')
