"""Loads recorded, and the change queue told of event and venue changes.

``source.loads`` records every ``boxoffice load`` (source, mode, rows per table, the cursors'
high-water marks after it, outcome); ``source.load_rejects`` keeps the rows a
``--quarantine`` load left out, with their problems. Both are the owner's: no role of the
application reads them.

The change queue (0006) learns two more changes that move sales between days, venues or zones:
an event moved to another venue (``source.events.venue_id``) and a venue's time zone corrected
(``source.venues.timezone``) queue the UTC days of the sale and refund times of every ticket
of that event or venue, so the next refresh recomputes them.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from boxoffice.warehouse import tenancy

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# the sale and refund days of the tickets of `changed`, events (tenant_id, event_id)
_TICKETS_OF = """
        insert into source.ticket_changes (tenant_id, utc_date)
        select distinct t.tenant_id, (d at time zone 'UTC')::date
        from ({changed}) c
        join source.tickets t using (tenant_id, event_id),
             unnest(array[t.sold_at, t.refunded_at]) d
        where d is not null;"""

_EVENTS_MOVED = _TICKETS_OF.format(
    changed="select tenant_id, event_id from old_rows o join new_rows n"
    " using (tenant_id, event_id) where o.venue_id is distinct from n.venue_id",
)
_ZONES_CORRECTED = _TICKETS_OF.format(
    changed="select e.tenant_id, e.event_id from old_rows o join new_rows n"
    " using (tenant_id, venue_id) join source.events e using (tenant_id, venue_id)"
    " where o.timezone is distinct from n.timezone",
)

RECORD_CHANGES = f"""
create or replace function source.record_ticket_changes() returns trigger
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
    elsif tg_table_name = 'events' then{_EVENTS_MOVED}
    elsif tg_table_name = 'venues' then{_ZONES_CORRECTED}
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
    "events_update": "after update on source.events "
    "referencing old table as old_rows new table as new_rows",
    "venues_update": "after update on source.venues "
    "referencing old table as old_rows new table as new_rows",
}


def upgrade() -> None:
    op.create_table(
        "loads",
        sa.Column("load_id", sa.UUID(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("tables", JSONB(), nullable=False),
        sa.Column("marks", JSONB(), nullable=False),
        sa.Column("problems", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint("mode in ('incremental', 'full')", name=op.f("ck_loads_mode_known")),
        sa.CheckConstraint(
            "outcome in ('loaded', 'checked', 'refused', 'failed')",
            name=op.f("ck_loads_outcome_known"),
        ),
        sa.CheckConstraint("finished_at >= started_at", name=op.f("ck_loads_finished_after_start")),
        sa.PrimaryKeyConstraint("load_id", name=op.f("pk_loads")),
        schema="source",
    )
    op.create_index(
        op.f("ix_loads_source_finished_at"), "loads", ["source", "finished_at"], schema="source"
    )
    op.create_table(
        "load_rejects",
        sa.Column("reject_id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("load_id", sa.UUID(), nullable=False),
        sa.Column("table_name", sa.Text(), nullable=False),
        sa.Column("row", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.Text(), nullable=True),
        sa.Column("problems", JSONB(), nullable=False),
        sa.Column("values", JSONB(), nullable=False),
        sa.ForeignKeyConstraint(
            ["load_id"],
            ["source.loads.load_id"],
            name=op.f("fk_load_rejects_load_id_loads"),
            ondelete="cascade",
        ),
        sa.PrimaryKeyConstraint("reject_id", name=op.f("pk_load_rejects")),
        schema="source",
    )
    op.create_index(op.f("ix_load_rejects_load_id"), "load_rejects", ["load_id"], schema="source")
    roles = f"{tenancy.PIPELINE}, {tenancy.READER}"
    op.execute(f"revoke all on source.loads, source.load_rejects from {roles}")
    op.execute(f"revoke all on sequence source.load_rejects_reject_id_seq from {roles}")
    op.execute(RECORD_CHANGES)
    for name, when in TRIGGERS.items():
        op.execute(
            f"create trigger record_changes_{name} {when} "
            "for each statement execute function source.record_ticket_changes()"
        )


def downgrade() -> None:
    for name, when in TRIGGERS.items():
        table = when.split(" on ")[1].split()[0]
        op.execute(f"drop trigger record_changes_{name} on {table}")
    # the function's new branches are never reached without their triggers
    op.drop_table("load_rejects", schema="source")
    op.drop_table("loads", schema="source")
