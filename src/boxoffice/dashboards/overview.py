"""The overview dashboard: the firing alerts, KPI tiles, revenue trend, channel mix for one
tenant.

Reads only ``analytics`` partitions of the newest run, as the reader role scoped to the tenant
(``BOXOFFICE_TENANT``); every number comes from :mod:`boxoffice.metrics` and every figure from
:mod:`boxoffice.reports.charts`, the same ones the run's report uses.
"""

from __future__ import annotations

import datetime as dt
import html

import ipywidgets as w
import plotly.graph_objects as go
from IPython.display import clear_output, display

from boxoffice import forecast, metrics, warehouse
from boxoffice.dashboards._ui import TenantPage, message
from boxoffice.dashboards.alerts import FiringAlerts
from boxoffice.reports import charts

DEFAULT_DAYS = 90


class Overview(TenantPage):
    """Build with a tenant (default ``BOXOFFICE_TENANT``), then ``display(overview.layout)``."""

    def _build(self) -> w.Widget:
        try:
            self.sales = warehouse.read_sales_daily(**self.read)
            self.days = warehouse.read_customer_days(**self.read)
            venues = warehouse.read_venues(**self.read)
            self.event_sales = warehouse.read_event_sales(**self.read)
            self.events = warehouse.read_events(**self.read)
        except (warehouse.WarehouseError, ValueError) as exc:
            return message(f"Cannot read the warehouse: {exc}", error=True)

        self.granularity = w.ToggleButtons(
            options=[("Day", "day"), ("Week", "week"), ("Month", "month")],
            value="week",
            description="Per",
            style={"button_width": "70px"},
        )
        self.start = w.DatePicker(
            description="From", value=self.as_of - dt.timedelta(DEFAULT_DAYS - 1)
        )
        self.end = w.DatePicker(description="To", value=self.as_of)
        self.venue = w.Dropdown(
            description="Venue",
            options=[("All venues", ""), *zip(venues["name"], venues["venue_id"], strict=True)],
        )
        self.status = w.HTML()
        self.tiles = w.Output()
        self.trend = w.Output(layout=w.Layout(width="62%", min_width="420px"))
        self.mix = w.Output(layout=w.Layout(width="36%", min_width="320px"))
        self.categories = w.Output(layout=w.Layout(width="49%", min_width="360px"))
        self.ranked = w.Output(layout=w.Layout(width="49%", min_width="360px"))
        for control in (self.granularity, self.start, self.end, self.venue):
            control.observe(lambda _change: self.refresh(), names="value")
        self.refresh()
        name = venues["tenant_name"][0] if venues.height else self.tenant
        header = w.HTML(
            f"<h2 style='margin:0'>{html.escape(name)}</h2>"
            f"<p class='bx-as-of' style='margin:0;color:#666'>Data as of {self.as_of}</p>"
        )
        controls = w.HBox(
            [self.granularity, self.start, self.end, self.venue],
            layout=w.Layout(flex_flow="row wrap", gap="8px"),
        )
        self.alerts = FiringAlerts(self.tenant, since=self.as_of - dt.timedelta(DEFAULT_DAYS))
        return w.VBox(
            [
                header,
                self.alerts.layout,
                controls,
                self.status,
                self.tiles,
                w.HBox([self.trend, self.mix], layout=w.Layout(flex_flow="row wrap")),
                w.HBox([self.categories, self.ranked], layout=w.Layout(flex_flow="row wrap")),
                self._projection(),
            ]
        )

    def _projection(self) -> w.Widget:
        """Net revenue of all venues projected 30 and 90 days past the data, as the run stored
        it (not filtered by the controls above)."""
        out = w.Output()
        try:
            projected = forecast.projection.from_rows(
                warehouse.read_revenue_projection(**self.read),
                warehouse.read_revenue_projection_totals(**self.read),
                metrics.sales.rollup(self.sales, "day"),
                date_col="period",
            )
        except (warehouse.WarehouseError, ValueError) as exc:
            return message(f"Cannot read the projection: {exc}", error=True)
        if projected is None:
            return message("No projection: the run had less than four weeks of history.")
        _replace(out, charts.projection(projected))
        with out:
            display(charts.projection_totals(projected.totals))
        return out

    def refresh(self) -> None:
        """Recompute every figure for the current controls; a bad range says so and keeps the
        figures as they were."""
        start, end = self.start.value, self.end.value
        venue = self.venue.value or None
        if start is None or end is None:
            self.status.value = message("Pick both dates.", error=True).value
            return
        try:
            kpis = metrics.sales.kpis(self.sales, self.days, start, end, venue_id=venue)
            trend = metrics.sales.growth(
                metrics.sales.rollup(
                    self.sales, self.granularity.value, start=start, end=end, venue_id=venue
                ),
                self.granularity.value,
            )
            mix = metrics.sales.channel_mix(self.sales, start, end, venue_id=venue)
            period = (self.event_sales, self.events, start, end)
            categories = metrics.events.category_mix(*period, venue_id=venue)
            top = metrics.events.rank_events(
                metrics.events.period_performance(*period, venue_id=venue), n=5
            )
        except ValueError as exc:
            self.status.value = message(str(exc), error=True).value
            return
        self.status.value = ""
        _replace(self.tiles, charts.kpi_tiles(kpis))
        _replace(self.trend, charts.revenue_trend(trend, granularity=self.granularity.value))
        _replace(self.mix, charts.channel_mix(mix))
        _replace(self.categories, charts.category_mix(categories))
        _replace(self.ranked, charts.events_table(top, title="Top 5 events of the period"))


def _replace(out: w.Output, figure: go.Figure) -> None:
    """Show ``figure`` in ``out`` (rendered by the plotly mimetype extension of the page)."""
    with out:
        clear_output(wait=True)
        display(figure)
