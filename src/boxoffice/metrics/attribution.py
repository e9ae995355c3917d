"""Attribution of order revenue to the campaign touches that preceded it (docs/metrics.md,
"Attribution").

An order's touches are its customer's campaign touches in the ``lookback_days`` before the
order (inclusive of the order's instant). Each model gives every touch a weight, the weights
of an order sum to 1, and the order's revenue is split by them:

* ``first_touch`` — all to the earliest touch; ``last_touch`` — all to the latest;
* ``linear`` — ``1/n`` to each of the ``n`` touches;
* ``time_decay`` — ``w_i ∝ 2^(−Δ_i / half_life)``, ``Δ_i`` the days from the touch to the
  order: a touch ``half_life`` days older counts half as much;
* ``position_based`` (U-shaped, 40/20/40) — 40 % to the first and 40 % to the last touch and
  20 % shared equally by those between; with two touches 50/50, with one 100 %.

Orders without any touch in the window go to the campaign ``"(none)"``, so the attributed
revenue always adds up to the revenue of the orders. Shares are turned into whole cents per
order by the largest-remainder method (Hamilton), so every order's parts add up to its
revenue **to the cent**. Ties in touch time are broken by campaign, then channel.

In the pipeline (task ``attribution``) the orders are those created in the ``days`` UTC days
ending ``as_of`` and an order's revenue is its tickets' ``price_cents`` at sale (fees are not
the venue's revenue; later refunds do not change what a campaign brought in), read by
:func:`boxoffice.warehouse.reads.read_attribution_inputs` with customers as ``customer_key``
only.
"""

from __future__ import annotations

import polars as pl

from boxoffice.frames import require

MODELS = ("first_touch", "last_touch", "linear", "time_decay", "position_based")
NO_TOUCH = "(none)"
MS_PER_DAY = 86_400_000


def attribute(
    orders: pl.DataFrame,
    touches: pl.DataFrame,
    *,
    model: str,
    lookback_days: int = 30,
    half_life_days: float = 7.0,
) -> pl.DataFrame:
    """Split each order's revenue over its touches; one row per order and touch with
    ``order_id``, ``campaign``, ``channel``, ``weight`` and ``revenue_cents`` (integers).

    ``orders``: ``order_id``, ``customer_key``, ``ordered_at`` (datetime), ``revenue_cents``;
    ``touches``: ``customer_key``, ``campaign``, ``channel``, ``touched_at`` (datetime).
    """
    require(orders, ("order_id", "customer_key", "ordered_at", "revenue_cents"), "orders")
    require(touches, ("customer_key", "campaign", "channel", "touched_at"), "touches")
    if model not in MODELS:
        raise ValueError(f"unknown attribution model {model!r}; expected one of {list(MODELS)}")
    if lookback_days < 0:
        raise ValueError(f"lookback_days must be ≥ 0, got {lookback_days}")
    if not half_life_days > 0:
        raise ValueError(f"half_life_days must be > 0, got {half_life_days}")
    window = pl.duration(days=lookback_days)
    matched = (
        orders.select("order_id", "customer_key", "ordered_at", "revenue_cents")
        .join(
            touches.select("customer_key", "campaign", "channel", "touched_at"), on="customer_key"
        )
        .filter(
            (pl.col("touched_at") <= pl.col("ordered_at"))
            & (pl.col("touched_at") >= pl.col("ordered_at") - window)
        )
        .sort("order_id", "touched_at", "campaign", "channel")
        .with_columns(
            pl.int_range(pl.len()).over("order_id").alias("position"),
            pl.len().over("order_id").alias("n"),
        )
    )
    weighted = matched.with_columns(_weight(model, half_life_days).alias("weight")).select(
        "order_id", "revenue_cents", "campaign", "channel", "weight", "position"
    )
    untouched = orders.join(matched.select("order_id").unique(), on="order_id", how="anti")
    none = untouched.select(
        "order_id",
        "revenue_cents",
        pl.lit(NO_TOUCH).alias("campaign"),
        pl.lit(NO_TOUCH).alias("channel"),
        pl.lit(1.0).alias("weight"),
        pl.lit(0, pl.UInt32).alias("position"),
    )
    parts = pl.concat([weighted.cast({"position": pl.UInt32}), none]).filter(pl.col("weight") > 0)
    return _to_cents(parts).sort("order_id", "position").drop("position")


def by_campaign(attributed: pl.DataFrame) -> pl.DataFrame:
    """Attributed revenue (cents) and fractional orders per campaign and channel, with each
    one's share of the revenue; largest first."""
    out = (
        attributed.group_by("campaign", "channel")
        .agg(pl.col("revenue_cents").sum(), pl.col("weight").sum().alias("orders"))
        .sort(["revenue_cents", "campaign", "channel"], descending=[True, False, False])
    )
    total = out["revenue_cents"].sum()
    return out.with_columns(
        (pl.col("revenue_cents") / total if total else pl.lit(None, pl.Float64)).alias("share")
    )


def campaign_attribution(
    orders: pl.DataFrame,
    touches: pl.DataFrame,
    *,
    lookback_days: int = 30,
    half_life_days: float = 7.0,
) -> pl.DataFrame:
    """:func:`by_campaign` of every model in :data:`MODELS`, one row per model, campaign and
    channel (``model`` first); each model's ``revenue_cents`` add up to the orders' revenue."""
    return pl.concat(
        [
            by_campaign(
                attribute(
                    orders,
                    touches,
                    model=model,
                    lookback_days=lookback_days,
                    half_life_days=half_life_days,
                )
            ).select(pl.lit(model).alias("model"), pl.all())
            for model in MODELS
        ]
    ).with_columns(
        pl.lit(lookback_days, pl.Int32).alias("lookback_days"),
        pl.lit(float(half_life_days)).alias("half_life_days"),
    )


def _weight(model: str, half_life_days: float) -> pl.Expr:
    position, n = pl.col("position"), pl.col("n")
    first, last = position == 0, position == n - 1
    if model == "first_touch":
        return first.cast(pl.Float64)
    if model == "last_touch":
        return last.cast(pl.Float64)
    if model == "linear":
        return 1.0 / n
    if model == "time_decay":
        age = (pl.col("ordered_at") - pl.col("touched_at")).dt.total_milliseconds() / MS_PER_DAY
        raw = (2.0 ** (-age / half_life_days)).alias("raw")
        return raw / raw.sum().over("order_id")
    # position_based
    return (
        pl.when(n == 1)
        .then(1.0)
        .when(n == 2)
        .then(0.5)
        .when(first | last)
        .then(0.4)
        .otherwise(0.2 / (n - 2))
    )


def _to_cents(parts: pl.DataFrame) -> pl.DataFrame:
    """Whole cents per part, each order's parts adding up to its revenue (largest remainder:
    floor every share, then give the missing cents to the largest remainders, earliest touch
    first on ties)."""
    exact = pl.col("revenue_cents") * pl.col("weight")
    floored = parts.with_columns(
        exact.floor().cast(pl.Int64).alias("floor"),
        (exact - exact.floor()).alias("remainder"),
    )
    ranked = floored.sort(
        ["order_id", "remainder", "position"], descending=[False, True, False]
    ).with_columns(
        (pl.col("revenue_cents") - pl.col("floor").sum().over("order_id")).alias("missing"),
        (pl.int_range(pl.len()).over("order_id") + 1).alias("rank"),
    )
    return ranked.with_columns(
        (pl.col("floor") + (pl.col("rank") <= pl.col("missing")).cast(pl.Int64)).alias(
            "revenue_cents"
        )
    ).select("order_id", "campaign", "channel", "weight", "revenue_cents", "position")
