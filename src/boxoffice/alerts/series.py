"""The daily series a rule is judged on (:mod:`boxoffice.alerts.evaluate`), from what the
pipeline has already computed. Pure: DataFrames in, DataFrames out.

- per tenant, venue or sales channel, from the daily sales facts (``analytics.sales_daily``:
  local day, venue, channel), so that an order is counted once;
- per event category or event, from the per-event facts (``analytics.event_sales_daily``
  summed over channels and ticket types) and the events dimension (an event's category).
"""

from __future__ import annotations

import polars as pl

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
