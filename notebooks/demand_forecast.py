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
# Daily tickets and revenue per venue for the next `horizon` days (ETS), their backtest from
# rolling origins, and the final tickets of upcoming events by the pickup method
# (`boxoffice.tasks.demand_forecast`).

# %% tags=["parameters"]
upstream = None  # from Ploomber: the tasks whose tables this one reads (tasks.run checks them)
product = None
as_of = None
tenants = None
inputs = None  # from boxoffice run: fingerprints of what it reads from outside the pipeline
overrides = None  # from pipeline.yaml: replaces defaults of boxoffice.tasks.demand_forecast.Params

# %%
from IPython.display import Markdown, display

from boxoffice import tasks
from boxoffice.reports import charts

charts.use_notebook_renderer()
done = tasks.run(
    "demand-forecast",
    as_of=as_of,
    tenants=tenants,
    upstream=upstream,
    inputs=inputs,
    params=overrides,
)
done.rows

# %%
for frames in done.frames.values():
    venues, busiest = frames["venues"], frames["busiest"]
    display(Markdown(f"## {venues['tenant_name'][0]}"))
    if busiest["demand"].height:
        display(
            charts.demand_forecast(
                busiest["demand"],
                busiest["forecast"],
                measure="tickets_sold",
                title=f"{busiest['name']}: tickets sold per day, actual and forecast",
            )
        )
    display(charts.backtest_accuracy(frames["analytics.forecast_backtests"], venues))
    display(charts.event_forecasts(frames["analytics.event_forecasts"], frames["events"]))
