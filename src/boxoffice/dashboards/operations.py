"""The operations dashboard: is the event stream complete? For whoever runs the platform.

Ingest batches and dead letters span tenants (one file may carry several), so this page reads
them with the pipeline role and is served only by ``boxoffice dashboards --operations``, never
by a tenant's dashboard server (which sets ``BOXOFFICE_TENANT``; there the page refuses). The
reconciliation flags and the notifications still queued are read per tenant, under row-level
security.

Plain outputs, no widgets: the page has nothing to filter, and plain figures render reliably.
"""

from __future__ import annotations

import datetime as dt
import html

import plotly.io as pio
import polars as pl
from IPython.display import HTML, display

from boxoffice import config, warehouse
from boxoffice.monitoring.reconciliation import flagged_days
from boxoffice.reports import charts
from boxoffice.warehouse import alerts as stored

RECENT_DAYS = 30


def _note(text: str, *, error: bool = False) -> HTML:
    color = "#b00020" if error else "#444"
    return HTML(f"<p class='bx-message' style='color:{color}'>{html.escape(text)}</p>")


def _totals(batches: pl.DataFrame) -> HTML:
    sums = {c: int(batches[c].sum()) for c in ("received", "stored", "duplicates", "rejected")}
    tiles = "".join(
        f"<div class='bx-tile'><div class='bx-value'>{value:,}</div><div>{name}</div></div>"
        for name, value in sums.items()
    )
    style = (
        "<style>.bx-tiles{display:flex;gap:24px;margin:8px 0 16px}"
        ".bx-tile{padding:8px 16px;border:1px solid #ddd;border-radius:6px}"
        ".bx-value{font-size:22px;font-weight:600}</style>"
    )
    return HTML(f"{style}<div class='bx-tiles'>{tiles}</div>")


def show(*, today: dt.date | None = None) -> None:
    """Display the page's sections in order (call from the dashboard notebook)."""
    pio.renderers.default = "plotly_mimetype"
    if config.settings().tenant:
        display(
            _note(
                "This page shows all tenants' ingestion and is served by "
                "`boxoffice dashboards --operations` only.",
                error=True,
            )
        )
        return
    since = (today or dt.datetime.now(dt.UTC).date()) - dt.timedelta(days=RECENT_DAYS)
    try:
        batches = warehouse.read_batches(limit=30)
        reasons = warehouse.read_dead_letter_reasons(since=since)
        tenants = warehouse.list_tenants()
        as_of = {t: warehouse.latest_as_of(tenant=t, role="pipeline") for t in tenants["tenant_id"]}
        recon = {
            t: warehouse.read_reconciliation(as_of=d, tenant=t)
            for t, d in as_of.items()
            if d is not None
        }
        queued = [
            stored.read_notifications(tenant=t, status="queued", role="pipeline")
            for t in tenants["tenant_id"]
        ]
    except warehouse.WarehouseError as exc:
        display(_note(f"Cannot read the warehouse: {exc}", error=True))
        return

    display(HTML("<h2>Ingest batches</h2>"))
    if batches.height:
        display(_totals(batches))
        display(charts.ingest_batches(batches))
    else:
        display(_note("No batch yet: run `boxoffice ingest`, or put files in the landing folder."))

    display(HTML(f"<h2>Dead letters, last {RECENT_DAYS} days</h2>"))
    if reasons.height:
        display(charts.dead_letter_reasons(reasons))
    else:
        display(_note("No line was rejected."))

    display(HTML("<h2>Reconciliation</h2>"))
    names = dict(zip(tenants["tenant_id"], tenants["name"], strict=True))
    for tenant, frame in recon.items():
        flagged = flagged_days(frame)
        display(HTML(f"<h3>{html.escape(names[tenant])} (run {as_of[tenant]}): "
                     f"{flagged.height} flagged day(s)</h3>"))  # fmt: skip
        if frame.height:
            display(charts.reconciliation(frame))
        if flagged.height:
            display(flagged)
    if not recon:
        display(_note("No pipeline run yet: `boxoffice run --as-of DATE`."))

    display(HTML("<h2>Notifications not delivered</h2>"))
    stuck = [q.with_columns(tenant=pl.lit(names[t])) for t, q in zip(names, queued, strict=True)]
    if stuck and (stuck := pl.concat(stuck)).height:
        with pl.Config(fmt_str_lengths=300, tbl_rows=100):  # errors whole, not cut short
            display(
                stuck.select(
                    "tenant", "created_at", "rule", "event", "channel", "recipient", "attempts",
                    "last_error", "next_attempt_at",
                ).sort("created_at", descending=True)
            )  # fmt: skip
    else:
        display(_note("Every notification was delivered."))
