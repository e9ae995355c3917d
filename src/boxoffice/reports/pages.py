"""Pages a run leaves for people: one folder per tenant, holding only that tenant's pages, and
plotly.js once per reports root.

``reports/<as_of>/<tenant>/`` is named by :func:`tenant_folders` (a slug of the tenant's name,
unique among the warehouse's tenants, so a folder keeps its name whichever tenants a run
covers); ``reports/<as_of>/_operations/`` holds the executed task notebooks, which show every
tenant. A page is a list of blocks — plotly figures, headings and paragraphs — written as one
HTML file whose charts load ``plotly-<version>.min.js`` from the reports root.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import plotly.graph_objects as go
import polars as pl

from boxoffice.reports import charts
from boxoffice.reports.artifacts import figure_html, plotly_script, write_atomically


@dataclass(frozen=True)
class Text:
    """A heading (``level`` 2 or 3) or, with ``level`` 0, a paragraph; ``href`` makes it a
    link. A notebook displays it as Markdown."""

    text: str
    level: int = 0
    href: str = ""

    def _repr_markdown_(self) -> str:
        text = f"[{self.text}]({self.href})" if self.href else self.text
        return f"{'#' * self.level} {text}" if self.level else text


Block = go.Figure | Text


@dataclass(frozen=True)
class Page:
    title: str
    subtitle: str = ""
    blocks: list[Block] = field(default_factory=list)


def slug(name: str) -> str:
    """``name`` in lower-case ASCII letters, digits and single hyphens ("Théâtre du Nord" →
    ``theatre-du-nord``); ``tenant`` when nothing is left."""
    ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-") or "tenant"


def tenant_folders(tenants: pl.DataFrame) -> dict[str, str]:
    """Each tenant's folder (``tenant_id``, ``name`` → ``{tenant_id: folder}``): the slug of
    its name; tenants whose names give the same slug get the first 8 hex digits of their id
    appended, so every folder is unique."""
    ids = [str(t) for t in tenants["tenant_id"]]
    slugs = [slug(n) for n in tenants["name"]]
    shared = {s for s in slugs if slugs.count(s) > 1}
    return {
        t: f"{s}-{t.replace('-', '')[:8]}" if s in shared else s
        for t, s in zip(ids, slugs, strict=True)
    }


def sales_report(frames: Mapping[str, object], *, top: int) -> Page:
    """The sales report of one tenant from the ``report`` task's frames
    (:mod:`boxoffice.tasks.report`)."""
    blocks: list[Block] = [
        Text("Key figures", 2),
        charts.kpi_tiles(frames["kpis"]),
        charts.revenue_trend(frames["weekly"], granularity="week"),
        *_mix(frames),
        *_events(frames, top),
        Text("Customers", 2),
        charts.cohort_heatmap(frames["cohorts"]),
        charts.funnel(frames["funnel"], title="Conversion funnel, sessions of the period"),
    ]
    if frames["attribution"].height:
        blocks.append(charts.attribution(frames["attribution"]))
    blocks += [Text("Revenue projection", 2), *_projection(frames)]
    return _titled(frames, "sales report", blocks)


def executive_report(frames: Mapping[str, object], *, top: int) -> Page:
    """The printed report of one tenant (``report.pdf``): key figures, the revenue trend and
    its projection, the channel and category mix, the top and bottom events — the same
    figures as the page's (:func:`sales_report`), from the same frames."""
    blocks: list[Block] = [
        charts.kpi_tiles(frames["kpis"]),
        Text("Revenue", 2),
        charts.revenue_trend(frames["weekly"], granularity="week"),
        *_projection(frames),
        *_mix(frames),
        *_events(frames, top),
    ]
    return _titled(frames, "executive report", blocks)


def _mix(frames: Mapping[str, object]) -> list[Block]:
    return [
        Text("Channels and categories", 2),
        charts.channel_mix(frames["channel_mix"]),
        charts.category_mix(frames["category_mix"]),
    ]


def _events(frames: Mapping[str, object], top: int) -> list[Block]:
    return [
        Text("Events", 2),
        charts.events_table(frames["top"], title=f"Top {top} events"),
        charts.events_table(frames["bottom"], title=f"Bottom {top} events"),
    ]


def _projection(frames: Mapping[str, object]) -> list[Block]:
    projected = frames["projection"]
    if projected is None:
        return [Text("No projection: the run had less than four weeks of history.")]
    return [charts.projection(projected), charts.projection_totals(projected.totals)]


def _titled(frames: Mapping[str, object], what: str, blocks: list[Block]) -> Page:
    """A page titled with the tenant's name and ``what``, and the report's period."""
    start, end = frames["period"]
    name = frames["venues"]["tenant_name"][0] if frames["venues"].height else ""
    return Page(f"{name}: {what}", f"The {(end - start).days + 1} days {start} to {end}", blocks)


def write_page(path: Path, page: Page, *, reports_root: Path) -> Path:
    """Write ``page`` as one HTML file at ``path`` (atomically), its charts drawn by the
    reports root's plotly.js (written there first if it is not yet)."""
    body = "\n".join(_block_html(b) for b in page.blocks)
    text = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(page.title)}</title>
{plotly_script(path.parent, reports_root)}
<style>
 body {{ font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 64rem; color: #222;
        padding: 0 1rem; }}
 h2 {{ margin-top: 2.5rem; border-bottom: 1px solid #ddd; }}
 .meta {{ color: #666; }}
</style></head><body>
<h1>{html.escape(page.title)}</h1>
<p class="meta">{html.escape(page.subtitle)}</p>
{body}
</body></html>
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, text)
    return path


def _block_html(block: Block) -> str:
    if isinstance(block, go.Figure):
        return figure_html(block)
    tag = f"h{block.level}" if block.level else "p"
    text = html.escape(block.text)
    if block.href:
        text = f"<a href='{html.escape(block.href)}'>{text}</a>"
    return f"<{tag}>{text}</{tag}>"


def write_tenant_pages(
    pages: Mapping[str, Sequence[tuple[str, Page]]],
    *,
    run_dir: Path,
    folders: Mapping[str, str],
    files: Mapping[str, Sequence[tuple[str, str]]] | None = None,
) -> dict[str, list[Path]]:
    """Write each tenant's pages (``{tenant: [(file name, page), …]}``) into its folder of
    ``run_dir`` (``reports/<as_of>/``) with an ``index.html`` linking them and the other
    ``files`` already in the folder (``{tenant: [(file name, what it is), …]}``); returns the
    pages written per tenant."""
    written: dict[str, list[Path]] = {}
    for tenant, named in pages.items():
        folder = run_dir / folders[tenant]
        files_ = [
            write_page(folder / name, page, reports_root=run_dir.parent) for name, page in named
        ]
        title = named[0][1].title.split(":")[0] if named else folders[tenant]
        links = [Text(page.title, href=name) for name, page in named]
        links += [Text(what, href=name) for name, what in (files or {}).get(tenant, ())]
        index = Page(f"{title}: reports of {run_dir.name}", "", links)
        files_.append(write_page(folder / "index.html", index, reports_root=run_dir.parent))
        written[tenant] = files_
    return written
