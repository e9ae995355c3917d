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
# # Sales aggregates
# Hourly and daily tickets and revenue per venue, event, channel and ticket type in the venue's
# local time (`analytics.sales_hourly`, `analytics.sales_daily`) and the customer activity
# days behind distinct-customer counts (`analytics.customer_days`), kept current: only the days
# whose tickets changed since the last run are recomputed (a tenant's first run rebuilds all);
# then this run's venue and event dimensions (`analytics.venues`, `analytics.events`).
# Definitions: `docs/metrics.md`.

# %% tags=["parameters"]
upstream = None
product = None
as_of = None
tenants = None
source_changes = None  # the sales change mark: new or changed tickets make this task run again
full = False  # rebuild every day instead of the changed ones

# %%
import polars as pl

from boxoffice import metrics, warehouse
from boxoffice.pipeline import context

run = context.parse(as_of=as_of, tenants=tenants)
refreshed = warehouse.refresh_sales(run.tenants, full=bool(full))
dimensions = warehouse.replace_partitions(
    metrics.sales.dimension_queries(), as_of=run.as_of, tenants=run.tenants
)
pl.DataFrame(
    {
        "tenant": [r.tenant for r in refreshed],
        "mode": [r.mode for r in refreshed],
        "days recomputed": [None if r.days is None else len(r.days) for r in refreshed],
        **{table: [r.rows.get(table, 0) for r in refreshed] for table, _ in metrics.sales.REFRESH},
    }
)
