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
import datetime as dt
from pathlib import Path

from IPython.display import Markdown, display

from boxoffice import tasks
from boxoffice.reports import charts, pages, pdf, workbook

charts.use_notebook_renderer()
done = tasks.run(
    "report", as_of=as_of, tenants=tenants, upstream=upstream, inputs=inputs, params=overrides
)
run_dir = Path(product["nb"]).parents[1]  # reports/<as_of>/, above _operations/
folders = pages.tenant_folders(done.prepared)
for tenant, frames in done.frames.items():
    sheets = workbook.report_sheets(
        frames,
        tenant=tenant,
        as_of=dt.date.fromisoformat(str(as_of)),
        currency=done.params.currency,
    )
    workbook.write_workbook(run_dir / folders[tenant] / "report.xlsx", sheets)
    pdf.write_pdf(
        run_dir / folders[tenant] / "report.pdf",
        pages.executive_report(frames, top=done.params.top),
        reports_root=run_dir.parent,
        paper=done.params.paper,
    )
reports = {t: pages.sales_report(f, top=done.params.top) for t, f in done.frames.items()}
files = [
    ("report.pdf", "The executive report, to print"),
    ("report.xlsx", "The tables, a workbook"),
]
written = pages.write_tenant_pages(
    {t: [("report.html", page)] for t, page in reports.items()},
    run_dir=run_dir,
    folders=folders,
    files=dict.fromkeys(reports, files),
)

# %%
for tenant, page in reports.items():
    display(Markdown(f"## {page.title} ({written[tenant][0].parent.name}/)"))
    for block in page.blocks:
        display(block)
