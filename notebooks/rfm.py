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
# # RFM segments
# Each customer's recency, frequency and monetary scores (quintiles, 1–5) and segment, from the
# purchase days in `analytics.customer_days`, with a segment summary (`boxoffice.tasks.rfm`).

# %% tags=["parameters"]
upstream = None  # from Ploomber: the tasks whose tables this one reads (tasks.run checks them)
product = None
as_of = None
tenants = None
inputs = None  # from boxoffice run: fingerprints of what it reads from outside the pipeline
overrides = None  # from pipeline.yaml: replaces defaults of boxoffice.tasks.rfm.Params

# %%
from IPython.display import Markdown, display

from boxoffice import tasks
from boxoffice.reports import charts

charts.use_notebook_renderer()
done = tasks.run(
    "rfm", as_of=as_of, tenants=tenants, upstream=upstream, inputs=inputs, params=overrides
)
done.rows

# %%
for tenant, frames in done.frames.items():
    segments = frames["analytics.customer_segments"]
    display(Markdown(f"## Tenant `{tenant}`: {segments['customers'].sum():,} customers"))
    display(charts.segment_treemap(segments))
