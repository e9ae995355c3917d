"""One pricing pass over a tenant's upcoming events: current price, demand score, elasticity
and a bounded recommendation per event (the ``pricing`` task; DataFrame in, DataFrame out).

* **Current price** (:func:`current_prices`): the newest approved price when it was approved
  after the event's last sale (the platform may not have sold at it yet), else the standard
  ticket price of the event's last day with a standard sale, else its base price.
* **Elasticity** of an event: its venue and category's estimate when identified, else its
  category's when identified, else none (then no recommendation).
"""

from __future__ import annotations

import polars as pl

from boxoffice.frames import require
from boxoffice.pricing.demand_score import demand_scores
from boxoffice.pricing.recommend import PriceRules, recommend_prices

EVENT_PRICING = (
    "event_id", "current_price_cents", "demand_score", "c_sell_through", "c_velocity", "c_pace",
    "c_scarcity", "c_urgency", "forecast", "elasticity", "elasticity_se", "elasticity_scope",
    "recommended_price_cents", "expected_tickets_current", "expected_tickets_recommended",
    "expected_revenue_current", "expected_revenue_recommended", "reason",
)  # fmt: skip


def current_prices(
    observations: pl.DataFrame, events: pl.DataFrame, approved: pl.DataFrame
) -> pl.DataFrame:
    """``event_id``, ``base_price_cents``, ``current_price_cents`` and ``price_source``
    (``"approved"``, ``"sales"`` or ``"base"``) for every event of ``events`` (``event_id``,
    ``base_price_cents``), from :func:`~boxoffice.pricing.elasticity.price_observations` and
    the approved prices
    (``event_id``, ``price_cents``, ``approved_at``)."""
    require(events, ("event_id", "base_price_cents"), "events")
    require(approved, ("event_id", "price_cents", "approved_at"), "approved")
    last_sale = (
        observations.sort("local_date")
        .group_by("event_id")
        .agg(pl.col("local_date").last().alias("sold_on"), pl.col("price").last().alias("sold_at"))
    )
    newest = approved.with_columns(pl.col("approved_at").dt.date().alias("approved_on"))
    return (
        events.select("event_id", "base_price_cents")
        .join(last_sale, on="event_id", how="left")
        .join(newest.select("event_id", "price_cents", "approved_on"), on="event_id", how="left")
        .with_columns(
            pl.when(
                pl.col("price_cents").is_not_null()
                & (pl.col("sold_on").is_null() | (pl.col("approved_on") >= pl.col("sold_on")))
            )
            .then(pl.struct(p=pl.col("price_cents"), s=pl.lit("approved")))
            .when(pl.col("sold_at").is_not_null())
            .then(pl.struct(p=pl.col("sold_at").round().cast(pl.Int64), s=pl.lit("sales")))
            .otherwise(pl.struct(p=pl.col("base_price_cents"), s=pl.lit("base")))
            .alias("chosen")
        )
        .select(
            "event_id",
            "base_price_cents",
            pl.col("chosen").struct.field("p").cast(pl.Int64).alias("current_price_cents"),
            pl.col("chosen").struct.field("s").alias("price_source"),
        )
    )


def event_elasticities(events: pl.DataFrame, estimates: pl.DataFrame) -> pl.DataFrame:
    """``event_id``, ``elasticity``, ``elasticity_se``, ``elasticity_ci_high`` and
    ``elasticity_scope`` (``"venue"``, ``"category"`` or null) per event of ``events``
    (``event_id``, ``venue_id``, ``category``), from
    :func:`~boxoffice.pricing.elasticity.estimate_elasticities`."""
    fits = estimates.filter(pl.col("identified")).select(
        "scope", "category", "venue_id", "elasticity", "std_error", "ci_high"
    )
    venue = fits.filter(pl.col("scope") == "venue").drop("scope")
    category = fits.filter(pl.col("scope") == "category").drop("scope", "venue_id")
    joined = events.select("event_id", "venue_id", "category").join(
        venue, on=["category", "venue_id"], how="left"
    )
    joined = joined.join(category, on="category", how="left", suffix="_category")
    use_venue = pl.col("elasticity").is_not_null()

    def pick(column: str) -> pl.Expr:
        return pl.when(use_venue).then(pl.col(column)).otherwise(pl.col(f"{column}_category"))

    return joined.select(
        "event_id",
        pick("elasticity").alias("elasticity"),
        pick("std_error").alias("elasticity_se"),
        pick("ci_high").alias("elasticity_ci_high"),
        pl.when(use_venue)
        .then(pl.lit("venue"))
        .when(pl.col("elasticity_category").is_not_null())
        .then(pl.lit("category"))
        .alias("elasticity_scope"),
    )


def price_events(
    performance: pl.DataFrame,
    pickups: pl.DataFrame,
    elasticities: pl.DataFrame,
    prices: pl.DataFrame,
    *,
    rules: PriceRules | None = None,
) -> pl.DataFrame:
    """One row per upcoming event (``days_to_event ≥ 0`` in ``performance``, from
    :func:`boxoffice.metrics.events.event_performance`) with the columns of
    ``analytics.event_pricing`` (:data:`EVENT_PRICING`) and ``base_price_cents``: demand score
    and its components, the elasticity used, the recommendation or the reason for none."""
    require(performance, ("event_id", "capacity", "sold", "days_to_event", "velocity"))
    require(pickups, ("event_id", "forecast", "pool_events"), "pickups")
    require(prices, ("event_id", "base_price_cents", "current_price_cents"), "prices")
    upcoming = (
        performance.filter(pl.col("days_to_event") >= 0)
        .select("event_id", "capacity", pl.col("sold").cast(pl.Float64).alias("held"),
                "days_to_event", "velocity")
        .join(pickups.select("event_id", "forecast", "pool_events"), on="event_id", how="left")
        .join(elasticities, on="event_id", how="left")
        .join(prices, on="event_id", how="inner")
    )  # fmt: skip
    scored = demand_scores(upcoming)
    recommended = recommend_prices(scored, rules).drop("current_price_cents")
    return scored.join(recommended, on="event_id", how="left").select(
        *EVENT_PRICING, "base_price_cents"
    )
