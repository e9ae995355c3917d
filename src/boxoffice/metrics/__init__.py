"""Metrics: definitions (grain, formula, edge cases) in each module's docstring."""

from boxoffice.metrics import sales

__all__ = ["sales"]
