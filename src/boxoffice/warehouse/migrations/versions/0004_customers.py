"""Customers: RFM scores and segments, lifetime value and churn risk, model fits (all RLS).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from boxoffice.warehouse import tenancy

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("customer_rfm", "customer_segments", "customer_value", "customer_models")


def _keys() -> list[sa.Column]:
    return [
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "customer_rfm",
        *_keys(),
        sa.Column("customer_key", sa.Text(), nullable=False),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("recency", sa.Float(), nullable=False),
        sa.Column("T", sa.Float(), nullable=False),
        sa.Column("monetary_value", sa.Float(), nullable=False),
        sa.Column("purchases", sa.Integer(), nullable=False),
        sa.Column("total_value", sa.Float(), nullable=False),
        sa.Column("days_since_last", sa.Integer(), nullable=False),
        sa.Column("r", sa.SmallInteger(), nullable=False),
        sa.Column("f", sa.SmallInteger(), nullable=False),
        sa.Column("m", sa.SmallInteger(), nullable=False),
        sa.Column("fm", sa.SmallInteger(), nullable=False),
        sa.Column("segment", sa.Text(), nullable=False),
        sa.CheckConstraint('recency <= "T"', name=op.f("ck_customer_rfm_recency_within_age")),
        sa.CheckConstraint(
            "purchases = frequency + 1",
            name=op.f("ck_customer_rfm_purchases_are_repeats_plus_one"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "as_of", "customer_key", name=op.f("pk_customer_rfm")),
        schema="analytics",
    )
    op.create_table(
        "customer_segments",
        *_keys(),
        sa.Column("segment", sa.Text(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.Float(), nullable=False),
        sa.Column("purchases", sa.Integer(), nullable=False),
        sa.Column("average_order_value", sa.Float(), nullable=False),
        sa.Column("share_of_customers", sa.Float(), nullable=False),
        sa.Column("share_of_revenue", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "as_of", "segment", name=op.f("pk_customer_segments")),
        schema="analytics",
    )
    op.create_table(
        "customer_value",
        *_keys(),
        sa.Column("customer_key", sa.Text(), nullable=False),
        sa.Column("p_alive", sa.Float(), nullable=False),
        sa.Column("expected_purchases_90d", sa.Float(), nullable=False),
        sa.Column("expected_spend", sa.Float(), nullable=False),
        sa.Column("clv_12m", sa.Float(), nullable=False),
        sa.Column("churn_risk", sa.Text(), nullable=False),
        sa.Column("recency_risk", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "p_alive between 0 and 1", name=op.f("ck_customer_value_p_alive_is_a_probability")
        ),
        sa.CheckConstraint("clv_12m >= 0", name=op.f("ck_customer_value_clv_not_negative")),
        sa.PrimaryKeyConstraint(
            "tenant_id", "as_of", "customer_key", name=op.f("pk_customer_value")
        ),
        schema="analytics",
    )
    op.create_table(
        "customer_models",
        *_keys(),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("param", sa.Text(), nullable=False),
        sa.Column("estimate", sa.Float(), nullable=False),
        sa.Column("std_error", sa.Float()),
        sa.Column("log_likelihood", sa.Float(), nullable=False),
        sa.Column("n_customers", sa.Integer(), nullable=False),
        sa.Column("converged", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "as_of", "model", "param", name=op.f("pk_customer_models")
        ),
        schema="analytics",
    )
    for table in TABLES:
        for statement in tenancy.enable_rls(f"analytics.{table}"):
            op.execute(statement)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table, schema="analytics")
