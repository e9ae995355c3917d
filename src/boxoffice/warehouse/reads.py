"""Reads of analytics partitions into polars, for reports (pipeline role) and dashboards (reader
role). Every read is scoped to one tenant by RLS; the queries only pick the partition."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import polars as pl
import sqlalchemy as sa

from boxoffice import privacy
from boxoffice.warehouse.bulk import read_frame
from boxoffice.warehouse.engine import Role

Tenant = str | uuid.UUID


def reads(*tables: str) -> Callable[[Callable], Callable]:
    """Mark a reader with the tables it reads (``schema.table``): a pipeline task may call it
    only if its declaration lists them (:class:`boxoffice.tasks.base.Scope`)."""

    def mark(reader: Callable) -> Callable:
        reader.tables = tables
        return reader

    return mark


def _partition(query: str, as_of: dt.date, tenant: Tenant, role: Role) -> pl.DataFrame:
    """``query`` selects from one partition: ``$1`` is its as_of; RLS scopes it to ``tenant``."""
    return read_frame(query, [as_of], role=role, tenant=tenant)


@reads("analytics.sales_daily")
def read_sales_daily(*, as_of: dt.date, tenant: Tenant, role: Role = "pipeline") -> pl.DataFrame:
    """Daily sales per local day, venue and channel up to ``as_of`` (``analytics.sales_daily``,
    docs/metrics.md)."""
    return _partition(
        "select local_date, venue_id, channel, tickets_sold, gross_cents, fee_cents,"
        " refunded_tickets, refund_cents, net_cents, orders from analytics.sales_daily"
        " where local_date <= $1 order by 1, 2, 3",
        as_of,
        tenant,
        role,
    )


@reads("analytics.event_sales_daily")
def read_event_sales(*, as_of: dt.date, tenant: Tenant, role: Role = "pipeline") -> pl.DataFrame:
    """Daily sales per event (channels and ticket types summed) up to ``as_of``: the ``sales``
    of :mod:`boxoffice.metrics.events`."""
    return _partition(
        "select local_date, event_id, sum(tickets_sold)::bigint as tickets_sold,"
        " sum(refunded_tickets)::bigint as refunded_tickets, sum(net_cents)::bigint as net_cents"
        " from analytics.event_sales_daily where local_date <= $1 group by 1, 2 order by 1, 2",
        as_of,
        tenant,
        role,
    )


@reads("analytics.event_sales_daily")
def read_ticket_type_sales(
    *, as_of: dt.date, tenant: Tenant, role: Role = "pipeline"
) -> pl.DataFrame:
    """Daily sales per event and ticket type (channels summed) up to ``as_of``: the ``sales``
    of :func:`boxoffice.pricing.elasticity.price_observations`."""
    return _partition(
        "select local_date, event_id, ticket_type, sum(tickets_sold)::bigint as tickets_sold,"
        " sum(gross_cents)::bigint as gross_cents from analytics.event_sales_daily"
        " where local_date <= $1 group by 1, 2, 3 order by 1, 2, 3",
        as_of,
        tenant,
        role,
    )


@reads("analytics.events")
def read_events(*, as_of: dt.date, tenant: Tenant, role: Role = "pipeline") -> pl.DataFrame:
    """The events dimension of the run for ``as_of`` (``analytics.events``)."""
    return _partition(
        "select event_id, venue_id, name, category, on_sale_at, starts_at, start_date, capacity,"
        " base_price_cents, scanned from analytics.events where as_of = $1 order by start_date",
        as_of,
        tenant,
        role,
    )


@reads("analytics.funnel_daily")
def read_funnel(*, as_of: dt.date, tenant: Tenant, role: Role = "pipeline") -> pl.DataFrame:
    """The conversion funnel counts of the run for ``as_of`` (``analytics.funnel_daily``)."""
    return _partition(
        "select day, channel, sessions, event_views, carts, checkouts, purchases"
        " from analytics.funnel_daily where as_of = $1 order by day, channel",
        as_of,
        tenant,
        role,
    )


@reads("analytics.customer_days")
def read_customer_days(*, as_of: dt.date, tenant: Tenant, role: Role = "pipeline") -> pl.DataFrame:
    """Each customer's purchase days per venue up to ``as_of`` (for distinct-customer counts)."""
    return _partition(
        "select venue_id, local_date, customer_key from analytics.customer_days"
        " where local_date <= $1",
        as_of,
        tenant,
        role,
    )


# $1 as_of, $2 days, $3/$4 the HMAC pads of privacy (customers leave source as keys)
_KEY = "encode(sha256($4 || sha256($3 || convert_to(o.customer_id::text, 'UTF8'))), 'hex')"
_WINDOW = (
    "o.created_at >= (cast($1 as date) - cast($2 as integer) + 1)::timestamp at time zone 'UTC'"
    " and o.created_at < (cast($1 as date) + 1)::timestamp at time zone 'UTC'"
)
ORDERS_SQL = f"""
select o.order_id::text as order_id, {_KEY} as customer_key, o.created_at as ordered_at,
       sum(t.price_cents)::bigint as revenue_cents
from source.orders o
join source.tickets t using (tenant_id, order_id)
where {_WINDOW}
group by o.order_id, o.customer_id, o.created_at
"""  # noqa: S608 (constant fragments)
# $5 lookback days: the touches that can precede an order of the window
TOUCHES_SQL = f"""
select {_KEY} as customer_key, c.campaign, c.channel, c.touched_at
from source.campaign_touches c
join (select distinct tenant_id, customer_id from source.orders o where {_WINDOW}) o
    using (tenant_id, customer_id)
where c.touched_at >= (cast($1 as date) - cast($2 as integer) - cast($5 as integer) + 1)::timestamp
                      at time zone 'UTC'
  and c.touched_at < (cast($1 as date) + 1)::timestamp at time zone 'UTC'
"""  # noqa: S608 (constant fragments)


@reads("source.orders", "source.tickets", "source.campaign_touches")
def read_attribution_inputs(
    *, as_of: dt.date, tenant: Tenant, days: int = 90, lookback_days: int = 30
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The orders of the ``days`` UTC days ending ``as_of`` and their customers' campaign
    touches (``orders``, ``touches`` of :func:`boxoffice.metrics.attribution.attribute`), read
    from ``source`` as the pipeline role; customers only as ``customer_key``."""
    if days < 1 or lookback_days < 0:
        raise ValueError(f"need days ≥ 1 and lookback_days ≥ 0, got {days} and {lookback_days}")
    pads = privacy.hmac_pads()
    params = [as_of, days, pads["ipad"], pads["opad"]]
    orders = read_frame(ORDERS_SQL, params, tenant=tenant)
    touches = read_frame(TOUCHES_SQL, [*params, lookback_days], tenant=tenant)
    return orders, touches


@reads("analytics.attribution")
def read_attribution(*, as_of: dt.date, tenant: Tenant, role: Role = "pipeline") -> pl.DataFrame:
    """The run's attribution of revenue to campaigns, every model (``analytics.attribution``)."""
    return _partition(
        "select model, campaign, channel, revenue_cents, orders, share, lookback_days,"
        " half_life_days from analytics.attribution where as_of = $1"
        " order by model, revenue_cents desc, campaign, channel",
        as_of,
        tenant,
        role,
    )


@reads("analytics.demand_forecasts")
def read_demand_forecasts(
    *, as_of: dt.date, tenant: Tenant, role: Role = "pipeline"
) -> pl.DataFrame:
    """The run's daily demand forecasts per venue and measure (``analytics.demand_forecasts``)."""
    return _partition(
        "select venue_id, measure, date, mean, lower_80, upper_80, lower_95, upper_95, model"
        " from analytics.demand_forecasts where as_of = $1 order by venue_id, measure, date",
        as_of,
        tenant,
        role,
    )


@reads("analytics.forecast_backtests")
def read_forecast_backtests(
    *, as_of: dt.date, tenant: Tenant, role: Role = "pipeline"
) -> pl.DataFrame:
    """The run's backtest of the venue forecasts (``analytics.forecast_backtests``)."""
    return _partition(
        "select venue_id, measure, horizon, origins, mase, naive_mase, wape, coverage_80,"
        " coverage_95, model from analytics.forecast_backtests where as_of = $1"
        " order by venue_id, measure",
        as_of,
        tenant,
        role,
    )


@reads("analytics.event_forecasts")
def read_event_forecasts(
    *, as_of: dt.date, tenant: Tenant, role: Role = "pipeline"
) -> pl.DataFrame:
    """The run's pickup forecasts of upcoming events (``analytics.event_forecasts``)."""
    return _partition(
        "select event_id, days_before, held, capacity, pool, pool_events, additive,"
        " multiplicative, method, forecast, lower_80, upper_80, lower_95, upper_95"
        " from analytics.event_forecasts where as_of = $1 order by days_before, event_id",
        as_of,
        tenant,
        role,
    )


@reads("analytics.revenue_projections")
def read_revenue_projection(
    *, as_of: dt.date, tenant: Tenant, role: Role = "pipeline"
) -> pl.DataFrame:
    """The run's daily net revenue projection, all venues (``analytics.revenue_projections``;
    empty when the history was too short)."""
    return _partition(
        "select date, mean, lower_80, upper_80, lower_95, upper_95, model, aicc"
        " from analytics.revenue_projections where as_of = $1 order by date",
        as_of,
        tenant,
        role,
    )


@reads("analytics.revenue_projection_totals")
def read_revenue_projection_totals(
    *, as_of: dt.date, tenant: Tenant, role: Role = "pipeline"
) -> pl.DataFrame:
    """The run's projected totals per horizon (``analytics.revenue_projection_totals``)."""
    return _partition(
        "select days, mean, lower_80, upper_80, lower_95, upper_95"
        " from analytics.revenue_projection_totals where as_of = $1 order by days",
        as_of,
        tenant,
        role,
    )


@reads("analytics.venues")
def read_venues(*, as_of: dt.date, tenant: Tenant, role: Role = "pipeline") -> pl.DataFrame:
    return _partition(
        "select venue_id, name, city, timezone, capacity, tenant_name from analytics.venues"
        " where as_of = $1 order by name",
        as_of,
        tenant,
        role,
    )


def latest_as_of(*, tenant: Tenant, role: Role = "reader") -> dt.date | None:
    """The newest date whose run for ``tenant`` finished (``analytics.completed_runs``), or
    None before any: a run still going, or one that died, leaves half its tables written."""
    frame = read_frame(
        "select max(as_of) as as_of from analytics.completed_runs", role=role, tenant=tenant
    )
    return frame["as_of"][0]


def completed_run_dates(*, tenant: Tenant, role: Role = "pipeline") -> set[dt.date]:
    """Every date whose run for ``tenant`` finished (``analytics.completed_runs``)."""
    frame = read_frame(
        "select distinct as_of from analytics.completed_runs", role=role, tenant=tenant
    )
    return set(frame["as_of"])


def list_tenants() -> pl.DataFrame:
    """Every tenant (id, name): the one cross-tenant read, to know whom to run the pipeline
    for, through ``analytics.run_tenants()`` (granted to the pipeline role, migration 0010)."""
    rows = _rows("select tenant_id::text, name from analytics.run_tenants()", role="pipeline")
    return pl.DataFrame(rows, schema=["tenant_id", "name"], orient="row")


def _rows(sql: str, *, role: Role) -> list[tuple]:
    """A few rows over the role's pooled connection: what every ``boxoffice run`` asks first,
    without loading the Arrow reader."""
    from boxoffice.warehouse import engine

    with engine.connect(role) as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql))]


def newest_sale_date() -> dt.date | None:
    """The newest local sale date over all tenants, the latest ``as_of`` with data."""
    frame = read_frame(
        "select max(newest_sale_date) as day from analytics.run_tenants()", role="pipeline"
    )
    return frame["day"][0]


def sale_dates() -> tuple[dt.date | None, dt.date | None]:
    """The first and the newest local sale date over all tenants (owner): the range of
    ``as_of`` dates with data."""
    [(first, newest)] = _rows(SALE_DATES_SQL, role="owner")
    return first, newest


def _local_sale_day(agg: str) -> str:
    """Tenant ``t``'s first (``min``) or newest (``max``) local sale day: that of a ticket sold
    within 28 hours after its first (before its newest) sale instant — time zones lie within
    −12 h … +14 h of UTC —, which the ``(tenant_id, sold_at)`` index finds without reading the
    other tickets (migration 0014 does the same in ``analytics.run_tenants()``)."""
    near = "< (select min(sold_at)" if agg == "min" else "> (select max(sold_at)"
    sign = "+" if agg == "min" else "-"
    return f"""(select {agg}((k.sold_at at time zone v.timezone)::date)
        from source.tickets k
        join source.events e on e.tenant_id = k.tenant_id and e.event_id = k.event_id
        join source.venues v on v.tenant_id = e.tenant_id and v.venue_id = e.venue_id
        where k.tenant_id = t.tenant_id
          and k.sold_at {near} from source.tickets s where s.tenant_id = t.tenant_id)
                        {sign} interval '28 hours')"""  # noqa: S608 (constant fragments)


SALE_DATES_SQL = f"""
select min(first) as first, max(newest) as newest from (
    select {_local_sale_day("min")} as first, {_local_sale_day("max")} as newest
    from source.tenants t
) d
"""  # noqa: S608 (constant fragments)


# ------------------------------------------------------------------------- ingest operations
@reads("raw.ingest_batches")
def read_batches(*, limit: int = 50) -> pl.DataFrame:
    """The newest ingest batches (platform-wide: a file may carry several tenants)."""
    return read_frame(
        "select batch_id, input_name, started_at, finished_at, received, stored, duplicates,"
        " rejected, late from raw.ingest_batches order by started_at desc limit $1",
        [limit],
    )


@reads("raw.dead_letter")
def read_dead_letter_reasons(*, since: dt.date) -> pl.DataFrame:
    """Rejected lines per UTC day of receipt and reason (``field: rule``), platform-wide."""
    return read_frame(
        "select (received_at at time zone 'UTC')::date as day, field || ': ' || rule as reason,"
        " count(*) as lines from raw.dead_letter where received_at >= $1::date"
        " group by 1, 2 order by 1, 3 desc",
        [since],
    )


@reads("analytics.event_reconciliation")
def read_reconciliation(*, as_of: dt.date, tenant: Tenant, role: Role = "pipeline") -> pl.DataFrame:
    return _partition(
        "select day, type, events, rolling_mean_7d, orders, low_volume, orders_mismatch"
        " from analytics.event_reconciliation where as_of = $1 order by day, type",
        as_of,
        tenant,
        role,
    )


# ---------------------------------------------------------------------------------- customers
@reads("analytics.customer_days")
def read_customer_summary(
    *, as_of: dt.date, tenant: Tenant, period_days: int = 1, role: Role = "pipeline"
) -> pl.DataFrame:
    """The customer summary (frequency, recency, T, monetary value, …) of a sales-aggregates
    partition in periods of ``period_days`` (1: days, 7: weeks from Monday), computed inside
    PostgreSQL from ``analytics.customer_days`` (purchase days in the venue's local time,
    values in cents): what :func:`boxoffice.customers.summarize_customers` gives for the same
    purchases."""
    if period_days not in (1, 7):
        raise ValueError(f"period_days must be 1 or 7, got {period_days!r}")
    return read_frame(SUMMARY_SQL, [as_of, period_days], role=role, tenant=tenant)


SUMMARY_SQL = """
with occasions as (  -- one row per customer and purchase period (day or week)
    select customer_key,
           (local_date - date '1970-01-05') / $2 as period,
           max(local_date) as last_day,
           sum(gross_cents)::float8 as value
    from analytics.customer_days  -- ordered by (tenant, customer_key, local_date): no sort
    where local_date <= $1
    group by 1, 2
), customers as (
    select customer_key,
           count(*) as purchases,
           min(period) as first,
           max(period) as last,
           sum(value) as total_value,
           (array_agg(value order by period))[1] as first_value,
           max(last_day) as last_day
    from occasions
    group by 1
)
select c.customer_key,
       c.purchases - 1 as frequency,
       (c.last - c.first)::float8 as recency,
       (($1::date - date '1970-01-05') / $2 - c.first)::float8 as "T",
       case when c.purchases > 1
            then (c.total_value - c.first_value) / (c.purchases - 1) else 0 end as monetary_value,
       c.purchases,
       c.total_value,
       $1::date - c.last_day as days_since_last
from customers c
order by c.customer_key
"""


@reads("analytics.customer_rfm")
def read_scored_summary(*, as_of: dt.date, tenant: Tenant, role: Role = "pipeline") -> pl.DataFrame:
    """The customer summary the rfm task stored beside its scores (``analytics.customer_rfm``):
    what :func:`read_customer_summary` returned for that run, without computing it again."""
    return _partition(
        'select customer_key, frequency, recency, "T", monetary_value, purchases, total_value,'
        " days_since_last from analytics.customer_rfm where as_of = $1 order by customer_key",
        as_of,
        tenant,
        role,
    )


@reads("analytics.customer_rfm", "analytics.customer_value")
def read_customers(*, as_of: dt.date, tenant: Tenant, role: Role = "pipeline") -> pl.DataFrame:
    """RFM scores joined with value and churn risk, one row per customer of the partition."""
    return _partition(
        'select r.customer_key, r.frequency, r.recency, r."T", r.monetary_value, r.purchases,'
        " r.total_value, r.days_since_last, r.r, r.f, r.m, r.segment, v.p_alive,"
        " v.expected_purchases_90d, v.expected_spend, v.clv_12m, v.churn_risk, v.recency_risk"
        " from analytics.customer_rfm r left join analytics.customer_value v"
        " using (tenant_id, as_of, customer_key) where r.as_of = $1 order by r.customer_key",
        as_of,
        tenant,
        role,
    )


@reads("analytics.customer_segments")
def read_customer_segments(
    *, as_of: dt.date, tenant: Tenant, role: Role = "pipeline"
) -> pl.DataFrame:
    return _partition(
        "select segment, customers, revenue, purchases, average_order_value, share_of_customers,"
        " share_of_revenue from analytics.customer_segments where as_of = $1"
        " order by revenue desc",
        as_of,
        tenant,
        role,
    )


def previous_customer_run(
    *, as_of: dt.date, tenant: Tenant, role: Role = "reader"
) -> dt.date | None:
    """The newest completed run with RFM scores before ``as_of`` (for segment movement), or
    None."""
    frame = read_frame(
        f"{_COMPLETED_RFM} and r.as_of < $1",
        [as_of],
        role=role,
        tenant=tenant,
    )
    return frame["as_of"][0]


_COMPLETED_RFM = (
    "select max(r.as_of) as as_of from analytics.completed_runs r"
    " where exists (select from analytics.customer_rfm c where c.as_of = r.as_of)"
)


@reads("analytics.customer_rfm")
def read_segments_of(*, as_of: dt.date, tenant: Tenant, role: Role = "reader") -> pl.DataFrame:
    """Each customer's segment in one run (for segment movement)."""
    return _partition(
        "select customer_key, segment from analytics.customer_rfm where as_of = $1",
        as_of,
        tenant,
        role,
    )
