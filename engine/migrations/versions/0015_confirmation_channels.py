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


def _code_table(name: str, *extra: sa.SchemaItem) -> None:
    """A table of pending codes: what emailconfirmation held, plus ``extra`` (columns, constraints)."""
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        *[item for item in extra if isinstance(item, sa.Column)],
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"]),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"]),
        sa.PrimaryKeyConstraint("id"),
        *[item for item in extra if not isinstance(item, sa.Column)],
    )
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{name}_conversation_id"), ["conversation_id"], unique=False)


def _move_sequence(name: str) -> None:
    """PostgreSQL: the id sequence past the ids copied in (SQLite takes MAX(id) + 1 by itself)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                   f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)")


def _drop_code_table(name: str) -> None:
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.drop_index(batch_op.f(f"ix_{name}_conversation_id"))
    op.drop_table(name)


def upgrade() -> None:
    _code_table("confirmation",
                sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
                sa.UniqueConstraint("contact_id", "channel", name="uq_confirmation_contact_channel"))
    op.execute(f"INSERT INTO confirmation ({COLUMNS}, channel) "
               f"SELECT {COLUMNS}, 'email' FROM emailconfirmation")
    _move_sequence("confirmation")
    _drop_code_table("emailconfirmation")


def downgrade() -> None:
    _code_table("emailconfirmation", sa.UniqueConstraint("contact_id"))
    # phone codes have no place there: visitors waiting on one ask again
    op.execute(f"INSERT INTO emailconfirmation ({COLUMNS}) SELECT {COLUMNS} FROM confirmation "
               "WHERE channel = 'email'")
    _move_sequence("emailconfirmation")
    _drop_code_table("confirmation")
