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
# Daily tickets and revenue per venue, local day and channel (`analytics.sales_daily`) and the
# customer activity days behind distinct-customer counts (`analytics.customer_days`), replacing
# this run's `(tenant, as_of)` partitions in one transaction.

# %% tags=["parameters"]
upstream = None
product = None
as_of = None
tenants = None

# %%
from boxoffice import metrics, warehouse
from boxoffice.pipeline import context

run = context.parse(as_of=as_of, tenants=tenants)
written = warehouse.replace_partitions(
    metrics.sales.daily_queries(), as_of=run.as_of, tenants=run.tenants
)
written
