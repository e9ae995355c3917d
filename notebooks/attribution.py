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
# # Attribution
# The revenue of the orders of the last `days` days split over the campaign touches of the
# `lookback_days` before each order, under five models (first touch, last touch, linear, time
# decay with `half_life_days`, position based 40/20/40), written to `analytics.attribution`.
# Orders without a touch go to "(none)": every model adds up to the orders' revenue, to the
# cent. Definitions: `docs/metrics.md`, "Attribution".

# %% tags=["parameters"]
upstream = None
product = None
as_of = None
tenants = None
days = 90
lookback_days = 30
half_life_days = 7.0

# %%
import polars as pl
from IPython.display import Markdown, display

from boxoffice import metrics, warehouse
from boxoffice.pipeline import context
from boxoffice.reports import charts
from boxoffice.warehouse import schema

charts.use_notebook_renderer()
run = context.parse(as_of=as_of, tenants=tenants)

# %%
attributed = {}
for tenant in run.tenants:
    orders, touches = warehouse.read_attribution_inputs(
        as_of=run.as_of, tenant=tenant, days=int(days), lookback_days=int(lookback_days)
    )
    attributed[tenant] = metrics.attribution.campaign_attribution(
        orders, touches, lookback_days=int(lookback_days), half_life_days=float(half_life_days)
    )
warehouse.write_partitions(schema.attribution, attributed, as_of=run.as_of)

# %%
for tenant, frame in attributed.items():
    totals = frame.group_by("model").agg(pl.col("revenue_cents").sum()).sort("model")
    display(Markdown(f"## Tenant `{tenant}`"))
    display(totals)
    display(charts.attribution(frame))
