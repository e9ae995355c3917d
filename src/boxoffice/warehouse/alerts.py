"""Alert states and events in the warehouse (``analytics.alert_states`` and
``analytics.alert_events``, migration 0016), and what the alerts task reads to judge its rules.
Every read and write is one tenant's (RLS), as the pipeline role."""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy.dialects.postgresql import insert

from boxoffice.warehouse import engine
from boxoffice.warehouse.bulk import read_frame
from boxoffice.warehouse.engine import Role
from boxoffice.warehouse.reads import Tenant, reads
from boxoffice.warehouse.schema import alert_events, alert_states

_SALES_DAILY = (
    "select local_date, venue_id, channel, tickets_sold, gross_cents, refunded_tickets,"
    " refund_cents, net_cents, orders from analytics.sales_daily"
    " where local_date between $1 and $2 order by 1, 2, 3"
)
_EVENT_SALES = (
    "select local_date, event_id, sum(tickets_sold)::bigint as tickets_sold,"
    " sum(gross_cents)::bigint as gross_cents, sum(refunded_tickets)::bigint as refunded_tickets,"
    " sum(refund_cents)::bigint as refund_cents, sum(net_cents)::bigint as net_cents,"
    " sum(orders)::bigint as orders from analytics.event_sales_daily"
    " where local_date between $1 and $2 group by 1, 2 order by 1, 2"
)


@reads("analytics.sales_daily", "analytics.event_sales_daily", "analytics.events")
def read_alert_sales(
    *, as_of: dt.date, tenant: Tenant, days: int, role: Role = "pipeline"
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The ``days`` local days of sales facts up to ``as_of``: per venue and channel
    (``analytics.sales_daily``), per event (``analytics.event_sales_daily`` summed over
    channels and ticket types), and the run's events with their category."""
    since = as_of - dt.timedelta(days=days - 1)
    daily = read_frame(_SALES_DAILY, [since, as_of], role=role, tenant=tenant)
    per_event = read_frame(_EVENT_SALES, [since, as_of], role=role, tenant=tenant)
    events = read_frame(
        "select event_id, category from analytics.events where as_of = $1",
        [as_of],
        role=role,
        tenant=tenant,
    )
    return daily, per_event, events


@reads("analytics.alert_states")
def read_alert_states(*, tenant: Tenant, role: Role = "pipeline") -> pl.DataFrame:
    """Every rule and scope's state of ``tenant``."""
    return read_frame(
        "select rule, scope_key, state, since, count::bigint as count, evaluated, value, lower,"
        " upper from analytics.alert_states order by rule, scope_key",
        role=role,
        tenant=tenant,
    )


@reads("analytics.alert_events")
def read_alert_events(*, tenant: Tenant, since: dt.date, role: Role = "reader") -> pl.DataFrame:
    """``tenant``'s changes of state evaluated on ``since`` or later, newest first."""
    return read_frame(
        "select as_of, rule, scope_key, from_state, to_state, value, lower, upper, explanation"
        " from analytics.alert_events where as_of >= $1 order by as_of desc, rule, scope_key",
        [since],
        role=role,
        tenant=tenant,
    )


def save_alerts(states: pl.DataFrame, events: pl.DataFrame, *, tenant: str) -> dict[str, int]:
    """In one transaction for ``tenant``: each state upserted by (rule, scope), each event
    added once (an event already recorded for its rule, scope and date is left as it is, so a
    date evaluated again adds nothing). Returns the counts written."""
    with engine.connect("pipeline", tenant=tenant) as conn:
        written = {"states": 0, "events": 0}
        if states.height:
            rows = [{**r, "tenant_id": tenant} for r in states.iter_rows(named=True)]
            statement = insert(alert_states).values(rows)
            keys = ["tenant_id", "rule", "scope_key"]
            statement = statement.on_conflict_do_update(
                index_elements=keys,
                set_={
                    c.name: statement.excluded[c.name] for c in alert_states.c if c.name not in keys
                },
            )
            written["states"] = conn.execute(statement).rowcount
        if events.height:
            rows = [{**r, "tenant_id": tenant} for r in events.iter_rows(named=True)]
            statement = (
                insert(alert_events)
                .values(rows)
                .on_conflict_do_nothing(index_elements=["tenant_id", "rule", "scope_key", "as_of"])
            )
            written["events"] = conn.execute(statement).rowcount
    return written
