"""The events & pricing dashboard: the recommendation queue with approve and reject, each
event's booking curve against its forecast, venue demand forecasts, how accurate the
forecasts have been, and the price history.

Reads the newest run's ``analytics`` partitions as the reader role scoped to the tenant
(``BOXOFFICE_TENANT``); decisions go through :func:`boxoffice.warehouse.pricing.decide` as the
same role, so a reader of one tenant can neither see nor decide another's recommendations.
"""

from __future__ import annotations

import html

import ipywidgets as w
import polars as pl

from boxoffice import forecast, warehouse
from boxoffice.dashboards._ui import TenantPage, message, show, table
from boxoffice.formats import money
from boxoffice.reports import charts, export
from boxoffice.warehouse import pricing as wp
from boxoffice.warehouse.pricing import ApprovalError

MEASURES = [("Tickets", "tickets_sold"), ("Gross revenue", "gross_cents")]
QUEUE_ROWS = 25  # decide these first: the list reloads after each decision


class Pricing(TenantPage):
    """Build with a tenant (default ``BOXOFFICE_TENANT``), then ``display(page.layout)``."""

    def _build(self) -> w.Widget:
        try:
            self.venues = warehouse.read_venues(**self.read)
            self.events = warehouse.read_events(**self.read)
            self.event_sales = warehouse.read_event_sales(**self.read)
            self.pickups = warehouse.read_event_forecasts(**self.read)
            self.demand = forecast.daily_demand(
                warehouse.read_sales_daily(**self.read), end=self.as_of
            )
            self.forecasts = warehouse.read_demand_forecasts(**self.read)
            backtests = warehouse.read_forecast_backtests(**self.read)
        except (warehouse.WarehouseError, ValueError) as exc:
            return message(f"Cannot read the warehouse: {exc}", error=True)

        self.who = w.Text(description="Your name", placeholder="recorded with each decision")
        self.status = w.HTML()
        self.queue = w.VBox()
        self.history = w.Output()
        self.refresh_queue()

        upcoming = self.pickups.join(
            self.events.select("event_id", "name", "start_date"), on="event_id"
        ).sort("days_before", "name")
        labels = upcoming.select(pl.format("{} ({})", "name", "start_date"), "event_id").rows()
        self.event = w.Dropdown(description="Event", options=labels, layout=w.Layout(width="480px"))
        self.curve = w.Output()
        self.event.observe(lambda _change: self.refresh_curve(), names="value")
        self.refresh_curve()

        self.venue = w.Dropdown(
            description="Venue", options=self.venues.select("name", "venue_id").rows()
        )
        self.measure = w.ToggleButtons(options=MEASURES, style={"button_width": "110px"})
        self.venue_out = w.Output()
        for control in (self.venue, self.measure):
            control.observe(lambda _change: self.refresh_venue(), names="value")
        self.refresh_venue()

        accuracy = w.Output()
        if backtests.is_empty():
            show(accuracy, message("No backtest for this run."))
        else:
            show(accuracy, charts.backtest_accuracy(backtests, self.venues))

        name = self.venues["tenant_name"][0] if self.venues.height else self.tenant
        header = w.HTML(
            f"<h2 style='margin:0'>Events &amp; pricing</h2><p class='bx-as-of' style='margin:0;"
            f"color:#666'>{html.escape(name)}: forecasts and recommendations of the run of"
            f" {self.as_of}</p>"
        )
        return w.VBox(
            [
                header,
                w.HTML("<h3>Recommendations waiting for a decision</h3>"),
                w.HBox([self.who, self.status], layout=w.Layout(gap="12px")),
                self.queue,
                w.HTML("<h3>Booking curve against the forecast</h3>"),
                self.event,
                self.curve,
                w.HTML("<h3>Venue demand forecast</h3>"),
                w.HBox([self.venue, self.measure], layout=w.Layout(gap="8px")),
                self.venue_out,
                accuracy,
                w.HTML("<h3>Price history</h3>"),
                self.history,
            ]
        )

    # ---------------------------------------------------------------- recommendation queue
    def refresh_queue(self) -> None:
        """The pending recommendations, highest demand score first, and the price history."""
        pending = wp.read_recommendations(tenant=self.tenant, status="pending", role=self.role)
        rows = [self._card(r) for r in pending.head(QUEUE_ROWS).iter_rows(named=True)]
        more = (
            f" — the {QUEUE_ROWS} with the highest demand score shown"
            if len(rows) < pending.height
            else ""
        )
        count = w.HTML(f"<b class='bx-queue-count'>{pending.height}</b> pending{more}")
        self.queue.children = [count, *rows] if rows else [count]
        history = wp.read_price_history(tenant=self.tenant, role=self.role)
        named = history.join(
            self.events.select("event_id", pl.col("name").alias("event")), on="event_id", how="left"
        ).select(
            "approved_at", "event", (pl.col("old_price_cents") / 100).alias("old_price"),
            (pl.col("new_price_cents") / 100).alias("new_price"), "approved_by", "reason",
        )  # fmt: skip
        if named.is_empty():
            show(self.history, message("No approved price yet."))
        else:
            link = export.download_link(
                export.csv_bytes(named), "price-history.csv", mime="text/csv", label="CSV"
            )
            show(self.history, w.HTML(link), table(named, css_class="bx-history"))

    def _card(self, r: dict) -> w.Widget:
        text = w.HTML(
            f"<div class='bx-rec' data-id='{r['recommendation_id']}'>"
            f"<b>{html.escape(r['event'] or r['event_id'])}</b> — "
            f"{money(r['current_price_cents'])} → <b>{money(r['recommended_price_cents'])}</b>"
            f" · demand score {r['demand_score']:.0f} · valid until {r['valid_until']}<br>"
            f"<small>{html.escape(r['reason'])}</small></div>",
            layout=w.Layout(width="760px"),
        )
        note = w.Text(placeholder="note (optional)", layout=w.Layout(width="200px"))
        approve = w.Button(description="Approve", button_style="success")
        reject = w.Button(description="Reject", button_style="danger")
        approve.on_click(lambda _b: self.decide(r["recommendation_id"], "approve", note.value))
        reject.on_click(lambda _b: self.decide(r["recommendation_id"], "reject", note.value))
        return w.HBox([text, note, approve, reject], layout=w.Layout(align_items="center"))

    def decide(self, recommendation: str, decision: str, note: str) -> None:
        """Record a decision by the name typed above; say what happened."""
        try:
            row = wp.decide(
                recommendation,
                decision,
                by=self.who.value,
                note=note or None,
                tenant=self.tenant,
                role=self.role,
            )
        except (ApprovalError, warehouse.WarehouseError) as exc:
            self.status.value = message(str(exc), error=True).value
            return
        self.status.value = (
            f"<span class='bx-decided'>{row['status']}: {money(row['current_price_cents'])} →"
            f" {money(row['recommended_price_cents'])} by {html.escape(row['decided_by'])}</span>"
        )
        self.refresh_queue()

    # ------------------------------------------------------------------------- the charts
    def refresh_curve(self) -> None:
        if not self.event.value:
            show(self.curve, message("No upcoming event."))
            return
        event = self.events.filter(pl.col("event_id") == self.event.value).row(0, named=True)
        pickup = self.pickups.filter(pl.col("event_id") == self.event.value)
        show(
            self.curve,
            charts.booking_curve(
                forecast.booking_curve.event_curve(self.event_sales, self.event.value),
                pickup.row(0, named=True) if pickup.height else None,
                name=event["name"],
                start_date=event["start_date"],
                capacity=event["capacity"],
            ),
        )

    def refresh_venue(self) -> None:
        venue, measure = self.venue.value, self.measure.value
        name = self.venues.filter(pl.col("venue_id") == venue)["name"][0]
        rows = self.forecasts.filter((pl.col("venue_id") == venue) & (pl.col("measure") == measure))
        if rows.is_empty():
            show(self.venue_out, message("No forecast for this venue."))
            return
        label = "tickets sold" if measure == "tickets_sold" else "gross revenue"
        show(
            self.venue_out,
            charts.demand_forecast(
                self.demand.filter(pl.col("venue_id") == venue),
                rows,
                measure=measure,
                title=f"{name}: {label} per day, actual and forecast",
            ),
        )
