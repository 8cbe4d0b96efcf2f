"""draft use: confidence and weak flag of each draft; edit ratio and used in place of similarity

A draft the operator started from now counts as used only when the sent reply stayed close to it
(edit ratio at most 0.5); existing rows keep what they had, as ``edit_ratio = 1 - similarity``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

USED_MAX_EDIT_RATIO = 0.5  # engine.service.drafts.USED_MAX_EDIT_RATIO when this migration was written


def upgrade() -> None:
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confidence', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('weak', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('edit_ratio', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('used', sa.Boolean(), nullable=False, server_default=sa.false()))
    draft = sa.table('draft', sa.column('similarity', sa.Float()), sa.column('edit_ratio', sa.Float()),
                     sa.column('used', sa.Boolean()))
    op.execute(draft.update().where(draft.c.similarity.is_not(None))
               .values(edit_ratio=1.0 - draft.c.similarity,
                       used=(1.0 - draft.c.similarity) <= USED_MAX_EDIT_RATIO))
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.drop_column('similarity')


def downgrade() -> None:
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.add_column(sa.Column('similarity', sa.Float(), nullable=True))
    draft = sa.table('draft', sa.column('similarity', sa.Float()), sa.column('edit_ratio', sa.Float()))
    op.execute(draft.update().where(draft.c.edit_ratio.is_not(None))
               .values(similarity=1.0 - draft.c.edit_ratio))
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.drop_column('used')
        batch_op.drop_column('edit_ratio')
        batch_op.drop_column('weak')
        batch_op.drop_column('confidence')
