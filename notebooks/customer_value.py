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
# # Customer value
# BG/NBD (purchases and dropout) and Gamma-Gamma (spend) fitted by maximum likelihood per
# tenant on the daily customer summary (stored by the rfm task); each customer's P(alive),
# expected purchases in the next 90 days, expected spend, 12-month CLV and churn risk go to
# `analytics.customer_value`, the fitted parameters with standard errors to
# `analytics.customer_models`.

# %% tags=["parameters"]
upstream = None
product = None
as_of = None
tenants = None
months = 12
monthly_discount = 0.01

# %%
from IPython.display import Markdown, display

from boxoffice import customers, warehouse
from boxoffice.pipeline import context
from boxoffice.reports import charts
from boxoffice.warehouse import schema

charts.use_notebook_renderer()
run = context.parse(as_of=as_of, tenants=tenants)

# %%
results = {}
with warehouse.partition_writer(as_of=run.as_of) as writer:  # writes while the next computes
    for tenant in run.tenants:
        summary = warehouse.read_scored_summary(as_of=run.as_of, tenant=tenant)
        results[tenant] = customers.value_customers(
            summary, months=months, monthly_discount=monthly_discount
        )
        writer.write(schema.customer_value, tenant, results[tenant].values)
        writer.write(schema.customer_models, tenant, results[tenant].models)
writer.written

# %%
for tenant, result in results.items():
    display(Markdown(f"## Tenant `{tenant}`"))
    display(result.models)
    display(charts.clv_distribution(result.values))
    display(customers.risk_crosstab(result.values))
