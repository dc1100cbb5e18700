"""outbox priority: replies go ahead of bulk messages

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 09:00:00

- outbox.priority: 0 for a reply to someone who wrote (and the notices a person's action
  causes), 1 for bulk messages (reminders, digests, task check-ins, nudges, budget warnings).
  The sender serves replies first and gives bulk the capacity left. Bulk rows still waiting
  are recognised by their unique keys.
- The queue index becomes (sent_at, channel, priority, id): the order the sender reads it in.
- identities (channel, chat_id): whether the person in a chat wrote recently (a reminder to
  someone filling in a form waits until they pause).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BULK_KEYS = ("remind:%", "digest:%", "task:%", "nudge:%", "zalo-budget:%")


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("priority", sa.SmallInteger(), nullable=False,
                                   server_default="0"))
        batch.drop_index("ix_outbox_pending")
        batch.create_index("ix_outbox_queue", ["sent_at", "channel", "priority", "id"],
                           unique=False)
    with op.batch_alter_table("identities") as batch:
        batch.create_index("ix_identities_chat", ["channel", "chat_id"], unique=False)
    bulk = sa.or_(*(sa.column("dedupe_key").like(pattern) for pattern in BULK_KEYS))
    op.execute(sa.table("outbox", sa.column("priority"), sa.column("dedupe_key"),
                        sa.column("sent_at")).update()
               .where(sa.column("sent_at").is_(None), bulk).values(priority=1))


def downgrade() -> None:
    with op.batch_alter_table("identities") as batch:
        batch.drop_index("ix_identities_chat")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_queue")
        batch.create_index("ix_outbox_pending", ["sent_at", "channel", "id"], unique=False)
        batch.drop_column("priority")
