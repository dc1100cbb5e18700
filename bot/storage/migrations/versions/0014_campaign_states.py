"""campaign states: drafts written in the console, published / closed / archived campaigns

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 23:50:00

- campaigns.state: published (every campaign loaded so far), closed, archived.
- campaigns.scope_path: the unit path of the office that runs it ("" for the whole tree).
- campaign_drafts: a campaign definition not yet published.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("state", sa.String(length=16), nullable=False,
                                   server_default="published"))
        batch.add_column(sa.Column("scope_path", sa.String(length=2048), nullable=False,
                                   server_default=""))
    op.create_table(
        "campaign_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("scope_path", sa.String(length=2048), nullable=False, server_default=""),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["contacts.id"],
                                name="fk_campaign_drafts_created_by_contacts"),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_drafts"),
        sa.UniqueConstraint("key", name="uq_campaign_drafts_key"),
    )


def downgrade() -> None:
    op.drop_table("campaign_drafts")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("scope_path")
        batch.drop_column("state")
