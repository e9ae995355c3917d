"""Pricing: price elasticity, demand score and bounded recommendations (their approval is the
warehouse's: :mod:`boxoffice.warehouse.pricing`)."""

from boxoffice.pricing import elasticity
from boxoffice.pricing.demand_score import demand_scores
from boxoffice.pricing.plan import current_prices, event_elasticities, price_events
from boxoffice.pricing.recommend import PriceRules, recommend_prices

__all__ = [
    "PriceRules",
    "current_prices",
    "demand_scores",
    "elasticity",
    "event_elasticities",
    "price_events",
    "recommend_prices",
]
