"""outbox claim owner, heartbeats, out-of-range answer numbers cleared

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 09:00:00

- outbox.claimed_by: the instance holding a claim, so a restarted instance takes its own claims
  back at once instead of waiting for the lease.
- heartbeats: what each poller and sender of each instance last managed (watchdog, `baocao
  status`).
- identities: a message in a group used to move a person's notifications there, and the
  shared ids of anonymous group admins and "send as channel" could be bound to a contact.
  A Telegram identity's chat goes back to the private chat (whose id is the user id), and
  the shared ids are unbound.
- signin_failures.limited (tries refused by the limits, which count against the account but
  not against everyone) and an index on `at` for the limit across all accounts.
- answers.num_value: values outside what a report figure may be (|x| >= 10^15, or NaN) were
  stored before the bounds existed; they broke every export and sum. Their num_value is
  cleared, so SQL totals skip them; the exports list them as skipped values.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LARGEST = 10**15


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
    op.create_table(
        "heartbeats",
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("component", sa.String(length=32), nullable=False),
        sa.Column("last_ok_at", sa.DateTime(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("instance_id", "component", name=op.f("pk_heartbeats")),
    )
    with op.batch_alter_table("signin_failures") as batch:
        batch.add_column(sa.Column("limited", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.create_index("ix_signin_failures_at", ["at"], unique=False)
    op.execute(sa.text("UPDATE identities SET chat_id = external_user_id "
                       "WHERE channel = 'telegram' AND chat_id LIKE '-%'"))
    op.execute(sa.text("UPDATE identities SET contact_id = NULL WHERE channel = 'telegram' "
                       "AND external_user_id IN ('1087968824', '136817688')"))
    # NaN compares above every number on PostgreSQL; SQLite keeps NaN as NULL already.
    op.execute(sa.text("UPDATE answers SET num_value = NULL WHERE num_value >= :big "
                       "OR num_value <= :small").bindparams(big=LARGEST, small=-LARGEST))


def downgrade() -> None:
    with op.batch_alter_table("signin_failures") as batch:
        batch.drop_index("ix_signin_failures_at")
        batch.drop_column("limited")
    op.drop_table("heartbeats")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claimed_by")
