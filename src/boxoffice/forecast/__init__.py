"""Forecasts: daily projections with prediction intervals (statsmodels ETS)."""

from boxoffice.forecast.projection import Projection, project

__all__ = ["Projection", "project"]
