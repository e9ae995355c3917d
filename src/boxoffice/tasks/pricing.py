"""``pricing``: price elasticity per category and per venue (log-log, within events); for every
upcoming event its current price, demand score (five components) and — only with confidence —
the price that maximizes expected revenue within the floor, cap and step; then the
recommendations published as ``pending`` for a person to approve or reject (``boxoffice
pricing``, the pricing dashboard), superseding the pending ones of earlier runs."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from boxoffice import metrics, pricing
from boxoffice.tasks.base import Outcome, Scope, Task
from boxoffice.warehouse import pricing as published
from boxoffice.warehouse import reads, schema


@dataclass(frozen=True)
class Params:
    floor: float = pricing.PriceRules.floor  # × base price
    cap: float = pricing.PriceRules.cap  # × base price
    max_step: float = pricing.PriceRules.max_step  # largest change per recommendation
    valid_days: int = 7  # a recommendation not decided in this many days expires

    def __post_init__(self) -> None:
        _ = self.rules  # PriceRules checks floor, cap and step
        if self.valid_days < 1:
            raise ValueError(f"valid_days must be at least 1, got {self.valid_days}")

    @property
    def rules(self) -> pricing.PriceRules:
        return pricing.PriceRules(floor=self.floor, cap=self.cap, max_step=self.max_step)


def per_tenant(scope: Scope, params: Params) -> dict:
    events = scope.read(reads.read_events)
    observations = pricing.elasticity.price_observations(
        scope.read(reads.read_ticket_type_sales), events
    )
    estimates = pricing.elasticity.estimate_elasticities(observations)
    approved = scope.read(published.read_approved_prices, role="pipeline")
    priced = pricing.price_events(
        metrics.events.event_performance(scope.read(reads.read_event_sales), events, scope.as_of),
        scope.read(reads.read_event_forecasts),
        pricing.event_elasticities(events, estimates),
        pricing.current_prices(observations, events, approved),
        rules=params.rules,
    )
    return {
        "analytics.price_elasticities": estimates.with_columns(
            pl.col("venue_id").fill_null("").alias("venue_key")
        ),
        "analytics.event_pricing": priced,
        "events": events,
        "recommended": priced.drop_nulls("recommended_price_cents")
        .join(events.select("event_id", "name", "start_date"), on="event_id")
        .select("name", "start_date", "current_price_cents", "recommended_price_cents",
                "demand_score", "reason")
        .sort("start_date"),
    }  # fmt: skip


def publish(outcome: Outcome) -> dict[str, dict[str, int]]:
    """Publish every tenant's recommendations once its partitions are committed: counts of
    expired, published and kept recommendations per tenant."""
    as_of = outcome.run.as_of
    counts = {}
    for tenant, frames in outcome.frames.items():
        events = frames["events"]
        counts[tenant] = published.publish_recommendations(
            frames["analytics.event_pricing"].drop_nulls("recommended_price_cents"),
            tenant=tenant,
            as_of=as_of,
            valid_days=outcome.params.valid_days,
            started=events.filter(pl.col("start_date") <= as_of)["event_id"].to_list(),
        )
    return counts


TASK = Task(
    name="pricing",
    params=Params,
    reads=(
        "analytics.events",
        "analytics.event_sales_daily",
        "analytics.event_forecasts",
        "analytics.approved_prices",
    ),
    writes=(schema.price_elasticities, schema.event_pricing),
    loads=("analytics.price_recommendations",),  # published (and expired) by ``publish``
    per_tenant=per_tenant,
    finish=publish,
)
