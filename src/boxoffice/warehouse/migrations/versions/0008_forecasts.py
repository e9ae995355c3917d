"""Demand forecasts per venue and day, their backtests, and pickup forecasts of upcoming
events' final tickets; one partition per run (RLS).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from boxoffice.warehouse import tenancy

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLES = ("demand_forecasts", "forecast_backtests", "event_forecasts")


def _keys() -> list[sa.Column]:
    return [
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
    ]


def _bounds(nullable: bool) -> list[sa.Column]:
    return [
        sa.Column(name, sa.Float(), nullable=nullable)
        for name in ("lower_80", "upper_80", "lower_95", "upper_95")
    ]


def upgrade() -> None:
    op.create_table(
        "demand_forecasts",
        *_keys(),
        sa.Column("venue_id", sa.UUID(), nullable=False),
        sa.Column("measure", sa.Text(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("mean", sa.Float(), nullable=False),
        *_bounds(nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.CheckConstraint("date > as_of", name=op.f("ck_demand_forecasts_future_days")),
        sa.CheckConstraint(
            "lower_95 <= lower_80 and lower_80 <= upper_80 and upper_80 <= upper_95",
            name=op.f("ck_demand_forecasts_intervals_nest"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "as_of", "venue_id", "measure", "date", name=op.f("pk_demand_forecasts")
        ),
        schema="analytics",
    )
    op.create_table(
        "forecast_backtests",
        *_keys(),
        sa.Column("venue_id", sa.UUID(), nullable=False),
        sa.Column("measure", sa.Text(), nullable=False),
        sa.Column("horizon", sa.Integer(), nullable=False),
        sa.Column("origins", sa.Integer(), nullable=False),
        sa.Column("mase", sa.Float()),
        sa.Column("naive_mase", sa.Float()),
        sa.Column("wape", sa.Float()),
        sa.Column("coverage_80", sa.Float()),
        sa.Column("coverage_95", sa.Float()),
        sa.Column("model", sa.Text()),
        sa.PrimaryKeyConstraint(
            "tenant_id", "as_of", "venue_id", "measure", name=op.f("pk_forecast_backtests")
        ),
        schema="analytics",
    )
    op.create_table(
        "event_forecasts",
        *_keys(),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("held", sa.Float(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("pool", sa.Text()),
        sa.Column("pool_events", sa.Integer(), nullable=False),
        sa.Column("additive", sa.Float()),
        sa.Column("multiplicative", sa.Float()),
        sa.Column("method", sa.Text()),
        sa.Column("forecast", sa.Float()),
        *_bounds(nullable=True),
        sa.CheckConstraint("forecast <= capacity", name=op.f("ck_event_forecasts_within_capacity")),
        sa.PrimaryKeyConstraint("tenant_id", "as_of", "event_id", name=op.f("pk_event_forecasts")),
        schema="analytics",
    )
    for table in TABLES:
        for statement in tenancy.enable_rls(f"analytics.{table}"):
            op.execute(statement)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table, schema="analytics")
