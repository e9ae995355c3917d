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
# to `as_of` (`boxoffice.tasks.report`), in the tenant's folder as a page (`report.html`), a
# printed report (`report.pdf`) and a workbook (`report.xlsx`).

# %% tags=["parameters"]
upstream = None  # from Ploomber: the tasks whose tables this one reads (tasks.run checks them)
product = None
as_of = None
tenants = None
inputs = None  # from boxoffice run: fingerprints of what it reads from outside the pipeline
overrides = None  # from pipeline.yaml: replaces defaults of boxoffice.tasks.report.Params

# %%
from pathlib import Path

import polars as pl

from boxoffice import tasks
from boxoffice.reports import packs, pages

done = tasks.run(
    "report", as_of=as_of, tenants=tenants, upstream=upstream, inputs=inputs, params=overrides
)
run_dir = Path(product["nb"]).parents[1]  # reports/<as_of>/, above _operations/
folders = pages.tenant_folders(done.prepared)
written = packs.write_packs(done.frames, run_dir=run_dir, folders=folders, top=done.params.top)

# %% [markdown]
# Each tenant's pack: its files, their size and how long each took to render.

# %%
pl.DataFrame(
    [
        {"folder": folders[tenant], "file": f["path"].name, "kB": round(f["bytes"] / 1000, 1),
         "seconds": round(f["seconds"], 2)}
        for tenant, files in written.items()
        for f in files.values()
    ]
)  # fmt: skip
