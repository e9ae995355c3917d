"""The daily series a rule is judged on (:mod:`boxoffice.alerts.evaluate`), from what the
pipeline has already computed. Pure: DataFrames in, DataFrames out.

- per tenant, venue or sales channel, from the daily sales facts (``analytics.sales_daily``:
  local day, venue, channel), so that an order is counted once;
- per event category or event, from the per-event facts (``analytics.event_sales_daily``
  summed over channels and ticket types) and the events dimension (an event's category);
- per upcoming event, its tickets picked up against what its pickup forecast expected
  (:func:`velocity_series`);
- per tenant, the conversion funnel's sessions and purchases (:func:`funnel_series`).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from boxoffice.forecast.booking_curve import booking_curves, held_at, pickup_forecast

SALES = ("tickets_sold", "gross_cents", "refunded_tickets", "refund_cents", "net_cents", "orders")


def sales_series(
    sales_daily: pl.DataFrame,
    event_sales: pl.DataFrame,
    events: pl.DataFrame,
    scope: str,
    tenant: str,
) -> pl.DataFrame:
    """The sales components per ``scope_key`` and local ``date`` for ``scope`` (tenant: the
    tenant's id; venue: ``venue_id``; channel; category; event: ``event_id``)."""
    if scope in ("tenant", "venue", "channel"):
        key = {
            "tenant": pl.lit(tenant),
            "venue": pl.col("venue_id").cast(pl.String),
            "channel": pl.col("channel"),
        }[scope]
        rows = sales_daily.with_columns(key.alias("scope_key"))
    elif scope in ("category", "event"):
        rows = event_sales.join(events.select("event_id", "category"), on="event_id", how="left")
        key = pl.col("category") if scope == "category" else pl.col("event_id").cast(pl.String)
        rows = rows.with_columns(key.fill_null("(unknown)").alias("scope_key"))
    else:
        raise ValueError(f"no sales series per {scope}")
    return (
        rows.rename({"local_date": "date"})
        .group_by("scope_key", "date")
        .agg(pl.col(c).sum().cast(pl.Int64) for c in SALES)
        .sort("scope_key", "date")
    )


def funnel_series(funnel: pl.DataFrame, tenant: str) -> pl.DataFrame:
    """The tenant's (``scope_key``) ``sessions`` and ``purchases`` per ``date``, channels
    summed, from the conversion funnel of the run (``analytics.funnel_daily``: sessions by the
    UTC day of their first event)."""
    return (
        funnel.group_by(pl.col("day").alias("date"))
        .agg(pl.col("sessions", "purchases").sum().cast(pl.Int64))
        .select(pl.lit(tenant).alias("scope_key"), "date", "sessions", "purchases")
        .sort("date")
    )


def scan_series(events: pl.DataFrame) -> pl.DataFrame:
    """The door scans per event on its local start day (``scope_key``: ``event_id``, ``date``:
    ``start_date``), from one row per event with its ``scanned`` and ``held`` tickets (sold and
    not refunded)."""
    return events.select(
        pl.col("event_id").cast(pl.String).alias("scope_key"),
        pl.col("start_date").alias("date"),
        pl.col("scanned").cast(pl.Int64),
        pl.col("held").cast(pl.Int64),
    ).sort("scope_key", "date")


def velocity_series(
    event_sales: pl.DataFrame, events: pl.DataFrame, days: list[dt.date], *, min_events: int = 3
) -> pl.DataFrame:
    """Per upcoming event (``scope_key``: ``event_id``) and ``date`` of ``days``: its
    ``picked_up`` tickets (held at the end of the day − at the end of the day before; held is
    sold − refunded) and the ``expected_pickup``, what the pickup method expected of it on that
    day from the day before (:func:`boxoffice.forecast.pickup_forecast` on the day before,
    ``ahead=1``: forecast − held, never below 0). Only events starting after the day whose pool
    gives a forecast (``min_events`` as there). ``event_sales``: every day of sales per event
    (``local_date``, ``event_id``, ``tickets_sold``, ``refunded_tickets``); ``events``:
    ``event_id``, ``venue_id``, ``category``, ``start_date``, ``capacity``."""
    curves = booking_curves(event_sales)
    frames = []
    for day in days:
        before = day - dt.timedelta(days=1)
        expected = pickup_forecast(
            event_sales, events, before, min_events=min_events, ahead=1
        ).filter(pl.col("forecast").is_not_null())
        now = held_at(curves, expected.select("event_id", pl.lit(day).alias("date")))
        frames.append(
            expected.join(now.rename({"held": "now"}), on="event_id").select(
                pl.col("event_id").cast(pl.String).alias("scope_key"),
                pl.lit(day).alias("date"),
                (pl.col("now") - pl.col("held")).alias("picked_up"),
                (pl.col("forecast") - pl.col("held")).clip(lower_bound=0).alias("expected_pickup"),
            )
        )
    schema = {"scope_key": pl.String, "date": pl.Date, "picked_up": pl.Float64,
              "expected_pickup": pl.Float64}  # fmt: skip
    return pl.concat([pl.DataFrame(schema=schema), *frames]).sort("scope_key", "date")
