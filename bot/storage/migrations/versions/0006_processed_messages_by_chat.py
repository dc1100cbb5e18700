"""processed messages keyed by channel, chat and message id, with an index to prune by age

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 09:00:00.000000

Telegram's update_id starts again at a random number after a week without updates, so keys
made of update ids cannot be kept for a year. Rows already there keep an empty chat id: they
never match a new key, still count in the monthly Zalo budget, and are pruned with the rest.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processed_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chat_id", sa.String(length=128), nullable=False,
                                      server_default=""))
        batch_op.drop_constraint("pk_processed_messages", type_="primary")
        batch_op.create_primary_key("pk_processed_messages",
                                    ["channel", "chat_id", "message_id"])
        batch_op.create_index(batch_op.f("ix_processed_messages_processed_at"),
                              ["processed_at"], unique=False)
    with op.batch_alter_table("processed_messages", schema=None) as batch_op:
        batch_op.alter_column("chat_id", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("processed_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processed_messages_processed_at"))
        batch_op.drop_constraint("pk_processed_messages", type_="primary")
        batch_op.create_primary_key("pk_processed_messages", ["channel", "message_id"])
        batch_op.drop_column("chat_id")
