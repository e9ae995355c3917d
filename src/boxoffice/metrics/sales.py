"""Daily sales aggregates, computed in PostgreSQL (the heavy group-by stays in the database).

``analytics.sales_daily`` — grain: one row per (tenant, as_of, venue, local day, channel), where
the local day is the calendar day in the **venue's** time zone (IANA, ``source.venues``):

* ``tickets_sold``, ``gross_cents``, ``fee_cents`` — tickets whose sale falls on that day, with
  the sum of their ticket prices and of their fees; a ticket refunded later still counts here;
* ``refunded_tickets``, ``refund_cents`` — tickets whose *refund* falls on that day (the refund
  is booked on the refund's day, not the sale's) and the ticket price refunded;
* ``net_cents = gross_cents − refund_cents`` (fees excluded: revenue is the venue's);
* ``orders`` — distinct orders with a ticket sold that day (an order's tickets share one
  instant, event and channel, so orders add up across days, venues and channels);
* ``customers`` — distinct customers buying that day (does *not* add up across rows).

``analytics.customer_days`` — grain: one row per (tenant, as_of, venue, local day, customer) with
a purchase, keyed by ``customer_key`` (never the customer id): what distinct-customer counts over
any date range are computed from.

Only days up to ``as_of`` (inclusive, local) are written: a run for an earlier date sees the
world as it was on that date, so re-running a date gives the same rows.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from boxoffice import privacy
from boxoffice.warehouse.partitions import PartitionQuery
from boxoffice.warehouse.schema import customer_days, sales_daily, venues_dim

DAILY_SQL = """
with tickets as (
    select e.venue_id,
           o.channel,
           t.order_id,
           o.customer_id,
           t.price_cents,
           t.fee_cents,
           (t.sold_at at time zone v.timezone)::date as sold_on,
           (t.refunded_at at time zone v.timezone)::date as refunded_on
    from source.tickets t
    join source.orders o using (tenant_id, order_id)
    join source.events e using (tenant_id, event_id)
    join source.venues v using (tenant_id, venue_id)
),
sold as (
    select venue_id,
           sold_on as local_date,
           channel,
           count(*) as tickets_sold,
           sum(price_cents) as gross_cents,
           sum(fee_cents) as fee_cents,
           count(distinct order_id) as orders,
           count(distinct customer_id) as customers
    from tickets
    where sold_on <= :as_of
    group by 1, 2, 3
),
refunded as (
    select venue_id,
           refunded_on as local_date,
           channel,
           count(*) as refunded_tickets,
           sum(price_cents) as refund_cents
    from tickets
    where refunded_on <= :as_of
    group by 1, 2, 3
)
select cast(:tenant as uuid), cast(:as_of as date), venue_id, local_date, channel,
       coalesce(s.tickets_sold, 0),
       coalesce(s.gross_cents, 0),
       coalesce(s.fee_cents, 0),
       coalesce(r.refunded_tickets, 0),
       coalesce(r.refund_cents, 0),
       coalesce(s.gross_cents, 0) - coalesce(r.refund_cents, 0),
       coalesce(s.orders, 0),
       coalesce(s.customers, 0)
from sold s
full join refunded r using (venue_id, local_date, channel)
"""

# the customer key is boxoffice.privacy's HMAC-SHA256, built from sha256 and the bound pads
CUSTOMER_DAYS_SQL = """
with activity as (
    select e.venue_id,
           (t.sold_at at time zone v.timezone)::date as local_date,
           o.customer_id,
           count(distinct t.order_id) as orders,
           count(*) as tickets,
           sum(t.price_cents) as gross_cents
    from source.tickets t
    join source.orders o using (tenant_id, order_id)
    join source.events e using (tenant_id, event_id)
    join source.venues v using (tenant_id, venue_id)
    where (t.sold_at at time zone v.timezone)::date <= :as_of
    group by 1, 2, 3
)
select cast(:tenant as uuid), cast(:as_of as date), venue_id, local_date,
       encode(sha256(:opad || sha256(:ipad || convert_to(customer_id::text, 'UTF8'))), 'hex'),
       orders, tickets, gross_cents
from activity
"""


VENUES_SQL = """
select cast(:tenant as uuid), cast(:as_of as date), v.venue_id, v.name, v.city, v.timezone,
       v.capacity, t.name
from source.venues v
join source.tenants t using (tenant_id)
"""


def daily_queries() -> list[PartitionQuery]:
    """The sales-aggregates task's partitions: daily sales, customer activity days, and the
    venue dimension dashboards label them with (readers never see ``source``)."""
    return [
        PartitionQuery(sales_daily, DAILY_SQL),
        PartitionQuery(customer_days, CUSTOMER_DAYS_SQL, params=privacy.hmac_pads()),
        PartitionQuery(venues_dim, VENUES_SQL),
    ]


# ------------------------------------------------------------------ polars, on the aggregates
GRANULARITIES = {"day": "1d", "week": "1w", "month": "1mo"}
KPI_ORDER = ["revenue", "tickets", "customers", "average_order_value"]


def _require(frame: pl.DataFrame, *columns: str) -> None:
    if missing := [c for c in columns if c not in frame.columns]:
        raise ValueError(f"frame lacks column(s) {missing}; has {frame.columns}")


def _check_range(start: dt.date, end: dt.date) -> None:
    if start > end:
        raise ValueError(f"inverted date range: start {start} is after end {end}")


def _filter(frame: pl.DataFrame, start, end, venue_id: str | None) -> pl.DataFrame:
    out = frame.filter(pl.col("local_date").is_between(start, end))
    return out.filter(pl.col("venue_id") == venue_id) if venue_id else out


def trailing_period(as_of: dt.date, days: int) -> tuple[dt.date, dt.date]:
    """The ``days`` local days ending with ``as_of`` (inclusive)."""
    if days < 1:
        raise ValueError(f"a period has at least one day, got {days}")
    return as_of - dt.timedelta(days=days - 1), as_of


def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The period of the same length just before ``[start, end]``."""
    _check_range(start, end)
    length = (end - start).days + 1
    return start - dt.timedelta(days=length), start - dt.timedelta(days=1)


def rollup(
    sales: pl.DataFrame,
    granularity: str,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    venue_id: str | None = None,
) -> pl.DataFrame:
    """Sum daily sales into days, ISO weeks (starting Monday) or calendar months.

    One row per period start (``period``) with ``tickets_sold``, ``gross_cents``,
    ``refund_cents``, ``net_cents`` and ``orders`` summed over venues and channels (all additive,
    see the module docstring); periods without sales are absent.
    """
    if granularity not in GRANULARITIES:
        raise ValueError(
            f"unknown granularity {granularity!r}; expected one of {list(GRANULARITIES)}"
        )
    _require(sales, "local_date", "venue_id", "tickets_sold", "gross_cents", "net_cents", "orders")
    lo = start or sales["local_date"].min() or dt.date.min
    hi = end or sales["local_date"].max() or dt.date.max
    _check_range(lo, hi)
    sums = ["tickets_sold", "gross_cents", "refund_cents", "net_cents", "orders"]
    return (
        _filter(sales, lo, hi, venue_id)
        .with_columns(pl.col("local_date").dt.truncate(GRANULARITIES[granularity]).alias("period"))
        .group_by("period")
        .agg(pl.col(sums).sum())
        .sort("period")
    )


def kpis(
    sales: pl.DataFrame,
    customer_days: pl.DataFrame,
    start: dt.date,
    end: dt.date,
    *,
    venue_id: str | None = None,
) -> pl.DataFrame:
    """Headline numbers for ``[start, end]`` and the period of equal length before it.

    * revenue = Σ net_cents; tickets = Σ tickets_sold;
    * customers = number of distinct ``customer_key`` buying in the period;
    * average order value = Σ gross_cents / Σ orders (ticket value per order, before refunds);
    * change = (value − previous) / previous, null when previous is 0.

    One row per metric, in the order revenue, tickets, customers, average_order_value, with
    ``value``, ``previous`` and ``change`` (money in cents).
    """
    _require(sales, "local_date", "venue_id", "tickets_sold", "gross_cents", "net_cents", "orders")
    _require(customer_days, "local_date", "venue_id", "customer_key")
    _check_range(start, end)

    def measure(lo: dt.date, hi: dt.date) -> dict[str, float | None]:
        s = _filter(sales, lo, hi, venue_id)
        orders = s["orders"].sum()
        return {
            "revenue": float(s["net_cents"].sum()),
            "tickets": float(s["tickets_sold"].sum()),
            "customers": float(_filter(customer_days, lo, hi, venue_id)["customer_key"].n_unique()),
            "average_order_value": s["gross_cents"].sum() / orders if orders else None,
        }

    now, before = measure(start, end), measure(*previous_period(start, end))
    return pl.DataFrame(
        {
            "metric": KPI_ORDER,
            "value": [now[k] for k in KPI_ORDER],
            "previous": [before[k] for k in KPI_ORDER],
        },
        schema={"metric": pl.String, "value": pl.Float64, "previous": pl.Float64},
    ).with_columns(
        pl.when(pl.col("previous") > 0)
        .then(pl.col("value") / pl.col("previous") - 1)
        .otherwise(None)
        .alias("change")
    )


def channel_mix(
    sales: pl.DataFrame, start: dt.date, end: dt.date, *, venue_id: str | None = None
) -> pl.DataFrame:
    """Net revenue and tickets per channel in ``[start, end]``, with each channel's share of
    net revenue (shares sum to 1 when revenue is positive)."""
    _require(sales, "local_date", "venue_id", "channel", "tickets_sold", "net_cents")
    _check_range(start, end)
    mix = (
        _filter(sales, start, end, venue_id)
        .group_by("channel")
        .agg(pl.col("net_cents").sum(), pl.col("tickets_sold").sum())
        .sort("net_cents", descending=True)
    )
    total = mix["net_cents"].sum()
    return mix.with_columns((pl.col("net_cents") / total if total else pl.lit(None)).alias("share"))
