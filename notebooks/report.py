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

from boxoffice import metrics, warehouse
from boxoffice.pipeline import context
from boxoffice.reports import charts

charts.use_notebook_renderer()
run = context.parse(as_of=as_of, tenants=tenants)

# %%
for tenant in run.tenants:
    sales = warehouse.read_sales_daily(as_of=run.as_of, tenant=tenant)
    days = warehouse.read_customer_days(as_of=run.as_of, tenant=tenant)
    venues = warehouse.read_venues(as_of=run.as_of, tenant=tenant)
    period = metrics.sales.trailing_period(run.as_of, days=30)
    display(Markdown(f"## {venues['tenant_name'][0]}: the 30 days to {run.as_of}"))
    display(charts.kpi_tiles(metrics.sales.kpis(sales, days, *period)))
    display(charts.revenue_trend(metrics.sales.rollup(sales, "week"), granularity="week"))
    display(charts.channel_mix(metrics.sales.channel_mix(sales, *period)))
