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
# # Ingest
# New behaviour-event files of the landing folder become batches in `raw` (a file that cannot
# be read is set aside in `rejected/` with its reason); each tenant's event stream reconciled
# for `as_of` and its conversion funnel counted (`boxoffice.tasks.ingest`).

# %% tags=["parameters"]
upstream = None  # from Ploomber: the tasks whose tables this one reads (tasks.run checks them)
product = None
as_of = None
tenants = None
inputs = None  # from boxoffice run: fingerprints of what it reads from outside the pipeline
overrides = None  # from pipeline.yaml: replaces defaults of boxoffice.tasks.ingest.Params

# %%
import polars as pl
from IPython.display import Markdown, display

from boxoffice import tasks
from boxoffice.reports import charts

charts.use_notebook_renderer()
done = tasks.run(
    "ingest", as_of=as_of, tenants=tenants, upstream=upstream, inputs=inputs, params=overrides
)
done.rows

# %%
landed = done.prepared
display(Markdown(f"{len(landed.batches)} new file(s) in the landing folder."))
if landed.batches:
    display(pl.DataFrame([r.as_dict() for r in landed.batches]).drop("rejections", "batch_id"))
for aside in landed.set_aside:  # the run goes on; the file waits in rejected/ to be repaired
    display(Markdown(f"**Set aside** `{aside.path}`: {aside.reason}"))
review = done.finished
if review["batches"].height:
    display(charts.ingest_batches(review["batches"]))
if review["reasons"].height:
    display(charts.dead_letter_reasons(review["reasons"]))
for tenant, recon in review["tenants"].items():
    if recon["days"].height:
        display(Markdown(f"## Tenant `{tenant}`: {recon['flagged'].height} flagged day(s)"))
        display(charts.reconciliation(recon["days"]))
        if recon["flagged"].height:
            display(recon["flagged"])
