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
# # Sales report

# %% tags=["parameters"]
upstream = None
product = None
as_of = None
tenants = None

# %%
from IPython.display import Markdown, display

from boxoffice import forecast, metrics, warehouse
from boxoffice.pipeline import context
from boxoffice.reports import charts

charts.use_notebook_renderer()
run = context.parse(as_of=as_of, tenants=tenants)

# %%
for tenant in run.tenants:
    sales = warehouse.read_sales_daily(as_of=run.as_of, tenant=tenant)
    days = warehouse.read_customer_days(as_of=run.as_of, tenant=tenant)
    venues = warehouse.read_venues(as_of=run.as_of, tenant=tenant)
    event_sales = warehouse.read_event_sales(as_of=run.as_of, tenant=tenant)
    events = warehouse.read_events(as_of=run.as_of, tenant=tenant)
    period = metrics.sales.trailing_period(run.as_of, days=30)
    display(Markdown(f"## {venues['tenant_name'][0]}: the 30 days to {run.as_of}"))
    display(charts.kpi_tiles(metrics.sales.kpis(sales, days, *period)))
    weekly = metrics.sales.growth(metrics.sales.rollup(sales, "week"), "week")
    display(charts.revenue_trend(weekly, granularity="week"))
    display(charts.channel_mix(metrics.sales.channel_mix(sales, *period)))
    display(charts.category_mix(metrics.events.category_mix(event_sales, events, *period)))
    ranked = metrics.events.period_performance(event_sales, events, *period)
    display(charts.events_table(metrics.events.rank_events(ranked, n=5), title="Top 5 events"))
    bottom = metrics.events.rank_events(ranked, n=5, bottom=True)
    display(charts.events_table(bottom, title="Bottom 5 events"))
    display(charts.cohort_heatmap(metrics.cohorts.cohort_retention(days, run.as_of)))
    steps = metrics.funnel.funnel_steps(
        warehouse.read_funnel(as_of=run.as_of, tenant=tenant), *period
    )
    display(charts.funnel(steps, title="Conversion funnel, sessions of the last 30 days"))
    attributed = warehouse.read_attribution(as_of=run.as_of, tenant=tenant)
    if attributed.height:
        display(charts.attribution(attributed))
    daily = metrics.sales.rollup(sales, "day")
    try:
        projected = forecast.project(daily, date_col="period", end=run.as_of)
    except ValueError as exc:  # too little history yet
        display(Markdown(f"No projection: {exc}."))
    else:
        display(charts.projection(projected))
        display(charts.projection_totals(projected.totals))
