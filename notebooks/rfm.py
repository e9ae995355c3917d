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
# purchase days in `analytics.customer_days` (summarized inside PostgreSQL), written to
# `analytics.customer_rfm` with a segment summary in `analytics.customer_segments`.

# %% tags=["parameters"]
upstream = None
product = None
as_of = None
tenants = None

# %%
from IPython.display import Markdown, display

from boxoffice import customers, warehouse
from boxoffice.pipeline import context
from boxoffice.reports import charts
from boxoffice.warehouse import schema

charts.use_notebook_renderer()
run = context.parse(as_of=as_of, tenants=tenants)

# %%
segments = {}
with warehouse.partition_writer(as_of=run.as_of) as writer:  # writes while the next computes
    for tenant in run.tenants:
        summary = warehouse.read_customer_summary(as_of=run.as_of, tenant=tenant)
        scores = customers.score_rfm(summary)
        segments[tenant] = customers.segment_summary(scores)
        writer.write(schema.customer_rfm, tenant, scores)
        writer.write(schema.customer_segments, tenant, segments[tenant])
writer.written

# %%
for tenant in run.tenants:
    display(Markdown(f"## Tenant `{tenant}`: {segments[tenant]['customers'].sum():,} customers"))
    display(charts.segment_treemap(segments[tenant]))
