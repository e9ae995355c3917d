"""Least privilege: decisions, expiry, the run lock and run records only through what grants
exactly them.

- **Decisions** on price recommendations go through ``analytics.decide(recommendation,
  decision, by, note)`` (SECURITY DEFINER, executable by the reader role only): it checks, for
  the session's tenant, that the recommendation is pending and still valid on the database's
  ``current_date``, and writes the status and — on approval — the price history in one
  statement's transaction. Neither application role may insert, update or delete
  ``price_history`` or update a recommendation; the pipeline may only *insert* recommendations,
  and only the columns of a new pending one (``status`` defaults to ``pending``), and expires
  them through ``analytics.expire_recommendations``. ``approved_prices`` derives from approved
  recommendations only, so a row put into ``price_history`` by anyone else ships nothing.
- **The run lock** is a row lock on ``analytics.run_lock`` (``select … for update nowait``), which
  needs ``UPDATE`` on the table: only the pipeline role has it, so no dashboard or BI login can
  block a run (an advisory lock is open to every role).
- **Runs**: ``pipeline_runs`` gains ``abandoned`` (a run whose process died holding the lock,
  found by the next run or by ``doctor``) and ``backend_pid`` (the lock connection's server
  process, alive exactly while its run is); a trigger refuses any change to a run that is no
  longer ``running``; the pipeline may not delete runs. ``completed_runs`` shows a tenant's
  finished run dates to readers, who pick the newest *completed* one.
- **Event ids** (dedup forever rests on them) can no longer be updated or deleted by the
  pipeline.
- The runner's cross-tenant reads (``run_tenants()``: each tenant and its newest sale date) and
  the change-queue mark (the sequence) are granted to the pipeline, so the runner needs no owner
  connection.

Every function here filters by the session's ``app.tenant_id`` itself: SECURITY DEFINER runs as
the migrating role, which may bypass row-level security.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from boxoffice.warehouse.tenancy import CURRENT_TENANT, PIPELINE, READER

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

REFUSED = "BX001"  # SQLSTATE of a refused decision: boxoffice.warehouse.pricing maps it
DEFINER = "language plpgsql security definer set search_path = pg_catalog, pg_temp"
RECOMMENDATION_INSERT = (
    "tenant_id, recommendation_id, as_of, event_id, current_price_cents, recommended_price_cents,"
    " demand_score, expected_tickets_current, expected_tickets_recommended,"
    " expected_revenue_current, expected_revenue_recommended, reason, valid_until, created_at"
)

DECIDE = f"""
create function analytics.decide(
    recommendation uuid, decision text, decided_by text, note text default null
) returns analytics.price_recommendations
{DEFINER} as $$
declare
    tenant uuid := {CURRENT_TENANT};
    decided analytics.price_recommendations;
begin
    if decision is null or decision not in ('approve', 'reject') then
        raise exception using errcode = '{REFUSED}',
            message = format('unknown decision %s; expected approve or reject',
                             coalesce(quote_literal(decision), 'null'));
    end if;
    if decided_by is null or btrim(decided_by) = '' then
        raise exception using errcode = '{REFUSED}', message = 'say who decides (--by NAME)';
    end if;
    update analytics.price_recommendations r
       set status = case decision when 'approve' then 'approved' else 'rejected' end,
           decided_by = btrim(decide.decided_by), decided_at = now(), note = decide.note
     where r.tenant_id = tenant and r.recommendation_id = decide.recommendation
       and r.status = 'pending' and r.valid_until >= current_date
    returning r.* into decided;
    if not found then
        select r.* into decided from analytics.price_recommendations r
         where r.tenant_id = tenant and r.recommendation_id = decide.recommendation;
        if not found then
            raise exception using errcode = '{REFUSED}',
                message = 'no such recommendation for this tenant';
        elsif decided.status <> 'pending' then
            raise exception using errcode = '{REFUSED}',
                message = format('the recommendation is already %s by %s',
                                 decided.status, decided.decided_by);
        else
            raise exception using errcode = '{REFUSED}',
                message = format('the recommendation expired on %s', decided.valid_until);
        end if;
    end if;
    if decided.status = 'approved' then
        insert into analytics.price_history (tenant_id, change_id, event_id, recommendation_id,
            old_price_cents, new_price_cents, reason, approved_by, approved_at)
        values (tenant, gen_random_uuid(), decided.event_id, decided.recommendation_id,
            decided.current_price_cents, decided.recommended_price_cents,
            decided.reason || coalesce(' — ' || nullif(decide.note, ''), ''),
            decided.decided_by, decided.decided_at);
    end if;
    return decided;
end
$$;
revoke all on function analytics.decide(uuid, text, text, text) from public;
grant execute on function analytics.decide(uuid, text, text, text) to {READER};
"""

EXPIRE = f"""
create function analytics.expire_recommendations(
    as_of date, events uuid[], started uuid[]
) returns bigint
{DEFINER} as $$
declare
    expired bigint;
begin
    update analytics.price_recommendations r
       set status = 'expired', decided_by = 'system', decided_at = now(),
           note = case when r.valid_until < expire_recommendations.as_of then 'past its validity'
                       when r.event_id = any(started) then 'event started'
                       else 'superseded by the run of ' || expire_recommendations.as_of::text end
     where r.tenant_id = {CURRENT_TENANT} and r.status = 'pending'
       and (r.valid_until < expire_recommendations.as_of or r.event_id = any(started)
            or (r.as_of < expire_recommendations.as_of and r.event_id = any(events)));
    get diagnostics expired = row_count;
    return expired;
end
$$;
revoke all on function analytics.expire_recommendations(date, uuid[], uuid[]) from public;
grant execute on function analytics.expire_recommendations(date, uuid[], uuid[]) to {PIPELINE};
"""

APPROVED_PRICES = """
create view analytics.approved_prices with (security_invoker = true) as
select distinct on (tenant_id, event_id)
       tenant_id, event_id, recommended_price_cents as price_cents, decided_by as approved_by,
       decided_at as approved_at, recommendation_id
from analytics.price_recommendations
where status = 'approved'
order by tenant_id, event_id, decided_at desc, recommendation_id
"""
OLD_APPROVED_PRICES = """
create view analytics.approved_prices with (security_invoker = true) as
select distinct on (tenant_id, event_id)
       tenant_id, event_id, new_price_cents as price_cents, approved_by, approved_at,
       recommendation_id
from analytics.price_history
order by tenant_id, event_id, approved_at desc, change_id
"""

GUARD_RUNS = f"""
create function analytics.refuse_rewriting_finished_runs() returns trigger
language plpgsql set search_path = pg_catalog, pg_temp as $$
begin
    if old.status <> 'running' then
        raise exception using errcode = '{REFUSED}',
            message = format('run %s is %s: a finished run is not rewritten',
                             old.run_id, old.status);
    end if;
    if (new.run_id, new.as_of, new.tenants, new.trigger, new.started_at)
       is distinct from (old.run_id, old.as_of, old.tenants, old.trigger, old.started_at) then
        raise exception using errcode = '{REFUSED}',
            message = format('run %s: only its outcome may change', old.run_id);
    end if;
    return new;
end
$$;
revoke all on function analytics.refuse_rewriting_finished_runs() from public;
create trigger refuse_rewriting_finished_runs before update on analytics.pipeline_runs
for each row execute function analytics.refuse_rewriting_finished_runs();
"""

COMPLETED_RUNS = f"""
create view analytics.completed_runs as
select as_of, max(finished_at) as finished_at
from analytics.pipeline_runs
where status in ('succeeded', 'skipped')
  and {CURRENT_TENANT} = any(string_to_array(tenants, ',')::uuid[])
group by as_of
"""

RUN_TENANTS = f"""
create function analytics.run_tenants()
returns table (tenant_id uuid, name text, newest_sale_date date)
{DEFINER} stable as $$
begin
    return query
    select t.tenant_id, t.name,
           (select max((k.sold_at at time zone v.timezone)::date)
              from source.tickets k
              join source.events e on e.tenant_id = k.tenant_id and e.event_id = k.event_id
              join source.venues v on v.tenant_id = e.tenant_id and v.venue_id = e.venue_id
             where k.tenant_id = t.tenant_id)
    from source.tenants t
    order by t.name, t.tenant_id;
end
$$;
revoke all on function analytics.run_tenants() from public;
grant execute on function analytics.run_tenants() to {PIPELINE};
"""


def upgrade() -> None:
    # decisions and expiry only through their functions
    op.execute("drop view analytics.approved_prices")
    op.execute(APPROVED_PRICES)
    op.execute(
        f"revoke insert, update, delete, truncate on analytics.approved_prices from {PIPELINE}"
    )
    op.execute(
        "alter table analytics.price_recommendations alter column status set default 'pending'"
    )
    op.execute(
        "revoke update (status, decided_by, decided_at, note)"
        f" on analytics.price_recommendations from {READER}"
    )
    for table in ("price_recommendations", "price_history"):
        op.execute(f"revoke insert, update, delete, truncate on analytics.{table} from {READER}")
        op.execute(f"revoke insert, update, delete, truncate on analytics.{table} from {PIPELINE}")
    op.execute(
        f"grant insert ({RECOMMENDATION_INSERT}) on analytics.price_recommendations to {PIPELINE}"
    )
    op.execute(DECIDE)
    op.execute(EXPIRE)

    # the run lock: a row only the pipeline may lock
    op.create_table(
        "run_lock",
        sa.Column("singleton", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.CheckConstraint("singleton", name=op.f("ck_run_lock_one_row")),
        sa.PrimaryKeyConstraint("singleton", name=op.f("pk_run_lock")),
        schema="analytics",
    )
    op.execute("insert into analytics.run_lock default values")
    op.execute(f"revoke all on analytics.run_lock from {READER}, {PIPELINE}")
    op.execute(f"grant select, update on analytics.run_lock to {PIPELINE}")

    # honest run records
    op.add_column("pipeline_runs", sa.Column("backend_pid", sa.Integer()), schema="analytics")
    op.drop_constraint(op.f("ck_pipeline_runs_status_known"), "pipeline_runs", schema="analytics")
    op.create_check_constraint(
        op.f("ck_pipeline_runs_status_known"),
        "pipeline_runs",
        "status in ('running', 'succeeded', 'failed', 'skipped', 'abandoned')",
        schema="analytics",
    )
    op.execute(GUARD_RUNS)
    op.execute(f"revoke delete, truncate on analytics.pipeline_runs from {PIPELINE}")
    op.execute(COMPLETED_RUNS)
    op.execute(f"revoke all on analytics.completed_runs from {PIPELINE}")
    op.execute(f"grant select on analytics.completed_runs to {READER}, {PIPELINE}")

    # dedup forever
    op.execute(f"revoke update, delete, truncate on raw.event_ids from {PIPELINE}")

    # the runner without the owner
    op.execute(RUN_TENANTS)
    op.execute(f"grant select on sequence source.ticket_changes_change_id_seq to {PIPELINE}")


def downgrade() -> None:
    op.execute(f"revoke select on sequence source.ticket_changes_change_id_seq from {PIPELINE}")
    op.execute("drop function analytics.run_tenants()")
    op.execute(f"grant update, delete on raw.event_ids to {PIPELINE}")
    op.execute("drop view analytics.completed_runs")
    op.execute(f"grant delete on analytics.pipeline_runs to {PIPELINE}")
    op.execute("drop trigger refuse_rewriting_finished_runs on analytics.pipeline_runs")
    op.execute("drop function analytics.refuse_rewriting_finished_runs()")
    op.execute("update analytics.pipeline_runs set status = 'failed' where status = 'abandoned'")
    op.drop_constraint(op.f("ck_pipeline_runs_status_known"), "pipeline_runs", schema="analytics")
    op.create_check_constraint(
        op.f("ck_pipeline_runs_status_known"),
        "pipeline_runs",
        "status in ('running', 'succeeded', 'failed', 'skipped')",
        schema="analytics",
    )
    op.drop_column("pipeline_runs", "backend_pid", schema="analytics")
    op.drop_table("run_lock", schema="analytics")
    op.execute("drop function analytics.expire_recommendations(date, uuid[], uuid[])")
    op.execute("drop function analytics.decide(uuid, text, text, text)")
    for table in ("price_recommendations", "price_history"):
        op.execute(f"grant insert, update, delete on analytics.{table} to {PIPELINE}")
    op.execute(
        "grant update (status, decided_by, decided_at, note)"
        f" on analytics.price_recommendations to {READER}"
    )
    op.execute(f"grant insert on analytics.price_history to {READER}")
    op.execute("alter table analytics.price_recommendations alter column status drop default")
    op.execute("drop view analytics.approved_prices")
    op.execute(OLD_APPROVED_PRICES)
