"""Retention without the owner: ``raw.drop_event_months(cutoff, dry_run)`` (SECURITY DEFINER,
executable by the pipeline role only) drops the monthly partitions of ``raw.events`` that end
at or before ``cutoff``, moves ``raw.retention.events_before`` forward (never back) and returns
each partition with its row count; with ``dry_run`` it only counts. The scheduler applies the
retention policy after each run as the pipeline role: dead letters and the per-run analytics
partitions it deletes through its ordinary grants.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from alembic import op

from boxoffice.warehouse.tenancy import PIPELINE

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

DROP_EVENT_MONTHS = f"""
create function raw.drop_event_months(cutoff timestamptz, dry_run boolean)
returns table (partition text, upper_bound timestamptz, events bigint)
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    part record;
    newest timestamptz;
begin
    for part in
        select c.relname as name,
               (regexp_match(pg_get_expr(c.relpartbound, c.oid),
                             'TO \\(''([^'']+)''\\)'))[1]::timestamptz as upper
        from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'raw.events'::regclass
        order by 2
    loop
        continue when part.upper > cutoff;
        partition := part.name;
        upper_bound := part.upper;
        execute format('select count(*) from raw.%I', part.name) into events;
        if not dry_run then
            execute format('drop table raw.%I', part.name);
        end if;
        newest := greatest(newest, part.upper);
        return next;
    end loop;
    if newest is not null and not dry_run then
        insert into raw.retention (events_before, updated_at) values (newest, now())
        on conflict (singleton) do update
        set events_before = greatest(raw.retention.events_before, excluded.events_before),
            updated_at = now();
    end if;
end
$$;
revoke all on function raw.drop_event_months(timestamptz, boolean) from public;
grant execute on function raw.drop_event_months(timestamptz, boolean) to {PIPELINE};
"""


def upgrade() -> None:
    op.execute(DROP_EVENT_MONTHS)


def downgrade() -> None:
    op.execute("drop function raw.drop_event_months(timestamptz, boolean)")
