"""What a run leaves in each tenant's folder of ``reports/<as_of>/``: the sales report as a
page (``report.html``), the executive report printed (``report.pdf``), the report's tables as a
workbook (``report.xlsx``) and an ``index.html`` linking them — all from the ``report`` task's
frames, so the three show the same numbers."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from boxoffice.reports import pages, pdf, workbook

FILES = [
    ("report.pdf", "The executive report, to print"),
    ("report.xlsx", "The tables, a workbook"),
]


def write_packs(
    frames: Mapping[str, Mapping[str, object]],
    *,
    run_dir: Path,
    folders: Mapping[str, str],
    top: int,
    currency: str,
    paper: str,
) -> dict[str, pages.Page]:
    """Write each tenant's files (``frames``: the report task's, per tenant) into its folder of
    ``run_dir``; returns each tenant's sales report page."""
    for tenant, own in frames.items():
        folder = run_dir / folders[tenant]
        sheets = workbook.report_sheets(own, tenant=tenant, currency=currency)
        workbook.write_workbook(folder / "report.xlsx", sheets)
        printed = pages.executive_report(own, top=top)
        pdf.write_pdf(folder / "report.pdf", printed, reports_root=run_dir.parent, paper=paper)
    reports = {t: pages.sales_report(f, top=top) for t, f in frames.items()}
    pages.write_tenant_pages(
        {t: [("report.html", page)] for t, page in reports.items()},
        run_dir=run_dir,
        folders=folders,
        files=dict.fromkeys(reports, FILES),
    )
    return reports
