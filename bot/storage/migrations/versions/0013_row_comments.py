"""row comments: a report returned with a comment on each row that needs a change

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 23:30:00

- submissions.return_rows: the comments of the return in force, per question id, with the
  answer as it was when returned ({"4.2": {"comment": "…", "value": 1250, "note": ""}}), so
  the reporter is asked those rows first and the review says which are answered.
- report_events.rows: the same, kept in the history of each return.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("return_rows", sa.JSON(), nullable=True))
    with op.batch_alter_table("report_events") as batch:
        batch.add_column(sa.Column("rows", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("report_events") as batch:
        batch.drop_column("rows")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("return_rows")
