"""What a run leaves in each tenant's folder of ``reports/<as_of>/``: the sales report as a
page (``report.html``), the executive report printed (``report.pdf``), the report's tables as a
workbook (``report.xlsx``) and an ``index.html`` linking them — all from the ``report`` task's
frames, so the three show the same numbers. :func:`write_pack` writes one tenant's pack
anywhere (``boxoffice report``, a subscription's pack)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from boxoffice.reports import pages, pdf, workbook

FILES = {
    "html": ("report.html", "The sales report"),
    "pdf": ("report.pdf", "The executive report, to print"),
    "xlsx": ("report.xlsx", "The tables, a workbook"),
}


def write_pack(
    frames: Mapping[str, object],
    folder: Path,
    *,
    reports_root: Path,
    top: int,
    formats: Iterable[str] = tuple(FILES),
) -> dict[str, dict]:
    """Write one tenant's pack (``frames``: the report task's, for that tenant) into
    ``folder``, in each of ``formats`` (``html``, ``pdf``, ``xlsx``), with an ``index.html``
    linking the pack's files in the folder; returns per format its ``path``, ``bytes`` and
    render ``seconds``."""
    unknown = sorted(set(formats) - set(FILES))
    if unknown:
        raise ValueError(f"format: one of {', '.join(FILES)}, got {unknown[0]!r}")
    written: dict[str, dict] = {}
    for fmt in FILES:
        if fmt not in formats:
            continue
        started = time.perf_counter()
        path = folder / FILES[fmt][0]
        if fmt == "html":
            pages.write_page(path, pages.sales_report(frames, top=top), reports_root=reports_root)
        elif fmt == "pdf":
            printed = pages.executive_report(frames, top=top)
            paper = frames["settings"].paper
            pdf.write_pdf(path, printed, reports_root=reports_root, paper=paper)
        else:
            workbook.write_workbook(path, workbook.report_sheets(frames))
        seconds = time.perf_counter() - started
        written[fmt] = {"path": path, "bytes": path.stat().st_size, "seconds": seconds}
    title = _title(frames)
    present = [f for f in FILES if (folder / FILES[f][0]).exists()]  # this pack's, or earlier
    links = [pages.Text(FILES[f][1], href=FILES[f][0]) for f in present]
    start, end = frames["period"]
    index = pages.Page(
        f"{title}: reports of {frames['as_of']}", f"The days {start} to {end}", links
    )
    pages.write_page(folder / "index.html", index, reports_root=reports_root)
    return written


def write_packs(
    frames: Mapping[str, Mapping[str, object]],
    *,
    run_dir: Path,
    folders: Mapping[str, str],
    top: int,
) -> dict[str, dict[str, dict]]:
    """Write each tenant's pack (``frames``: the report task's, per tenant) into its folder of
    ``run_dir``; returns what :func:`write_pack` returns, per tenant."""
    return {
        tenant: write_pack(own, run_dir / folders[tenant], reports_root=run_dir.parent, top=top)
        for tenant, own in frames.items()
    }


def _title(frames: Mapping[str, object]) -> str:
    venues = frames["venues"]
    return venues["tenant_name"][0] if venues.height else str(frames["tenant"])
