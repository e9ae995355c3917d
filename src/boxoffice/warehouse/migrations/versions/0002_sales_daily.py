"""Analytics: daily sales, customer activity days, venues, pipeline run history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from boxoffice.warehouse import tenancy

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sales_daily",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("venue_id", sa.UUID(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("tickets_sold", sa.Integer(), nullable=False),
        sa.Column("gross_cents", sa.BigInteger(), nullable=False),
        sa.Column("fee_cents", sa.BigInteger(), nullable=False),
        sa.Column("refunded_tickets", sa.Integer(), nullable=False),
        sa.Column("refund_cents", sa.BigInteger(), nullable=False),
        sa.Column("net_cents", sa.BigInteger(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "net_cents = gross_cents - refund_cents",
            name=op.f("ck_sales_daily_net_is_gross_less_refunds"),
        ),
        sa.CheckConstraint("local_date <= as_of", name=op.f("ck_sales_daily_no_future_days")),
        sa.PrimaryKeyConstraint(
            "tenant_id", "as_of", "venue_id", "local_date", "channel", name=op.f("pk_sales_daily")
        ),
        schema="analytics",
    )
    op.create_table(
        "customer_days",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("venue_id", sa.UUID(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("customer_key", sa.Text(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("tickets", sa.Integer(), nullable=False),
        sa.Column("gross_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "as_of", "venue_id", "local_date", "customer_key",
            name=op.f("pk_customer_days"),
        ),
        schema="analytics",
    )  # fmt: skip
    op.create_table(
        "venues",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("venue_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("city", sa.Text(), nullable=False),
        sa.Column("timezone", sa.Text(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("tenant_name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "as_of", "venue_id", name=op.f("pk_venues")),
        schema="analytics",
    )
    op.create_table(
        "pipeline_runs",
        sa.Column("run_id", sa.UUID(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("tenants", sa.Text(), nullable=False),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("report_path", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status in ('running', 'succeeded', 'failed', 'skipped')",
            name=op.f("ck_pipeline_runs_status_known"),
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_pipeline_runs")),
        schema="analytics",
    )
    op.create_index(
        op.f("ix_pipeline_runs_as_of_started_at"),
        "pipeline_runs",
        ["as_of", "started_at"],
        schema="analytics",
    )
    for table in ("analytics.sales_daily", "analytics.customer_days", "analytics.venues"):
        for statement in tenancy.enable_rls(table):
            op.execute(statement)
    # run history spans tenants: the pipeline keeps it, dashboards of one tenant do not read it
    op.execute(f"revoke all on analytics.pipeline_runs from {tenancy.READER}")


def downgrade() -> None:
    op.drop_table("pipeline_runs", schema="analytics")
    op.drop_table("venues", schema="analytics")
    op.drop_table("customer_days", schema="analytics")
    op.drop_table("sales_daily", schema="analytics")
