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
# local time and the customer activity days, kept current (only the changed days recomputed);
# then the run's venue and event dimensions (`boxoffice.tasks.sales_aggregates`).

# %% tags=["parameters"]
upstream = None  # from Ploomber: the tasks whose tables this one reads (tasks.run checks them)
product = None
as_of = None
tenants = None
inputs = None  # from boxoffice run: fingerprints of what it reads from outside the pipeline
overrides = None  # from pipeline.yaml: replaces defaults of boxoffice.tasks.sales_aggregates.Params

# %%
from IPython.display import display

from boxoffice import tasks
from boxoffice.reports import charts

charts.use_notebook_renderer()
done = tasks.run(
    "sales-aggregates",
    as_of=as_of,
    tenants=tenants,
    upstream=upstream,
    inputs=inputs,
    params=overrides,
)
done.rows

# %%
display(done.finished)  # the refresh, per tenant
