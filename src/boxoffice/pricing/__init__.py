"""Pricing: price elasticity, demand score, bounded recommendations and their approval."""

from boxoffice.pricing import elasticity

__all__ = ["elasticity"]
