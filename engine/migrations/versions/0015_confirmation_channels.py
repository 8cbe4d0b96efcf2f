"""confirmation codes for phones as well as email addresses: emailconfirmation becomes confirmation,
with a channel, one pending code per contact and channel

A new table rather than altering emailconfirmation in place: its unnamed UNIQUE(contact_id) cannot
be dropped portably (SQLite). Pending rows are copied with their ids (a merge's history names
them), and PostgreSQL's sequence is moved past them.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 13:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

COLUMNS = "id, contact_id, conversation_id, address, code_hash, attempts, expires_at, created_at"


def upgrade() -> None:
    op.create_table(
        "confirmation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"]),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contact_id", "channel", name="uq_confirmation_contact_channel"),
    )
    with op.batch_alter_table("confirmation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_confirmation_conversation_id"), ["conversation_id"],
                              unique=False)
    op.execute(f"INSERT INTO confirmation ({COLUMNS}, channel) "
               f"SELECT {COLUMNS}, 'email' FROM emailconfirmation")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval(pg_get_serial_sequence('confirmation', 'id'), "
                   "COALESCE((SELECT MAX(id) FROM confirmation), 0) + 1, false)")
    with op.batch_alter_table("emailconfirmation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emailconfirmation_conversation_id"))
    op.drop_table("emailconfirmation")


def downgrade() -> None:
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
    # phone codes have no place there: visitors waiting on one ask again
    op.execute(f"INSERT INTO emailconfirmation ({COLUMNS}) SELECT {COLUMNS} FROM confirmation "
               "WHERE channel = 'email'")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval(pg_get_serial_sequence('emailconfirmation', 'id'), "
                   "COALESCE((SELECT MAX(id) FROM emailconfirmation), 0) + 1, false)")
    with op.batch_alter_table("confirmation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_confirmation_conversation_id"))
    op.drop_table("confirmation")
