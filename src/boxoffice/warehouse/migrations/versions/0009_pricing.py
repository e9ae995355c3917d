"""Pricing: each run's demand scores and recommendations per upcoming event, elasticity
estimates, the recommendations people decide on, and the history of approved prices (RLS on
all). The reader role — dashboards and the `boxoffice pricing` command — may record decisions
only: update a recommendation's status, decider, time and note, and add the approved price to
the history; the ``approved_prices`` view (security invoker, so RLS applies to its caller)
lists each event's newest approved price for the platform to apply.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from boxoffice.warehouse import tenancy

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("event_pricing", "price_elasticities", "price_recommendations", "price_history")
SCORES = ("sell_through", "velocity", "pace", "scarcity", "urgency")
APPROVED_PRICES = """
create view analytics.approved_prices with (security_invoker = true) as
select distinct on (tenant_id, event_id)
       tenant_id, event_id, new_price_cents as price_cents, approved_by, approved_at,
       recommendation_id
from analytics.price_history
order by tenant_id, event_id, approved_at desc, change_id
"""


def _keys() -> list[sa.Column]:
    return [
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
    ]


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "event_pricing",
        *_keys(),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("current_price_cents", sa.BigInteger(), nullable=False),
        sa.Column("demand_score", sa.Float(), nullable=False),
        *(sa.Column(f"c_{name}", sa.Float()) for name in SCORES),
        sa.Column("forecast", sa.Float()),
        sa.Column("elasticity", sa.Float()),
        sa.Column("elasticity_se", sa.Float()),
        sa.Column("elasticity_scope", sa.Text()),
        sa.Column("recommended_price_cents", sa.BigInteger()),
        sa.Column("expected_tickets_current", sa.Float()),
        sa.Column("expected_tickets_recommended", sa.Float()),
        sa.Column("expected_revenue_current", sa.Float()),
        sa.Column("expected_revenue_recommended", sa.Float()),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "demand_score between 0 and 100", name=op.f("ck_event_pricing_score_in_range")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "as_of", "event_id", name=op.f("pk_event_pricing")),
        schema="analytics",
    )
    op.create_table(
        "price_elasticities",
        *_keys(),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("venue_key", sa.Text(), nullable=False),
        sa.Column("n_obs", sa.Integer(), nullable=False),
        sa.Column("n_events", sa.Integer(), nullable=False),
        sa.Column("elasticity", sa.Float()),
        sa.Column("std_error", sa.Float()),
        sa.Column("ci_low", sa.Float()),
        sa.Column("ci_high", sa.Float()),
        sa.Column("identified", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.PrimaryKeyConstraint(
            "tenant_id", "as_of", "scope", "category", "venue_key",
            name=op.f("pk_price_elasticities"),
        ),
        schema="analytics",
    )  # fmt: skip
    op.create_table(
        "price_recommendations",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("recommendation_id", sa.UUID(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("current_price_cents", sa.BigInteger(), nullable=False),
        sa.Column("recommended_price_cents", sa.BigInteger(), nullable=False),
        sa.Column("demand_score", sa.Float(), nullable=False),
        sa.Column("expected_tickets_current", sa.Float(), nullable=False),
        sa.Column("expected_tickets_recommended", sa.Float(), nullable=False),
        sa.Column("expected_revenue_current", sa.Float(), nullable=False),
        sa.Column("expected_revenue_recommended", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        _ts("created_at"),
        sa.Column("decided_by", sa.Text()),
        _ts("decided_at", nullable=True),
        sa.Column("note", sa.Text()),
        sa.CheckConstraint(
            "status in ('pending', 'approved', 'rejected', 'expired')",
            name=op.f("ck_price_recommendations_status_known"),
        ),
        sa.CheckConstraint(
            "(status = 'pending') = (decided_at is null and decided_by is null)",
            name=op.f("ck_price_recommendations_decided_iff_not_pending"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "recommendation_id", name=op.f("pk_price_recommendations")
        ),
        schema="analytics",
    )
    op.create_index(
        "uq_price_recommendations_one_pending_per_event",
        "price_recommendations",
        ["tenant_id", "event_id"],
        unique=True,
        schema="analytics",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "price_history",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("change_id", sa.UUID(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("recommendation_id", sa.UUID(), nullable=False),
        sa.Column("old_price_cents", sa.BigInteger(), nullable=False),
        sa.Column("new_price_cents", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("approved_by", sa.Text(), nullable=False),
        _ts("approved_at"),
        sa.CheckConstraint("new_price_cents > 0", name=op.f("ck_price_history_price_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "recommendation_id"],
            ["analytics.price_recommendations.tenant_id",
             "analytics.price_recommendations.recommendation_id"],
            name=op.f("fk_price_history_tenant_id_recommendation_id_price_recommendations"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "change_id", name=op.f("pk_price_history")),
        sa.UniqueConstraint(
            "tenant_id", "recommendation_id",
            name=op.f("uq_price_history_tenant_id_recommendation_id"),
        ),
        schema="analytics",
    )  # fmt: skip
    for table in TABLES:
        for statement in tenancy.enable_rls(f"analytics.{table}"):
            op.execute(statement)
    op.execute(APPROVED_PRICES)
    reader = tenancy.READER
    op.execute(
        "grant update (status, decided_by, decided_at, note)"
        f" on analytics.price_recommendations to {reader}"
    )
    op.execute(f"grant insert on analytics.price_history to {reader}")


def downgrade() -> None:
    op.execute("drop view analytics.approved_prices")
    for table in reversed(TABLES):
        op.drop_table(table, schema="analytics")
