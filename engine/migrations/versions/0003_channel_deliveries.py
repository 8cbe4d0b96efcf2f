"""channel deliveries

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 16:19:04.086516
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('channeldelivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('provider_id', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True),
    sa.Column('remote', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('local', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], ),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id')
    )
    with op.batch_alter_table('channeldelivery', schema=None) as batch_op:
        batch_op.create_index('ix_channeldelivery_channel_provider', ['channel', 'provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_channeldelivery_conversation_id'), ['conversation_id'],
                              unique=False)
        batch_op.create_index('ix_channeldelivery_status_next', ['status', 'next_attempt_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('channeldelivery', schema=None) as batch_op:
        batch_op.drop_index('ix_channeldelivery_status_next')
        batch_op.drop_index(batch_op.f('ix_channeldelivery_conversation_id'))
        batch_op.drop_index('ix_channeldelivery_channel_provider')

    op.drop_table('channeldelivery')
