"""Per-customer purchase summary in the conventions of Fader, Hardie & Lee (and ``lifetimes``).

Purchases are first grouped into periods (days or ISO weeks): several orders on one day are
one purchase occasion whose value is their sum. For each customer, with periods counted from
the first purchase and ``as_of`` the end of observation:

- ``frequency``      = number of purchase periods − 1 (the *repeat* purchases);
- ``recency``        = last purchase period − first purchase period (0 without repeats);
- ``T``              = period of ``as_of`` − first purchase period (the customer's age);
- ``monetary_value`` = mean value of the repeat purchase periods (the first one excluded;
  0 without repeats);
- ``purchases``      = frequency + 1, ``total_value`` = value of all purchase periods, and
  ``days_since_last`` = days from the last purchase to ``as_of`` (for RFM and churn rules).

Purchases after ``as_of`` are ignored. This matches ``lifetimes.utils.
summary_data_from_transaction_data`` (Davidson-Pilon, 2017) with ``freq="D"`` or ``"W"``, so
results are comparable with the literature: Fader, Hardie & Lee (2005), "Counting Your
Customers the Easy Way", *Marketing Science* 24(2), 275–284.

:func:`summarize_customers` works on any transactions frame (polars);
:func:`boxoffice.warehouse.reads.read_customer_summary` computes the same from
``analytics.customer_days`` inside PostgreSQL, so the group-by over every purchase stays in the
database.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from boxoffice.frames import require

TIME_UNITS = {"D": 1, "W": 7}


def _period(day: pl.Expr, unit: str) -> pl.Expr:
    """A day's period number: days since 1970-01-05 (a Monday), in units of the period."""
    days = (day - pl.lit(dt.date(1970, 1, 5))).dt.total_days()
    return days // TIME_UNITS[unit]


def summarize_customers(
    transactions: pl.DataFrame,
    *,
    as_of: dt.date,
    time_unit: str = "D",
    customer_col: str = "customer_key",
    date_col: str = "date",
    value_col: str = "value",
) -> pl.DataFrame:
    """One row per customer: ``frequency``, ``recency``, ``T``, ``monetary_value`` (see the
    module) plus ``purchases``, ``total_value`` and ``days_since_last``.

    Parameters
    ----------
    transactions
        One row per purchase: ``customer_col``, ``date_col`` (a date, or a datetime whose date
        is taken) and ``value_col`` (any numeric amount, e.g. cents).
    as_of
        End of the observation window (inclusive); later purchases are ignored.
    time_unit
        ``"D"`` (days) or ``"W"`` (weeks starting on Monday).
    """
    if time_unit not in TIME_UNITS:
        raise ValueError(f"time_unit must be one of {sorted(TIME_UNITS)}, got {time_unit!r}")
    require(transactions, [customer_col, date_col, value_col])
    day = pl.col(date_col)
    if transactions.schema[date_col] != pl.Date:
        if not isinstance(transactions.schema[date_col], pl.Datetime):
            raise ValueError(f"{date_col} must be a date or datetime column")
        day = day.dt.date()
    periods = (
        transactions.lazy()
        .select(
            pl.col(customer_col).alias("customer"),
            day.alias("day"),
            pl.col(value_col).cast(pl.Float64).alias("value"),
        )
        .filter(pl.col("day") <= as_of)
        .with_columns(_period(pl.col("day"), time_unit).alias("period"))
        .group_by("customer", "period")
        .agg(pl.col("value").sum(), pl.col("day").max().alias("last_day"))
    )
    end = _period(pl.lit(as_of), time_unit)
    summary = (
        periods.group_by("customer")
        .agg(
            pl.len().alias("purchases"),
            pl.col("period").min().alias("first"),
            pl.col("period").max().alias("last"),
            pl.col("value").sum().alias("total_value"),
            pl.col("value").sort_by("period").first().alias("first_value"),
            pl.col("last_day").max(),
        )
        .select(
            pl.col("customer").alias(customer_col),
            (pl.col("purchases") - 1).alias("frequency"),
            (pl.col("last") - pl.col("first")).cast(pl.Float64).alias("recency"),
            (end - pl.col("first")).cast(pl.Float64).alias("T"),
            pl.when(pl.col("purchases") > 1)
            .then((pl.col("total_value") - pl.col("first_value")) / (pl.col("purchases") - 1))
            .otherwise(0.0)
            .alias("monetary_value"),
            pl.col("purchases"),
            pl.col("total_value"),
            (pl.lit(as_of) - pl.col("last_day")).dt.total_days().alias("days_since_last"),
        )
        .sort(customer_col)
    )
    return summary.collect()
