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
# New behaviour-event files of the landing folder become batches in `raw` (validated,
# pseudonymized, deduplicated; every rejected line a dead letter with its reason). A file that
# cannot be read at all (a corrupt gzip file) is set aside in `rejected/` with its reason, and
# the others go on. Then each tenant's event stream is reconciled for this run's `as_of`: days
# below 80 % of their trailing 7-day mean, and days whose purchase events disagree with online
# orders, are flagged in
# `analytics.event_reconciliation`.

# %% tags=["parameters"]
upstream = None
product = None
as_of = None
tenants = None
landing_state = None  # the landing folder's listing: a new file makes this task run again
reconcile_days = 60
funnel_days = 90  # the conversion funnel covers sessions started in these days

# %%
import datetime as dt

import polars as pl
from IPython.display import Markdown, display

from boxoffice import metrics, warehouse
from boxoffice.ingest import landing
from boxoffice.monitoring.reconciliation import flagged_days, reconciliation_query
from boxoffice.pipeline import context
from boxoffice.reports import charts

charts.use_notebook_renderer()
run = context.parse(as_of=as_of, tenants=tenants)

# %%
folder = landing.landing_dir()
landed = landing.ingest_new(folder) if folder.is_dir() else landing.Landed()
display(Markdown(f"{len(landed.batches)} new file(s) in `{folder}`."))
if landed.batches:
    display(pl.DataFrame([r.as_dict() for r in landed.batches]).drop("rejections", "batch_id"))
for aside in landed.set_aside:  # the run goes on; the file waits in rejected/ to be repaired
    display(Markdown(f"**Set aside** `{aside.path}`: {aside.reason}"))

# %%
batches = warehouse.read_batches(limit=30)
if batches.height:
    display(charts.ingest_batches(batches))
reasons = warehouse.read_dead_letter_reasons(since=run.as_of - dt.timedelta(days=30))
if reasons.height:
    display(charts.dead_letter_reasons(reasons))

# %%
written = warehouse.replace_partitions(
    [reconciliation_query(days=reconcile_days), metrics.funnel.funnel_query(days=funnel_days)],
    as_of=run.as_of,
    tenants=run.tenants,
)
for tenant in run.tenants:
    recon = warehouse.read_reconciliation(as_of=run.as_of, tenant=tenant)
    if recon.height:
        flagged = flagged_days(recon)
        display(Markdown(f"## Tenant `{tenant}`: {flagged.height} flagged day(s)"))
        display(charts.reconciliation(recon))
        if flagged.height:
            display(flagged)
written
