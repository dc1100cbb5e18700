"""change history: who changed what in the office's campaigns, units and contacts

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 23:40:00

- change_history: one row per change made from the web console or the CLI (who, when, what,
  before → after), with the path of the unit whose subtree it belongs to.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("actor_contact_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("scope_path", sa.String(length=2048), nullable=False, server_default=""),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["actor_contact_id"], ["contacts.id"],
                                name="fk_change_history_actor_contact_id_contacts"),
        sa.PrimaryKeyConstraint("id", name="pk_change_history"),
    )
    with op.batch_alter_table("change_history") as batch:
        batch.create_index("ix_change_history_at", ["at"], unique=False)
        batch.create_index("ix_change_history_scope_path", ["scope_path"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("change_history") as batch:
        batch.drop_index("ix_change_history_scope_path")
        batch.drop_index("ix_change_history_at")
    op.drop_table("change_history")
