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
# # Sales report
# Each tenant's sales, customers, funnel, attribution and revenue projection for the 30 days
# to `as_of` (`boxoffice.tasks.report`).

# %% tags=["parameters"]
upstream = None  # from Ploomber: the tasks whose tables this one reads (tasks.run checks them)
product = None
as_of = None
tenants = None
inputs = None  # from boxoffice run: fingerprints of what it reads from outside the pipeline
overrides = None  # from pipeline.yaml: replaces defaults of boxoffice.tasks.report.Params

# %%
from IPython.display import Markdown, display

from boxoffice import tasks
from boxoffice.reports import charts

charts.use_notebook_renderer()
done = tasks.run(
    "report", as_of=as_of, tenants=tenants, upstream=upstream, inputs=inputs, params=overrides
)
done.rows

# %%
for frames in done.frames.values():
    start, end = frames["period"]
    display(Markdown(f"## {frames['venues']['tenant_name'][0]}: {start} to {end}"))
    display(charts.kpi_tiles(frames["kpis"]))
    display(charts.revenue_trend(frames["weekly"], granularity="week"))
    display(charts.channel_mix(frames["channel_mix"]))
    display(charts.category_mix(frames["category_mix"]))
    display(charts.events_table(frames["top"], title=f"Top {done.params.top} events"))
    display(charts.events_table(frames["bottom"], title=f"Bottom {done.params.top} events"))
    display(charts.cohort_heatmap(frames["cohorts"]))
    display(charts.funnel(frames["funnel"], title="Conversion funnel, sessions of the period"))
    if frames["attribution"].height:
        display(charts.attribution(frames["attribution"]))
    if isinstance(projected := frames["projection"], Exception):  # too little history yet
        display(Markdown(f"No projection: {projected}."))
    else:
        display(charts.projection(projected))
        display(charts.projection_totals(projected.totals))
