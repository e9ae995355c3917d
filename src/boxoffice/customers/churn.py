"""Churn risk: from the BG/NBD probability that a customer is still alive, beside the seeds'
recency rule for comparison.

- ``churn_risk`` from P(alive) (Fader, Hardie & Lee 2005): ``high`` when P(alive) < ``high_below``
  (0.3), ``medium`` when below ``medium_below`` (0.7), else ``low``. P(alive) weighs recency
  *against the customer's own rhythm*: a weekly buyer silent for two months is likely gone, a
  yearly buyer is not.
- ``recency_risk``, the seeds' rule: ``high`` when more than 90 days since the last purchase,
  ``medium`` from 30 to 90 days, ``low`` under 30 — the same for every customer.
"""

from __future__ import annotations

import polars as pl

from boxoffice.frames import require

RISKS = ("high", "medium", "low")


def churn_risk(
    frame: pl.DataFrame,
    *,
    high_below: float = 0.3,
    medium_below: float = 0.7,
    recency_days: tuple[int, int] = (30, 90),
) -> pl.DataFrame:
    """Add ``churn_risk`` (from ``p_alive``) and ``recency_risk`` (from ``days_since_last``)."""
    require(frame, ("p_alive", "days_since_last"))
    if not 0 < high_below <= medium_below <= 1:
        raise ValueError(
            f"need 0 < high_below <= medium_below <= 1, got {high_below}, {medium_below}"
        )
    low_days, high_days = recency_days
    if not 0 <= low_days <= high_days:
        raise ValueError(f"recency_days must be increasing, got {recency_days}")
    p, days = pl.col("p_alive"), pl.col("days_since_last")
    return frame.with_columns(
        pl.when(p < high_below)
        .then(pl.lit("high"))
        .when(p < medium_below)
        .then(pl.lit("medium"))
        .otherwise(pl.lit("low"))
        .alias("churn_risk"),
        pl.when(days > high_days)
        .then(pl.lit("high"))
        .when(days >= low_days)
        .then(pl.lit("medium"))
        .otherwise(pl.lit("low"))
        .alias("recency_risk"),
    )


def risk_crosstab(values: pl.DataFrame) -> pl.DataFrame:
    """Customers per (``churn_risk``, ``recency_risk``): where the model and the rule differ."""
    require(values, ("churn_risk", "recency_risk"))
    return (
        values.group_by("churn_risk", "recency_risk")
        .agg(pl.len().alias("customers"))
        .sort("churn_risk", "recency_risk")
    )


LIST_COLUMNS = [
    "customer_key", "segment", "churn_risk", "p_alive", "days_since_last", "frequency",
    "recency_risk", "clv_12m",
]  # fmt: skip


def at_risk_list(
    customers: pl.DataFrame,
    *,
    segments: list[str] | tuple[str, ...] = (),
    risks: list[str] | tuple[str, ...] = ("high",),
) -> pl.DataFrame:
    """The customers of the given segments (all when empty) and churn risks (all when empty),
    most valuable first (``clv_12m``, then ``customer_key``), with the drivers of their risk."""
    require(customers, LIST_COLUMNS)
    if unknown := sorted(set(risks) - set(RISKS)):
        raise ValueError(f"unknown churn risk(s) {unknown}; expected some of {list(RISKS)}")
    selected = customers
    if segments:
        selected = selected.filter(pl.col("segment").is_in(list(segments)))
    if risks:
        selected = selected.filter(pl.col("churn_risk").is_in(list(risks)))
    return selected.sort(["clv_12m", "customer_key"], descending=[True, False]).select(LIST_COLUMNS)
