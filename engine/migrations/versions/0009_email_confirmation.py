"""web visitor email confirmation: the emailconfirmation table, contactidentity.verified_at

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "emailconfirmation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"]),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contact_id"),
    )
    with op.batch_alter_table("emailconfirmation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_emailconfirmation_conversation_id"), ["conversation_id"],
                              unique=False)
    with op.batch_alter_table("contactidentity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verified_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contactidentity", schema=None) as batch_op:
        batch_op.drop_column("verified_at")
    with op.batch_alter_table("emailconfirmation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emailconfirmation_conversation_id"))
    op.drop_table("emailconfirmation")
