"""Event ingestion: monthly partitions of raw.events, dedup forever, dead letters, reconciliation.

- ``raw.events`` becomes partitioned by month of ``occurred_at`` (retention drops a month, it
  does not delete rows). Partitions are created on demand by ``raw.ensure_event_partitions``,
  a SECURITY DEFINER function the pipeline role may execute; partitions are reachable only
  through the parent, whose row-level security applies.
- ``raw.event_ids`` keeps ``(source, event_id)`` unique forever (a unique key on a partitioned
  table would have to include the month).
- ``raw.event_day_counts``: stored events per tenant, UTC day and type (RLS).
- ``raw.dead_letter`` is rebuilt as an operator table: the tenant an invalid event claims is
  untrusted text, so it has no RLS and the reader cannot read it.
- ``raw.retention``: the horizon before which events were dropped.
- ``analytics.event_reconciliation`` (RLS).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from boxoffice.warehouse import tenancy

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ENSURE_PARTITIONS = f"""
create function raw.ensure_event_partitions(months date[]) returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    month date;
    name text;
begin
    foreach month in array months loop
        month := date_trunc('month', month)::date;
        name := 'events_' || to_char(month, 'YYYY_MM');
        if to_regclass('raw.' || name) is null then
            begin
                execute format(
                    'create table raw.%I partition of raw.events for values from (%L) to (%L)',
                    name,
                    month::timestamp at time zone 'UTC',
                    (month + interval '1 month')::timestamp at time zone 'UTC'
                );
                execute format('revoke all on raw.%I from %I, %I',
                               name, '{tenancy.PIPELINE}', '{tenancy.READER}');
            exception when duplicate_table then
                null;  -- a concurrent ingest created it first
            end;
        end if;
    end loop;
end
$$;
revoke all on function raw.ensure_event_partitions(date[]) from public;
grant execute on function raw.ensure_event_partitions(date[]) to {tenancy.PIPELINE};
"""


def upgrade() -> None:
    op.drop_table("events", schema="raw")
    op.drop_table("dead_letter", schema="raw")
    op.add_column("ingest_batches", sa.Column("input_sha256", sa.Text()), schema="raw")
    op.add_column(
        "ingest_batches",
        sa.Column("late", sa.BigInteger(), server_default="0", nullable=False),
        schema="raw",
    )
    op.create_check_constraint(
        op.f("ck_ingest_batches_late_are_stored"), "ingest_batches", "late <= stored", schema="raw"
    )
    op.create_index(
        op.f("ix_ingest_batches_input_sha256"), "ingest_batches", ["input_sha256"], schema="raw"
    )
    op.create_table(
        "events",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("schema_version", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("session_id", sa.Text()),
        sa.Column("customer_key", sa.Text()),
        sa.Column("channel", sa.Text()),
        sa.Column("trace_id", sa.Text()),
        sa.Column("batch_id", sa.UUID(), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        schema="raw",
        postgresql_partition_by="RANGE (occurred_at)",
    )
    op.create_index(
        op.f("ix_events_tenant_id_occurred_at"),
        "events",
        ["tenant_id", "occurred_at"],
        schema="raw",
    )
    op.create_table(
        "event_ids",
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.UUID(), nullable=False),
        sa.PrimaryKeyConstraint("source", "event_id", name=op.f("pk_event_ids")),
        schema="raw",
    )
    op.create_table(
        "event_day_counts",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("last_batch_id", sa.UUID(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "day", "type", name=op.f("pk_event_day_counts")),
        schema="raw",
    )
    op.create_index(
        op.f("ix_event_day_counts_updated_at"), "event_day_counts", ["updated_at"], schema="raw"
    )
    op.create_table(
        "dead_letter",
        sa.Column("dead_letter_id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("batch_id", sa.UUID(), nullable=False),
        sa.Column("line_number", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_tenant", sa.Text()),
        sa.Column("event_type", sa.Text()),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["raw.ingest_batches.batch_id"],
            name=op.f("fk_dead_letter_batch_id_ingest_batches"),
        ),
        sa.PrimaryKeyConstraint("dead_letter_id", name=op.f("pk_dead_letter")),
        schema="raw",
    )  # fmt: skip
    op.create_index(op.f("ix_dead_letter_batch_id"), "dead_letter", ["batch_id"], schema="raw")
    op.create_index(
        op.f("ix_dead_letter_received_at"), "dead_letter", ["received_at"], schema="raw"
    )
    op.create_table(
        "retention",
        sa.Column("singleton", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("events_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("singleton", name=op.f("ck_retention_one_row")),
        sa.PrimaryKeyConstraint("singleton", name=op.f("pk_retention")),
        schema="raw",
    )
    op.create_table(
        "event_reconciliation",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("rolling_mean_7d", sa.Float()),
        sa.Column("orders", sa.BigInteger()),
        sa.Column("low_volume", sa.Boolean(), nullable=False),
        sa.Column("orders_mismatch", sa.Boolean(), nullable=False),
        sa.CheckConstraint("day <= as_of", name=op.f("ck_event_reconciliation_no_future_days")),
        sa.PrimaryKeyConstraint(
            "tenant_id", "as_of", "day", "type", name=op.f("pk_event_reconciliation")
        ),
        schema="analytics",
    )
    for table in ("raw.events", "raw.event_day_counts", "analytics.event_reconciliation"):
        for statement in tenancy.enable_rls(table):
            op.execute(statement)
    op.execute(ENSURE_PARTITIONS)
    # the pipeline reads the horizon; only the owner (boxoffice retention) moves it
    op.execute(f"revoke insert, update, delete on raw.retention from {tenancy.PIPELINE}")


def downgrade() -> None:
    op.execute("drop function raw.ensure_event_partitions(date[])")
    op.drop_table("event_reconciliation", schema="analytics")
    op.drop_table("retention", schema="raw")
    op.drop_table("dead_letter", schema="raw")
    op.drop_table("event_day_counts", schema="raw")
    op.drop_table("event_ids", schema="raw")
    op.drop_table("events", schema="raw")  # and its partitions
    op.drop_index(op.f("ix_ingest_batches_input_sha256"), "ingest_batches", schema="raw")
    op.drop_constraint(op.f("ck_ingest_batches_late_are_stored"), "ingest_batches", schema="raw")
    op.drop_column("ingest_batches", "late", schema="raw")
    op.drop_column("ingest_batches", "input_sha256", schema="raw")
    op.create_table(
        "events",
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("schema_version", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("session_id", sa.Text()),
        sa.Column("customer_key", sa.Text()),
        sa.Column("trace_id", sa.Text()),
        sa.Column("batch_id", sa.UUID(), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["raw.ingest_batches.batch_id"],
            name=op.f("fk_events_batch_id_ingest_batches"),
        ),
        sa.PrimaryKeyConstraint("source", "event_id", name=op.f("pk_events")),
        schema="raw",
    )  # fmt: skip
    op.create_index(
        op.f("ix_events_tenant_id_occurred_at"),
        "events",
        ["tenant_id", "occurred_at"],
        schema="raw",
    )
    op.create_table(
        "dead_letter",
        sa.Column("dead_letter_id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("batch_id", sa.UUID(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.UUID()),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["raw.ingest_batches.batch_id"],
            name=op.f("fk_dead_letter_batch_id_ingest_batches"),
        ),
        sa.PrimaryKeyConstraint("dead_letter_id", name=op.f("pk_dead_letter")),
        schema="raw",
    )  # fmt: skip
    for table in ("raw.events", "raw.dead_letter"):
        for statement in tenancy.enable_rls(table):
            op.execute(statement)
