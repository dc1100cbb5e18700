"""answers keep the reason a figure is to be checked; one-time upload links

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 09:00:00.000000

`answers.flag` is empty for an ordinary answer; otherwise the reason ("gấp 12 lần báo cáo kỳ
trước …") a unit kept a figure after being asked back once: coordinators read it as "cần
kiểm tra" in /xem, /kiemtra, the digest and the export. `upload_links` are the one-time pages
through which a person on a messenger without documents (Zalo) sends the bot a file.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flag", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "upload_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upload_links")),
        sa.UniqueConstraint("token", name=op.f("uq_upload_links_token")),
    )


def downgrade() -> None:
    op.drop_table("upload_links")
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.drop_column("flag")
