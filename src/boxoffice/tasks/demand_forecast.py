"""``demand-forecast``: daily tickets sold and gross revenue per venue for the next ``horizon``
days (ETS with a weekly season, trend and damping by AICc, simpler fallbacks for short or flat
series; 80 % and 95 % intervals), every venue's series in parallel across the cores; how such
forecasts did on the history, from ``backtest_origins`` rolling origins (MASE against the
seasonal naive forecast, WAPE, interval coverage); and the final tickets of upcoming events by
the pickup method (past events of the same venue and category, at least ``min_events``)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from boxoffice import forecast
from boxoffice.tasks.base import Scope, Task
from boxoffice.warehouse import reads, schema


@dataclass(frozen=True)
class Params:
    horizon: int = 28  # days forecast past as_of
    backtest_origins: int = 4  # rolling origins, a week apart, for the backtest
    min_events: int = 3  # past events a pickup pool needs

    def __post_init__(self) -> None:
        if self.horizon < 1 or self.backtest_origins < 1 or self.min_events < 1:
            raise ValueError(
                "need horizon, backtest_origins and min_events ≥ 1, got"
                f" {self.horizon}, {self.backtest_origins} and {self.min_events}"
            )


def per_tenant(scope: Scope, params: Params) -> dict:
    demand = forecast.daily_demand(scope.read(reads.read_sales_daily), end=scope.as_of)
    events = scope.read(reads.read_events)
    pickups = forecast.pickup_forecast(
        scope.read(reads.read_event_sales), events, scope.as_of, min_events=params.min_events
    )
    forecasts = forecast.forecast_venues(demand, horizon=params.horizon)
    venues = scope.read(reads.read_venues)
    busiest = forecast.venue_demand.busiest_venue(demand)
    return {
        "analytics.demand_forecasts": forecasts,
        "analytics.forecast_backtests": forecast.backtest_venues(
            demand, horizon=params.horizon, origins=params.backtest_origins
        ),
        "analytics.event_forecasts": pickups,
        "demand": demand,
        "events": events,
        "venues": venues,
        "busiest": {  # the chart of the venue selling most
            "name": next(iter(venues.filter(pl.col("venue_id") == busiest)["name"]), ""),
            "demand": demand.filter(pl.col("venue_id") == busiest),
            "forecast": forecasts.filter(
                (pl.col("venue_id") == busiest) & (pl.col("measure") == "tickets_sold")
            ),
        },
    }


TASK = Task(
    name="demand-forecast",
    params=Params,
    reads=(
        "analytics.sales_daily",
        "analytics.events",
        "analytics.event_sales_daily",
        "analytics.venues",
    ),
    writes=(schema.demand_forecasts, schema.forecast_backtests, schema.event_forecasts),
    per_tenant=per_tenant,
)
