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
# # Pricing
# Price elasticities, every upcoming event's demand score and — only with confidence — the
# price that maximizes expected revenue within the floor, cap and step, published as `pending`
# for a person to approve or reject (`boxoffice.tasks.pricing`).

# %% tags=["parameters"]
upstream = None  # from Ploomber: the tasks whose tables this one reads (tasks.run checks them)
product = None
as_of = None
tenants = None
inputs = None  # from boxoffice run: fingerprints of what it reads from outside the pipeline
overrides = None  # from pipeline.yaml: replaces defaults of boxoffice.tasks.pricing.Params

# %%
from IPython.display import Markdown, display

from boxoffice import tasks
from boxoffice.reports import charts

charts.use_notebook_renderer()
done = tasks.run(
    "pricing", as_of=as_of, tenants=tenants, upstream=upstream, inputs=inputs, params=overrides
)
done.rows

# %%
display(done.finished)  # recommendations expired, published and kept, per tenant
for tenant, frames in done.frames.items():
    display(Markdown(f"## Tenant `{tenant}`"))
    display(charts.elasticities(frames["analytics.price_elasticities"]))
    display(charts.demand_scores(frames["analytics.event_pricing"], frames["events"]))
    display(frames["recommended"])
