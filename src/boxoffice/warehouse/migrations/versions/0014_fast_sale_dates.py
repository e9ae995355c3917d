"""``analytics.run_tenants()`` reads each tenant's newest sale through the ``(tenant_id,
sold_at)`` index: only the tickets sold in the 28 hours before the newest one can fall on the
newest local day (time zones lie within −12 h … +14 h of UTC), so it no longer converts every
ticket to its venue's time zone. Every ``boxoffice run`` asks it before anything else.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _function(newest: str) -> str:
    return f"""
create or replace function analytics.run_tenants()
returns table (tenant_id uuid, name text, newest_sale_date date)
language plpgsql security definer set search_path = pg_catalog, pg_temp stable as $$
begin
    return query
    select t.tenant_id, t.name,{newest}
    from source.tenants t
    order by t.name, t.tenant_id;
end
$$;
"""


FAST = _function("""
           (select max((k.sold_at at time zone v.timezone)::date)
              from source.tickets k
              join source.events e on e.tenant_id = k.tenant_id and e.event_id = k.event_id
              join source.venues v on v.tenant_id = e.tenant_id and v.venue_id = e.venue_id
             where k.tenant_id = t.tenant_id
               and k.sold_at > (select max(s.sold_at) from source.tickets s
                                 where s.tenant_id = t.tenant_id) - interval '28 hours')""")
SLOW = _function("""
           (select max((k.sold_at at time zone v.timezone)::date)
              from source.tickets k
              join source.events e on e.tenant_id = k.tenant_id and e.event_id = k.event_id
              join source.venues v on v.tenant_id = e.tenant_id and v.venue_id = e.venue_id
             where k.tenant_id = t.tenant_id)""")


def upgrade() -> None:
    op.execute(FAST)


def downgrade() -> None:
    op.execute(SLOW)
