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
# `lookback_days` before each order, under five models; every model adds up to the orders'
# revenue, to the cent (`boxoffice.tasks.attribution`; definitions: `docs/metrics.md`).

# %% tags=["parameters"]
upstream = None  # from Ploomber: the tasks whose tables this one reads (tasks.run checks them)
product = None
as_of = None
tenants = None
inputs = None  # from boxoffice run: fingerprints of what it reads from outside the pipeline
overrides = None  # from pipeline.yaml: replaces defaults of boxoffice.tasks.attribution.Params

# %%
from IPython.display import Markdown, display

from boxoffice import tasks
from boxoffice.reports import charts

charts.use_notebook_renderer()
done = tasks.run(
    "attribution", as_of=as_of, tenants=tenants, upstream=upstream, inputs=inputs, params=overrides
)
done.rows

# %%
for tenant, frames in done.frames.items():
    display(Markdown(f"## Tenant `{tenant}`"))
    display(frames["totals"])
    display(charts.attribution(frames["analytics.attribution"]))
