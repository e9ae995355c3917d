"""Metrics: definitions (grain, formula, edge cases) in each module's docstring and in
docs/metrics.md."""

from boxoffice.metrics import events, sales

__all__ = ["events", "sales"]
