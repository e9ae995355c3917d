"""Metrics: definitions (grain, formula, edge cases) in each module's docstring and in
docs/metrics.md."""

from boxoffice.metrics import attribution, cohorts, events, funnel, sales

__all__ = ["attribution", "cohorts", "events", "funnel", "sales"]
