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
# # Alerts
# Each tenant's rules of `alerts.yaml` judged on the run's date and their states moved
# (ok → pending → firing → resolved), every change recorded (`boxoffice.tasks.alerts`).

# %% tags=["parameters"]
upstream = None  # from Ploomber: the tasks whose tables this one reads (tasks.run checks them)
product = None
as_of = None
tenants = None
inputs = None  # from boxoffice run: fingerprints of what it reads from outside the pipeline
overrides = None  # from pipeline.yaml: replaces defaults of boxoffice.tasks.alerts.Params

# %%
from IPython.display import display

from boxoffice import tasks

done = tasks.run(
    "alerts",
    as_of=as_of,
    tenants=tenants,
    upstream=upstream,
    inputs=inputs,
    params=overrides,
)

# %%
display(done.finished)  # per tenant: scopes by state, this date's changes, notifications
