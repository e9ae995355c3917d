"""Forecasts: daily projections and venue demand with prediction intervals (statsmodels ETS),
pickup forecasts of upcoming events' final tickets, and rolling-origin backtests."""

from boxoffice.forecast.backtest import backtest_series, backtest_venues
from boxoffice.forecast.booking_curve import pickup_forecast
from boxoffice.forecast.projection import Projection, project
from boxoffice.forecast.venue_demand import daily_demand, forecast_series, forecast_venues

__all__ = [
    "Projection",
    "backtest_series",
    "backtest_venues",
    "daily_demand",
    "forecast_series",
    "forecast_venues",
    "pickup_forecast",
    "project",
]
