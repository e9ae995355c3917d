"""Reconciliation of the behaviour-event stream: is anything missing?

For each tenant, UTC day ``d`` and event type, with ``n(d)`` the events stored for that day
(``raw.event_day_counts``, late arrivals included):

- **low volume**: ``n(d) < threshold × m(d)``, where ``m(d) = (n(d-7) + … + n(d-1)) / 7`` is the
  trailing 7-day mean (days without events count as 0; ``m`` is undefined — and nothing is
  flagged — until 7 days of history exist). ``threshold`` is 0.8, the seeds' rule.
- **orders mismatch** (``purchase`` only): the day's purchase events against the orders placed
  online that day in ``source.orders`` (channels ``web`` and ``mobile``, the ones that emit
  events), flagged when ``|n(d) − orders(d)| > max(min_difference, tolerance × orders(d))``.

Rows cover the ``days`` up to ``as_of``, starting no earlier than the tenant's first event day,
for every type the tenant has sent plus ``purchase``; a tenant that has sent no events gets no
rows (it has no stream to reconcile).

Reference: the seeds' reconciliation job (daily count vs 7-day rolling average, 80 %); the
trailing mean excludes the day itself so a drop cannot hide in its own average.
"""

from __future__ import annotations

import polars as pl

from boxoffice.warehouse import PartitionQuery, schema

RECONCILIATION_SQL = """
with bounds as (
    select greatest(min(day), cast(:as_of as date) - :days - 7) as first_day
    from raw.event_day_counts where day <= :as_of
    having count(*) > 0  -- no stream, no rows
), types as (
    select distinct type from raw.event_day_counts where day <= :as_of
    union select 'purchase'
), counts as (
    select g.day::date as day, t.type, coalesce(e.events, 0) as events
    from bounds
    cross join generate_series(bounds.first_day, cast(:as_of as date), interval '1 day') as g(day)
    cross join types t
    left join raw.event_day_counts e on e.day = g.day::date and e.type = t.type
), rolled as (
    select day, type, events,
           case when count(*) over w = 7 then avg(events) over w end as rolling_mean_7d
    from counts
    window w as (partition by type order by day rows between 7 preceding and 1 preceding)
), orders as (
    select (o.created_at at time zone 'UTC')::date as day, count(*) as orders
    from source.orders o, bounds
    where o.channel in ('web', 'mobile')
      and o.created_at >= bounds.first_day::timestamp at time zone 'UTC'
      and o.created_at < (cast(:as_of as date) + 1)::timestamp at time zone 'UTC'
    group by 1
)
select cast(:tenant as uuid), cast(:as_of as date), r.day, r.type, r.events,
       r.rolling_mean_7d::float8,
       case when r.type = 'purchase' then coalesce(o.orders, 0) end,
       coalesce(r.events < :threshold * r.rolling_mean_7d, false),
       r.type = 'purchase' and abs(r.events - coalesce(o.orders, 0))
           > greatest(:min_difference, :tolerance * coalesce(o.orders, 0))
from rolled r left join orders o using (day)
where r.day > cast(:as_of as date) - :days
"""


def flagged_days(reconciliation: pl.DataFrame) -> pl.DataFrame:
    """The rows of a reconciliation partition that need a person: low volume or mismatch."""
    return reconciliation.filter(pl.col("low_volume") | pl.col("orders_mismatch"))


def reconciliation_query(
    *, days: int = 60, threshold: float = 0.8, tolerance: float = 0.02, min_difference: int = 2
) -> PartitionQuery:
    """The ``analytics.event_reconciliation`` partition of a (tenant, as_of); see the module."""
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    if tolerance < 0 or min_difference < 0:
        raise ValueError("tolerance and min_difference must not be negative")
    return PartitionQuery(
        schema.event_reconciliation,
        RECONCILIATION_SQL,
        {
            "days": days,
            "threshold": threshold,
            "tolerance": tolerance,
            "min_difference": min_difference,
        },
    )
