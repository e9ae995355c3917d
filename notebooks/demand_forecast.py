# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Demand forecasts
# Daily tickets sold and gross revenue per venue for the next `horizon` days (ETS with a weekly
# season, trend and damping by AICc, simpler fallbacks for short or flat series; 80 % and 95 %
# intervals), every venue's series in parallel across the cores → `analytics.demand_forecasts`;
# how such forecasts did on the history, from `backtest_origins` rolling origins (MASE against
# the seasonal naive forecast, WAPE, interval coverage) → `analytics.forecast_backtests`; and
# the final tickets of upcoming events by the pickup method (past events of the same venue and
# category) → `analytics.event_forecasts`.

# %% tags=["parameters"]
upstream = None
product = None
as_of = None
tenants = None
horizon = 28
backtest_origins = 4
min_events = 3

# %%
import polars as pl
from IPython.display import Markdown, display

from boxoffice import forecast, warehouse
from boxoffice.pipeline import context
from boxoffice.reports import charts
from boxoffice.warehouse import schema

charts.use_notebook_renderer()
run = context.parse(as_of=as_of, tenants=tenants)

# %%
# venue ids are unique across tenants: every tenant's series go through one process pool
demand = pl.concat(
    [
        forecast.daily_demand(
            warehouse.read_sales_daily(as_of=run.as_of, tenant=t), end=run.as_of
        ).with_columns(pl.lit(t).alias("tenant"))
        for t in run.tenants
    ]
)
forecasts = forecast.forecast_venues(demand, horizon=int(horizon))
backtests = forecast.backtest_venues(demand, horizon=int(horizon), origins=int(backtest_origins))
owner = demand.select("venue_id", "tenant").unique()
events, pickups = {}, {}
for tenant in run.tenants:
    events[tenant] = warehouse.read_events(as_of=run.as_of, tenant=tenant)
    pickups[tenant] = forecast.pickup_forecast(
        warehouse.read_event_sales(as_of=run.as_of, tenant=tenant),
        events[tenant],
        run.as_of,
        min_events=int(min_events),
    )


def of(frame: pl.DataFrame, tenant: str) -> pl.DataFrame:
    return frame.join(owner, on="venue_id").filter(pl.col("tenant") == tenant).drop("tenant")


with warehouse.partition_writer(as_of=run.as_of) as writer:
    for tenant in run.tenants:
        writer.write(schema.demand_forecasts, tenant, of(forecasts, tenant))
        writer.write(schema.forecast_backtests, tenant, of(backtests, tenant))
        writer.write(schema.event_forecasts, tenant, pickups[tenant])
writer.written

# %%
for tenant in run.tenants:
    venues = warehouse.read_venues(as_of=run.as_of, tenant=tenant)
    display(Markdown(f"## {venues['tenant_name'][0]}"))
    busiest = forecast.venue_demand.busiest_venue(of(demand, tenant))
    name = venues.filter(pl.col("venue_id") == busiest)["name"][0]
    display(
        charts.demand_forecast(
            demand.filter(pl.col("venue_id") == busiest),
            forecasts.filter(
                (pl.col("venue_id") == busiest) & (pl.col("measure") == "tickets_sold")
            ),
            measure="tickets_sold",
            title=f"{name}: tickets sold per day, actual and forecast",
        )
    )
    display(charts.backtest_accuracy(of(backtests, tenant), venues))
    display(charts.event_forecasts(pickups[tenant], events[tenant]))
