"""Attribution of order revenue to campaign touches, one partition per run (RLS).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from boxoffice.warehouse import tenancy

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attribution",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("campaign", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("revenue_cents", sa.BigInteger(), nullable=False),
        sa.Column("orders", sa.Float(), nullable=False),
        sa.Column("share", sa.Float()),
        sa.Column("lookback_days", sa.Integer(), nullable=False),
        sa.Column("half_life_days", sa.Float(), nullable=False),
        sa.CheckConstraint(
            "model in ('first_touch', 'last_touch', 'linear', 'time_decay', 'position_based')",
            name=op.f("ck_attribution_model_known"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "as_of", "model", "campaign", "channel", name=op.f("pk_attribution")
        ),
        schema="analytics",
    )
    for statement in tenancy.enable_rls("analytics.attribution"):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("attribution", schema="analytics")
