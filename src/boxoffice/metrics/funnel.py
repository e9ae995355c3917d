"""The conversion funnel from behaviour events (docs/metrics.md, "Funnel").

A **session** is the set of events sharing a ``session_id``; its day is the UTC day of its
first event and its channel that event's channel. It reaches a step when it has an event of
that step's type *and* reached the step before — sessions → event page (``event_view``) → add
to cart → checkout started → purchase — so every step is a subset of the one before.
:data:`FUNNEL_SQL` counts them per day and channel inside PostgreSQL, for the sessions that
started in the ``:days`` UTC days ending ``as_of``; :func:`funnel_steps` turns the counts of
any period into step and overall conversion and drop-off.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from boxoffice.frames import check_range, require
from boxoffice.warehouse.partitions import PartitionQuery
from boxoffice.warehouse.schema import funnel_daily

STEPS = [
    ("sessions", "Sessions"),
    ("event_views", "Event page"),
    ("carts", "Add to cart"),
    ("checkouts", "Checkout"),
    ("purchases", "Purchase"),
]

FUNNEL_SQL = """
with sessions as (
    select session_id,
           (min(occurred_at) at time zone 'UTC')::date as day,
           (array_agg(channel order by occurred_at, event_id))[1] as channel,
           bool_or(type = 'event_view') as viewed,
           bool_or(type = 'add_to_cart') as carted,
           bool_or(type = 'checkout_started') as checked_out,
           bool_or(type = 'purchase') as purchased
    from raw.events
    where session_id is not null
      and type in ('page_view', 'event_view', 'add_to_cart', 'checkout_started', 'purchase')
      and occurred_at >= (cast(:as_of as date) - :days + 1)::timestamp at time zone 'UTC'
      and occurred_at < (cast(:as_of as date) + 1)::timestamp at time zone 'UTC'
    group by session_id
)
select cast(:tenant as uuid), cast(:as_of as date), day, channel,
       count(*),
       count(*) filter (where viewed),
       count(*) filter (where viewed and carted),
       count(*) filter (where viewed and carted and checked_out),
       count(*) filter (where viewed and carted and checked_out and purchased)
from sessions
where day > cast(:as_of as date) - :days
group by day, channel
"""


def funnel_query(*, days: int = 90) -> PartitionQuery:
    """The ``analytics.funnel_daily`` partition of a (tenant, as_of): sessions started in the
    ``days`` UTC days ending ``as_of``."""
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    return PartitionQuery(funnel_daily, FUNNEL_SQL, {"days": days})


def funnel_steps(
    funnel: pl.DataFrame, start: dt.date, end: dt.date, *, channel: str | None = None
) -> pl.DataFrame:
    """One row per step for the sessions of days ``[start, end]`` (and ``channel``, when
    given): ``sessions`` reaching it, ``step_conversion`` = this step ÷ the step before (null
    for the first), ``overall_conversion`` = this step ÷ sessions, ``drop_off`` =
    1 − step conversion. Ratios are null when their denominator is zero."""
    require(funnel, ["day", "channel", *(column for column, _ in STEPS)], "funnel")
    check_range(start, end)
    rows = funnel.filter(pl.col("day").is_between(start, end))
    if channel:
        rows = rows.filter(pl.col("channel") == channel)
    counts = [int(rows[column].sum()) for column, _ in STEPS]

    def ratio(a: int, b: int) -> float | None:
        return a / b if b else None

    step = [None] + [ratio(counts[i], counts[i - 1]) for i in range(1, len(counts))]
    return pl.DataFrame(
        {
            "step": [label for _, label in STEPS],
            "sessions": counts,
            "step_conversion": step,
            "overall_conversion": [ratio(c, counts[0]) for c in counts],
            "drop_off": [None if s is None else 1 - s for s in step],
        },
        schema_overrides={
            "step_conversion": pl.Float64,
            "overall_conversion": pl.Float64,
            "drop_off": pl.Float64,
        },
    )
