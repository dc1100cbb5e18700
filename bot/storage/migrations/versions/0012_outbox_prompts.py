"""outbox prompts: what a message asks, and its id once sent

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 23:00:00

- outbox.asks: on the last message of a conversation turn, what the conversation then waited
  for ("answering|<report>|<question>", "-" outside a form). A question prompt with a later
  turn's message of the same chat behind it is stale: the sender drops it instead of sending
  it (a resend after a restart would have people answer a question no longer current).
- outbox.sent_message_id: the messenger's id of a prompt once sent (Telegram), so a reply to
  that message answers the question it asked.
- ix_outbox_chat (channel, chat_id, id): one chat's rows in order, for both look-ups.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("asks", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("sent_message_id", sa.String(length=64), nullable=True))
        batch.create_index("ix_outbox_chat", ["channel", "chat_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_chat")
        batch.drop_column("sent_message_id")
        batch.drop_column("asks")
