"""RFM: recency, frequency and monetary scores from 1 (worst) to 5 (best), and named segments.

Scores are quintiles (Hughes, *Strategic Database Marketing*, 1994): with ``n`` customers and
``below`` the number of customers whose value is strictly worse,

    score = 1 + ⌊5 · below / n⌋,

so each score holds a fifth of the customers when values are distinct, and **tied customers
share a score** (the lower one of the ranks they span) — deterministic and independent of row
order. The values scored:

- recency: ``days_since_last`` (fewer days is better, so the order is reversed);
- frequency: ``purchases`` (purchase occasions: repeat purchases + 1);
- monetary: ``total_value`` (all purchase occasions).

Segments come from the recency score and ``fm = ⌈(f + m) / 2⌉`` through a 5 × 5 map
(:data:`SEGMENT_MAP`, configurable): every (r, f, m) triple lands in exactly one segment. The
names follow common practice (e.g. Putler's RFM segments): Champions, Loyal, Potential
Loyalist, New, Promising, Need Attention, About to Sleep, At Risk, Can't Lose Them,
Hibernating, Lost.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from boxoffice.frames import require

BINS = 5
# rows: recency score 5 (recent) .. 1; columns: fm score 1 .. 5
_GRID = {
    5: ["New", "Promising", "Potential Loyalist", "Champions", "Champions"],
    4: ["Promising", "Promising", "Potential Loyalist", "Loyal", "Champions"],
    3: ["About to Sleep", "About to Sleep", "Need Attention", "Loyal", "Loyal"],
    2: ["Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"],
    1: ["Lost", "Lost", "Hibernating", "At Risk", "Can't Lose Them"],
}
SEGMENT_MAP: dict[tuple[int, int], str] = {
    (r, fm): name for r, row in _GRID.items() for fm, name in enumerate(row, start=1)
}
SEGMENTS = tuple(dict.fromkeys(SEGMENT_MAP.values()))


def quintile_score(values: pl.Expr, *, higher_is_better: bool = True, bins: int = BINS) -> pl.Expr:
    """``1 + ⌊bins · below / n⌋``, ``below`` = customers strictly worse (ties share a score)."""
    key = values if higher_is_better else -values
    below = key.rank(method="min") - 1
    return (1 + (bins * below) // pl.len()).cast(pl.Int8)


def score_rfm(
    summary: pl.DataFrame,
    *,
    segment_map: Mapping[tuple[int, int], str] = SEGMENT_MAP,
    customer_col: str = "customer_key",
) -> pl.DataFrame:
    """Add ``r``, ``f``, ``m`` (1–5), ``fm`` and ``segment`` to a customer summary.

    ``summary`` needs ``days_since_last``, ``purchases`` and ``total_value`` (as made by
    :func:`~boxoffice.customers.summary.summarize_customers`). ``segment_map`` maps every
    (recency score, fm score) pair to a segment name; a pair it lacks is an error.
    """
    require(summary, [customer_col, "days_since_last", "purchases", "total_value"])
    if missing := sorted({(r, fm) for r in range(1, 6) for fm in range(1, 6)} - set(segment_map)):
        raise ValueError(f"segment_map lacks the (r, fm) pair(s) {missing}")
    if summary.is_empty():
        return summary.with_columns(
            pl.lit(None, pl.Int8).alias(c) for c in ("r", "f", "m", "fm")
        ).with_columns(pl.lit(None, pl.String).alias("segment"))
    scored = summary.with_columns(
        quintile_score(pl.col("days_since_last"), higher_is_better=False).alias("r"),
        quintile_score(pl.col("purchases")).alias("f"),
        quintile_score(pl.col("total_value")).alias("m"),
    ).with_columns(((pl.col("f") + pl.col("m") + 1) // 2).cast(pl.Int8).alias("fm"))
    lookup = pl.DataFrame(
        {
            "r": [k[0] for k in segment_map],
            "fm": [k[1] for k in segment_map],
            "segment": list(segment_map.values()),
        },
        schema={"r": pl.Int8, "fm": pl.Int8, "segment": pl.String},
    )
    return scored.join(lookup, on=["r", "fm"], how="left", maintain_order="left")


def segment_summary(scores: pl.DataFrame) -> pl.DataFrame:
    """One row per segment: customers, revenue (``total_value``), average order value
    (revenue ÷ purchase occasions) and each segment's share of customers and of revenue."""
    require(scores, ("segment", "purchases", "total_value"))
    return (
        scores.group_by("segment")
        .agg(
            pl.len().alias("customers"),
            pl.col("total_value").sum().alias("revenue"),
            pl.col("purchases").sum().alias("purchases"),
        )
        .with_columns(
            (pl.col("revenue") / pl.col("purchases")).alias("average_order_value"),
            (pl.col("customers") / pl.col("customers").sum()).alias("share_of_customers"),
            (pl.col("revenue") / pl.col("revenue").sum()).alias("share_of_revenue"),
        )
        .sort("revenue", descending=True)
    )


NEW_CUSTOMER = "(new)"


def segment_movement(
    previous: pl.DataFrame, current: pl.DataFrame, *, customer_col: str = "customer_key"
) -> pl.DataFrame:
    """Customers per (``previous_segment``, ``segment``) between two runs' scores; customers
    absent from the previous run come from :data:`NEW_CUSTOMER`. Sorted by count."""
    require(previous, [customer_col, "segment"])
    require(current, [customer_col, "segment"])
    before = previous.select(customer_col, pl.col("segment").alias("previous_segment"))
    return (
        current.select(customer_col, "segment")
        .join(before, on=customer_col, how="left")
        .with_columns(pl.col("previous_segment").fill_null(NEW_CUSTOMER))
        .group_by("previous_segment", "segment")
        .agg(pl.len().alias("customers"))
        .sort(["customers", "previous_segment", "segment"], descending=[True, False, False])
    )
