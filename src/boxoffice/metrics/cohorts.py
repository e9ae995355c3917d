"""Cohort retention: customers grouped by the month of their first purchase, and the share of
each cohort buying again in every later month (docs/metrics.md, "Cohorts").

Input is ``analytics.customer_days`` (``customer_key``, ``local_date``; other columns are
ignored): one row per customer and local day with a purchase.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from boxoffice.frames import require


def cohort_retention(customer_days: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """One row per cohort and month since the cohort's first month, up to the month of
    ``as_of``:

    * ``cohort`` — first day of the month of the customer's first purchase (local day);
    * ``months_since`` — 0 for the cohort's own month, 1 for the next, …;
    * ``customers`` — the cohort's size; ``active`` — its customers with a purchase in that
      month; ``share = active / customers`` (1 for month 0 by definition);
    * ``complete`` — whether the month had ended by ``as_of`` (the last month is partial).

    Purchases after ``as_of`` are ignored. No purchases give an empty frame.
    """
    require(customer_days, ["customer_key", "local_date"], "customer_days")
    month = pl.col("local_date").dt.truncate("1mo")
    active = (
        customer_days.filter(pl.col("local_date") <= as_of)
        .select("customer_key", month.alias("month"))
        .unique()
    )
    first = active.group_by("customer_key").agg(pl.col("month").min().alias("cohort"))
    sizes = first.group_by("cohort").agg(pl.len().alias("customers"))
    months_since = (pl.col("month").dt.year() - pl.col("cohort").dt.year()) * 12 + (
        pl.col("month").dt.month() - pl.col("cohort").dt.month()
    )
    counts = (
        active.join(first, on="customer_key")
        .group_by("cohort", "month")
        .agg(pl.len().alias("active"))
    )
    last_month = dt.date(as_of.year, as_of.month, 1)
    months = sizes.with_columns(
        pl.date_ranges(pl.col("cohort"), pl.lit(last_month), interval="1mo").alias("month")
    ).explode("month")
    return (
        months.join(counts, on=["cohort", "month"], how="left")
        .with_columns(pl.col("active").fill_null(0).cast(pl.UInt32))
        .with_columns(
            months_since.cast(pl.Int32).alias("months_since"),
            (pl.col("active") / pl.col("customers")).alias("share"),
            (pl.col("month").dt.offset_by("1mo") <= as_of + dt.timedelta(days=1)).alias("complete"),
        )
        .select("cohort", "months_since", "month", "customers", "active", "share", "complete")
        .sort("cohort", "months_since")
    )
