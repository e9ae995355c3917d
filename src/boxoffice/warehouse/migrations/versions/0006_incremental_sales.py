"""Sales facts kept current incrementally: hourly and daily sales by venue, event, channel and
ticket type, customer activity days ordered by customer, and the change queue that tells a
refresh which days to recompute; an events dimension and the conversion funnel per run.

``source.ticket_changes`` is filled by statement-level triggers (transition tables) on
``source.tickets`` (insert and delete: the UTC days of the sale and refund times; update: those
of the old and new rows when a column the facts read changed — the refund days alone when only
the refund changed, nothing for a scan) and ``source.orders`` (update: the days of the order's
tickets, since a channel or customer change moves them). A refresh deletes the queued rows
it sees and recomputes those days in the same transaction; a row committed after its snapshot
stays for the next refresh, so no change is lost between the two. The aggregates are derived
data: the per-run tables of 0002 are dropped and rebuilt by the next run (a missing
``analytics.sales_refresh`` row means a full rebuild).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from boxoffice.warehouse import tenancy

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

FACTS = ("sales_hourly", "event_sales_daily", "sales_daily")

RECORD_CHANGES = """
create function source.record_ticket_changes() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    if tg_table_name = 'orders' then
        insert into source.ticket_changes (tenant_id, utc_date)
        select distinct t.tenant_id, (d at time zone 'UTC')::date
        from (select tenant_id, order_id from old_rows
              union select tenant_id, order_id from new_rows) o
        join source.tickets t using (tenant_id, order_id),
             unnest(array[t.sold_at, t.refunded_at]) d
        where d is not null;
    elsif tg_op = 'INSERT' then
        insert into source.ticket_changes (tenant_id, utc_date)
        select distinct tenant_id, (d at time zone 'UTC')::date
        from new_rows, unnest(array[sold_at, refunded_at]) d where d is not null;
    elsif tg_op = 'DELETE' then
        insert into source.ticket_changes (tenant_id, utc_date)
        select distinct tenant_id, (d at time zone 'UTC')::date
        from old_rows, unnest(array[sold_at, refunded_at]) d where d is not null;
    else  -- an update: only the days whose facts it can change (a scan changes none)
        insert into source.ticket_changes (tenant_id, utc_date)
        select distinct tenant_id, (d at time zone 'UTC')::date
        from old_rows o full join new_rows n using (tenant_id, ticket_id),
             unnest(case
                 when (o.order_id, o.event_id, o.price_cents, o.fee_cents, o.ticket_type,
                       o.sold_at) is distinct from
                      (n.order_id, n.event_id, n.price_cents, n.fee_cents, n.ticket_type,
                       n.sold_at)
                     then array[o.sold_at, n.sold_at, o.refunded_at, n.refunded_at]
                 when o.refunded_at is distinct from n.refunded_at
                     then array[o.refunded_at, n.refunded_at]
             end) d
        where d is not null;
    end if;
    return null;
end $$
"""

TRIGGERS = {
    "tickets_insert": "after insert on source.tickets referencing new table as new_rows",
    "tickets_update": "after update on source.tickets "
    "referencing old table as old_rows new table as new_rows",
    "tickets_delete": "after delete on source.tickets referencing old table as old_rows",
    "orders_update": "after update on source.orders "
    "referencing old table as old_rows new table as new_rows",
}


def _facts(name: str, *grain: sa.Column | sa.CheckConstraint) -> None:
    op.create_table(
        name,
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        *grain,
        sa.Column("tickets_sold", sa.Integer(), nullable=False),
        sa.Column("gross_cents", sa.BigInteger(), nullable=False),
        sa.Column("fee_cents", sa.BigInteger(), nullable=False),
        sa.Column("refunded_tickets", sa.Integer(), nullable=False),
        sa.Column("refund_cents", sa.BigInteger(), nullable=False),
        sa.Column("net_cents", sa.BigInteger(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "net_cents = gross_cents - refund_cents",
            name=op.f(f"ck_{name}_net_is_gross_less_refunds"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "local_date",
            *(c.name for c in grain if isinstance(c, sa.Column)),
            name=op.f(f"pk_{name}"),
        ),
        schema="analytics",
    )


def _event_grain() -> list[sa.Column]:
    return [
        sa.Column("venue_id", sa.UUID(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("ticket_type", sa.Text(), nullable=False),
    ]


def upgrade() -> None:
    op.drop_table("sales_daily", schema="analytics")
    op.drop_table("customer_days", schema="analytics")
    _facts(
        "sales_hourly",
        sa.Column("local_hour", sa.SmallInteger(), nullable=False),
        *_event_grain(),
        sa.CheckConstraint("local_hour between 0 and 23", name=op.f("ck_sales_hourly_hour_of_day")),
    )
    _facts("event_sales_daily", *_event_grain())
    _facts(
        "sales_daily",
        sa.Column("venue_id", sa.UUID(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
    )
    op.create_table(
        "customer_days",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("customer_key", sa.Text(collation="C"), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("venue_id", sa.UUID(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("tickets", sa.Integer(), nullable=False),
        sa.Column("gross_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "customer_key", "local_date", "venue_id", name=op.f("pk_customer_days")
        ),
        schema="analytics",
    )
    op.create_index(
        op.f("ix_customer_days_tenant_id_local_date"),
        "customer_days",
        ["tenant_id", "local_date"],
        schema="analytics",
    )
    op.create_table(
        "events",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("venue_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("on_sale_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("base_price_cents", sa.BigInteger(), nullable=False),
        sa.Column("scanned", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "as_of", "event_id", name=op.f("pk_events")),
        schema="analytics",
    )
    op.create_table(
        "funnel_daily",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("event_views", sa.Integer(), nullable=False),
        sa.Column("carts", sa.Integer(), nullable=False),
        sa.Column("checkouts", sa.Integer(), nullable=False),
        sa.Column("purchases", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "sessions >= event_views and event_views >= carts and carts >= checkouts"
            " and checkouts >= purchases",
            name=op.f("ck_funnel_daily_steps_narrow"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "as_of", "day", "channel", name=op.f("pk_funnel_daily")
        ),
        schema="analytics",
    )
    op.create_table(
        "sales_refresh",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "mode in ('full', 'incremental')", name=op.f("ck_sales_refresh_mode_known")
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_sales_refresh")),
        schema="analytics",
    )
    op.create_table(
        "ticket_changes",
        sa.Column("change_id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("utc_date", sa.Date(), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("change_id", name=op.f("pk_ticket_changes")),
        schema="source",
    )
    op.create_index(
        op.f("ix_ticket_changes_tenant_id"), "ticket_changes", ["tenant_id"], schema="source"
    )
    op.create_index(
        op.f("ix_tickets_tenant_id_refunded_at"),
        "tickets",
        ["tenant_id", "refunded_at"],
        schema="source",
        postgresql_where=sa.text("refunded_at is not null"),
    )
    analytics = (*FACTS, "customer_days", "events", "funnel_daily", "sales_refresh")
    for table in (*(f"analytics.{t}" for t in analytics), "source.ticket_changes"):
        for statement in tenancy.enable_rls(table):
            op.execute(statement)
    # the pipeline consumes the queue; the reader never sees it
    op.execute(f"grant select, delete on source.ticket_changes to {tenancy.PIPELINE}")
    op.execute(f"revoke all on source.ticket_changes from {tenancy.READER}")
    op.execute(RECORD_CHANGES)
    op.execute("revoke all on function source.record_ticket_changes() from public")
    for name, when in TRIGGERS.items():
        op.execute(
            f"create trigger record_changes_{name} {when} "
            "for each statement execute function source.record_ticket_changes()"
        )


def downgrade() -> None:
    for name, when in TRIGGERS.items():
        table = when.split(" on ")[1].split()[0]
        op.execute(f"drop trigger record_changes_{name} on {table}")
    op.execute("drop function source.record_ticket_changes()")
    op.drop_index(op.f("ix_tickets_tenant_id_refunded_at"), "tickets", schema="source")
    op.drop_table("ticket_changes", schema="source")
    op.drop_table("sales_refresh", schema="analytics")
    op.drop_table("funnel_daily", schema="analytics")
    op.drop_table("events", schema="analytics")
    op.drop_table("customer_days", schema="analytics")
    for table in reversed(FACTS):
        op.drop_table(table, schema="analytics")
    # the per-run tables of 0002 and 0005 come back empty; the next run fills them
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
        sa.Column("customer_key", sa.Text(collation="C"), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("tickets", sa.Integer(), nullable=False),
        sa.Column("gross_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "as_of", "venue_id", "local_date", "customer_key",
            name=op.f("pk_customer_days"),
        ),
        schema="analytics",
    )  # fmt: skip
    for table in ("analytics.sales_daily", "analytics.customer_days"):
        for statement in tenancy.enable_rls(table):
            op.execute(statement)
