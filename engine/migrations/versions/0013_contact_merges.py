"""one thread per customer: the contactmerge history and visitorpresence

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 12:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contactmerge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("moved", sa.JSON(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("undone_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("undone_by", sa.Integer(), nullable=True),
        sa.Column("undo_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["target_id"], ["contact.id"]),
        sa.ForeignKeyConstraint(["source_id"], ["contact.id"]),
        sa.ForeignKeyConstraint(["actor_id"], ["operator.id"]),
        sa.ForeignKeyConstraint(["undone_by"], ["operator.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("contactmerge", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contactmerge_target_id"), ["target_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contactmerge_source_id"), ["source_id"], unique=False)
    op.create_table(
        "visitorpresence",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("sockets", sa.Integer(), nullable=False),
        sa.Column("seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"]),
        sa.PrimaryKeyConstraint("conversation_id"),
    )


def downgrade() -> None:
    op.drop_table("visitorpresence")
    with op.batch_alter_table("contactmerge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contactmerge_source_id"))
        batch_op.drop_index(batch_op.f("ix_contactmerge_target_id"))
    op.drop_table("contactmerge")
