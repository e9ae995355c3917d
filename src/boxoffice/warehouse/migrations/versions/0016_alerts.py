"""Alert states and their events (RLS forced): ``analytics.alert_states`` holds each rule and
scope's state (ok, pending, firing, resolved), since when, the evaluations in a row its
condition has held, the last date evaluated and the last value with its bounds;
``analytics.alert_events`` every change of state, with its value, bounds and a one-line
explanation. Both outlive runs: they are not partitions of one.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from boxoffice.warehouse import tenancy

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

STATES = "('ok', 'pending', 'firing', 'resolved')"


def _measured() -> list[sa.Column]:
    return [sa.Column(name, sa.Float()) for name in ("value", "lower", "upper")]


def upgrade() -> None:
    op.create_table(
        "alert_states",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("scope_key", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("evaluated", sa.Date(), nullable=False),
        *_measured(),
        sa.CheckConstraint(f"state in {STATES}", name=op.f("ck_alert_states_state_known")),
        sa.CheckConstraint("count >= 0", name=op.f("ck_alert_states_count_non_negative")),
        sa.PrimaryKeyConstraint("tenant_id", "rule", "scope_key", name=op.f("pk_alert_states")),
        schema="analytics",
    )
    op.create_table(
        "alert_events",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("scope_key", sa.Text(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("from_state", sa.Text(), nullable=False),
        sa.Column("to_state", sa.Text(), nullable=False),
        *_measured(),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            f"from_state in {STATES} and to_state in {STATES} and from_state <> to_state",
            name=op.f("ck_alert_events_a_change"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "rule", "scope_key", "as_of", name=op.f("pk_alert_events")
        ),
        schema="analytics",
    )
    for table in ("alert_states", "alert_events"):
        for statement in tenancy.enable_rls(f"analytics.{table}"):
            op.execute(statement)


def downgrade() -> None:
    op.drop_table("alert_events", schema="analytics")
    op.drop_table("alert_states", schema="analytics")
