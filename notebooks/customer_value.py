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
# BG/NBD (purchases and dropout) and Gamma-Gamma (spend) fitted per tenant; each customer's
# P(alive), expected purchases and spend, CLV and churn risk (`boxoffice.tasks.customer_value`).

# %% tags=["parameters"]
upstream = None  # from Ploomber: the tasks whose tables this one reads (tasks.run checks them)
product = None
as_of = None
tenants = None
inputs = None  # from boxoffice run: fingerprints of what it reads from outside the pipeline
overrides = None  # from pipeline.yaml: replaces defaults of boxoffice.tasks.customer_value.Params

# %%
from IPython.display import Markdown, display

from boxoffice import tasks
from boxoffice.reports import charts

charts.use_notebook_renderer()
done = tasks.run(
    "customer-value",
    as_of=as_of,
    tenants=tenants,
    upstream=upstream,
    inputs=inputs,
    params=overrides,
)
done.rows

# %%
for tenant, frames in done.frames.items():
    display(Markdown(f"## Tenant `{tenant}`"))
    display(frames["analytics.customer_models"])
    display(charts.clv_distribution(frames["analytics.customer_value"]))
    display(frames["risk"])
