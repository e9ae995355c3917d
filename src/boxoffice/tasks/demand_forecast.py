"""``demand-forecast``: daily tickets sold and gross revenue per venue for the next ``horizon``
days (ETS with a weekly season, trend and damping by AICc, simpler fallbacks for short or flat
series; 80 % and 95 % intervals), every venue's series in parallel across the cores; how such
forecasts did on the history, from ``backtest_origins`` rolling origins (MASE against the
seasonal naive forecast, WAPE, interval coverage); and the final tickets of upcoming events by
the pickup method (past events of the same venue and category, at least ``min_events``); and
the tenant's daily net revenue projected 30 and 90 days ahead, which pages and reports read
instead of fitting it when they are viewed."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from boxoffice import config, forecast, metrics
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
    sales = scope.read(reads.read_sales_daily)
    demand = forecast.daily_demand(sales, end=scope.as_of)
    events = scope.read(reads.read_events)
    pickups = forecast.pickup_forecast(
        scope.read(reads.read_event_sales), events, scope.as_of, min_events=params.min_events
    )
    workers = config.settings().workers  # the task's share of the cores (boxoffice run)
    forecasts = forecast.forecast_venues(demand, horizon=params.horizon, workers=workers)
    projected, totals = _projection(sales, scope.as_of)
    venues = scope.read(reads.read_venues)
    busiest = forecast.venue_demand.busiest_venue(demand)
    return {
        "analytics.demand_forecasts": forecasts,
        "analytics.forecast_backtests": forecast.backtest_venues(
            demand, horizon=params.horizon, origins=params.backtest_origins, workers=workers
        ),
        "analytics.event_forecasts": pickups,
        "analytics.revenue_projections": projected,
        "analytics.revenue_projection_totals": totals,
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


def _projection(sales: pl.DataFrame, as_of) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The tenant's daily net revenue, all venues, projected past ``as_of``
    (:func:`boxoffice.forecast.project`), as rows; none when the history is too short."""
    daily = metrics.sales.rollup(sales, "day")
    try:
        projected = forecast.project(daily, date_col="period", end=as_of)
    except ValueError:  # too little history yet: the pages say so
        return _EMPTY_PROJECTION
    return forecast.projection.to_rows(projected)


_BOUNDS = {c: pl.Float64 for c in ("mean", "lower_80", "upper_80", "lower_95", "upper_95")}
_EMPTY_PROJECTION = (
    pl.DataFrame(schema={"date": pl.Date, **_BOUNDS, "model": pl.String, "aicc": pl.Float64}),
    pl.DataFrame(schema={"days": pl.Int64, **_BOUNDS}),
)


TASK = Task(
    name="demand-forecast",
    params=Params,
    reads=(
        "analytics.sales_daily",
        "analytics.events",
        "analytics.event_sales_daily",
        "analytics.venues",
    ),
    writes=(
        schema.demand_forecasts,
        schema.forecast_backtests,
        schema.event_forecasts,
        schema.revenue_projections,
        schema.revenue_projection_totals,
    ),
    per_tenant=per_tenant,
)
