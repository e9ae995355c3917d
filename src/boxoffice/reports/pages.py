"""Pages a run leaves for people: one folder per tenant, holding only that tenant's pages, and
plotly.js once per reports root.

``reports/<as_of>/<tenant>/`` is named by :func:`tenant_folders` (a slug of the tenant's name,
unique among the warehouse's tenants, so a folder keeps its name whichever tenants a run
covers); ``reports/<as_of>/_operations/`` holds the executed task notebooks, which show every
tenant. A page is a list of blocks — plotly figures, headings and paragraphs — written as one
HTML file whose charts load ``plotly-<version>.min.js`` from the reports root.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

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


@dataclass(frozen=True)
class Row:
    """Figures side by side, sharing the width (a pair of small charts or tables)."""

    figures: tuple[go.Figure, ...]


Block = go.Figure | Text | Row


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


def executive_report(
    frames: Mapping[str, object], *, top: int, printed: dt.datetime | None = None
) -> Page:
    """The printed report of one tenant (``report.pdf``): key figures, the revenue trend and
    its projection, the channel and category mix, the top and bottom events — the same
    figures as the page's (:func:`sales_report`), from the same frames —, then its customers
    at risk and segments, the price recommendations waiting for a decision and the alerts
    firing; amounts labelled with the tenant's currency, and the subtitle saying when it was
    ``printed`` (now) in the tenant's reporting time zone."""
    own = frames["settings"]
    printed = (printed or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(own.timezone))
    alerts = frames["alerts"]
    blocks: list[Block] = [
        charts.kpi_tiles(frames["kpis"]),
        Text("Revenue", 2),
        charts.revenue_trend(frames["weekly"], granularity="week"),
        *_projection(frames),
        Text("Channels and categories", 2),
        Row((charts.channel_mix(frames["channel_mix"]),
             charts.category_mix(frames["category_mix"]))),
        *_events(frames, top),
        Text("Customers", 2),
        Text(_at_risk(frames["at_risk"], frames["customers"], own.currency)),
        charts.segment_treemap(frames["segments"]),
        Text("Alerts and prices", 2),
        charts.firing_alerts(alerts) if alerts.height else Text("No alert is firing."),
        *_pending(frames["pending"]),
    ]  # fmt: skip

    def priced(block: Block) -> Block:
        if isinstance(block, Row):
            return Row(tuple(charts.in_currency(f, own.currency) for f in block.figures))
        return charts.in_currency(block, own.currency) if isinstance(block, go.Figure) else block

    blocks = [priced(b) for b in blocks]
    page = _titled(frames, "executive report", blocks)
    when = f"run of {frames['as_of']}, printed {printed:%Y-%m-%d %H:%M} ({own.timezone})"
    return dataclasses.replace(page, subtitle=f"{page.subtitle} · {when}")


PRINTED_PENDING = 10  # recommendations the PDF lists; the workbook has them all


def _pending(pending: pl.DataFrame) -> list[Block]:
    """The recommendations waiting for a decision, those whose decision matters most (the
    largest expected revenue change) first; at most :data:`PRINTED_PENDING`."""
    if not pending.height:
        return [Text("No price recommendation is waiting for a decision.")]
    gain = (pl.col("expected_revenue_recommended") - pl.col("expected_revenue_current")).abs()
    shown = pending.sort(gain, "event_id", descending=[True, False]).head(PRINTED_PENDING)
    said = f"{pending.height} price recommendation(s) are waiting for a decision"
    if pending.height > shown.height:
        said += f"; the {shown.height} that change expected revenue most (all in the workbook)"
    return [Text(f"{said}:"), charts.pending_prices(shown)]


def _at_risk(at_risk: pl.DataFrame, customers: int, currency: str) -> str:
    """One sentence: the customers at high churn risk and the value they are expected to bring
    in the next 12 months (what keeping them is worth)."""
    value = (at_risk["clv_12m"].sum() or 0) / 100
    return (
        f"{at_risk.height:,} of {customers:,} customers are at high churn risk; they are"
        f" expected to bring {currency} {value:,.2f} in the next 12 months."
        " The workbook lists them by customer key."
    )


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
    if isinstance(block, Row):
        cells = "".join(
            f"<div style='flex:1;min-width:0'>{figure_html(f)}</div>" for f in block.figures
        )
        return f"<div style='display:flex;gap:1rem'>{cells}</div>"
    tag = f"h{block.level}" if block.level else "p"
    text = html.escape(block.text)
    if block.href:
        text = f"<a href='{html.escape(block.href)}'>{text}</a>"
    return f"<{tag}>{text}</{tag}>"
