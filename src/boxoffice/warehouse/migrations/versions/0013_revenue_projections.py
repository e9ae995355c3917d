"""Each run's revenue projection per tenant (daily and totals), one partition per run (RLS):
pages and reports read it instead of fitting a model when they are viewed.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from boxoffice.warehouse import tenancy

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BOUNDS = ("mean", "lower_80", "upper_80", "lower_95", "upper_95")
NEST = "lower_95 <= lower_80 and lower_80 <= upper_80 and upper_80 <= upper_95"


def upgrade() -> None:
    op.create_table(
        "revenue_projections",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        *(sa.Column(name, sa.Float(), nullable=False) for name in BOUNDS),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("aicc", sa.Float(), nullable=False),
        sa.CheckConstraint("date > as_of", name=op.f("ck_revenue_projections_future_days")),
        sa.CheckConstraint(NEST, name=op.f("ck_revenue_projections_intervals_nest")),
        sa.PrimaryKeyConstraint("tenant_id", "as_of", "date", name=op.f("pk_revenue_projections")),
        schema="analytics",
    )
    op.create_table(
        "revenue_projection_totals",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Float(), nullable=False) for name in BOUNDS),
        sa.CheckConstraint("days > 0", name=op.f("ck_revenue_projection_totals_days_positive")),
        sa.PrimaryKeyConstraint(
            "tenant_id", "as_of", "days", name=op.f("pk_revenue_projection_totals")
        ),
        schema="analytics",
    )
    for table in ("revenue_projections", "revenue_projection_totals"):
        for statement in tenancy.enable_rls(f"analytics.{table}"):
            op.execute(statement)


def downgrade() -> None:
    op.drop_table("revenue_projection_totals", schema="analytics")
    op.drop_table("revenue_projections", schema="analytics")
