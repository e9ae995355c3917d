"""Sales facts, computed in PostgreSQL and kept current incrementally (docs/metrics.md is the
contract: grain, formulas, edge cases).

``analytics.sales_hourly`` — one row per (tenant, local day, local hour, venue, event, channel,
ticket type) with any sale or refund; the local day and hour are those of the **venue's** time
zone (IANA, ``source.venues``):

* ``tickets_sold``, ``gross_cents``, ``fee_cents`` — tickets whose sale falls in that hour,
  with the sum of their prices and of their fees; a ticket refunded later still counts here;
* ``refunded_tickets``, ``refund_cents`` — tickets whose *refund* falls in that hour (booked on
  the refund's day, not the sale's) and the price refunded;
* ``net_cents = gross_cents − refund_cents`` (fees excluded: revenue is the venue's);
* ``orders`` — distinct orders with a ticket sold in the row. An order's tickets are sold at
  one instant through one channel, so orders add up over hours, days, venues and channels; an
  order holding several events or ticket types counts once in each.

``analytics.event_sales_daily`` — the same by local day (the hourly rows summed);
``analytics.sales_daily`` — by local day, venue and channel only (events and ticket types
summed): the few rows per day that dashboards read.

``analytics.customer_days`` — one row per (tenant, customer_key, local day, venue) with a
purchase: what distinct-customer counts, cohorts and the customer summary are computed from.
Customers appear only as ``customer_key`` (HMAC of the id, computed in SQL).

The facts are kept current by :mod:`boxoffice.warehouse.facts` (the SQL that computes them,
and its incremental refresh); here are the dimensions and the metrics computed from the facts.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from boxoffice.frames import check_range, require
from boxoffice.warehouse.partitions import PartitionQuery
from boxoffice.warehouse.schema import events_dim, venues_dim

VENUES_SQL = """
select cast(:tenant as uuid), cast(:as_of as date), v.venue_id, v.name, v.city, v.timezone,
       v.capacity, t.name
from source.venues v
join source.tenants t using (tenant_id)
"""


EVENTS_SQL = """
select cast(:tenant as uuid), cast(:as_of as date), e.event_id, e.venue_id, e.name, e.category,
       e.on_sale_at, e.starts_at, (e.starts_at at time zone v.timezone)::date, e.capacity,
       e.base_price_cents,
       (select count(*) from source.tickets t
        where t.tenant_id = e.tenant_id and t.event_id = e.event_id and t.status = 'scanned')
from source.events e
join source.venues v using (tenant_id, venue_id)
"""


def dimension_queries() -> list[PartitionQuery]:
    """The venue and event dimensions dashboards label the facts with (readers never see
    ``source``), one partition per run."""
    return [PartitionQuery(venues_dim, VENUES_SQL), PartitionQuery(events_dim, EVENTS_SQL)]


GRANULARITIES = {"day": "1d", "week": "1w", "month": "1mo"}
KPI_ORDER = ["revenue", "tickets", "customers", "average_order_value"]


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
    check_range(start, end)
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
    require(sales, ["local_date", "venue_id", "tickets_sold", "gross_cents", "net_cents", "orders"])
    lo = start or sales["local_date"].min() or dt.date.min
    hi = end or sales["local_date"].max() or dt.date.max
    check_range(lo, hi)
    sums = ["tickets_sold", "gross_cents", "refund_cents", "net_cents", "orders"]
    return (
        _filter(sales, lo, hi, venue_id)
        .with_columns(pl.col("local_date").dt.truncate(GRANULARITIES[granularity]).alias("period"))
        .group_by("period")
        .agg(pl.col(sums).sum())
        .sort("period")
    )


def growth(rolled: pl.DataFrame, granularity: str) -> pl.DataFrame:
    """A :func:`rollup` with every period from its first to its last (zeros where nothing
    sold) and the change against the previous period: ``net_growth = net / previous net − 1``
    and ``tickets_growth`` likewise; null for the first period and when the previous value is
    not positive (a change from zero or from a net refund has no meaningful ratio)."""
    if granularity not in GRANULARITIES:
        raise ValueError(
            f"unknown granularity {granularity!r}; expected one of {list(GRANULARITIES)}"
        )
    require(rolled, ["period", "tickets_sold", "net_cents"])
    if rolled.is_empty():
        return rolled.with_columns(
            pl.lit(None, pl.Float64).alias("net_growth"),
            pl.lit(None, pl.Float64).alias("tickets_growth"),
        )
    periods = pl.date_range(
        rolled["period"].min(), rolled["period"].max(), GRANULARITIES[granularity], eager=True
    )
    full = (
        pl.DataFrame({"period": periods})
        .join(rolled, on="period", how="left")
        .with_columns(pl.exclude("period").fill_null(0))
    )

    def change(column: str) -> pl.Expr:
        before = pl.col(column).shift(1)
        return pl.when(before > 0).then(pl.col(column) / before - 1)

    return full.with_columns(
        change("net_cents").alias("net_growth"), change("tickets_sold").alias("tickets_growth")
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
    require(sales, ["local_date", "venue_id", "tickets_sold", "gross_cents", "net_cents", "orders"])
    require(customer_days, ["local_date", "venue_id", "customer_key"])
    check_range(start, end)

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
    require(sales, ["local_date", "venue_id", "channel", "tickets_sold", "net_cents"])
    check_range(start, end)
    mix = (
        _filter(sales, start, end, venue_id)
        .group_by("channel")
        .agg(pl.col("net_cents").sum(), pl.col("tickets_sold").sum())
        .sort("net_cents", descending=True)
    )
    total = mix["net_cents"].sum()
    return mix.with_columns((pl.col("net_cents") / total if total else pl.lit(None)).alias("share"))
