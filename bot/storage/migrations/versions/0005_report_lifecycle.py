"""report lifecycle: period titles, first submission, corrections, acceptance, report events

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("periods") as batch:
        batch.add_column(sa.Column("title_vi", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("title_en", sa.String(length=255), nullable=True))
    op.execute("UPDATE periods SET title_vi = (SELECT title_vi FROM campaigns "
               "WHERE campaigns.id = periods.campaign_id), title_en = (SELECT title_en "
               "FROM campaigns WHERE campaigns.id = periods.campaign_id)")
    with op.batch_alter_table("periods") as batch:
        batch.alter_column("title_vi", existing_type=sa.String(length=255), nullable=False)
        batch.alter_column("title_en", existing_type=sa.String(length=255), nullable=False)
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("first_submitted_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("correct_by", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("accepted_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("accepted_by", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_submissions_accepted_by_contacts"), "contacts",
                                 ["accepted_by"], ["id"])
    op.execute("UPDATE submissions SET first_submitted_at = submitted_at "
               "WHERE submitted_at IS NOT NULL")
    op.create_table(
        "report_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("by", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["by"], ["contacts.id"], name=op.f("fk_report_events_by_contacts")),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="CASCADE",
                                name=op.f("fk_report_events_submission_id_submissions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_events")),
    )
    op.create_index(op.f("ix_report_events_submission_id"), "report_events", ["submission_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_report_events_submission_id"), table_name="report_events")
    op.drop_table("report_events")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_constraint(op.f("fk_submissions_accepted_by_contacts"), type_="foreignkey")
        batch.drop_column("accepted_by")
        batch.drop_column("accepted_at")
        batch.drop_column("correct_by")
        batch.drop_column("first_submitted_at")
    with op.batch_alter_table("periods") as batch:
        batch.drop_column("title_en")
        batch.drop_column("title_vi")
