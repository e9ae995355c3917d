"""Initial warehouse: source, raw and analytics schemas; roles; row-level security.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from boxoffice.warehouse import tenancy

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TENANT_TABLES = (
    "source.tenants",
    "source.venues",
    "source.events",
    "source.customers",
    "source.orders",
    "source.tickets",
    "source.campaign_touches",
    "raw.events",
    "raw.dead_letter",
)


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    _run(tenancy.create_roles())
    for schema in ("source", "raw", "analytics"):
        op.execute(f"create schema {schema}")
    op.create_table(
        "ingest_batches",
        sa.Column("batch_id", sa.UUID(), nullable=False),
        sa.Column("input_name", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("stored", sa.BigInteger(), nullable=False),
        sa.Column("duplicates", sa.BigInteger(), nullable=False),
        sa.Column("rejected", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "received = stored + duplicates + rejected",
            name=op.f("ck_ingest_batches_counts_add_up"),
        ),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_ingest_batches")),
        schema="raw",
    )
    op.create_table(
        "tenants",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenants")),
        schema="source",
    )
    op.create_table(
        "dead_letter",
        sa.Column("dead_letter_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("batch_id", sa.UUID(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["raw.ingest_batches.batch_id"],
            name=op.f("fk_dead_letter_batch_id_ingest_batches"),
        ),
        sa.PrimaryKeyConstraint("dead_letter_id", name=op.f("pk_dead_letter")),
        schema="raw",
    )
    op.create_table(
        "events",
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("schema_version", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("session_id", sa.Text(), nullable=True),
        sa.Column("customer_key", sa.Text(), nullable=True),
        sa.Column("trace_id", sa.Text(), nullable=True),
        sa.Column("batch_id", sa.UUID(), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["raw.ingest_batches.batch_id"],
            name=op.f("fk_events_batch_id_ingest_batches"),
        ),
        sa.PrimaryKeyConstraint("source", "event_id", name=op.f("pk_events")),
        schema="raw",
    )
    op.create_index(
        op.f("ix_events_tenant_id_occurred_at"),
        "events",
        ["tenant_id", "occurred_at"],
        unique=False,
        schema="raw",
    )
    op.create_table(
        "customers",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["source.tenants.tenant_id"], name=op.f("fk_customers_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "customer_id", name=op.f("pk_customers")),
        schema="source",
    )
    op.create_table(
        "venues",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("venue_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("city", sa.Text(), nullable=False),
        sa.Column("timezone", sa.Text(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_venues_capacity_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["source.tenants.tenant_id"], name=op.f("fk_venues_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "venue_id", name=op.f("pk_venues")),
        schema="source",
    )
    op.create_table(
        "campaign_touches",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("touch_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("campaign", sa.Text(), nullable=False),
        sa.Column("touched_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["source.customers.tenant_id", "source.customers.customer_id"],
            name=op.f("fk_campaign_touches_tenant_id_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "touch_id", name=op.f("pk_campaign_touches")),
        schema="source",
    )
    op.create_index(
        op.f("ix_campaign_touches_tenant_id_customer_id_touched_at"),
        "campaign_touches",
        ["tenant_id", "customer_id", "touched_at"],
        unique=False,
        schema="source",
    )
    op.create_table(
        "events",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("venue_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("on_sale_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("base_price_cents", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "category in ('concert', 'sports', 'theatre', 'comedy', 'family')",
            name=op.f("ck_events_category_known"),
        ),
        sa.CheckConstraint("base_price_cents >= 0", name=op.f("ck_events_base_price_non_negative")),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_events_capacity_positive")),
        sa.CheckConstraint("on_sale_at < starts_at", name=op.f("ck_events_on_sale_before_start")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "venue_id"],
            ["source.venues.tenant_id", "source.venues.venue_id"],
            name=op.f("fk_events_tenant_id_venue_id_venues"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "event_id", name=op.f("pk_events")),
        schema="source",
    )
    op.create_table(
        "orders",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "channel in ('web', 'mobile', 'box_office', 'partner')",
            name=op.f("ck_orders_channel_known"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["source.customers.tenant_id", "source.customers.customer_id"],
            name=op.f("fk_orders_tenant_id_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "order_id", name=op.f("pk_orders")),
        schema="source",
    )
    op.create_index(
        op.f("ix_orders_tenant_id_customer_id_created_at"),
        "orders",
        ["tenant_id", "customer_id", "created_at"],
        unique=False,
        schema="source",
    )
    op.create_table(
        "tickets",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("ticket_id", sa.UUID(), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("price_cents", sa.BigInteger(), nullable=False),
        sa.Column("fee_cents", sa.BigInteger(), nullable=False),
        sa.Column("ticket_type", sa.Text(), nullable=False),
        sa.Column("sold_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(status = 'refunded') = (refunded_at is not null)"
            " and refunded_at >= sold_at is not false",
            name=op.f("ck_tickets_refund_consistent"),
        ),
        sa.CheckConstraint(
            "(status = 'scanned') = (scanned_at is not null)",
            name=op.f("ck_tickets_scan_consistent"),
        ),
        sa.CheckConstraint(
            "status in ('sold', 'refunded', 'scanned')", name=op.f("ck_tickets_status_known")
        ),
        sa.CheckConstraint(
            "ticket_type in ('standard', 'premium', 'vip', 'concession')",
            name=op.f("ck_tickets_ticket_type_known"),
        ),
        sa.CheckConstraint(
            "price_cents >= 0 and fee_cents >= 0", name=op.f("ck_tickets_money_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "event_id"],
            ["source.events.tenant_id", "source.events.event_id"],
            name=op.f("fk_tickets_tenant_id_event_id_events"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["source.orders.tenant_id", "source.orders.order_id"],
            name=op.f("fk_tickets_tenant_id_order_id_orders"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "ticket_id", name=op.f("pk_tickets")),
        schema="source",
    )
    op.create_index(
        op.f("ix_tickets_tenant_id_event_id"),
        "tickets",
        ["tenant_id", "event_id"],
        unique=False,
        schema="source",
    )
    op.create_index(
        op.f("ix_tickets_tenant_id_sold_at"),
        "tickets",
        ["tenant_id", "sold_at"],
        unique=False,
        schema="source",
    )

    for table in TENANT_TABLES:
        _run(tenancy.enable_rls(table))
    _run(tenancy.grant_schema("source", read=[tenancy.PIPELINE]))
    _run(tenancy.grant_schema("raw", write=[tenancy.PIPELINE]))
    _run(tenancy.grant_schema("analytics", read=[tenancy.READER], write=[tenancy.PIPELINE]))


def downgrade() -> None:
    # Roles are cluster-wide and may serve other databases: they stay; their grants and
    # default privileges in this database go with the schemas.
    roles = (tenancy.PIPELINE, tenancy.READER)
    for schema in ("analytics", "raw", "source"):
        _run(tenancy.revoke_schema(schema, roles))
        op.execute(f"drop schema {schema} cascade")
